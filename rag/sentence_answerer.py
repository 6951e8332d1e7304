"""Extractive answers by whole sentences (the default; ``RAG_EXTRACTIVE=sentences``).

The unit answerer (rag.answer, ``RAG_EXTRACTIVE=units``) quotes smaller units, but on
the bundled press releases it picks the right passage less often (docs/answers.md), so
this one stays the default.

Candidate sentences come from the top hits (rag.sentence_candidates). Each is scored
by cosine similarity to the question, with vectors computed while indexing
(rag.sentence_store), so a warm answer embeds nothing but, once, a best sentence
under the threshold with its page's title (``with_title``); a short line such as
"- 일시/장소 : 2024.5.22(수), KIST" is also scored together with its neighbours, since
alone it says little (rag.sentence_candidates). Shared terms add a small bonus, a
document's own headline a penalty (and a headline under the refusal threshold gives way
to a sentence of its article that scores within the selection margin of it:
``past_the_headline``). The answer is refused when a year, number,
ordinal, place or name of the question is in none of the retrieved documents
(rag.refusals), when the question asks for money, a count or a date and no
candidate holds one, when the best similarity (or, within a language, that of
the best sentence after its page's title, less a discount: ``with_title``) is under
a threshold chosen on public validation data, or when the best sentence names another
year, day or kind of period (연간, 4분기) than the question (rag.mismatches). Only the sentences of
documents that mention all of the question's specifics are quoted; when the best of
those falls well below the best sentence, the question is refused
(``sentences_naming_the_specifics``). The same holds, sentence by sentence, for the
question's names and places: the quoted sentence, its paragraph so far or the sentence
before it must mention them unless they are the page's topic (rag.nearby_names). A
sentence that mostly repeats a better one is not quoted (``without_repeats``); a
footnote (``기업*`` … ``* (국내) 삼성전자, …``) is quoted when the question asks for
the list it spells out.
When an article sentence answers nearly as well as the page furniture around it
(rag.furniture: menus, sidebars, rules), only the article is quoted; refusals do not
look at the marks. The text is only ever quoted, never rewritten.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .answer_entities import sentences_naming_the_kind
from .answer_thresholds import REFUSAL_THRESHOLD, language_pair, refusal_threshold
from .answer_types import asks_for_list, required_pattern
from .config import Settings
from .document_facts import asked_fact, fact_candidate
from .document_specifics import sentences_naming_the_specifics
from .embeddings import Embedder
from .furniture import Spans
from .labelled_lines import labelled_line
from .mismatches import mismatches
from .nearby_names import sentences_naming_nearby
from .pinpoint import single_entry
from .refusals import refusal, unmentioned_specifics
from .sentence_candidates import Candidate, SpansOf, pooled
from .sentence_candidates import candidates as chunk_candidates
from .sentence_quotes import quoted_answer
from .sentence_selection import (
    is_headline,
    past_the_headline,
    with_footnotes,
    with_lead_ins,
    without_repeats,
)
from .sentence_store import SentenceStore
from .sentence_vectors import SentenceVectors
from .store import IndexData
from .terms import terms
from .types import Answer, Document, Hit, Lang

LEXICAL_BONUS = 0.15
TITLE_PENALTY = 0.25  # a headline is topical but rarely the answer
CONTEXT_DISCOUNT = 0.08  # ...but the neighbours' words are not the line's own
SELECT_MARGIN = 0.08
# Sentences quoted besides the best: those within this of its score. 0 (the best alone,
# and exact ties) gives the highest harmonic mean of citation precision and answer
# recall on the validation split of the public data; `python -m eval.train_scorer`
# reproduces the choice and reports the test split (docs/answers.md).
QUOTE_MARGIN = 0.0
# The article is quoted alone when its best sentence scores within this of the best
# furniture: SELECT_MARGIN, the gap within which sentences already count as equally good
# (set a priori, not fitted; the gold set is the check).
FURNITURE_MARGIN = SELECT_MARGIN
# A sentence under the threshold is compared once more, preceded by its document's title,
# and that similarity counts less this much: the lead of a page headlined "… (REAIM 2023)
# 참석" gives the meeting's dates without naming it. The same discount as a short line's
# neighbours, set a priori; on validation, 0 to 0.12 give balanced accuracy within two
# questions of each other (docs/answers.md). Only within a language:
# Belebele, the public English-over-Korean data, has no titles to check it on.
TITLE_CONTEXT_DISCOUNT = CONTEXT_DISCOUNT


def _threshold(lang: Lang, ranked: list[Candidate], documents: dict[str, Document]) -> float:
    if not ranked:
        return REFUSAL_THRESHOLD
    doc = documents.get(ranked[0].doc_id)
    return refusal_threshold(lang, doc.text if doc is not None else ranked[0].text)


class SentenceAnswerer:
    def __init__(self, embedder: Embedder, settings: Settings):
        self.settings = settings
        self.vectors = SentenceVectors(embedder)

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
        """``query_vector`` is the embedding of ``search_query`` (which, for a
        follow-up, carries the previous question), so sentences are scored
        against what was searched; ``question`` decides the answer type."""
        documents = data.documents
        missing = unmentioned_specifics(question, hits, documents)
        if missing:
            return refusal(question, lang=lang, hits=hits, search_query=search_query,
                           unmentioned=missing)  # fmt: skip
        candidates = _candidates(hits, documents, data.furniture, data.chunk_sentence_spans)
        pattern = required_pattern(question)
        if pattern is not None:
            candidates = [c for c in candidates if pattern.search(c.text)]
        ranked = self._score(
            search_query or question, candidates, query_vector, documents, stored=data.sentences
        )
        kept, absent = sentences_naming_the_specifics(
            question, ranked, documents, data.furniture, margin=SELECT_MARGIN
        )
        if absent:  # and when the best sentence is about another year, say that as well
            return refusal(question, lang=lang, hits=hits, search_query=search_query,
                           confidence=max(ranked[0].similarity, 0.0), missing_from_best=absent,
                           mismatched=mismatches(question, ranked[0].text))  # fmt: skip
        ranked = kept
        kept, absent = sentences_naming_nearby(question, ranked, documents, margin=SELECT_MARGIN)
        if absent:
            best = max(ranked[0].similarity, 0.0)
            return refusal(question, lang=lang, hits=hits, search_query=search_query,
                           confidence=best, missing_near_best=absent)  # fmt: skip
        ranked = kept
        fact = _fact(question, ranked, data, lang)
        if fact is not None:
            return quoted_answer(question, [fact], documents, lang=lang, hits=hits,
                                 search_query=search_query, confidence=fact.similarity)  # fmt: skip
        kept, unnamed_kind = sentences_naming_the_kind(question, ranked, margin=SELECT_MARGIN)
        if unnamed_kind:
            best = max(ranked[0].similarity, 0.0)
            return refusal(question, lang=lang, hits=hits, search_query=search_query,
                           confidence=best, names_no=unnamed_kind)  # fmt: skip
        threshold = _threshold(lang, kept, documents)
        ranked = past_the_headline(kept, documents, margin=SELECT_MARGIN, threshold=threshold)
        best = ranked[0].similarity if ranked else 0.0
        if ranked and best < threshold:
            best = self.with_title(ranked[0], documents, query_vector, lang=lang)
        if best < threshold:
            return refusal(question, lang=lang, hits=hits, search_query=search_query,
                           confidence=max(best, 0.0))  # fmt: skip
        contradicted = mismatches(question, ranked[0].text)
        if contradicted:
            return refusal(question, lang=lang, hits=hits, search_query=search_query,
                           confidence=max(best, 0.0), mismatched=contradicted)  # fmt: skip
        if self.settings.prefer_body:
            ranked = _prefer_body(ranked, threshold)
        chosen = self._select(ranked, documents, question=question, hits=hits, data=data)
        return quoted_answer(question, chosen, documents, lang=lang, hits=hits,
                             search_query=search_query, confidence=best)  # fmt: skip

    def with_title(
        self,
        cand: Candidate,
        documents: dict[str, Document],
        query_vector: np.ndarray,
        *,
        lang: str,
    ) -> float:
        """``cand``'s similarity, or that of its document's title and it together less
        ``TITLE_CONTEXT_DISCOUNT`` when higher: the question may name the page's topic
        while the sentence that answers does not. Same-language pairs only; a headline
        or a document without a title keeps its own. Embedded here, once per text."""
        doc = documents.get(cand.doc_id)
        if doc is None or not doc.title.strip() or is_headline(cand, documents):
            return cand.similarity
        if language_pair(lang, doc.text) != "same":
            return cand.similarity
        titled = self.vectors.encode([f"{doc.title}\n{cand.text}"])[0]
        return max(cand.similarity, float(titled @ query_vector) - TITLE_CONTEXT_DISCOUNT)

    def _score(
        self,
        query: str,
        candidates: list[Candidate],
        query_vector: np.ndarray,
        documents: dict[str, Document],
        *,
        stored: SentenceStore | None = None,
    ) -> list[Candidate]:
        if not candidates:
            return []
        texts = [t for c in candidates for t in (c.text, *c.neighbours, c.context) if t]
        texts = list(dict.fromkeys(texts))
        vectors = dict(zip(texts, self.vectors.encode(texts, stored=stored), strict=True))
        q_terms = set(terms(query))
        scored = []
        for cand in candidates:
            own = vectors[cand.text]
            similarity = float(own @ query_vector)
            if cand.neighbours:
                context = (
                    vectors[cand.context]
                    if cand.context
                    else pooled(own, [vectors[t] for t in cand.neighbours])
                )
                similarity = max(similarity, float(context @ query_vector) - CONTEXT_DISCOUNT)
            score = similarity
            if q_terms:
                score += LEXICAL_BONUS * len(q_terms & set(terms(cand.text))) / len(q_terms)
            if is_headline(cand, documents):
                score -= TITLE_PENALTY
                similarity -= TITLE_PENALTY
            scored.append(replace(cand, similarity=similarity, score=score))
        return sorted(scored, key=lambda c: c.score, reverse=True)

    def _select(
        self,
        ranked: list[Candidate],
        documents: dict[str, Document],
        *,
        question: str = "",
        hits: list[Hit] | None = None,
        data: IndexData | None = None,
    ) -> list[Candidate]:
        line = labelled_line(question, ranked, margin=SELECT_MARGIN)
        if line is not None:  # "- 일시/장소 : 2024.5.22(수), KIST" for "Where was … held?"
            return [line]
        best = ranked[0].score
        # ``ranked`` is by score, so each margin keeps a prefix of the same de-repeated list
        widest = max(QUOTE_MARGIN, SELECT_MARGIN)
        pool = [c for c in ranked if c.score >= best - widest]
        pool = without_repeats(pool)[: self.settings.answer_max_sentences]
        chosen = [c for c in pool if c.score >= best - QUOTE_MARGIN]
        if data is not None and hits:  # an entry that names every specific, among equals
            near = [c for c in pool if c.score >= best - SELECT_MARGIN]
            entry = single_entry(question, near, hits, data)
            chosen = [entry] if entry is not None else chosen
        if asks_for_list(question):
            chosen = with_footnotes(chosen, documents)
        chosen = with_lead_ins(chosen, documents)
        return sorted(chosen, key=lambda c: (c.doc_id, c.start))


def _fact(question: str, ranked: list[Candidate], data: IndexData, lang: Lang) -> Candidate | None:
    """For a question about a document itself (who wrote it, when it was registered:
    rag.document_facts), the line that says so in the document it is about, or None.

    The document is the one of the sentence most like the question with its headline
    counted at full weight: "REAIM 2023 참석 기사를 보도한 언론사는?" is about the article
    whose headline is "박진, … (REAIM 2023) 참석". Its similarity must still reach the
    refusal threshold, so a question about an article the index does not hold is refused.
    """
    kind = asked_fact(question)
    if kind is None or not ranked:
        return None
    documents = data.documents
    about = max(ranked, key=lambda c: _unpenalised(c, documents))
    similarity = _unpenalised(about, documents)
    if similarity < _threshold(lang, [about], documents):
        return None
    fact = fact_candidate(kind, about, data)
    return None if fact is None else replace(fact, similarity=similarity, score=similarity)


def _unpenalised(cand: Candidate, documents: dict[str, Document]) -> float:
    """``cand``'s similarity without the headline penalty."""
    return cand.similarity + (TITLE_PENALTY if is_headline(cand, documents) else 0.0)


def _prefer_body(ranked: list[Candidate], threshold: float) -> list[Candidate]:
    """Only the article's sentences, when the best of them would answer on its own and
    scores within ``FURNITURE_MARGIN`` of the best; otherwise ``ranked`` unchanged."""
    body = [c for c in ranked if not c.furniture]
    if not body or len(body) == len(ranked):
        return ranked
    top = body[0]
    if top.similarity < threshold or top.score < ranked[0].score - FURNITURE_MARGIN:
        return ranked
    return body


def _candidates(
    hits: list[Hit],
    documents: dict[str, Document],
    furniture: dict[str, Spans] | None = None,
    spans_of: SpansOf | None = None,
) -> list[Candidate]:
    """The sentences of ``hits``, once each; ``furniture``: the index's marks per document;
    ``spans_of``: a chunk's stored sentences."""
    return chunk_candidates([hit.chunk for hit in hits], documents, furniture, spans_of=spans_of)
