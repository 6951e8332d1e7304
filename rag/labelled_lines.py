"""A "label : value" line whose label names what the question asks, quoted alone.

Press releases and notices state an event's date and place in a labelled line under its
heading ("※ AI 글로벌 포럼 개요" / "- 일시/장소 : 2024.5.22(수), 한국과학기술연구원(KIST)").
Asked "Where was the AI Global Forum held?", the sentence answerer ranked the release's
subtitle and lead first, since they name the forum and the line alone names nothing; the
line is scored together with its heading (embedded as one text: rag.sentence_candidates)
but lands a little below them.
When the question asks only for a date or a place, and a line labelled with every kind
it asks for scores within the selection margin of the best sentence (the margin within
which sentences already count as equally good), that line is the answer. The label says
what the value is, which no similarity can. Nothing here is fitted; the gold set is the
check.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # rag.sentence_candidates asks ``is_labelled`` of every short line
    from .sentence_candidates import Candidate

Asked = Literal["date", "place"]

_ASKS: dict[Asked, re.Pattern[str]] = {
    "date": re.compile(
        r"\bwhen\b|\b(what|which|on which) (date|day)\b|언제|며칠|몇\s*월|날짜|일시", re.I
    ),
    "place": re.compile(
        r"\bwhere\b|\b(what|which) (venue|place|location)\b|어디|어느\s*곳|장소", re.I
    ),
}
# What the question must not ask besides: "Who attended, and where?" needs more than a line.
_OTHER = re.compile(
    r"\b(who|whom|whose|what|which|why|how)\b|누구|누가|무엇|무슨|어떤|어느|왜|어떻게|얼마|몇", re.I
)
_LABEL = re.compile(r"^[ \t\-–•·▪○ㅇ*]*([^:：\n]{1,16}?)[ \t]*[:：][ \t]*\S")
_LABEL_NAMES: dict[Asked, re.Pattern[str]] = {
    "date": re.compile(r"일시|일자|날짜|기간|개최일|\b(date|dates|when|time)\b", re.I),
    "place": re.compile(r"장소|위치|개최지|\b(venue|place|location|where)\b", re.I),
}


def asked_kinds(question: str) -> set[Asked]:
    """The kinds among date and place that ``question`` asks for; empty when it asks for
    anything else as well (a "which", "who" or "what" besides "what date")."""
    kinds = {kind for kind, pattern in _ASKS.items() if pattern.search(question)}
    if not kinds:
        return set()
    rest = question
    for pattern in _ASKS.values():
        rest = pattern.sub(" ", rest)
    return set() if _OTHER.search(rest) else kinds


def is_labelled(text: str) -> bool:
    """Whether ``text`` is a "label : value" line."""
    return _LABEL.match(text) is not None


def labelled_kinds(text: str) -> set[Asked]:
    """The kinds the label of a "label : value" line names ("일시/장소" → date and place)."""
    match = _LABEL.match(text)
    if match is None:
        return set()
    label = match.group(1)
    return {kind for kind, pattern in _LABEL_NAMES.items() if pattern.search(label)}


def labelled_line(question: str, ranked: list[Candidate], *, margin: float) -> Candidate | None:
    """The best-ranked line of ``ranked`` labelled with every kind the question asks for,
    when it scores within ``margin`` of the best; None otherwise."""
    asked = asked_kinds(question)
    if not asked or not ranked:
        return None
    best = ranked[0].score
    for cand in ranked:
        if cand.score < best - margin:
            return None
        if not cand.furniture and asked <= labelled_kinds(cand.text):
            return cand
    return None
