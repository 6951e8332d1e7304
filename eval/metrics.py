"""Ranking metrics over passages: hit@k, MRR@10 and nDCG@10.

Rankings are lists of passage ids, best first, after duplicates are removed
(several chunks of one passage count once, at the rank of the best one).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

DEPTH = 10  # MRR and nDCG look this deep


def dedupe(doc_ids: Iterable[str]) -> list[str]:
    """Keep the first occurrence of each id, in order."""
    return list(dict.fromkeys(doc_ids))


def hit_at(ranking: Sequence[str], relevant: set[str], k: int) -> float:
    return 1.0 if any(d in relevant for d in ranking[:k]) else 0.0


def reciprocal_rank(ranking: Sequence[str], relevant: set[str], depth: int = DEPTH) -> float:
    for rank, doc_id in enumerate(ranking[:depth], start=1):
        if doc_id in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at(ranking: Sequence[str], relevant: set[str], k: int = DEPTH) -> float:
    """Binary relevance. With one relevant passage this is 1/log2(rank + 1)."""
    dcg = sum(1.0 / math.log2(r + 1) for r, d in enumerate(ranking[:k], 1) if d in relevant)
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(len(relevant), k) + 1))
    return dcg / ideal if ideal else 0.0


def score_rankings(rankings: Sequence[Sequence[str]], golds: Sequence[str]) -> dict[str, float]:
    """Mean hit@1, hit@5, MRR@10 and nDCG@10 over questions with one gold passage each."""
    if len(rankings) != len(golds):
        raise ValueError(f"{len(rankings)} rankings for {len(golds)} gold passages")
    n = len(rankings) or 1
    rows = [(dedupe(r), {g}) for r, g in zip(rankings, golds, strict=True)]
    return {
        "hit@1": sum(hit_at(r, g, 1) for r, g in rows) / n,
        "hit@5": sum(hit_at(r, g, 5) for r, g in rows) / n,
        "mrr": sum(reciprocal_rank(r, g) for r, g in rows) / n,
        "ndcg@10": sum(ndcg_at(r, g) for r, g in rows) / n,
        "n": len(rankings),
    }


def gold_rank(ranking: Sequence[str], gold: str) -> int | None:
    """1-based rank of ``gold`` among the deduplicated passages, or None if absent."""
    ranked = dedupe(ranking)
    return ranked.index(gold) + 1 if gold in ranked else None


def paired(ranks_a: Sequence[int | None], ranks_b: Sequence[int | None]) -> dict[str, int]:
    """Questions where A puts the gold passage higher than B, lower, or at the same rank.

    The counts show whether a difference in the means comes from many questions
    or a few; absent counts as below every rank.
    """
    big = 10**9
    a = [r or big for r in ranks_a]
    b = [r or big for r in ranks_b]
    return {
        "better": sum(x < y for x, y in zip(a, b, strict=True)),
        "worse": sum(x > y for x, y in zip(a, b, strict=True)),
        "same": sum(x == y for x, y in zip(a, b, strict=True)),
    }
