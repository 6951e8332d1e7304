"""Title, date and source of a scraped page from its first lines (a heuristic).

The first date near the top is the date, the line above it the title, and the
publisher is read from the date line or a Korean news byline.
"""

from __future__ import annotations

import datetime
import itertools
import re

from ..textnorm import normalize

_DATE_NUM = re.compile(  # not inside longer numbers: "v2024.1.2.3", "02-2024-05-22"
    r"(?<!\d)(?<!\d[./-])((?:19|20)\d\d)\s?([./-])\s?(\d{1,2})\s?\2\s?(\d{1,2})(?!\d|[./-]\d)"
)
_DATE_KO = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일")
_TIME = re.compile(r"^\s*\d{1,2}:\d{2}(?::\d{2})?")
_WEEKDAY = re.compile(
    r"^\s*\(?\s*(?:[월화수목금토일](?:요일)?|mon|tue|wed|thu|fri|sat|sun)\s*\)?", re.IGNORECASE
)
_NOT_SOURCE = re.compile(r"조회|수정|등록|입력|작성|댓글|추천|view|update|post|comment", re.I)
_BYLINE = re.compile(r"\[\s*([^\[\]\s=]{2,20})\s+[^\[\]]{0,20}?기자\s*\]")
_BYLINE_AGENCY = re.compile(r"\(\s*[^()=]{1,12}=\s*([^()=]{2,20}?)\s*\)")
_BULLETS = tuple("•·‣◦▪▫●○■□◆◇▶▷►-*–—※")
_MENU = re.compile(r"바로가기|메뉴|로그인|회원가입|skip to|menu|navigation|sign in|log in", re.I)
_HEAD_LINES = 40


def guess_metadata(text: str, *, markdown: bool = False) -> dict[str, str]:
    """Title, date and source of a scraped page from its first lines; "" where unknown."""
    stripped = (line.strip() for line in text[:20_000].split("\n"))
    lines = list(itertools.islice(filter(None, stripped), _HEAD_LINES))
    date, at, rest = "", None, ""
    for i, line in enumerate(lines):
        found = first_date(line)
        if found:
            date, rest, at = found[0], found[1], i
            break
    title = ""
    if markdown:
        title = next((ln.lstrip("#").strip() for ln in lines if re.match(r"#\s", ln)), "")
    if not title and at is not None:
        title = next((ln for ln in reversed(lines[:at]) if _title_like(ln)), "")
    if not title:
        title = next((ln for ln in lines if _title_like(ln) and not first_date(ln)), "")
    return {"title": one_line(title), "date": date, "source": _source(rest) or _byline(lines)}


def first_date(line: str) -> tuple[str, str] | None:
    """(ISO date, text after it) for the earliest valid date in ``line``."""
    found = []
    for match in _DATE_NUM.finditer(line):
        found.append((match.start(), match.group(1), match.group(3), match.group(4), match.end()))
    for match in _DATE_KO.finditer(line):
        found.append((match.start(), *match.groups(), match.end()))
    for _, year, month, day, end in sorted(found):
        iso = _valid_date(int(year), int(month), int(day))
        if iso:
            return iso, line[end:]
    return None


def _valid_date(year: int, month: int, day: int) -> str:
    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:
        return ""


def iso_date(value: str) -> str:
    found = first_date(normalize(value)) if value else None
    return found[0] if found else ""


def _title_like(line: str) -> bool:
    clean = line.lstrip("#").strip()
    return len(clean) >= 10 and not clean.startswith(_BULLETS) and not _MENU.search(clean)


def _source(rest: str) -> str:
    """The publisher after a date ("2024.05.22 국무조정실"), if it looks like one."""
    rest = _WEEKDAY.sub("", _TIME.sub("", rest)).strip(" \t|·,:;()[]-–—/")
    short = 2 <= len(rest) <= 30 and len(rest.split()) <= 4
    if short and any(ch.isalpha() for ch in rest) and not _NOT_SOURCE.search(rest):
        return rest
    return ""


def _byline(lines: list[str]) -> str:
    """The outlet of a Korean news byline: "[일간환경연합 장민주 기자]", "(서울=연합뉴스)"."""
    for line in lines:
        match = _BYLINE.search(line) or _BYLINE_AGENCY.search(line)
        if match:
            return match.group(1).strip()
    return ""


def one_line(text: str) -> str:
    return " ".join(normalize(text).split())[:300]
