"""Each question's candidate pool as the product's retriever builds it, kept for the sweep.

``Retriever.candidates`` gives both scores for every chunk either side fetched;
any fusion can then be scored from the pools without searching again. The
rankings are lists of passage ids, best first, with the gold passage's
translation (Belebele) left out: it answers the question as well as the gold
passage does, so it is neither a hit nor a miss.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from rag.fusion import Candidates
from rag.retrieval import Retriever

from .bench_data import Question
from .metrics import dedupe


@dataclass(frozen=True)
class Pool:
    doc_ids: list[str]  # the passage of each candidate chunk
    cand: Candidates
    twin: str = ""  # a passage to leave out of the ranking


def gather(
    retriever: Retriever,
    queries: Sequence[str],
    vectors: np.ndarray,
    questions: Sequence[Question],
    *,
    pool: int,
    progress: bool = False,
) -> list[Pool]:
    """One ``Pool`` per question: the top ``pool`` chunks of each side, both scores."""
    chunks = retriever.data.chunks
    out = []
    triples = list(zip(queries, vectors, questions, strict=True))
    for query, vector, q in tqdm(triples, desc="candidates", disable=not progress):
        rows, cand = retriever.candidates(query, vector, pool, coverage=True)
        out.append(Pool([chunks[int(r)].doc_id for r in rows], cand, q.twin))
    return out


def ranking(pool: Pool, scores: np.ndarray, depth: int = 10) -> list[str]:
    """Passage ids by descending score (ties keep pool order), deduplicated, twin left out."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    ranked = dedupe(pool.doc_ids[i] for i in order)
    return [d for d in ranked if d != pool.twin][:depth]


def rankings(pools: Sequence[Pool], score: Callable[[Candidates], np.ndarray]) -> list[list[str]]:
    """Every pool ranked by ``score`` (a fusion of its candidates)."""
    return [ranking(p, score(p.cand)) for p in pools]


def without_twin(doc_ids: Sequence[str], twin: str) -> list[str]:
    """A ranking of chunks' passage ids, deduplicated, with ``twin`` left out."""
    return [d for d in dedupe(doc_ids) if d != twin]
