"""Hybrid fusion: a weighted sum of per-query normalised dense and BM25 scores.

Reciprocal-rank fusion keeps only ranks; a convex combination of normalised
scores keeps how far ahead a candidate is, and does better in and out of domain
(Bruch, Gai and Ingber, ACM TOIS 2023). Each side is divided by the query's best
score after a fixed floor is taken off ("theoretical min-max"), so a candidate's
fused score does not depend on how many candidates were fetched. BM25's weight
depends on the candidate: whether it is written in the question's script, and
how much of the question's IDF mass it matches. Pure numpy; weights are chosen
on the tuning half of the public benchmark (docs/quality.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Norm = Literal["tmm", "minmax", "zscore"]


@dataclass(frozen=True)
class Candidates:
    """One query's candidate chunks (the union of the dense and BM25 pools)."""

    dense: np.ndarray  # (n,) float32 cosine similarity
    bm25: np.ndarray  # (n,) float32 raw BM25, 0 where no term matches
    same_script: np.ndarray  # (n,) bool: written in the question's script
    coverage: np.ndarray  # (n,) float32 share of the question's IDF mass it contains, 0..1
    query_script: Literal["ko", "en"] = "ko"


@dataclass(frozen=True)
class FusionWeights:
    """BM25's share of the fused score, per question script and candidate script.

    ``bm25_*_same``: candidates in the question's script; ``bm25_*_cross``: the
    others, which BM25 can match only on numbers and Latin names. The share is
    multiplied by ``coverage ** coverage_power`` (0 turns that off), so a
    candidate matching a sliver of the question's terms leans on the dense score,
    and by ``margin_floor + (1 - margin_floor) * top_margin`` (1 turns that off).
    """

    bm25_ko_same: float = 0.5
    bm25_ko_cross: float = 0.0
    bm25_en_same: float = 0.3
    bm25_en_cross: float = 0.0
    coverage_power: float = 0.0
    margin_floor: float = 1.0  # share x (floor + (1 - floor) x top_margin); 1 turns it off
    dense_floor: float = 0.0  # cosine treated as "no match" by theoretical min-max
    norm: Norm = "tmm"

    def bm25_share(self, c: Candidates) -> np.ndarray:
        """(n,) float32 in [0, 1]: BM25's weight for each candidate."""
        if c.query_script == "ko":
            same, cross = self.bm25_ko_same, self.bm25_ko_cross
        else:
            same, cross = self.bm25_en_same, self.bm25_en_cross
        share = np.where(c.same_script, same, cross).astype(np.float32)
        if self.coverage_power > 0:
            share = share * np.clip(c.coverage, 0.0, 1.0) ** self.coverage_power
        if self.margin_floor < 1:
            share = share * (self.margin_floor + (1 - self.margin_floor) * top_margin(c))
        return np.clip(share, 0.0, 1.0)


def top_margin(c: Candidates) -> float:
    """How far BM25's best candidate in the question's script leads its second, 0..1.

    A clear keyword winner is worth trusting; a flat top means the words are common.
    """
    top = np.sort(c.bm25[c.same_script])[::-1][:2]
    if len(top) < 2 or top[0] <= 0:
        return 0.0
    return float((top[0] - top[1]) / top[0])


def normalise(scores: np.ndarray, norm: Norm, *, floor: float = 0.0) -> np.ndarray:
    """(n,) scores mapped so the query's best is 1.

    ``tmm``: (s - floor) / (max - floor), the floor fixed in advance; ``minmax``:
    the floor is the worst candidate; ``zscore``: mean 0, standard deviation 1.
    A query whose scores are all equal (or all at the floor) maps to zeros.
    """
    s = np.asarray(scores, dtype=np.float32)
    if s.size == 0:
        return s
    if norm == "zscore":
        std = float(s.std())
        return (s - s.mean()) / std if std > 1e-9 else np.zeros_like(s)
    low = float(s.min()) if norm == "minmax" else floor
    span = float(s.max()) - low
    return (s - low) / span if span > 1e-9 else np.zeros_like(s)


def fuse(c: Candidates, w: FusionWeights) -> np.ndarray:
    """(n,) fused scores: (1 - a) * dense + a * BM25, both normalised, a per candidate."""
    share = w.bm25_share(c)
    dense = normalise(c.dense, w.norm, floor=w.dense_floor)
    keyword = normalise(c.bm25, w.norm, floor=0.0)
    return (1.0 - share) * dense + share * keyword


def rrf(dense: np.ndarray, bm25: np.ndarray, *, w_dense: float, w_bm25: float, k: int = 60):
    """(n,) weighted reciprocal-rank fusion of two score arrays (the previous default).

    A zero BM25 score counts as not retrieved by BM25, as when it is not in its list.
    """
    fused = np.zeros(len(dense), dtype=np.float64)
    for weight, scores, present in ((w_dense, dense, None), (w_bm25, bm25, bm25 > 0)):
        if weight <= 0 or not len(scores):
            continue
        order = np.argsort(-np.asarray(scores), kind="stable")
        ranks = np.empty(len(scores), dtype=np.float64)
        ranks[order] = np.arange(1, len(scores) + 1)
        contrib = weight / (k + ranks)
        fused += contrib if present is None else np.where(present, contrib, 0.0)
    return fused
