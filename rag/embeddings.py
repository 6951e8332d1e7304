"""The embedding model: queries and documents get the model's own retrieval prompts.

Vectors are L2-normalised float32, so inner product is cosine similarity.
Loading is offline (``HF_HUB_OFFLINE=1``): this product never fetches from a hub
at run time; ``rag models fetch`` puts the default model in the cache first.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ModelNotFoundError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelInfo:
    """What an index records about the model that built it."""

    name: str
    fingerprint: str
    dim: int


class Embedder:
    """Wraps a sentence-transformers model; one instance per process is enough."""

    def __init__(self, name: str, *, cache_dir: Path | None = None, precision: str = "fp32"):
        from .models import resolve_model

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.name = name
        self.path = resolve_model(name, cache_dir=cache_dir)
        self.precision = _pick_precision(precision)
        self._model = _load(self.path, self.precision)
        self._lock = threading.Lock()  # torch on 2 cores: one forward pass at a time
        get_dim = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        self.info = ModelInfo(name=name, fingerprint=fingerprint(self.path), dim=int(dim))
        log.info("loaded embedding model %s (%s, dim %d)", name, self.precision, dim)

    @property
    def dim(self) -> int:
        return self.info.dim

    def encode_queries(self, texts: list[str], *, batch_size: int = 16) -> np.ndarray:
        """(n, dim) float32, normalised, with the model's query prompt."""
        with self._lock:
            vecs = self._model.encode_query(
                texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
            )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def encode_documents(
        self, texts: list[str], *, batch_size: int = 16, progress: bool = False
    ) -> np.ndarray:
        """(n, dim) float32, normalised, with the model's document prompt.

        Texts are sorted by length first so each batch pads little.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        with self._lock:
            vecs = self._model.encode_document(
                [texts[i] for i in order],
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        out = np.empty((len(texts), vecs.shape[1]), dtype=np.float32)
        out[order] = vecs
        return out


def _pick_precision(precision: str) -> str:
    if precision != "auto":
        return precision
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return "fp32"
    return "bf16" if "avx512_bf16" in flags or "amx_bf16" in flags else "fp32"


def _load(path: str, precision: str):
    from sentence_transformers import SentenceTransformer

    try:
        model = SentenceTransformer(path, device="cpu", local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(
            f"Could not load embedding model {path!r}: {exc}. For the default model run "
            "`rag models fetch`; for another model give a local sentence-transformers folder."
        ) from exc
    if precision == "bf16":
        import torch

        model = model.to(torch.bfloat16)
    return model


def fingerprint(path: str) -> str:
    """A cheap identity of a model folder: names and sizes of every file, and the
    contents of small ones. Two different weight files of equal size are rare
    enough; the fetch step has already verified the big file's SHA-256."""
    root = Path(path)
    if not root.is_dir():
        return hashlib.sha256(path.encode("utf-8")).hexdigest()[:16]
    digest = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        if file.name.startswith("rag-verified"):
            continue
        rel = file.relative_to(root).as_posix()
        size = file.stat().st_size
        digest.update(f"{rel}:{size}\n".encode())
        if size < 2_000_000:
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]
