"""Sentence embeddings cached by text, for checking generated claims against passages.

The extractive answerer no longer embeds at question time (unit vectors are stored
with the index); the LLM claim check still compares free text with passage
sentences, and this cache makes repeated passages cost nothing.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np

from .embeddings import Embedder


class SentenceVectors:
    """An LRU cache of sentence embeddings, so repeated passages cost nothing."""

    def __init__(self, embedder: Embedder, *, max_items: int = 50_000):
        self.embedder = embedder
        self.max_items = max_items
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32."""
        keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
        with self._lock:
            missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in self._cache}
        if missing:
            vecs = self.embedder.encode_documents(list(missing.values()))
            with self._lock:
                for key, vec in zip(missing, vecs, strict=True):
                    self._cache[key] = vec
                while len(self._cache) > self.max_items:
                    self._cache.popitem(last=False)
        with self._lock:
            return np.stack([self._cache[k] for k in keys])
