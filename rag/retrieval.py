"""Dense + BM25 retrieval, fused by weighted reciprocal rank.

Weights depend on the question's language: BM25 over Korean morphemes helps
Korean questions and does little for English questions over Korean text, so it
gets none there (measured on KorQuAD and Belebele, docs/quality.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .bm25 import BM25
from .config import Mode, Settings
from .embeddings import Embedder
from .store import IndexData
from .terms import terms
from .textnorm import detect_lang
from .types import Hit


@dataclass(frozen=True)
class Weights:
    dense: float
    bm25: float


class Retriever:
    """Searches one immutable ``IndexData``; build a new one after the index changes."""

    def __init__(self, data: IndexData, embedder: Embedder, settings: Settings):
        self.data = data
        self.embedder = embedder
        self.settings = settings
        self.bm25 = BM25(data.terms)
        self.index = data.search_index()

    def weights(self, query: str) -> Weights:
        s = self.settings
        if detect_lang(query) == "ko":
            return Weights(s.dense_weight_ko, s.bm25_weight_ko)
        return Weights(s.dense_weight_en, s.bm25_weight_en)

    def search(
        self,
        query: str,
        *,
        top_k: int = 5,
        mode: Mode = "hybrid",
        query_vector: np.ndarray | None = None,
    ) -> list[Hit]:
        """Return up to ``top_k`` hits, best first."""
        n = len(self.data.chunks)
        if n == 0 or top_k <= 0:
            return []
        if query_vector is None and mode != "bm25":
            query_vector = self.embedder.encode_queries([query])[0]
        pool = min(n, max(50, top_k * 10))
        dense = self._dense(query_vector, pool) if mode != "bm25" else {}
        keyword = dict(self.bm25.top(terms(query), pool)) if mode != "dense" else {}
        if mode == "dense":
            ranked = sorted(dense, key=dense.get, reverse=True)
            scores = dense
        elif mode == "bm25":
            ranked = sorted(keyword, key=keyword.get, reverse=True)
            scores = keyword
        else:
            scores = self._fuse(dense, keyword, self.weights(query))
            ranked = sorted(scores, key=scores.get, reverse=True)
        return [self._hit(row, scores[row], query_vector, keyword) for row in ranked[:top_k]]

    def _dense(self, query_vector: np.ndarray, pool: int) -> dict[int, float]:
        scores, rows = self.index.search(query_vector[None, :], pool)
        return {int(r): float(s) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0}

    def _fuse(
        self, dense: dict[int, float], keyword: dict[int, float], w: Weights
    ) -> dict[int, float]:
        k = self.settings.rrf_k
        fused: dict[int, float] = {}
        for weight, scores in ((w.dense, dense), (w.bm25, keyword)):
            if weight <= 0:
                continue
            for rank, row in enumerate(sorted(scores, key=scores.get, reverse=True)):
                fused[row] = fused.get(row, 0.0) + weight / (k + rank + 1)
        return fused

    def _hit(
        self,
        row: int,
        score: float,
        query_vector: np.ndarray | None,
        keyword: dict[int, float],
    ) -> Hit:
        dense_score = None
        if query_vector is not None:
            dense_score = float(self.data.vectors[row] @ query_vector)
        return Hit(
            chunk=self.data.chunks[row],
            score=float(score),
            dense_score=dense_score,
            bm25_score=keyword.get(row),
        )
