"""The sentence answerer (rag.sentence_answerer) on the scorer's test split, side by side.

It reads the same passages in the same order (by passage similarity) and picks its
best sentence by its own rules (cosine of separately embedded sentences, a shared-term
bonus, a headline penalty, a similarity threshold per language pair, the refusal of a
top sentence that names another year or day: rag.mismatches), so both answerers
are judged on the same questions with the same gold spans. Its thresholds are chosen
here on the validation split by the unit scorer's rule (``choose_refusal_thresholds``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from rag.answer_thresholds import LANG_SAMPLE_CHARS, REFUSAL_THRESHOLDS
from rag.answer_types import required_pattern
from rag.config import Settings
from rag.document_specifics import sentences_naming_the_specifics
from rag.mismatches import mismatches
from rag.nearby_names import SENTENCES_BACK, sentences_naming_nearby
from rag.sentence_answerer import SELECT_MARGIN
from rag.sentence_answerer import SentenceAnswerer as LegacyAnswerer
from rag.sentence_answerer import _candidates as legacy_candidates
from rag.sentence_candidates import Candidate
from rag.textnorm import detect_lang
from rag.types import Chunk, Document, Hit

from .answer_data import Dataset, Example
from .scorer_metrics import auroc, threshold_below
from .scorer_rows import Rows


@dataclass(frozen=True)
class Item:
    """One question as the sentence answerer scores it."""

    example: Example
    # the best sentence's similarity (with its document's title: ``with_title``); -2 when
    # refused before scoring
    best: float
    holds: bool  # the top sentence holds the answer
    top: Candidate | None
    pair: str  # "same" or "cross": the question's language against the top sentence's document's
    mismatch: bool = False  # the top sentence names another year or day (rag.mismatches)
    # refused because no sentence near the best comes from an article that names every
    # specific of the question (rag.document_specifics.sentences_naming_the_specifics)
    unnamed: bool = False
    # refused because no sentence near the best has the question's names and places in
    # it or the sentence before it (rag.nearby_names)
    not_nearby: bool = False
    # The first ``RANKED_KEPT`` sentences in quote order: (score, holds the answer), for
    # choosing how far below the best a sentence is still quoted (eval.quote_margin).
    ranked: tuple[tuple[float, bool], ...] = ()

    def refused(self, thresholds: dict[str, float]) -> bool:
        return self.best < thresholds[self.pair] or self.mismatch or self.unnamed or self.not_nearby


def summaries(items: list[Item], *, thresholds: dict[str, float] = REFUSAL_THRESHOLDS) -> dict:
    per_source: dict[str, list[Item]] = {}
    for item in items:
        per_source.setdefault(item.example.source, []).append(item)
    out = {"all": _summary(items, thresholds)}
    out.update({source: _summary(v, thresholds) for source, v in sorted(per_source.items())})
    return out


def choose_refusal_thresholds(items: list[Item], *, max_false_refusals: float) -> dict[str, float]:
    """Per language pair, the highest similarity threshold that refuses at most
    ``max_false_refusals`` of the answerable questions the scoring sees (the rule of
    ``scorer_metrics.choose_threshold``)."""
    scored = [i for i in items if i.example.answer is not None and i.best > -2]
    return {
        pair: threshold_below(
            [i.best for i in scored if i.pair == pair],
            max_false_refusals=max_false_refusals,
            digits=4,
        )
        for pair in REFUSAL_THRESHOLDS
    }


def legacy_items(
    rows: Sequence[Rows],
    data: Dataset,
    vectors: dict,
    q_vectors: dict,
    embedder,
    settings: Settings,
    *,
    refused: set[str] = frozenset(),
    windows: Sequence[int | None] = (SENTENCES_BACK,),
) -> dict[int | None, list[Item]]:
    """Each question's best similarity and whether the top sentence holds its answer, for
    each of ``windows``: how many sentences before the quoted one may name the question's
    names and places (rag.nearby_names; None: that rule off). The sentences are scored
    once for all of them."""
    answerer = LegacyAnswerer(embedder, settings)
    items: dict[int | None, list[Item]] = {w: [] for w in windows}
    for r in tqdm(rows, desc="previous answerer"):
        ex = r.example
        q, lang = q_vectors[ex.qid], detect_lang(ex.question)
        docs, articles, scored, absent = scored_sentences(answerer, ex, data, vectors, q)
        for window in windows:
            ranked, not_nearby = scored, False
            if not absent:
                near, far = sentences_naming_nearby(
                    ex.question, scored, docs, margin=SELECT_MARGIN, topic_of=articles,
                    sentences_back=window,
                )  # fmt: skip
                ranked, not_nearby = (scored, True) if far else (near, False)
            titled = answerer.with_title(ranked[0], docs, q, lang=lang) if ranked else None
            items[window].append(_item(ex, ranked, docs, absent, not_nearby, refused, titled))
    return items


def scored_sentences(
    answerer: LegacyAnswerer, ex: Example, data: Dataset, vectors: dict, q: np.ndarray
) -> tuple[dict[str, Document], dict[str, Document], list[Candidate], list[str]]:
    """The sentence answerer's steps up to the check of the quoted article: the offered
    passages (best first) and their articles, the candidate sentences scored, and the
    question's specifics the best one's article leaves out. When none is left out, the
    sentences are those from articles that name them; otherwise all (a refusal keeps its
    similarity for the threshold)."""
    order = sorted(ex.passages, key=lambda k: -float(vectors[k][0] @ q))
    docs = {k: _document(data, k) for k in order}
    hits = [Hit(Chunk(k, k, docs[k].text, 0, len(docs[k].text)), 1.0) for k in order]
    cands = legacy_candidates(hits, docs)
    pattern = required_pattern(ex.question)
    if pattern is not None:
        cands = [c for c in cands if pattern.search(c.text)]
    scored = answerer._score(ex.question, cands, q, docs)
    articles = {k: _article(data, k) for k in order}
    kept, absent = sentences_naming_the_specifics(
        ex.question, scored, articles, margin=SELECT_MARGIN
    )
    return docs, articles, (scored if absent else kept), absent


def _item(
    ex: Example,
    ranked: list[Candidate],
    docs: dict[str, Document],
    absent: list[str],
    not_nearby: bool,
    refused: set[str],
    titled: float | None = None,
) -> Item:
    """``titled``: the top sentence's similarity with its document's title, as the answerer
    compares it with the threshold (``SentenceAnswerer.with_title``)."""
    best = ranked[0].similarity if ranked else -1.0
    if titled is not None:
        best = max(best, titled)
    if ex.qid in refused:
        best = -2.0  # refused before scoring, below every scored question
    kept_holds = tuple((c.score, _holds(ex, c)) for c in ranked[:RANKED_KEPT])
    holds = bool(kept_holds) and kept_holds[0][1]
    top = ranked[0] if ranked else None
    pair = "same"
    if top is not None:
        doc_lang = detect_lang(docs[top.doc_id].text[:LANG_SAMPLE_CHARS])
        pair = "same" if doc_lang == detect_lang(ex.question) else "cross"
    mismatch = top is not None and bool(mismatches(ex.question, top.text))
    unnamed = bool(absent) and ex.qid not in refused
    not_nearby = not_nearby and ex.qid not in refused
    return Item(ex, best, holds, top, pair, mismatch, unnamed, not_nearby, kept_holds)


RANKED_KEPT = 5


def _holds(ex: Example, cand: Candidate) -> bool:
    """Whether ``cand`` holds the answer span of ``ex`` (lies inside it, for an example
    whose answer is a whole sentence)."""
    if ex.answer is None:
        return False
    key, a_start, a_end = ex.answer
    if ex.sentence_only:
        return cand.doc_id == key and cand.start >= a_start and cand.end <= a_end
    return cand.doc_id == key and cand.start <= a_start and cand.end >= a_end


def _document(data: Dataset, key: str) -> Document:
    p = data.passages[key]
    return Document(doc_id=key, text=p.text, title=p.title)


def _article(data: Dataset, key: str) -> Document:
    """The passage's whole article, which the specifics are looked for in."""
    p = data.passages[key]
    return Document(doc_id=key, text=data.documents.get(p.document, p.text), title=p.title)


