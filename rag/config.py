"""Settings: one frozen dataclass, read from the environment in one place.

Every knob has a default that was chosen by measurement (see docs/quality.md);
``Settings.from_env()`` is the only function that reads ``os.environ``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

from .errors import RagError

DEFAULT_MODEL = "google/embeddinggemma-300m"
Answerer = Literal["extractive", "llm"]
LlmReads = Literal["quotes", "passages"]
Extractive = Literal["sentences", "units"]
INDEX_KINDS = ("auto", "flat", "hnsw", "ivf", "numpy", "milvus")  # rag.vector_store.BACKENDS
Mode = Literal["hybrid", "dense", "bm25"]  # how rag.retrieval searches: fused, or one side
# RAG_* variables that are not settings, and who reads them. Any other RAG_* name that is
# not a setting is a typo (a missing underscore, say) and is rejected by ``from_env``.
NOT_SETTINGS = {
    "RAG_APP_USER": "rag.ui (the app's login)",
    "RAG_APP_PASSWORD": "rag.ui (the app's login)",
    "RAG_FUZZ_SECONDS": "tests/test_fuzz_atheris.py",
    "RAG_STORE": "rag.store (the vector store backend)",
}


def default_cache_dir() -> Path:
    """Models live outside the repo; ``RAG_CACHE_DIR`` overrides the location."""
    env = os.environ.get("RAG_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rag"


@dataclass(frozen=True)
class Settings:
    """Everything tunable. Unknown keys are rejected by ``with_overrides``."""

    model: str = DEFAULT_MODEL
    cache_dir: Path = None  # type: ignore[assignment]  # filled in __post_init__
    index_dir: Path = Path("index")
    answerer: Answerer = "extractive"
    # Chunking, in characters of normalised text.
    chunk_size: int = 500
    chunk_overlap: int = 1  # sentences shared between neighbouring chunks
    # Retrieval.
    top_k: int = 5
    # Hybrid fusion (rag.fusion): BM25's share of a weighted sum of normalised scores, by
    # question script and whether the candidate shares it; chosen on the public
    # benchmark's tuning half (docs/quality.md).
    bm25_ko_same: float = 1.0
    bm25_ko_cross: float = 0.0
    bm25_en_same: float = 0.5
    bm25_en_cross: float = 0.0
    bm25_coverage_power: float = 0.0  # share x coverage**power (matched IDF mass); 0: off
    bm25_margin_floor: float = 0.3  # share x (floor + (1 - floor) x BM25 top margin); 1: off
    dense_floor: float = 0.0  # the cosine that counts as no match when normalising
    # Extractive answering: whole sentences (rag.sentence_answerer), or the smallest units
    # picked by the learned scorer (rag.answer; its refusal threshold is the scorer's own).
    # docs/answers.md has both measured; sentences answer more gold questions today.
    extractive: Extractive = "sentences"
    answer_max_sentences: int = 3  # most sentences or units one answer quotes
    # Embed the sentence answerer's sentences while indexing (rag.sentence_store): warm
    # answers embed nothing, but the build embeds about twice the text (docs/answers.md).
    # False: a faster build, and those sentences are embedded at question time instead.
    store_sentence_vectors: bool = True
    # Quote only the article when it answers nearly as well as the page furniture around
    # it (menus, sidebars, rules; rag.furniture). False: the index keeps the marks, the
    # answerers ignore them.
    prefer_body: bool = True
    max_question_chars: int = 2000
    # Generated answers (answerer="llm"), see docs/llm.md.
    llm: str = "llamacpp"  # or "llamacpp:/path.gguf", "openai:<model>", "ollama:<model>"
    llm_base_url: str = ""  # an OpenAI-compatible or Ollama server
    llm_max_tokens: int = 320
    # "quotes": the model reads only the extractive answer's quotes and retells them in the
    # asker's language beside them; "passages": it reads the top passages and writes the
    # answer itself (the earlier mode, kept for comparison).
    llm_reads: LlmReads = "quotes"
    llm_passages: int = 3  # top hits the model reads in "passages" mode, numbered [1]..[k]
    # The vector index of a new (or --rebuild) index (rag.vector_store): "auto" (FAISS, flat
    # or IVF by size), "flat", "hnsw", "ivf", or "milvus" (Milvus Lite, the '.[milvus]'
    # extra). An existing index keeps its kind until it is rebuilt.
    index_kind: str = "auto"
    # Embedding.
    batch_size: int = 16
    # "auto": bf16 where the CPU has native bf16 (2.3x faster embedding, same hit@5), else
    # fp32. Indexes are interchangeable across precisions; see docs/performance.md.
    precision: Literal["auto", "fp32", "bf16"] = "auto"

    def __post_init__(self) -> None:
        if self.cache_dir is None:
            object.__setattr__(self, "cache_dir", default_cache_dir())

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Read ``RAG_*`` variables (e.g. ``RAG_MODEL``, ``RAG_ANSWERER``).

        Raises:
            RagError: a ``RAG_*`` variable that is no setting (a typo), or a bad value.
        """
        _check_env_names(cls)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = os.environ.get(f"RAG_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _coerce(f.name, raw, cls)
        return cls(**values).with_overrides(**overrides)

    def with_overrides(self, **overrides: Any) -> Settings:
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise RagError(f"Unknown setting(s) {unknown}; valid settings are {sorted(known)}")
        clean = {k: v for k, v in overrides.items() if v is not None}
        for key in ("cache_dir", "index_dir"):
            if key in clean:
                clean[key] = Path(clean[key])
        if clean.get("answerer", self.answerer) not in ("extractive", "llm"):
            raise RagError(
                f"Unknown answerer {clean['answerer']!r}; choose 'extractive' or 'llm' "
                "(RAG_ANSWERER)"
            )
        if clean.get("extractive", self.extractive) not in ("sentences", "units"):
            raise RagError(
                f"Unknown extractive answerer {clean['extractive']!r}; choose 'sentences' or "
                "'units' (RAG_EXTRACTIVE)"
            )
        if clean.get("llm_reads", self.llm_reads) not in ("quotes", "passages"):
            raise RagError(
                f"Unknown llm_reads {clean['llm_reads']!r}; choose 'quotes' or 'passages' "
                "(RAG_LLM_READS)"
            )
        if (kind := clean.get("index_kind", self.index_kind)) not in INDEX_KINDS:
            raise RagError(
                f"Unknown index kind {kind!r}; choose one of "
                f"{', '.join(map(repr, INDEX_KINDS))} (RAG_INDEX_KIND)"
            )
        return replace(self, **clean)


def env_names(cls: type[Settings] = Settings) -> list[str]:
    """The ``RAG_*`` variable of every setting, e.g. ``RAG_TOP_K``."""
    return [f"RAG_{f.name.upper()}" for f in fields(cls)]


def _check_env_names(cls: type[Settings]) -> None:
    known = set(env_names(cls)) | set(NOT_SETTINGS)
    unknown = sorted(k for k in os.environ if k.startswith("RAG_") and k not in known)
    if unknown:
        raise RagError(
            f"Unknown environment variable(s) {unknown}; the settings are "
            f"{', '.join(env_names(cls))} (and {', '.join(NOT_SETTINGS)} are read elsewhere). "
            "Fix the name or unset it."
        )


def _coerce(name: str, raw: str, cls: type[Settings]) -> Any:
    default = getattr(cls(), name) if name != "cache_dir" else Path()
    try:
        if isinstance(default, bool):
            return raw.lower() in ("1", "true", "yes")
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, Path):
            return Path(raw).expanduser()
    except ValueError as exc:
        raise RagError(
            f"RAG_{name.upper()}={raw!r} is not a valid {type(default).__name__}"
        ) from exc
    return raw
