"""Dense + BM25 retrieval, fused by a weighted sum of normalised scores (rag.fusion).

Both sides fetch a pool of candidates; every candidate in the union gets both
scores, so the fusion sees a BM25 score of 0 rather than a missing one. BM25's
weight follows the candidate (its script against the question's, the share of the
question's terms it matches), not the question's language alone; the weights are
measured on the public benchmark's tuning half (docs/quality.md). A vector store that
also holds the BM25 field (``hybrid_search``: rag.milvus_store) serves both sides of a
hybrid search itself, fused on the client by the same rag.fusion.
"""

from __future__ import annotations

import logging

import numpy as np

from .bm25 import BM25, top_rows
from .config import Mode, Settings
from .embeddings import Embedder
from .fusion import Candidates, FusionWeights, fuse
from .store import IndexData
from .terms import terms
from .textnorm import detect_lang
from .types import Hit

log = logging.getLogger(__name__)
_UNKNOWN, _KO, _EN = -1, 0, 1
_logged_coverage = False


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
        self._hybrid = hasattr(self.index, "hybrid_search") and _no_coverage(self.weights)
        if self._hybrid and not self.index.has_terms():
            self.index.set_chunks(data.chunks, data.terms)  # assembled in memory, never saved

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
        if self._hybrid:  # dense and BM25 candidates both from the store (rag.milvus_store)
            found = self.index.hybrid_search(
                query_vector,
                terms(query),
                top_k,
                weights=self.weights,
                query_script=detect_lang(query),
                chunk_scripts=_Scripts(self),
                pool=pool,
            )
            return [self._hit(r, s, query_vector, _positive(b)) for r, s, b in found]
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


class _Scripts:
    """``detect_lang`` of chunk ``row`` ("ko" or "en"), computed once, on first use."""

    def __init__(self, retriever: Retriever):
        self.retriever = retriever

    def __getitem__(self, row: int) -> str:
        return "ko" if self.retriever._scripts_of(np.array([row]))[0] == _KO else "en"


def _no_coverage(weights: FusionWeights) -> bool:
    global _logged_coverage
    if weights.coverage_power > 0 and not _logged_coverage:
        _logged_coverage = True
        log.info(
            "bm25_coverage_power %s: the vector store's hybrid_search has no BM25 coverage, "
            "so BM25 comes from the in-memory postings",
            weights.coverage_power,
        )
    return weights.coverage_power <= 0


def _positive(score: float) -> float | None:
    return float(score) if score > 0 else None
