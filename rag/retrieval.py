"""Dense + BM25 retrieval, fused by a weighted sum of normalised scores (rag.fusion).

Both sides fetch a pool of candidates; every candidate in the union gets both
scores, so the fusion sees a BM25 score of 0 rather than a missing one. BM25's
weight follows the candidate (its script against the question's, the share of the
question's terms it matches), not the question's language alone; the weights are
measured on the public benchmark's tuning half (docs/quality.md).
"""

from __future__ import annotations

import numpy as np

from .bm25 import BM25, top_rows
from .config import Mode, Settings
from .embeddings import Embedder
from .fusion import Candidates, FusionWeights, fuse
from .store import IndexData
from .terms import terms
from .textnorm import detect_lang
from .types import Hit

_UNKNOWN, _KO, _EN = -1, 0, 1


def fusion_weights(settings: Settings) -> FusionWeights:
    """The product's fusion weights, from the retrieval settings."""
    return FusionWeights(
        bm25_ko_same=settings.bm25_ko_same,
        bm25_ko_cross=settings.bm25_ko_cross,
        bm25_en_same=settings.bm25_en_same,
        bm25_en_cross=settings.bm25_en_cross,
        coverage_power=settings.bm25_coverage_power,
        margin_floor=settings.bm25_margin_floor,
        dense_floor=settings.dense_floor,
    )


class Retriever:
    """Searches one immutable ``IndexData``; build a new one after the index changes."""

    def __init__(self, data: IndexData, embedder: Embedder, settings: Settings):
        self.data = data
        self.embedder = embedder
        self.settings = settings
        self.weights = fusion_weights(settings)
        self.bm25 = BM25(data.terms)
        self.index = data.search_index()
        # Script of each chunk, filled in as chunks become candidates: (n_chunks,) int8.
        self._scripts = np.full(len(data.chunks), _UNKNOWN, dtype=np.int8)

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
        if mode == "bm25":
            keyword = dict(self.bm25.top(terms(query), pool))
            ranked = sorted(keyword, key=keyword.get, reverse=True)[:top_k]
            return [self._hit(r, keyword[r], query_vector, keyword.get(r)) for r in ranked]
        if mode == "dense":
            dense = self._dense(query_vector, pool)
            ranked = sorted(dense, key=dense.get, reverse=True)[:top_k]
            return [self._hit(r, dense[r], query_vector, None) for r in ranked]
        rows, cand = self.candidates(query, query_vector, pool)
        fused = fuse(cand, self.weights)
        order = np.argsort(-fused, kind="stable")[:top_k]
        return [
            self._hit(int(rows[i]), float(fused[i]), query_vector, _positive(cand.bm25[i]))
            for i in order
        ]

    def candidates(
        self, query: str, query_vector: np.ndarray, pool: int, *, coverage: bool | None = None
    ) -> tuple[np.ndarray, Candidates]:
        """The union of the top ``pool`` chunks of each side, with both scores for all.

        Returns the chunk rows ``(n,)`` int64 and their ``Candidates``; dense rows
        come first, in dense order, then BM25-only rows in BM25 order. ``coverage``
        (default: only when the weights use it) costs a second pass over the postings;
        when skipped it is 1 for every candidate.
        """
        if coverage is None:
            coverage = self.weights.coverage_power > 0
        query_terms = terms(query)
        keyword = self.bm25.scores(query_terms)  # (n_chunks,)
        dense_rows = list(self._dense(query_vector, pool))
        bm25_rows = [r for r, _ in top_rows(keyword, pool)]
        rows = np.array(list(dict.fromkeys(dense_rows + bm25_rows)), dtype=np.int64)
        query_script = detect_lang(query)
        cand = Candidates(
            dense=self.data.vectors[rows] @ np.asarray(query_vector, dtype=np.float32),
            bm25=keyword[rows],
            same_script=self._scripts_of(rows) == (_KO if query_script == "ko" else _EN),
            coverage=self.bm25.coverage(query_terms)[rows]
            if coverage
            else np.ones(len(rows), np.float32),
            query_script=query_script,
        )
        return rows, cand

    def _scripts_of(self, rows: np.ndarray) -> np.ndarray:
        for row in rows[self._scripts[rows] == _UNKNOWN]:
            lang = detect_lang(self.data.chunks[int(row)].text)
            self._scripts[row] = _KO if lang == "ko" else _EN
        return self._scripts[rows]

    def _dense(self, query_vector: np.ndarray, pool: int) -> dict[int, float]:
        scores, rows = self.index.search(query_vector[None, :], pool)
        return {int(r): float(s) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0}

    def _hit(
        self, row: int, score: float, query_vector: np.ndarray | None, bm25: float | None
    ) -> Hit:
        dense_score = None
        if query_vector is not None:
            dense_score = float(self.data.vectors[row] @ query_vector)
        return Hit(
            chunk=self.data.chunks[row],
            score=float(score),
            dense_score=dense_score,
            bm25_score=bm25,
        )


def _positive(score: float) -> float | None:
    return float(score) if score > 0 else None
