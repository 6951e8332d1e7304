"""The sentence answerer (rag.sentence_answerer) on the scorer's test split, side by side.

It reads the same passages in the same order (by passage similarity) and picks its
best sentence by its own rules (cosine of separately embedded sentences, a shared-term
bonus, a headline penalty, a similarity threshold of 0.30), so both answerers are
judged on the same questions with the same gold spans.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from tqdm.auto import tqdm

from rag.answer_types import required_pattern
from rag.config import Settings
from rag.sentence_answerer import REFUSAL_THRESHOLD
from rag.sentence_answerer import SentenceAnswerer as LegacyAnswerer
from rag.sentence_answerer import _candidates as legacy_candidates
from rag.types import Chunk, Document, Hit

from .answer_data import Dataset
from .scorer_metrics import auroc
from .scorer_rows import Rows


def legacy_metrics(
    rows: Sequence[Rows],
    data: Dataset,
    vectors: dict,
    q_vectors: dict,
    embedder,
    settings: Settings,
    *,
    refused: set[str] = frozenset(),
) -> dict:
    """The same figures as ``scorer_metrics.split_metrics`` for the previous answerer;
    ``refused``: questions refused before scoring (``unmentioned_refusals``)."""
    answerer = LegacyAnswerer(embedder, settings)
    per_source: dict[str, list] = {}
    for r in tqdm(rows, desc="previous answerer"):
        ex = r.example
        q = q_vectors[ex.qid]
        order = sorted(ex.passages, key=lambda k: -float(vectors[k][0] @ q))
        docs = {k: _document(data, k) for k in order}
        hits = [Hit(Chunk(k, k, docs[k].text, 0, len(docs[k].text)), 1.0) for k in order]
        cands = legacy_candidates(hits, docs)
        pattern = required_pattern(ex.question)
        if pattern is not None:
            cands = [c for c in cands if pattern.search(c.text)]
        ranked = answerer._score(ex.question, cands, q, docs)
        best = ranked[0].similarity if ranked else -1.0
        if ex.qid in refused:
            best = -2.0  # refused before scoring, below every scored question
        holds = False
        if ranked and ex.answer is not None:
            key, a_start, a_end = ex.answer
            top = ranked[0]
            if ex.sentence_only:
                holds = top.doc_id == key and top.start >= a_start and top.end <= a_end
            else:
                holds = top.doc_id == key and top.start <= a_start and top.end >= a_end
        per_source.setdefault(ex.source, []).append(
            (ex, best, holds, ranked[0] if ranked else None)
        )
    out = {"all": _summary([x for v in per_source.values() for x in v])}
    out.update({source: _summary(items) for source, items in sorted(per_source.items())})
    return out


def _document(data: Dataset, key: str) -> Document:
    p = data.passages[key]
    return Document(doc_id=key, text=p.text, title=p.title)


def _summary(items: list) -> dict:
    answerable = [(best, holds, top) for ex, best, holds, top in items if ex.answer is not None]
    unanswerable = [best for ex, best, _, _ in items if ex.answer is None]
    answered = [(holds, top) for best, holds, top in answerable if best >= REFUSAL_THRESHOLD]
    return {
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "top_unit_holds_answer_when_answered": _mean([h for h, _ in answered]),
        "top_unit_holds_answer_all": _mean([h for _, h, _ in answerable]),
        "false_refusals": _mean([b < REFUSAL_THRESHOLD for b, _, _ in answerable]),
        "refusal_accuracy": _mean([b < REFUSAL_THRESHOLD for b in unanswerable]),
        "auroc": auroc([b for b, _, _ in answerable], unanswerable),
        "mean_quote_chars": _mean([t.end - t.start for _, t in answered if t is not None], 1),
    }


def _mean(values, digits: int = 4):
    return round(float(np.mean(values)), digits) if len(values) else None
