"""Refuse when the passage that matches best is about another year, month, day, quarter or
kind of reporting period.

"대한항공의 2024년 4분기 영업이익은?" over a report on 2025's fourth quarter finds a
sentence that matches every word but the year; "2025년 연간 영업이익은?" finds the
fourth quarter's figure. The documents may well mention 2024
elsewhere (a dateline, "전년 동기"), so the document-level check (rag.refusals) lets it
through; but the sentence that would be quoted names 2025 and not 2024, so quoting it
would answer another question. The rule compares like with like only: a year with the
years the sentence names, a day with its days, and says nothing when the sentence names
none (then it may still answer: "올해" in a 2024 article).

On the validation split of the public data (docs/answers.md) it refused 5 of 1,074
answerable KorQuAD questions that the similarity threshold let through, and 73 of the
801 questions built by changing a specific (which flatters it: that is what it detects).
"""

from __future__ import annotations

import re

from .types import Mismatch

_YEAR = re.compile(r"(?<![\d.])((?:19|20)\d\d)(?!\d)")
_SHORT_YEAR = re.compile(r"(?<![\d.])[‘’']?(\d\d)\s*년")  # "99년 11월": 1999
_UNIT = re.compile(r"(?<![\d.,])(\d{1,2})\s*(월|일|분기|차)")
UNITS = ("월", "일", "분기", "차")
# Reporting periods: a question about the whole year is not answered by a quarter's figure.
_PERIODS = {
    "year": re.compile(r"연간|한 해|(?i:\bannual\b|\bfull[- ]year\b|\byearly\b)"),
    "quarter": re.compile(r"\d\s*분기|(?i:\bquarter\b|\bQ[1-4]\b|(?<!\w)[1-4]Q\b)"),
    "half": re.compile(r"[상하]반기|(?i:\b(first|second) half\b|\bH[12]\b)"),
}


def mismatches(question: str, sentence: str) -> list[Mismatch]:
    """The question's years and dated numbers that ``sentence`` contradicts.

    A kind counts only when both name one: a question year none of the sentence's years
    equals, or a day (month, quarter, round) none of its days equals.
    """
    out = []
    asked_years = set(_YEAR.findall(question))
    found_years = set(_YEAR.findall(sentence))
    short = {m for m in _SHORT_YEAR.findall(sentence)}
    if asked_years and found_years and not asked_years & found_years:
        if not any(year[2:] in short for year in asked_years):
            out.append(Mismatch(_join(sorted(asked_years)), tuple(sorted(found_years))))
    asked_units = _UNIT.findall(question)
    found_units = _UNIT.findall(sentence)
    for unit in UNITS:
        asked = {n.lstrip("0") for n, u in asked_units if u == unit}
        found = {n.lstrip("0") for n, u in found_units if u == unit}
        if asked and found and not asked & found:
            out.append(
                Mismatch(_join(f"{n}{unit}" for n in sorted(asked)),
                         tuple(f"{n}{unit}" for n in sorted(found, key=int)))
            )  # fmt: skip
    out.extend(_period_mismatches(question, sentence))
    return out


def _period_mismatches(question: str, sentence: str) -> list[Mismatch]:
    """A question about one kind of reporting period (연간, 4분기, 상반기) over a sentence
    that names only other kinds: "2025년 연간 영업이익" is not "4분기 영업이익"."""
    asked = {k: m.group() for k, p in _PERIODS.items() if (m := p.search(question))}
    if len(asked) != 1:
        return []
    found = {k: m.group() for k, p in _PERIODS.items() if (m := p.search(sentence))}
    if not found or set(asked) & set(found):
        return []
    return [Mismatch(next(iter(asked.values())), tuple(found.values()))]


def _join(parts) -> str:
    return ", ".join(parts)
