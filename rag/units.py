"""Answer units: sentences, and the smaller pieces the text itself marks inside them.

An answer should quote only what answers. Scraped press releases put several facts
in one sentence: bullet lists ("▲A ▲B ▲C"), grouped lists ("(국내) A, B / (국외) C"),
"label : value" lines and clauses joined by commas. Each sentence is a unit, and so
is every piece it splits into; the answerer scores them all and quotes the smallest
that answers. Offsets are exact, so a citation points at the unit and its sentence.

Shortcut taken: clauses are cut only at ", " where both sides are at least
``MIN_CLAUSE`` characters long, so a list of short names stays one unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .sentences import sentence_spans

UnitKind = Literal["sentence", "item", "group", "clause"]

MIN_UNIT_CHARS = 2
MIN_CLAUSE = 8
# An inline bullet follows a space: "혁신·안전성" (no space) is not a list, and a marker that
# opens the sentence ("□ 한 총리는", "• 1.") marks a paragraph, not a list item.
_BULLET = re.compile(r"(?<=\s)[▲△○●◦•▪■◆◇➢➤]\s*(?=\S)")
_GROUP = re.compile(r"\s/\s|(?:^|(?<=\s))\((?:국내|국외|해외|국내외|domestic|overseas)\)\s*")
_FIELD = re.compile(r"^[\s\-–·*□ㅇ○]*[^:：\n]{1,24}?\s[:：]\s*")
_COMMA = re.compile(r",\s+")


@dataclass(frozen=True)
class Unit:
    """A span ``[start, end)`` of the text, in the sentence ``[sentence_start, sentence_end)``."""

    start: int
    end: int
    sentence_start: int
    sentence_end: int
    kind: UnitKind
    n_items: int = 1  # list items the unit holds (a whole bullet list: how many bullets)


def answer_units(text: str) -> list[Unit]:
    """All units of ``text``, in document order, each span once (the largest kind wins)."""
    units: list[Unit] = []
    seen: set[tuple[int, int]] = set()
    for s_start, s_end in sentence_spans(text):
        for unit in _sentence_units(text, s_start, s_end):
            key = (unit.start, unit.end)
            if key not in seen and unit.end - unit.start >= MIN_UNIT_CHARS:
                seen.add(key)
                units.append(unit)
    return units


def _sentence_units(text: str, s_start: int, s_end: int) -> list[Unit]:
    sentence = text[s_start:s_end]
    items = _pieces(sentence, _BULLET)
    groups = _pieces(sentence, _GROUP)
    n_items = max(len(items), _list_size(sentence))
    out = [Unit(s_start, s_end, s_start, s_end, "sentence", n_items)]
    body = _field_value(sentence)
    if body is not None and body[0] > 0:
        out.append(_unit(s_start, body, s_end, "group", n_items))
    for kind, pieces in (("item", items), ("group", groups)):
        if len(pieces) < 2:
            continue
        for piece in pieces:
            out.append(_unit(s_start, piece, s_end, kind, _list_size(sentence[slice(*piece)])))
    leaves = [p for p in (items if len(items) > 1 else groups if len(groups) > 1 else []) if p]
    for start, end in leaves or [body or (0, len(sentence))]:
        clauses = _clauses(sentence, start, end)
        if len(clauses) > 1:
            out.extend(_unit(s_start, c, s_end, "clause", 1) for c in clauses)
    return out


def _unit(offset: int, span: tuple[int, int], s_end: int, kind: UnitKind, n: int) -> Unit:
    return Unit(offset + span[0], offset + span[1], offset, s_end, kind, n)


def _pieces(sentence: str, marker: re.Pattern[str]) -> list[tuple[int, int]]:
    """The spans between markers; the text before the first marker is not a piece."""
    cuts = [(m.start(), m.end()) for m in marker.finditer(sentence)]
    pieces = []
    for i, (_, body_start) in enumerate(cuts):
        body_end = cuts[i + 1][0] if i + 1 < len(cuts) else len(sentence)
        pieces.extend(_strip(sentence, body_start, body_end))
    return pieces


def _field_value(sentence: str) -> tuple[int, int] | None:
    """For "- 일시/장소 : 2024.5.22(수), KIST", the span of the value."""
    match = _FIELD.match(sentence)
    if match is None or match.end() >= len(sentence):
        return None
    stripped = _strip(sentence, match.end(), len(sentence))
    return stripped[0] if stripped else None


def _clauses(sentence: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut at ", " where both sides are long enough to say something on their own."""
    if _list_size(sentence[start:end]) > 1:
        return [(start, end)]
    cuts = list(_COMMA.finditer(sentence, start, end))
    bounds = [start] + [m.end() for m in cuts]
    ends = [m.start() for m in cuts[1:]] + [end] if cuts else []
    spans: list[tuple[int, int]] = []
    piece_start = start
    for match, left_start, right_end in zip(cuts, bounds, ends, strict=False):
        left, right = match.start() - left_start, right_end - match.end()
        if left >= MIN_CLAUSE and right >= MIN_CLAUSE:
            spans.extend(_strip(sentence, piece_start, match.start()))
            piece_start = match.end()
    spans.extend(_strip(sentence, piece_start, end))
    return spans


def _list_size(text: str) -> int:
    """How many list entries ``text`` holds: bullets, or short comma-separated names."""
    bullets = len(_BULLET.findall(text))
    if bullets > 1:
        return bullets
    parts = [p for p in re.split(r",\s*|\s/\s", text) if p.strip()]
    short = sum(len(p.strip()) <= 20 for p in parts)
    return short if short >= 3 and short >= len(parts) - 1 else 1


def _strip(text: str, start: int, end: int) -> list[tuple[int, int]]:
    while start < end and (text[start].isspace() or text[start] in "-–,"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ",/"):
        end -= 1
    return [(start, end)] if end > start else []


@dataclass(frozen=True)
class StoredUnit:
    """A unit as the index keeps it: offsets relative to its chunk, and its search terms."""

    start: int
    end: int
    sentence_start: int
    sentence_end: int
    kind: UnitKind
    n_items: int
    terms: tuple[str, ...] = ()

    def to_row(self) -> list:
        return [self.start, self.end, self.sentence_start, self.sentence_end, self.kind,
                self.n_items, list(self.terms)]  # fmt: skip

    @classmethod
    def from_row(cls, row: list) -> StoredUnit:
        start, end, s_start, s_end, kind, n_items, terms = row
        if kind not in ("sentence", "item", "group", "clause"):
            raise ValueError(f"unknown unit kind {kind!r}")
        return cls(int(start), int(end), int(s_start), int(s_end), kind, int(n_items), tuple(terms))
