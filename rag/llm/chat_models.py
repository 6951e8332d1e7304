"""Which LangChain chat model answers: one setting, ``RAG_LLM``.

- ``llamacpp`` (default): the local Qwen2.5-Coder-1.5B GGUF from ``rag models fetch
  --llm``, through ``ChatLlamaCpp``; ``llamacpp:/path/model.gguf`` for another file.
- ``openai:<model>``: any OpenAI-compatible server (``RAG_LLM_BASE_URL``, key from
  ``OPENAI_API_KEY``), through langchain-openai.
- ``ollama:<model>``: an Ollama server (``RAG_LLM_BASE_URL``), through langchain-ollama.

Imports are lazy, so the base install never needs any of them; a missing one is a
``RagError`` that names the extra to install. Temperature is 0 everywhere: answers
should be reproducible. Nothing here touches the network until the model is asked.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import ModelNotFoundError, RagError

log = logging.getLogger(__name__)

PROVIDERS = ("llamacpp", "openai", "ollama")
N_CTX = 4096  # 5 passages of 500 characters, the instructions and the answer fit


@dataclass(frozen=True)
class LLMSpec:
    """A parsed ``RAG_LLM`` value."""

    provider: str
    model: str = ""  # a model name for servers, a GGUF path (or "") for llamacpp


def parse_llm(value: str) -> LLMSpec:
    """``"llamacpp"``, ``"llamacpp:/x.gguf"``, ``"openai:gpt-4o-mini"``, ``"ollama:qwen2.5"``."""
    provider, _, model = value.strip().partition(":")
    provider = provider.strip().lower()
    if provider not in PROVIDERS:
        raise RagError(
            f"Unknown LLM {value!r} (RAG_LLM); use 'llamacpp', 'llamacpp:/path/model.gguf', "
            "'openai:<model>' or 'ollama:<model>'"
        )
    if provider != "llamacpp" and not model.strip():
        raise RagError(f"RAG_LLM={value!r} needs a model name, e.g. '{provider}:qwen2.5:7b'")
    return LLMSpec(provider, model.strip())


def unavailable_reason(settings: Settings) -> str | None:
    """Why ``make_chat_model(settings)`` would fail, or None if it should work."""
    try:
        spec = parse_llm(settings.llm)
        if spec.provider == "llamacpp":
            _import_llamacpp()
            _gguf_path(spec, settings)
        elif spec.provider == "openai":
            _import("langchain_openai", "openai")
        else:
            _import("langchain_ollama", "ollama")
    except RagError as exc:
        return str(exc)
    return None


def make_chat_model(settings: Settings) -> Any:
    """A LangChain ``BaseChatModel`` for ``settings.llm``; the local one is cached."""
    spec = parse_llm(settings.llm)
    if spec.provider == "llamacpp":
        return _llamacpp(str(_gguf_path(spec, settings)), settings.llm_max_tokens)
    base_url = settings.llm_base_url or None
    if spec.provider == "openai":
        module = _import("langchain_openai", "openai")
        key = os.environ.get("OPENAI_API_KEY") or ("unused" if base_url else None)
        if key is None:
            raise RagError(
                f"RAG_LLM={settings.llm!r} needs OPENAI_API_KEY, or RAG_LLM_BASE_URL for a "
                "local OpenAI-compatible server that takes no key"
            )
        return module.ChatOpenAI(
            model=spec.model,
            base_url=base_url,
            api_key=key,
            temperature=0,
            max_tokens=settings.llm_max_tokens,
        )
    module = _import("langchain_ollama", "ollama")
    kwargs = {"base_url": base_url} if base_url else {}
    return module.ChatOllama(
        model=spec.model, temperature=0, num_predict=settings.llm_max_tokens, **kwargs
    )


def _gguf_path(spec: LLMSpec, settings: Settings) -> Path:
    if spec.model:
        path = Path(spec.model).expanduser()
        if not path.is_file():
            raise ModelNotFoundError(f"RAG_LLM points at {path}, which is not a file")
        return path
    from ..models import llm_model_path

    path = llm_model_path(Path(settings.cache_dir))
    if path is None:
        raise ModelNotFoundError(
            f"The local LLM is not in the cache ({Path(settings.cache_dir) / 'models'}). "
            "Run `rag models fetch --llm` (1.1 GB, verified), or set RAG_LLM to a server."
        )
    return path


def _import(module: str, extra: str) -> Any:
    try:
        return __import__(module)
    except ImportError as exc:
        raise RagError(
            f"RAG_LLM uses {module}, which is not installed: pip install -e '.[{extra}]' "
            f"(or pip install {module.replace('_', '-')})"
        ) from exc


def _import_llamacpp() -> Any:
    try:
        import llama_cpp  # noqa: F401

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # "langchain-community is sunset"
            from langchain_community.chat_models import ChatLlamaCpp
    except ImportError as exc:
        raise RagError(
            "The local LLM runtime is not installed: pip install -e '.[llm]' "
            "(builds llama.cpp from source, 5-8 minutes on 2 cores)"
        ) from exc
    return ChatLlamaCpp


@lru_cache(maxsize=2)
def _llamacpp(path: str, max_tokens: int) -> Any:
    """Load the GGUF once per process: it takes seconds and 1.9 GB."""
    chat_cls = _import_llamacpp()
    with _no_extra_buffers_if_amx():
        model = chat_cls(
            model_path=path,
            n_ctx=N_CTX,
            n_batch=512,  # ChatLlamaCpp's default of 8 reads the prompt 5x slower
            n_threads=os.cpu_count() or 2,
            max_tokens=max_tokens,
            temperature=0.0,
            repeat_penalty=1.0,  # answers repeat names from the passages on purpose
            seed=0,
            verbose=False,
            streaming=True,
        )
    log.info("loaded local LLM %s", path)
    return model


_patch_lock = threading.Lock()


@contextlib.contextmanager
def _no_extra_buffers_if_amx():
    """llama.cpp's AMX matrix kernels crashed (SIGSEGV) on our 2-core Xeon VM, which
    advertises AMX; a native build uses them through "extra buffer types". When the
    build reports AMX, load the model without extra buffers (plain AVX-512 kernels).
    llama-cpp-python has no argument for it, so its default params are wrapped while
    the model loads."""
    import llama_cpp.llama_cpp as lib  # the module llama_cpp.Llama reads its defaults from

    info = lib.llama_print_system_info().decode("utf-8", "replace")
    if "AMX_INT8 = 1" not in info:
        yield
        return
    with _patch_lock:
        original = lib.llama_model_default_params

        def params():
            p = original()
            p.use_extra_bufts = False
            return p

        lib.llama_model_default_params = params
        try:
            log.info("llama.cpp reports AMX: loading without extra buffer types")
            yield
        finally:
            lib.llama_model_default_params = original
