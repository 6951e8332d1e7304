"""What the answer scorer knows about a (question, unit) pair: one row of numbers.

The same function builds the rows for training (KorQuAD and Belebele, in
``eval/train_scorer.py``) and at question time, so the model sees at run time
exactly what it was trained on. Every input is precomputed at index time (unit
vectors and terms) except the question's own vector, terms and constraints, so a
row costs arithmetic only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .answer_types import asks_for_list, has_soft_type, required_pattern, soft_type
from .constraints import Constraint, coverage, question_constraints
from .terms import terms
from .textnorm import detect_lang

FEATURES = (
    "sim", "sim_gap", "sim_recip_rank", "sentence_sim", "sentence_sim_gap", "passage_sim",
    "passage_sim_gap", "passage_recip_rank", "neighbour_sim", "unit_passage_sim", "terms_unit",
    "terms_unit_gap", "terms_sentence", "is_title", "type_asked", "type_in_unit",
    "type_in_sentence", "has_constraints", "constraints_document", "constraints_sentence",
    "constraints_unit",
    "log_chars", "share_of_sentence", "question_en", "question_en_x_sim",
)  # fmt: skip
# The kind of unit (item, group, clause) and list questions are not features: the public
# training data (Wikipedia prose, FLORES) has almost no bullet lists or "label : value"
# lines, so weights for them would be guesses. Lists are handled by rule (rag.answer).


@dataclass(frozen=True)
class UnitCandidate:
    """One answer unit offered for a question, with what the index stored for it."""

    text: str
    sentence: str
    kind: str
    n_items: int
    terms: frozenset[str]
    sentence_terms: frozenset[str]
    sim: float  # cosine of the question to the unit
    sentence_sim: float  # ... to the unit's sentence
    passage_sim: float  # ... to the passage (chunk) it came from
    passage_rank: int  # 0-based rank of that passage among the ones read
    document: str  # key into the documents' texts, for the constraint check
    is_title: bool = False  # the unit's sentence is its document's title (a headline)
    neighbour_sim: float = 0.0  # the better of the sentences before and after (a label line
    # such as "다음기사" is followed by what it labels)
    unit_passage_sim: float = 0.0  # how close the unit is to its passage's own vector: a
    # sentence that sums up the page matches every question about it


@dataclass(frozen=True)
class QuestionInfo:
    """What is worked out once per question."""

    question: str  # what was asked: decides the answer type
    text: str  # what was searched (a follow-up carries the previous question)
    terms: frozenset[str]
    hard_type: bool  # money / count / date asked: candidates without one are dropped
    soft_type: str | None
    list_question: bool
    english: bool


def question_info(question: str, *, search_query: str = "") -> QuestionInfo:
    text = search_query or question
    return QuestionInfo(
        question=question,
        text=text,
        terms=frozenset(terms(text)),
        hard_type=required_pattern(question) is not None,
        soft_type=soft_type(question),
        list_question=asks_for_list(question),
        english=detect_lang(question) == "en",
    )


def keep_typed(question: str, candidates: Sequence[UnitCandidate]) -> list[int]:
    """Indexes of the candidates that can hold the money / count / date asked for."""
    pattern = required_pattern(question)
    if pattern is None:
        return list(range(len(candidates)))
    return [i for i, c in enumerate(candidates) if pattern.search(c.text)]


def feature_rows(
    info: QuestionInfo, candidates: Sequence[UnitCandidate], documents: dict[str, str]
) -> np.ndarray:
    """(len(candidates), len(FEATURES)) float32."""
    if not candidates:
        return np.zeros((0, len(FEATURES)), np.float32)
    sims = np.array([c.sim for c in candidates], dtype=np.float32)
    order = np.argsort(-sims, kind="stable")
    sim_rank = np.empty(len(sims), dtype=np.float32)
    sim_rank[order] = np.arange(1, len(sims) + 1)
    best = float(sims.max())
    best_sentence = max(c.sentence_sim for c in candidates)
    best_passage = max(c.passage_sim for c in candidates)
    n_terms = max(1, len(info.terms))
    shared = [len(info.terms & c.terms) / n_terms for c in candidates]
    best_shared = max(shared)
    per_doc: dict[str, list[Constraint]] = {
        key: question_constraints(info.text, doc_text=documents.get(key, ""))
        for key in {c.document for c in candidates}
    }
    doc_cover = {key: coverage(cons, documents.get(key, "")) for key, cons in per_doc.items()}
    rows = np.zeros((len(candidates), len(FEATURES)), dtype=np.float32)
    for i, c in enumerate(candidates):
        cons = per_doc[c.document]
        typed = info.soft_type is not None
        rows[i] = (
            c.sim,
            c.sim - best,
            1.0 / sim_rank[i],
            c.sentence_sim,
            c.sentence_sim - best_sentence,
            c.passage_sim,
            c.passage_sim - best_passage,
            1.0 / (1 + c.passage_rank),
            c.neighbour_sim,
            c.unit_passage_sim,
            shared[i],
            shared[i] - best_shared,
            len(info.terms & c.sentence_terms) / n_terms,
            float(c.is_title),
            float(typed),
            float(typed and has_soft_type(c.text, info.soft_type)),
            float(typed and has_soft_type(c.sentence, info.soft_type)),
            float(bool(cons)),
            doc_cover[c.document],
            coverage(cons, c.sentence),
            coverage(cons, c.text),
            np.log1p(len(c.text)),
            len(c.text) / max(1, len(c.sentence)),
            float(info.english),
            float(info.english) * c.sim,
        )
    return rows


def neighbour_similarities(units: Sequence, sims: np.ndarray) -> list[float]:
    """Per unit: the higher similarity of the sentence before and the sentence after its own.

    ``units`` have ``kind``, ``sentence_start`` and ``sentence_end`` (rag.units); ``sims``
    are their similarities to the question, in the same order.
    """
    sentences = sorted(
        (u.sentence_start, float(sims[i])) for i, u in enumerate(units) if u.kind == "sentence"
    )
    position = {start: k for k, (start, _) in enumerate(sentences)}
    out = []
    for u in units:
        k = position.get(u.sentence_start)
        if k is None:
            out.append(0.0)
            continue
        around = [sentences[j][1] for j in (k - 1, k + 1) if 0 <= j < len(sentences)]
        out.append(max(around, default=0.0))
    return out
