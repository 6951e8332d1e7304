"""Extractive answers: the source sentences that answer the question, cited.

Candidate sentences come from the top hits; each is scored by cosine
similarity to the question (embeddings cached by text), plus a small bonus for
shared terms. If the best one is below a threshold calibrated on the gold set's
unanswerable questions, or the question asks for a number/amount and no
candidate has one, the answer is a refusal. The text is only ever quoted.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from .config import Settings
from .embeddings import Embedder
from .sentences import sentence_spans
from .terms import terms
from .types import Answer, Citation, Document, Hit, Lang

REFUSAL = {"en": "The documents do not say.", "ko": "문서에서 찾을 수 없습니다."}
LEXICAL_BONUS = 0.15
TITLE_PENALTY = 0.1  # a headline is topical but rarely the answer
DATE_BONUS = 0.08  # "when" questions want a sentence with a date in it
SELECT_MARGIN = 0.08
MIN_SENTENCE_CHARS = 8

_ASKS_AMOUNT = re.compile(
    r"how much|budget|cost|spend|spent|price|얼마|예산|비용|금액|지출", re.IGNORECASE
)
_ASKS_COUNT = re.compile(r"how many|몇\s*(개|명|곳|번|국|차|년|월|일)?|number of", re.IGNORECASE)
_HAS_DIGIT = re.compile(r"\d")
_HAS_MONEY = re.compile(r"\d[\d,.]*\s*(원|달러|유로|엔|억|만|조)|[$€£₩]\s*\d|dollar|won\b", re.I)
_FOOTNOTE_REF = re.compile(r"\S\*")
_ASKS_DATE = re.compile(r"\bwhen\b|what date|which day|언제|날짜|며칠|몇\s*월|일시", re.IGNORECASE)
_HAS_DATE = re.compile(r"\d{1,4}\s*[./-]\s*\d{1,2}|\d+\s*(월|일|년)|\b(19|20)\d\d\b")


@dataclass(frozen=True)
class Candidate:
    doc_id: str
    start: int
    end: int
    text: str
    hit_rank: int
    score: float = 0.0


class SentenceVectors:
    """An LRU cache of sentence embeddings, so repeated passages cost nothing."""

    def __init__(self, embedder: Embedder, *, max_items: int = 50_000):
        self.embedder = embedder
        self.max_items = max_items
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
        with self._lock:
            missing = sorted(
                {k: t for k, t in zip(keys, texts, strict=True) if k not in self._cache}.items()
            )
        if missing:
            vecs = self.embedder.encode_documents([t for _, t in missing])
            with self._lock:
                for (key, _), vec in zip(missing, vecs, strict=True):
                    self._cache[key] = vec
                while len(self._cache) > self.max_items:
                    self._cache.popitem(last=False)
        with self._lock:
            return np.stack([self._cache[k] for k in keys]) if keys else np.zeros((0, 1))


class ExtractiveAnswerer:
    def __init__(self, embedder: Embedder, settings: Settings):
        self.settings = settings
        self.vectors = SentenceVectors(embedder)

    def answer(
        self,
        question: str,
        hits: list[Hit],
        *,
        query_vector: np.ndarray,
        documents: dict[str, Document],
        lang: Lang,
        search_query: str = "",
    ) -> Answer:
        candidates = self._score(question, _candidates(hits), query_vector, documents)
        candidates = _filter_by_answer_type(question, candidates)
        if not candidates or candidates[0].score < self.settings.refusal_threshold:
            return refusal(question, lang=lang, hits=hits, search_query=search_query)
        chosen = self._select(candidates, documents)
        citations = [_citation(n, c, documents) for n, c in enumerate(chosen, start=1)]
        text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
        return Answer(
            question=question,
            text=text,
            citations=citations,
            refused=False,
            lang=lang,
            hits=hits,
            search_query=search_query,
        )

    def _score(
        self,
        question: str,
        candidates: list[Candidate],
        query_vector: np.ndarray,
        documents: dict[str, Document],
    ) -> list[Candidate]:
        if not candidates:
            return []
        sims = self.vectors.encode([c.text for c in candidates]) @ query_vector  # (n,)
        q_terms = set(terms(question))
        wants_date = bool(_ASKS_DATE.search(question))
        scored = []
        for cand, sim in zip(candidates, sims, strict=True):
            score = float(sim)
            if q_terms:
                score += LEXICAL_BONUS * len(q_terms & set(terms(cand.text))) / len(q_terms)
            doc = documents.get(cand.doc_id)
            if doc is not None and doc.title and cand.text.strip() == doc.title.strip():
                score -= TITLE_PENALTY
            if wants_date and _HAS_DATE.search(cand.text):
                score += DATE_BONUS
            scored.append(_with_score(cand, score))
        return sorted(scored, key=lambda c: c.score, reverse=True)

    def _select(self, ranked: list[Candidate], documents: dict[str, Document]) -> list[Candidate]:
        best = ranked[0].score
        chosen = [c for c in ranked if c.score >= best - SELECT_MARGIN]
        chosen = chosen[: self.settings.answer_max_sentences]
        chosen = _with_footnotes(chosen, ranked, documents)
        return sorted(chosen, key=lambda c: (c.doc_id, c.start))


def refusal(question: str, *, lang: Lang, hits: list[Hit], search_query: str = "") -> Answer:
    return Answer(
        question=question,
        text=REFUSAL[lang],
        refused=True,
        lang=lang,
        hits=hits,
        search_query=search_query,
    )


def _candidates(hits: list[Hit]) -> list[Candidate]:
    seen: set[tuple[str, int, int]] = set()
    out: list[Candidate] = []
    for rank, hit in enumerate(hits):
        chunk = hit.chunk
        for start, end in sentence_spans(chunk.text):
            key = (chunk.doc_id, chunk.start + start, chunk.start + end)
            text = chunk.text[start:end]
            if key in seen or len(text) < MIN_SENTENCE_CHARS:
                continue
            seen.add(key)
            out.append(Candidate(chunk.doc_id, key[1], key[2], text, rank))
    return out


def _filter_by_answer_type(question: str, ranked: list[Candidate]) -> list[Candidate]:
    if _ASKS_AMOUNT.search(question):
        return [c for c in ranked if _HAS_MONEY.search(c.text)]
    if _ASKS_COUNT.search(question):
        return [c for c in ranked if _HAS_DIGIT.search(c.text)]
    return ranked


def _with_footnotes(
    chosen: list[Candidate], ranked: list[Candidate], documents: dict[str, Document]
) -> list[Candidate]:
    """A sentence that points at a footnote (``기업*``) is incomplete without it."""
    out = list(chosen)
    for cand in chosen:
        if not _FOOTNOTE_REF.search(cand.text):
            continue
        doc = documents.get(cand.doc_id)
        if doc is None:
            continue
        for start, end in sentence_spans(doc.text[cand.end : cand.end + 2000]):
            text = doc.text[cand.end + start : cand.end + end]
            if text.startswith("*"):
                note = Candidate(cand.doc_id, cand.end + start, cand.end + end, text, cand.hit_rank)
                if all((o.start, o.doc_id) != (note.start, note.doc_id) for o in out):
                    score = next((r.score for r in ranked if r.start == note.start), cand.score)
                    out.append(_with_score(note, score))
                break
    return out


def _with_score(c: Candidate, score: float) -> Candidate:
    return Candidate(c.doc_id, c.start, c.end, c.text, c.hit_rank, score)


def _citation(n: int, cand: Candidate, documents: dict[str, Document]) -> Citation:
    doc = documents.get(cand.doc_id)
    return Citation(
        n=n,
        doc_id=cand.doc_id,
        title=doc.title if doc else "",
        quote=cand.text,
        start=cand.start,
        end=cand.end,
        score=round(cand.score, 4),
        date=doc.date if doc else "",
        source=doc.source if doc else "",
    )
