"""Refusals: the answer when the documents do not say, and why they do not.

A question whose year, ordinal, place or name appears in none of the retrieved
documents ("Who hosted the third REAIM meeting?" over the first two) is refused
however well its sentences match, and the refusal names what was not found, so the
reader can tell "not in these documents" from "asked about something else".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .constraints import unmentioned
from .types import Answer, Document, Hit, Lang, Mismatch

REFUSAL = {"en": "The documents do not say.", "ko": "문서에서 찾을 수 없습니다."}
UNMENTIONED = {
    "en": "None of the documents found mentions {items}.",
    "ko": "찾은 문서 어디에도 {items}{i_ga} 나오지 않습니다.",
}

MISSING_FROM_BEST = {
    "en": "The document of the passage that matches best does not mention {items}.",
    "ko": "가장 가까운 대목이 나온 문서에는 {items}{i_ga} 나오지 않습니다.",
}
MISSING_NEAR_BEST = {
    "en": "The passage that matches best does not mention {items}.",
    "ko": "가장 가까운 대목에는 {items}{i_ga} 나오지 않습니다.",
}
NAMES_NO = {
    "en": "The passage that matches best names no {kind}.",
    "ko": "가장 가까운 대목에는 {kind}{i_ga} 나오지 않습니다.",
}
KIND_NAMES = {
    "en": {
        "person": "person",
        "organisation": "organisation",
        "country": "country",
        "city": "city",
        "place": "place",
    },
    "ko": {
        "person": "사람 이름",
        "organisation": "기관·기업 이름",
        "country": "나라 이름",
        "city": "도시 이름",
        "place": "장소 이름",
    },
}
MISMATCHED = {
    "en": "The passage that matches best is about {found}, not {asked}.",
    "ko": "가장 가까운 대목은 {asked}{i_ga} 아니라 {found}에 관한 것입니다.",
}
# How a number's last digit is read in Korean (일, 이, 삼, …); a final 0 is read 십, 백, 천
# or 만, all ending in a consonant.
_DIGIT_ENDS_IN_CONSONANT = dict(zip("0123456789", [1, 1, 0, 1, 0, 0, 1, 1, 1, 0], strict=True))


def subject_particle(word: str) -> str:
    """이 after a final consonant, 가 after a vowel ("2024가", "제3차가", "17일이"); both,
    as "이(가)", when the reading is unclear (a Latin name)."""
    last = word.rstrip("’'”\") ")[-1:]
    if "가" <= last <= "힣":
        return "이" if (ord(last) - ord("가")) % 28 else "가"
    if last in _DIGIT_ENDS_IN_CONSONANT:
        return "이" if _DIGIT_ENDS_IN_CONSONANT[last] else "가"
    return "이(가)"


def refusal_reason(
    unmentioned: Sequence[str],
    lang: Lang,
    *,
    mismatched: Sequence[Mismatch] = (),
    missing_from_best: Sequence[str] = (),
    missing_near_best: Sequence[str] = (),
    names_no: str = "",
) -> str:
    """Why a refusal refused, in the answer's language: what the documents do not name,
    what the best passage's document does not name, or what the best passage names
    instead of what was asked; "" when none (the similarity alone was too low)."""
    open_q, close_q = ("“", "”") if lang == "en" else ("‘", "’")

    def quoted(parts) -> str:
        return ", ".join(f"{open_q}{p}{close_q}" for p in parts)

    reasons = []
    for templates, items in (
        (UNMENTIONED, unmentioned),
        (MISSING_FROM_BEST, missing_from_best),
        (MISSING_NEAR_BEST, missing_near_best),
    ):
        if items:
            template = templates.get(lang, templates["en"])
            reasons.append(template.format(items=quoted(items), i_ga=subject_particle(items[-1])))
    for m in mismatched:
        template = MISMATCHED.get(lang, MISMATCHED["en"])
        i_ga = subject_particle(m.asked)
        reasons.append(template.format(asked=quoted([m.asked]), found=quoted(m.found), i_ga=i_ga))
    if names_no:
        kind = KIND_NAMES.get(lang, KIND_NAMES["en"])[names_no]
        template = NAMES_NO.get(lang, NAMES_NO["en"])
        reasons.append(template.format(kind=kind, i_ga=subject_particle(kind)))
    return " ".join(reasons)


def reason_of(answer: Answer) -> str:
    """``refusal_reason`` for a refused answer, from the reasons it carries."""
    return refusal_reason(
        answer.unmentioned,
        answer.lang,
        mismatched=answer.mismatched,
        missing_from_best=answer.missing_from_best,
        missing_near_best=answer.missing_near_best,
        names_no=answer.names_no,
    )


def refusal(
    question: str,
    *,
    lang: Lang,
    hits: list[Hit],
    search_query: str = "",
    confidence: float = 0.0,
    unmentioned: Sequence[str] = (),
    mismatched: Sequence[Mismatch] = (),
    missing_from_best: Sequence[str] = (),
    missing_near_best: Sequence[str] = (),
    names_no: str = "",
) -> Answer:
    return Answer(
        question=question,
        text=REFUSAL[lang],
        refused=True,
        lang=lang,
        hits=hits,
        search_query=search_query,
        confidence=round(confidence, 4),
        unmentioned=list(unmentioned),
        mismatched=list(mismatched),
        missing_from_best=list(missing_from_best),
        missing_near_best=list(missing_near_best),
        names_no=names_no,
    )


def unmentioned_specifics(
    question: str, hits: Sequence[Hit], documents: Mapping[str, Document]
) -> list[str]:
    """The question's specifics (as it words them) that no document of ``hits`` mentions,
    counting each document's title and date as well as its text."""
    return unmentioned_in(question, [hit.chunk.doc_id for hit in hits], documents)


def unmentioned_in(
    question: str,
    doc_ids: Sequence[str],
    documents: Mapping[str, Document],
    *,
    skip: Mapping[str, Sequence[tuple[int, int]]] | None = None,
) -> list[str]:
    """The question's specifics that none of the documents ``doc_ids`` mentions, leaving
    out each document's ``skip`` spans (its page furniture: a sidebar's headline about
    2025 does not make an article about 2023 name 2025)."""
    texts = []
    for doc_id in dict.fromkeys(doc_ids):
        doc = documents.get(doc_id)
        if doc is not None:
            body = _without(doc.text, (skip or {}).get(doc_id, ()))
            texts.append("\n".join(filter(None, (doc.title, doc.date, body))))
    if not texts:
        return []
    return list(dict.fromkeys(c.surface for c in unmentioned(question, texts)))


def _without(text: str, spans: Sequence[tuple[int, int]]) -> str:
    parts, at = [], 0
    for start, end in sorted(spans):
        parts.append(text[at:start])
        at = max(at, end)
    parts.append(text[at:])
    return "\n".join(parts)
