"""The embedding model an index needs: loaded once per process, checked against the index.

An index records the model that built it (name, dimension, fingerprint of its files);
opening it with another model raises ``IndexMismatchError``. ``DeferredEmbedder`` puts
off loading the model (seconds, 1.4 GB) until text must be embedded, so listing or
removing documents never loads it; the check then runs when the model is loaded.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from .config import Settings
from .embeddings import Embedder, ModelInfo
from .errors import IndexMismatchError
from .store import rebuild_hint


@lru_cache(maxsize=4)
def get_embedder(name: str, cache_dir: Path, precision: str) -> Embedder:
    """One model per process: loading costs seconds and 1.4 GB."""
    return Embedder(name, cache_dir=cache_dir, precision=precision)


def embedder_for(settings: Settings) -> Embedder:
    return get_embedder(settings.model, Path(settings.cache_dir), settings.precision)


def check_model_name(recorded: ModelInfo, settings: Settings, index_dir: Path) -> None:
    """The configured model must be the one the index was built with (no model loaded)."""
    if recorded.name != settings.model:
        hint = rebuild_hint(index_dir)
        raise IndexMismatchError(
            f"The index at {index_dir} was built with model {recorded.name!r}, but the "
            f"configured model is {settings.model!r}. Use RAG_MODEL={recorded.name} or "
            + hint[0].lower()
            + hint[1:]
        )


def check_model(recorded: ModelInfo, model: ModelInfo, index_dir: Path) -> None:
    """``model`` (what is loaded) must have the dimension and fingerprint the index records."""
    if recorded.dim != model.dim or recorded.fingerprint != model.fingerprint:
        raise IndexMismatchError(
            f"The index at {index_dir} was built with {recorded.name!r} (dimension "
            f"{recorded.dim}, fingerprint {recorded.fingerprint}); the loaded model has "
            f"dimension {model.dim}, fingerprint {model.fingerprint}. " + rebuild_hint(index_dir)
        )


class DeferredEmbedder:
    """An ``Embedder`` that loads the configured model on the first text to embed.

    Until then ``info`` is the index's record, so an update that embeds nothing (a
    removal) keeps that record. The loaded model is checked against it.
    """

    def __init__(self, recorded: ModelInfo, settings: Settings, index_dir: Path):
        self.info = recorded
        self._settings = settings
        self._index_dir = index_dir
        self._embedder: Embedder | None = None
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        return self.info.dim

    @property
    def loaded(self) -> bool:
        return self._embedder is not None

    def load(self) -> Embedder:
        """The real model; raises ``IndexMismatchError`` if it is not the index's."""
        with self._lock:
            if self._embedder is None:
                embedder = embedder_for(self._settings)
                check_model(self.info, embedder.info, self._index_dir)
                self._embedder = embedder
        return self._embedder

    def encode_queries(self, texts: list[str], **kwargs) -> np.ndarray:
        return self.load().encode_queries(texts, **kwargs)

    def encode_documents(self, texts: list[str], **kwargs) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.load().encode_documents(texts, **kwargs)

    def encode_documents_with_spans(self, texts: list[str], spans, **kwargs):
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32), []
        return self.load().encode_documents_with_spans(texts, spans, **kwargs)
