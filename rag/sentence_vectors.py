"""Sentence embeddings by text: from the index's store, else embedded once and cached.

The index stores the vectors of every sentence the sentence answerer can quote
(``rag.sentence_store``), so a warm answer embeds nothing; text the index does not
hold (a sentence after its page's title, ``SentenceAnswerer.with_title``; the LLM claim
check's passage sentences; a document changed since) is embedded here and kept in an
LRU cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from .embeddings import Embedder
from .sentence_store import SentenceStore, stored_vectors


class SentenceVectors:
    """An LRU cache of sentence embeddings, so repeated passages cost nothing."""

    def __init__(self, embedder: Embedder, *, max_items: int = 50_000):
        self.embedder = embedder
        self.max_items = max_items
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: list[str], *, stored: SentenceStore | None = None) -> np.ndarray:
        """(len(texts), dim) float32; ``stored``: the index's vectors, looked up first."""
        keys, found = stored_vectors(texts, stored)
        with self._lock:
            missing = {
                k: t
                for k, t in zip(keys, texts, strict=True)
                if k not in found and k not in self._cache
            }
        if missing:
            vecs = self.embedder.encode_documents(list(missing.values()))
            with self._lock:
                for key, vec in zip(missing, vecs, strict=True):
                    self._cache[key] = vec
                while len(self._cache) > self.max_items:
                    self._cache.popitem(last=False)
        with self._lock:
            return np.stack([found[k] if k in found else self._cache[k] for k in keys])
