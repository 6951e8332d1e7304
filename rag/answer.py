"""Extractive answers: the smallest units of the retrieved passages that answer, cited.

Every answer unit of the top hits (``rag.units``: sentences, list items, groups,
clauses; vectors and terms stored with the index) gets a calibrated probability of
answering from the learned scorer (``rag.answer_scorer``). The best unit is quoted
when it reaches the refusal threshold chosen on validation data and its sentence
names no other year or day than the question (rag.mismatches) and its document
(without its page furniture) names every year, number, ordinal, place and name of the
question that another retrieved document names (rag.refusals.unmentioned_in); so is any
other unit that is more likely than not to answer. A question that asks for a list
gets the whole list, and a sentence that points at a footnote (``기업*``) brings it along.
When the article itself answers nearly as well as the page furniture around it
(rag.furniture: menus, sidebars, rules), only the article is quoted; refusals do not
look at the marks. The text is only ever quoted, never rewritten; a warm answer costs
arithmetic only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .answer_features import (
    QuestionInfo,
    UnitCandidate,
    feature_rows,
    keep_typed,
    neighbour_similarities,
    question_info,
)
from .answer_scorer import AnswerScorer
from .citing import make_citation, quoting_answer
from .config import Settings
from .embeddings import Embedder
from .mismatches import mismatches
from .refusals import refusal, unmentioned_in, unmentioned_specifics
from .sentence_vectors import SentenceVectors
from .store import IndexData
from .textnorm import fold
from .types import Answer, Citation, Document, Hit, Lang

FOOTNOTE_REF = re.compile(r"\S\*")  # "기업*": the sentence has a footnote
# The article is quoted alone when its best unit is at least this fraction as likely to
# answer as the best furniture unit: "within a factor of two", set a priori, not fitted
# (the only labelled furniture questions are in the gold set, which is the check).
FURNITURE_WEIGHT = 0.5


@dataclass(frozen=True)
class Scored:
    """A candidate unit with where it is in its document and its probability."""

    candidate: UnitCandidate
    doc_id: str
    chunk_id: str
    start: int  # document offsets of the unit
    end: int
    sentence_start: int
    sentence_end: int
    probability: float = 0.0
    location: str = ""  # the chunk's place in the original ("p. 3", "slide 2", ...)
    furniture: bool = False  # most of the unit is page furniture


class UnitAnswerer:
    def __init__(self, embedder: Embedder, settings: Settings, scorer: AnswerScorer | None = None):
        self.settings = settings
        self.scorer = scorer or AnswerScorer.load()
        self.vectors = SentenceVectors(embedder)  # for the LLM claim check

    def answer(
        self,
        question: str,
        hits: list[Hit],
        *,
        query_vector: np.ndarray,
        data: IndexData,
        lang: Lang,
        search_query: str = "",
    ) -> Answer:
        """``query_vector`` embeds ``search_query`` (for a follow-up it carries the previous
        question), so units are scored against what was searched; ``question`` decides
        the answer type."""
        missing = unmentioned_specifics(question, hits, data.documents)
        if missing:
            return refusal(question, lang=lang, hits=hits, search_query=search_query,
                           unmentioned=missing)  # fmt: skip
        info = question_info(question, search_query=search_query)
        scored = self.score(info, hits, query_vector=query_vector, data=data)
        top = max(scored, key=lambda s: s.probability, default=None)
        best = top.probability if top is not None else 0.0
        if top is None or best < self.scorer.refusal_threshold:
            return refusal(question, lang=lang, hits=hits, search_query=search_query,
                           confidence=best)  # fmt: skip
        contradicted = mismatches(question, top.candidate.sentence)  # another year or day
        if contradicted:
            return refusal(question, lang=lang, hits=hits, search_query=search_query,
                           confidence=best, mismatched=contradicted)  # fmt: skip
        skip = None if top.furniture else data.furniture  # a sidebar's years are not the article's
        absent = unmentioned_in(question, [top.doc_id], data.documents, skip=skip)
        if absent:
            return refusal(question, lang=lang, hits=hits, search_query=search_query,
                           confidence=best, missing_from_best=absent)  # fmt: skip
        chosen = self._select(info, scored, data.documents)
        citations = [_citation(n, s, data.documents) for n, s in enumerate(chosen, start=1)]
        return quoting_answer(question, citations, lang=lang, hits=hits,
                              search_query=search_query, confidence=best)  # fmt: skip

    def score(
        self, info: QuestionInfo, hits: list[Hit], *, query_vector: np.ndarray, data: IndexData
    ) -> list[Scored]:
        """Every unit of ``hits`` (once each, from its best-ranked chunk), with probabilities."""
        scored = _candidates(hits, query_vector, data)
        keep = keep_typed(info.question, [s.candidate for s in scored])
        scored = [scored[i] for i in keep]
        texts = {doc_id: doc.text for doc_id, doc in data.documents.items()}
        rows = feature_rows(info, [s.candidate for s in scored], texts)
        probs = self.scorer.probabilities(rows)
        return [_with_probability(s, float(p)) for s, p in zip(scored, probs, strict=True)]

    def _select(
        self, info: QuestionInfo, scored: list[Scored], documents: dict[str, Document]
    ) -> list[Scored]:
        if self.settings.prefer_body:
            scored = self._prefer_body(scored)
        ranked = sorted(scored, key=lambda s: s.probability, reverse=True)
        top = _whole_list(ranked[0], scored) if info.list_question else ranked[0]
        chosen = [top]
        for s in ranked[1:]:
            if len(chosen) >= self.settings.answer_max_sentences:
                break
            if s.probability < self.scorer.quote_threshold:
                break
            if not any(_overlaps(s, c) for c in chosen):
                chosen.append(s)
        if info.list_question:
            chosen = _with_footnotes(chosen, scored, documents)
        return sorted(chosen, key=lambda s: (s.doc_id, s.start))

    def _prefer_body(self, scored: list[Scored]) -> list[Scored]:
        """Only the article's units, when the best of them would answer on its own and is
        at least ``FURNITURE_WEIGHT`` as likely as the best furniture; else ``scored``."""
        body = [s for s in scored if not s.furniture]
        if not body or len(body) == len(scored):
            return scored
        best_body = max(s.probability for s in body)
        best = max(s.probability for s in scored)
        if best_body < self.scorer.refusal_threshold or best_body < FURNITURE_WEIGHT * best:
            return scored
        return body


def _candidates(hits: list[Hit], query_vector: np.ndarray, data: IndexData) -> list[Scored]:
    seen: set[tuple[str, int, int]] = set()
    out: list[Scored] = []
    q = np.asarray(query_vector, dtype=np.float32)
    for rank, hit in enumerate(hits):
        chunk = hit.chunk
        row = data.chunk_row(chunk.chunk_id)
        if row is None:
            continue
        units, vectors = data.chunk_units(row)
        unit_vectors = vectors.astype(np.float32)
        sims = unit_vectors @ q if len(units) else np.zeros(0)
        centrality = unit_vectors @ data.vectors[row] if len(units) else np.zeros(0)
        passage_sim = float(data.vectors[row] @ q)
        sentence_of = {(u.start, u.end): i for i, u in enumerate(units) if u.kind == "sentence"}
        around = neighbour_similarities(units, sims)
        doc = data.documents.get(chunk.doc_id)
        title = fold(doc.title) if doc is not None and doc.title else None
        for i, u in enumerate(units):
            key = (chunk.doc_id, chunk.start + u.start, chunk.start + u.end)
            if key in seen:
                continue
            seen.add(key)
            s = sentence_of.get((u.sentence_start, u.sentence_end), i)
            candidate = UnitCandidate(
                text=chunk.text[u.start : u.end],
                sentence=chunk.text[u.sentence_start : u.sentence_end],
                kind=u.kind, n_items=u.n_items, terms=frozenset(u.terms),
                sentence_terms=frozenset(units[s].terms), sim=float(sims[i]),
                sentence_sim=float(sims[s]), passage_sim=passage_sim, passage_rank=rank,
                document=chunk.doc_id,
                is_title=title is not None
                and fold(chunk.text[u.sentence_start : u.sentence_end]) == title,
                neighbour_sim=around[i],
                unit_passage_sim=float(centrality[i]),
            )  # fmt: skip
            out.append(
                Scored(
                    candidate,
                    chunk.doc_id,
                    chunk.chunk_id,
                    key[1],
                    key[2],
                    chunk.start + u.sentence_start,
                    chunk.start + u.sentence_end,
                    location=getattr(chunk, "location", ""),
                    furniture=data.is_furniture(chunk.doc_id, key[1], key[2]),
                )  # fmt: skip
            )
    return out


def _with_probability(s: Scored, p: float) -> Scored:
    from dataclasses import replace

    return replace(s, probability=p)


def _overlaps(a: Scored, b: Scored) -> bool:
    return a.doc_id == b.doc_id and a.start < b.end and b.start < a.end


def _whole_list(top: Scored, scored: list[Scored]) -> Scored:
    """For a list question, the smallest unit around ``top`` that holds the whole list."""
    if top.candidate.n_items >= 3:
        return top
    around = [
        s for s in scored
        if s.doc_id == top.doc_id and s.start <= top.start and s.end >= top.end
        and s.candidate.n_items >= 3
    ]  # fmt: skip
    return min(around, key=lambda s: s.end - s.start) if around else top


def _with_footnotes(
    chosen: list[Scored], scored: list[Scored], documents: dict[str, Document]
) -> list[Scored]:
    """A unit that points at a footnote (``기업*``) is incomplete without the ``*`` line
    when the question asks for the list it spells out."""
    out = list(chosen)
    for s in chosen:
        doc = documents.get(s.doc_id)
        if doc is None or not FOOTNOTE_REF.search(s.candidate.text):
            continue
        notes = [
            n for n in scored
            if n.doc_id == s.doc_id and n.start >= s.end and n.candidate.kind == "sentence"
            and doc.text[n.start : n.end].startswith("*")
        ]  # fmt: skip
        note = min(notes, key=lambda n: n.start) if notes else _footnote_line(s, doc)
        if note is not None and not any(_overlaps(note, o) for o in out):
            out.append(note)
    return out


def _footnote_line(s: Scored, doc: Document) -> Scored | None:
    """The next ``*`` line after ``s`` in its document, when no retrieved chunk held it."""
    match = re.compile(r"^\*[^\n]+", re.M).search(doc.text, s.end, s.end + 2000)
    if match is None:
        return None
    text = match.group().rstrip()
    cand = UnitCandidate(text, text, "sentence", 1, frozenset(), frozenset(), 0.0, 0.0, 0.0, 0,
                         s.doc_id)  # fmt: skip
    start, end = match.start(), match.start() + len(text)
    return Scored(cand, s.doc_id, s.chunk_id, start, end, start, end, s.probability, s.location)


def _citation(n: int, s: Scored, documents: dict[str, Document]) -> Citation:
    return make_citation(
        n, documents, doc_id=s.doc_id, chunk_id=s.chunk_id, quote=s.candidate.text,
        start=s.start, end=s.end, score=s.probability, context=s.candidate.sentence,
        context_start=s.sentence_start, location=s.location,
    )  # fmt: skip
