"""Feature rows and labels for the scorer's examples, built by the product's own code.

Each example offers the scorer the units of its passages (the gold passage and two
look-alike passages from other articles of the same split, as retrieval would), with
``rag.answer_features.feature_rows`` — the function the answerer calls at run time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

import numpy as np
from tqdm.auto import tqdm

from rag.answer_features import (
    QuestionInfo,
    UnitCandidate,
    feature_rows,
    keep_typed,
    neighbour_similarities,
    question_info,
)
from rag.constraints import question_constraints
from rag.terms import terms
from rag.textnorm import fold

from .answer_data import Dataset, Example, changed_question

NEGATIVE_PASSAGES = 2


@dataclass
class Rows:
    """Per example: its feature rows, labels (1 answers, 0 not) and weights (0: ignore)."""

    example: Example
    rows: np.ndarray
    labels: np.ndarray
    weights: np.ndarray
    spans: list[tuple[str, int, int]]  # (passage key, start, end) per row


class RowBuilder:
    def __init__(self, data: Dataset, vectors: dict[str, tuple[np.ndarray, np.ndarray]]):
        self.data = data
        self.vectors = vectors
        self.unit_terms = {
            key: [frozenset(terms(p.text[u.start : u.end])) for u in p.units]
            for key, p in tqdm(data.passages.items(), desc="unit terms")
        }
        self.keys = {s: [k for k, p in data.passages.items() if p.split == s] for s in
                     ("train", "val", "test")}  # fmt: skip
        self.matrix = {
            s: np.stack([vectors[k][0] for k in keys]) if keys else np.zeros((0, 1))
            for s, keys in self.keys.items()
        }

    def with_negatives(self, ex: Example, q_vec: np.ndarray) -> Example:
        """The example with its look-alike passages from other documents of its split."""
        keys = self.keys[ex.split]
        sims = self.matrix[ex.split] @ q_vec
        gold_doc = self.data.passages[ex.passages[0]].document
        wanted = NEGATIVE_PASSAGES + (ex.kind == "no_passage")
        picked = []
        for i in np.argsort(-sims):
            if self.data.passages[keys[i]].document != gold_doc:
                picked.append(keys[i])
            if len(picked) == wanted:
                break
        if ex.kind == "no_passage":  # only look-alikes: one more, and not the gold passage
            return replace(ex, passages=tuple(picked))
        return replace(ex, passages=(*ex.passages, *picked))

    def rows(self, ex: Example, q_vec: np.ndarray, info: QuestionInfo | None = None) -> Rows:
        info = info or question_info(ex.question)
        cands, spans = [], []
        passage_sims = {k: float(self.vectors[k][0] @ q_vec) for k in ex.passages}
        ranked = sorted(ex.passages, key=lambda k: -passage_sims[k])
        for key in ex.passages:
            p = self.data.passages[key]
            unit_vecs = self.vectors[key][1]
            sims = unit_vecs @ q_vec if len(unit_vecs) else np.zeros(0)
            centrality = unit_vecs @ self.vectors[key][0] if len(unit_vecs) else np.zeros(0)
            sentence_row = {
                (u.start, u.end): i for i, u in enumerate(p.units) if u.kind == "sentence"
            }
            around = neighbour_similarities(p.units, sims)
            for i, u in enumerate(p.units):
                s = sentence_row.get((u.sentence_start, u.sentence_end), i)
                cands.append(UnitCandidate(
                    text=p.text[u.start : u.end],
                    sentence=p.text[u.sentence_start : u.sentence_end],
                    kind=u.kind, n_items=u.n_items, terms=self.unit_terms[key][i],
                    sentence_terms=self.unit_terms[key][s], sim=float(sims[i]),
                    sentence_sim=float(sims[s]), passage_sim=passage_sims[key],
                    passage_rank=ranked.index(key), document=p.document,
                    is_title=bool(p.title) and fold(p.text[u.sentence_start : u.sentence_end])
                    == fold(p.title),
                    neighbour_sim=around[i],
                    unit_passage_sim=float(centrality[i]),
                ))  # fmt: skip
                spans.append((key, u.start, u.end))
        keep = keep_typed(ex.question, cands)
        cands = [cands[i] for i in keep]
        spans = [spans[i] for i in keep]
        rows = feature_rows(info, cands, self.data.documents)
        labels, weights = _labels(ex, spans)
        return Rows(ex, rows, labels, weights, spans)


def _labels(ex: Example, spans: list[tuple[str, int, int]]) -> tuple[np.ndarray, np.ndarray]:
    labels = np.zeros(len(spans))
    weights = np.ones(len(spans))
    if ex.answer is None:
        return labels, weights
    key, a_start, a_end = ex.answer
    if ex.sentence_only:  # the sentence is the positive; what is inside it is unknown
        for i, (k, s, e) in enumerate(spans):
            if k == key and (s, e) == (a_start, a_end):
                labels[i] = 1
            elif k == key and s >= a_start and e <= a_end:
                weights[i] = 0
        return labels, weights
    holding = [i for i, (k, s, e) in enumerate(spans) if k == key and s <= a_start and e >= a_end]
    if holding:
        smallest = min(spans[i][2] - spans[i][1] for i in holding)
        for i in holding:
            if spans[i][2] - spans[i][1] == smallest:
                labels[i] = 1
            else:
                weights[i] = 0  # it answers too, with padding: neither taught nor punished
    return labels, weights


def constructed(data: Dataset, examples: list[Example], *, seed: int) -> list[Example]:
    """One unanswerable question per answerable one: a constraint changed where the
    question has one (KorQuAD), otherwise the question without its gold passage."""
    names: dict[str, list[str]] = {}
    for ex in examples:
        if ex.source == "korquad":
            for c in question_constraints(ex.question):
                if c.kind == "name":
                    names.setdefault(ex.split, []).append(c.forms[0])
    out = []
    for ex in examples:
        rng = random.Random(f"{seed}:{ex.qid}")
        passage = data.passages[ex.passages[0]].text
        changed = None
        if ex.source == "korquad":
            changed = changed_question(ex.question, rng, names.get(ex.split, []), passage)
        if changed is not None:
            out.append(replace(ex, qid=ex.qid + "-changed", question=changed, answer=None,
                               kind="changed"))  # fmt: skip
        else:
            out.append(replace(ex, qid=ex.qid + "-nopassage", answer=None, kind="no_passage"))
    return out