def _summary(items: list[Item], thresholds: dict[str, float]) -> dict:
    answerable = [i for i in items if i.example.answer is not None]
    unanswerable = [i for i in items if i.example.answer is None]
    answered = [i for i in answerable if not i.refused(thresholds)]
    return {
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "top_unit_holds_answer_when_answered": _mean([i.holds for i in answered]),
        "top_unit_holds_answer_all": _mean([i.holds for i in answerable]),
        "false_refusals": _mean([i.refused(thresholds) for i in answerable]),
        "refusal_accuracy": _mean([i.refused(thresholds) for i in unanswerable]),
        "refused_for_a_mismatch": {
            "answerable": _mean(
                [i.mismatch and not i.best < thresholds[i.pair] for i in answerable]
            ),
            "unanswerable": _mean(
                [i.mismatch and not i.best < thresholds[i.pair] for i in unanswerable]
            ),
        },
        "refused_for_an_unnamed_specific": {
            "answerable": _mean(
                [i.unnamed and not i.best < thresholds[i.pair] for i in answerable]
            ),
            "unanswerable": _mean(
                [i.unnamed and not i.best < thresholds[i.pair] for i in unanswerable]
            ),
        },
        "refused_for_a_name_not_nearby": {
            "answerable": _mean(
                [i.not_nearby and not i.best < thresholds[i.pair] for i in answerable]
            ),
            "unanswerable": _mean(
                [i.not_nearby and not i.best < thresholds[i.pair] for i in unanswerable]
            ),
        },
        "auroc": auroc([i.best for i in answerable], [i.best for i in unanswerable]),
        "mean_quote_chars": _mean(
            [i.top.end - i.top.start for i in answered if i.top is not None], 1
        ),
    }


def _mean(values, digits: int = 4):
    return round(float(np.mean(values)), digits) if len(values) else None
