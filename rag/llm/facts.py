"""Facts: the numbers, dates and names a sentence states, which its passages must contain.

- numbers: digit runs with thousands separators removed (``5,000`` = ``5000``),
  English month names and small number words as digits (``May 22`` needs 5 and 22);
- names: runs of capitalised Latin words (``OpenAI``, ``Park Jin``) and Kiwi's proper
  nouns in Korean. Words that name a kind of thing rather than which one
  (``Minister``, ``Electronics``, ``Pledge``: ``GENERIC``) are not checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ..sentences import kiwi, kiwi_lock
from ..textnorm import normalize
from .markers import LIST_ITEMS, strip_markers

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+$")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-'’&.][A-Za-z0-9]+)*")
HANGUL_RUN = re.compile(r"[\uac00-\ud7a3]+")
MONTHS = {
    m: i
    for i, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
         ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
         ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
         ("december", "dec")],
        start=1,
    )
    for m in names
}  # fmt: skip
WEEKDAYS = {"monday": "월", "tuesday": "화", "wednesday": "수", "thursday": "목",
            "friday": "금", "saturday": "토", "sunday": "일"}  # fmt: skip
NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
    if i >= 2  # "one" is usually a pronoun
} | {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
     "ninety": 90, "hundred": 100, "dozen": 12}  # fmt: skip
# Capitalised, but they say what kind of thing, not which one.
GENERIC = frozenset(
    """a an the this that these those it its they their them he his she her we our you i
    in on at of for from by with as to and or but nor so yet if when where who whom whose
    what which while after before during since until among between under over about into
    according yes no not however also both all some other there here then finally first
    second third last next new old only each every many most more several
    mr ms mrs dr prof sir madam minister prime foreign defense defence deputy vice president
    secretary general chairman chair ceo cto founder director head chief ambassador
    government ministry department agency office council committee commission
    inc corp corporation co ltd llc plc group company companies electronics research researcher
    institute university lab labs laboratory foundation association center centre
    holdings technologies technology systems
    summit conference forum meeting pledge declaration agreement business global
    international national annual high level roundtable session ceremony opening closing
    artificial intelligence military responsible domain use
    passage passages document documents source""".split()
)


@dataclass(frozen=True)
class Facts:
    numbers: tuple[str, ...] = ()  # normalised, e.g. "5000", "1.5"
    dates: tuple[tuple[str, ...], ...] = ()  # components that must all appear, e.g. ("5", "22")
    weekdays: tuple[str, ...] = ()
    names: tuple[tuple[str, ...], ...] = ()  # runs of capitalised Latin words
    korean_names: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return any((self.numbers, self.dates, self.weekdays, self.names, self.korean_names))


def extract_facts(sentence: str) -> Facts:
    """The numbers, dates and names a sentence states (markers and list bullets ignored)."""
    text = normalize(LIST_ITEMS.sub("", strip_markers(sentence)))
    numbers, dates = _numbers(text)
    words = LATIN_WORD.findall(text)
    weekdays = tuple(w.lower() for w in words if w.lower() in WEEKDAYS)
    return Facts(
        numbers=tuple(numbers),
        dates=tuple(dates),
        weekdays=weekdays,
        names=tuple(_name_runs(text)),
        korean_names=tuple(_korean_proper_nouns(text)),
    )


def _numbers(text: str) -> tuple[list[str], list[tuple[str, ...]]]:
    numbers: list[str] = []
    dates: list[tuple[str, ...]] = []
    for match in NUMBER.finditer(text):
        raw = match.group()
        parts = re.split(r"[.,]", raw)
        if THOUSANDS.match(raw):
            numbers.append(norm_number(raw.replace(",", "")))
        elif "." in raw and len(parts) == 2 and "," not in raw:
            numbers.append(norm_number(raw))  # 1.5 (a "5.22" date matches "5.22" too)
        elif len(parts) > 1:
            dates.append(tuple(norm_number(p) for p in parts))  # 2024.5.22, 15,16
        else:
            numbers.append(norm_number(raw))
    for word in re.findall(r"[A-Za-z]+", text):
        low = word.lower()
        if low in MONTHS and (word[0].isupper() and (low != "may" or _date_context(text, word))):
            numbers.append(str(MONTHS[low]))
        elif low in NUMBER_WORDS:
            numbers.append(str(NUMBER_WORDS[low]))
    return numbers, dates


def _date_context(text: str, word: str) -> bool:
    """ "May" is a month only next to a number (May 22, 22 May)."""
    return bool(re.search(rf"\b{word}\.?\s+\d|\d\s+{word}\b", text))


def norm_number(raw: str) -> str:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return raw
    text = format(value.normalize(), "f")
    return text


def _name_runs(text: str) -> list[tuple[str, ...]]:
    """Runs of adjacent capitalised Latin words, e.g. ("Park", "Jin"), ("OpenAI",).

    A lone first word that looks like an ordinary word by its ending (a plural, an
    adverb, a participle: "Representatives attended", "Notably") is left out: it is
    capitalised by position. "Apple signed" is still checked.
    """
    runs: list[tuple[list[str], bool]] = []  # (words, starts the text)
    prev_end: int | None = None
    for match in LATIN_WORD.finditer(text):
        word = match.group()
        if not _is_name_word(word):
            prev_end = None
            continue
        gap = text[prev_end : match.start()] if prev_end is not None else None
        if gap is None or gap.strip() or "\n" in gap:
            runs.append(([], not text[: match.start()].strip()))
        runs[-1][0].append(word)
        prev_end = match.end()
    out = []
    for words, initial in runs:
        if initial and len(words) == 1 and _ordinary_by_ending(words[0]):
            continue
        if any(not is_generic(w) for w in words):
            out.append(tuple(words))
    return out


def _ordinary_by_ending(word: str) -> bool:
    return word[1:].islower() and word.lower().endswith(("s", "ly", "ing", "ed"))


def _is_name_word(word: str) -> bool:
    low = word.lower()
    if low in MONTHS and word[0].isupper() or low in WEEKDAYS or low in NUMBER_WORDS:
        return False  # checked as dates and numbers
    return any(ch.isupper() for ch in word)


def is_generic(word: str) -> bool:
    return word.lower().rstrip(".") in GENERIC


def _korean_proper_nouns(text: str) -> list[str]:
    if not HANGUL_RUN.search(text):
        return []
    with kiwi_lock:
        tokens = kiwi().tokenize(text)
    return [t.form for t in tokens if t.tag == "NNP" and HANGUL_RUN.search(t.form)]
