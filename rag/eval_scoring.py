"""Scoring one answer against its gold question: accuracy, token F1, citations.

Matching is substring matching after ``textnorm.fold`` (NFKC, casefold, whitespace
collapse), as the gold format specifies. Token F1 (SQuAD's, over the answer's
quoted units) counts Korean by characters and other text by words, so an answer
padded with sentences that are not evidence scores lower than a precise one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import TypedDict

from .errors import RagError
from .eval_gold import GoldItem
from .textnorm import fold, normalize
from .types import Answer, Citation, Hit


class QuestionResult(TypedDict):
    id: str
    question: str
    lang: str
    answerable: bool
    answer: str
    refused: bool
    hit_rank: int | None
    answer_score: float | None
    cited_ok: bool | None
    n_cited: int
    n_cited_ok: int
    latency_ms: float
    ttft_ms: float | None  # until the first streamed delta; None if ``ask`` did not stream
    mode: str  # "llm": generated text shown; "extractive": extractive or a fallback
    fallback: str | None  # a FALLBACK_KINDS entry when a generated answer was replaced
    fallback_reason: str
    claims: dict[str, int]  # claim-check verdicts per status (empty for extractive)
    token_f1: float | None  # answerable only: SQuAD token F1 of the quotes vs the gold answer
    answer_chars: int  # characters quoted (0 for a refusal)
    confidence: float  # the answerer's probability that its best unit answers
    # With an LLM rendering the quote (rag.llm.render); None without one.
    rendering_status: str | None
    rendering: str
    rendering_score: float | None  # answerable, rendering shown: aliases in its language
    rendering_unsupported: int  # unsupported sentences in a shown rendering (must be 0)
    rendering_first_ms: float | None  # question to the rendering's first token


CLAIM_STATUSES = ("supported", "unsupported", "unchecked")
# Why a generated answer was replaced by the extractive one, from Answer.fallback_reason
# (texts in rag/llm/generate.py; tests/test_llm.py checks each against the real code).
FALLBACK_KINDS = {
    "no_citation": "no sentence cites a passage",
    "unsupported_fact": "failed the citation check",
    "empty": "the model returned nothing",
    "restates_question": "only restated the question",
    "refusal_overridden": "said the documents do not say",
}


def fallback_kind(reason: str) -> str | None:
    """The FALLBACK_KINDS key for an ``Answer.fallback_reason`` ("other" if unknown)."""
    if not reason:
        return None
    for kind in ("no_citation", "empty", "restates_question", "refusal_overridden",
                 "unsupported_fact"):  # fmt: skip
        if FALLBACK_KINDS[kind] in reason:
            return kind
    return "other"


def score_answer(answer_text: str, alias_groups: Sequence[Sequence[str]]) -> float:
    """Fraction of alias groups with at least one alias in the answer (folded substring)."""
    if not alias_groups:
        raise RagError(
            "alias_groups is empty; unanswerable questions are scored by refusal, "
            "not by score_answer"
        )
    text = fold(answer_text)
    matched = sum(any(fold(a) in text for a in group) for group in alias_groups)
    return matched / len(alias_groups)


def evidence_rank(hits_texts: Sequence[str], evidence: Sequence[str]) -> int | None:
    """1-based rank of the first text containing any evidence string, or None."""
    needles = [fold(e) for e in evidence if fold(e)]
    for rank, text in enumerate(hits_texts, start=1):
        folded = fold(text)
        if any(n in folded for n in needles):
            return rank
    return None


def _contains_evidence(text: str, evidence: Sequence[str]) -> bool:
    return evidence_rank([text], evidence) == 1


def citation_ok(citation: Citation, evidence: Sequence[str], hits: Sequence[Hit]) -> bool:
    """Does the citation point at the evidence? By position where the evidence can be found
    in the retrieved chunks (the quote lies mostly inside it, or covers it), else by text.

    Quotes can be smaller than the evidence sentence (one list item of it), so a quote
    inside the evidence counts; the same words quoted from elsewhere (a headline) do not.
    """
    spans = _evidence_spans(evidence, hits)
    if not spans:
        return _contains_evidence(citation.quote, evidence)
    length = max(1, citation.end - citation.start)
    for doc_id, start, end in spans:
        if doc_id != citation.doc_id:
            continue
        overlap = min(end, citation.end) - max(start, citation.start)
        if overlap >= 0.5 * length or overlap >= end - start:
            return True
    return False


def _evidence_spans(evidence: Sequence[str], hits: Sequence[Hit]) -> list[tuple[str, int, int]]:
    spans = set()
    for hit in hits:
        text = hit.chunk.text
        for e in evidence:
            needle = normalize(e)
            for m in re.finditer(re.escape(needle), text):
                spans.add(
                    (hit.chunk.doc_id, hit.chunk.start + m.start(), hit.chunk.start + m.end())
                )
    return sorted(spans)


def token_f1(quoted: str, alias_groups: Sequence[Sequence[str]]) -> float:
    """SQuAD-style F1 of the quoted text's tokens against the gold answer's.

    The gold answer takes, from each alias group, the alias the quote contains (else the
    group's first alias in the quote's script). Tokens: Hangul characters, Latin words
    and numbers, case-folded.
    """
    folded = fold(quoted)
    gold = []
    for group in alias_groups:
        found = [a for a in group if fold(a) in folded]
        same_script = [a for a in group if _is_korean(a) == _is_korean(quoted)]
        gold.append((found or same_script or list(group))[0])
    pred, truth = Counter(_tokens(quoted)), Counter(_tokens(" ".join(gold)))
    common = sum((pred & truth).values())
    if common == 0:
        return 0.0
    precision, recall = common / sum(pred.values()), common / sum(truth.values())
    return 2 * precision * recall / (precision + recall)


_TOKEN = re.compile(r"[\uac00-\ud7a3]|[^\W\d_]+|\d+(?:[.,]\d+)*", re.UNICODE)


def _tokens(text: str) -> list[str]:
    """Korean by characters, anything else by words (SQuAD's rule, per script)."""
    out = []
    for m in _TOKEN.finditer(fold(text)):
        token = m.group()
        if len(token) > 1 and any("\uac00" <= ch <= "\ud7a3" for ch in token):
            out.extend(ch for ch in token if "\uac00" <= ch <= "\ud7a3")
        else:
            out.append(token)
    return out


def _is_korean(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


def _score(
    item: GoldItem,
    answer: Answer,
    latency_ms: float,
    ttft_ms: float | None,
    top_k: int,
    *,
    rendering_first_ms: float | None = None,
) -> QuestionResult:
    has_evidence = item.answerable and bool(item.evidence)
    hit_rank = cited_ok = None
    n_cited = n_cited_ok = 0
    if has_evidence:
        hit_rank = evidence_rank([h.chunk.text for h in answer.hits[:top_k]], item.evidence)
        n_cited = len(answer.citations)
        n_cited_ok = sum(citation_ok(c, item.evidence, answer.hits) for c in answer.citations)
        cited_ok = n_cited_ok > 0
    score = f1 = None
    quoted = "" if answer.refused else _quoted(answer)
    if item.answerable:
        # A refusal is never a correct answer, whatever words it happens to contain.
        score = 0.0 if answer.refused else score_answer(answer.text, item.answers)
        f1 = 0.0 if answer.refused else token_f1(quoted, item.answers)
    claims = [c.status for c in answer.claims]
    return QuestionResult(
        id=item.id,
        question=item.question,
        lang=item.lang,
        answerable=item.answerable,
        answer=answer.text,
        refused=answer.refused,
        hit_rank=hit_rank,
        answer_score=None if score is None else round(score, 4),
        cited_ok=cited_ok,
        n_cited=n_cited,
        n_cited_ok=n_cited_ok,
        latency_ms=round(latency_ms, 1),
        ttft_ms=None if ttft_ms is None else round(ttft_ms, 1),
        mode=answer.mode,
        fallback=fallback_kind(answer.fallback_reason),
        fallback_reason=answer.fallback_reason,
        claims={status: claims.count(status) for status in CLAIM_STATUSES if status in claims},
        token_f1=None if f1 is None else round(f1, 4),
        answer_chars=len(quoted),
        confidence=round(float(answer.confidence), 4),
        **_rendering_fields(item, answer, rendering_first_ms),
    )


def _rendering_fields(item: GoldItem, answer: Answer, first_ms: float | None) -> dict:
    r = answer.rendering
    shown = r is not None and r.shown
    score = None
    if shown and item.answerable:
        score = round(score_answer(r.text, in_language(item.answers, r.lang)), 4)
    return dict(
        rendering_status=None if r is None else r.status,
        rendering="" if r is None else r.text,
        rendering_score=score,
        rendering_unsupported=sum(c.status == "unsupported" for c in r.claims) if shown else 0,
        rendering_first_ms=None if first_ms is None else round(first_ms, 1),
    )


def in_language(alias_groups: Sequence[Sequence[str]], lang: str) -> list[list[str]]:
    """Each alias group cut to the aliases written in ``lang``'s script, where it has any.

    An English rendering must say "Samsung", not copy "삼성"; a group with no Latin
    alias (a Korean phrase) keeps all of its aliases.
    """
    out = []
    for group in alias_groups:
        latin = [a for a in group if not _is_korean(a)]
        out.append(latin if lang == "en" and latin else list(group))
    return out


def _quoted(answer: Answer) -> str:
    """What the answer quotes (its citations), or its text when it cites nothing."""
    if answer.mode == "extractive" and answer.citations:
        return " ".join(c.quote for c in answer.citations)
    return re.sub(r"\s*\[\d+\]", "", answer.text)
