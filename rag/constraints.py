"""The specifics a question pins down, and whether a text mentions them.

"Who hosted the 2025 meeting?" over a text about the 2023 one must be refused,
however similar the sentences are. Numbers, years, ordinals (제2차 / 2nd / second)
and names in the question are its constraints; the answer scorer sees what share
of them the unit, its sentence and its document mention. English place names
are matched in Korean text through a small gazetteer (United Kingdom -> 영국, (영)).

Both answerers refuse when a constraint is mentioned in none of the documents they
read (``unmentioned``): that catches a question with a changed year, ordinal, place or
name, which the sentences alone would match just as well as the real one.

Shortcut taken: an English name that the document does not contain and the
gazetteer does not know is not counted (it may be spelled in Hangul there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .sentences import kiwi, kiwi_lock
from .textnorm import fold

# A name on this share of a page's lines is its topic (set a priori, not fitted).
TOPIC_SHARE = 1 / 4
_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?!\d)")
_ORDINAL_EN = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
    "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
}  # fmt: skip
_ORDINAL_Q = re.compile(
    r"\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)\b|"
    r"\b(\d+)(?:st|nd|rd|th)\b|제\s*(\d+)\s*(?:차|회)|(\d+)\s*(?:차|번째|회째|분기)",
    re.I,
)
_LATIN_NAME = re.compile(r"\b[A-Z][A-Za-z]{2,}\b|\b[A-Z]{2,}\b")
_EN_STOP = frozenset(
    "The What Which Who Whom Whose When Where Why How Did Does Was Were Is Are Has Have "
    "In On At For And Of To By According Korea Korean AI".split()
)
KO_QUESTION_WORDS = frozenset("누가 누구 어디 언제 무엇 어느 몇".split())  # Kiwi may tag them NNP
# English place names -> the Korean forms a Korean text uses (full name, abbreviation).
GAZETTEER = {
    "united kingdom": ("영국", "(영)"), "uk": ("영국", "(영)"), "britain": ("영국", "(영)"),
    "british": ("영국", "(영)"), "france": ("프랑스", "(프)"), "french": ("프랑스", "(프)"),
    "germany": ("독일", "(독)"), "german": ("독일", "(독)"), "japan": ("일본", "(일)"),
    "japanese": ("일본", "(일)"), "china": ("중국", "(중)"), "chinese": ("중국", "(중)"),
    "united states": ("미국", "(미)"), "usa": ("미국", "(미)"), "america": ("미국", "(미)"),
    "american": ("미국", "(미)"), "us": ("미국", "(미)"), "netherlands": ("네덜란드",),
    "dutch": ("네덜란드",), "philippines": ("필리핀",), "saudi": ("사우디",),
    "saudi arabia": ("사우디",), "canada": ("캐나다",), "india": ("인도",),
    "indonesia": ("인도네시아",), "singapore": ("싱가포르",), "italy": ("이탈리아",),
    "spain": ("스페인",), "australia": ("호주",), "russia": ("러시아",),
    "vietnam": ("베트남",), "korea": ("한국", "대한민국", "우리나라"),
    "south korea": ("한국", "대한민국"), "seoul": ("서울",), "busan": ("부산",),
    "hague": ("헤이그",), "the hague": ("헤이그",), "amsterdam": ("암스테르담",),
    "london": ("런던",), "paris": ("파리",), "tokyo": ("도쿄",), "beijing": ("베이징",),
    "washington": ("워싱턴",), "new york": ("뉴욕",), "geneva": ("제네바",),
    "brussels": ("브뤼셀",), "berlin": ("베를린",), "bletchley": ("블레츨리",),
}  # fmt: skip
_PLACE_EN = re.compile(
    r"\b(" + "|".join(sorted((re.escape(k) for k in GAZETTEER), key=len, reverse=True)) + r")\b",
    re.I,
)


# Korean long forms of names that texts usually shorten: a question may use either.
SHORT_FORMS = {
    "사우디아라비아": ("사우디",), "아랍에미리트": ("UAE", "아랍에미리트연합"),
    "남아프리카공화국": ("남아공",), "대한민국": ("한국",), "미합중국": ("미국",),
    "중화인민공화국": ("중국",), "유럽연합": ("EU",), "국제연합": ("유엔", "UN"),
}  # fmt: skip
# ...and the Korean names of the places above, with the other forms a text may use:
# "프랑스 장관" is "(프)…장관" in an attendee list.
for _forms in GAZETTEER.values():
    if len(_forms) > 1:
        SHORT_FORMS.setdefault(_forms[0], _forms[1:])


@dataclass(frozen=True)
class Constraint:
    """One specific of a question: the forms any of which a text must contain."""

    kind: str  # "number" | "ordinal" | "name" | "place"
    forms: tuple[str, ...]
    pattern: re.Pattern[str] | None = None
    surface: str = ""  # as the question words it ("third", "제3차", "Germany")


def question_constraints(
    question: str, *, doc_text: str = "", folded_doc: str | None = None
) -> list[Constraint]:
    """The constraints of ``question`` (``doc_text`` decides whether English names count;
    ``folded_doc``: its ``fold``, when the caller has it already)."""
    out: list[Constraint] = []
    ordinal_spans = []
    for m in _ORDINAL_Q.finditer(question):
        word, *digits = m.groups()
        n = _ORDINAL_EN[word.lower()] if word else int(next(d for d in digits if d))
        out.append(Constraint("ordinal", (str(n),), _ordinal_pattern(n), m.group().strip()))
        ordinal_spans.append(m.span())
    for m in _NUMBER.finditer(question):
        if any(s <= m.start() < e for s, e in ordinal_spans):
            continue
        digits = m.group().replace(",", "")
        pattern = re.compile(rf"(?<!\d){re.escape(digits)}(?!\d)")
        out.append(Constraint("number", (digits,), pattern, m.group()))
    places = set()
    for m in _PLACE_EN.finditer(question):
        key = m.group().lower()
        places.add(key)
        out.append(Constraint("place", (m.group(), *GAZETTEER[key]), None, m.group()))
    hangul = any("\uac00" <= ch <= "\ud7a3" for ch in question)
    for name in _names(question, korean=hangul):
        if name.lower() in places or any(name.lower() in p for p in places):
            continue
        if not hangul and folded_doc is None:
            folded_doc = fold(doc_text)  # only English names are checked against the text
        if hangul or fold(name) in folded_doc:
            out.append(Constraint("name", (name, *SHORT_FORMS.get(name, ())), None, name))
    return out


def unmentioned(question: str, texts: list[str]) -> list[Constraint]:
    """The constraints of ``question`` that none of ``texts`` (whole documents) mentions.

    A refusal needs clearer absence than a scorer feature does, so this is more lenient
    than ``coverage``: whole documents, not the quoted sentence (a year only in the
    dateline still counts); spaces ignored; a name of three or more syllables also
    matches with one character different or its last one dropped (a typo in the
    question, a particle Kiwi left on: 빅뱅이; places are matched exactly, their
    forms being short: (독) must not match (영)); a single-digit number does not count (a
    text often spells it out: 한 개). The leniency was set on the validation split of
    the scorer's data (docs/answers.md).
    """
    joined = "\n".join(texts)
    folded = fold(joined)
    compact = folded.replace(" ", "")
    out = []
    for c in question_constraints(question, doc_text=joined, folded_doc=folded):
        if c.kind == "number" and len(c.forms[0]) == 1:
            continue
        if not _found(c, joined, compact):
            out.append(c)
    return out


def mentions_leniently(constraint: Constraint, text: str) -> bool:
    """Whether ``text`` mentions ``constraint`` by the lenient rule of ``unmentioned``."""
    return _found(constraint, text, fold(text).replace(" ", ""))


def _found(c: Constraint, text: str, compact: str) -> bool:
    if c.pattern is not None:
        return bool(c.pattern.search(text))
    near = _near if c.kind == "name" else _within
    return any(near(fold(form).replace(" ", ""), compact) for form in c.forms)


def without_topic(constraints: list[Constraint], text: str, *, title: str = "") -> list[Constraint]:
    """``constraints`` without the page's topic: a name in its headline (``title``) or on
    ``TOPIC_SHARE`` or more of its lines ("AI" in "AI 글로벌 포럼에 참석한 필리핀 장관은?")
    says what the page is about, not which passage is meant."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return constraints
    return [
        c
        for c in constraints
        if c.kind != "name"
        or not (
            (title and coverage([c], title) == 1.0)
            or sum(coverage([c], line) == 1.0 for line in lines) >= TOPIC_SHARE * len(lines)
        )
    ]


def _within(form: str, text: str) -> bool:
    return form in text


def _near(form: str, text: str) -> bool:
    """``form`` in ``text``, or, for a word of three characters or more, one character
    off or short."""
    if form in text:
        return True
    if len(form) < 3 or not form.isalnum():
        return False
    if form[:-1] in text:
        return True
    variants = "|".join(
        re.escape(form[:i]) + "." + re.escape(form[i + 1 :]) for i in range(len(form))
    )
    return re.search(variants, text) is not None


def coverage(constraints: list[Constraint], text: str) -> float:
    """Share of ``constraints`` that ``text`` mentions; 1.0 when there are none."""
    if not constraints:
        return 1.0
    folded = fold(text)
    found = sum(_mentions(c, text, folded) for c in constraints)
    return found / len(constraints)


def _mentions(constraint: Constraint, text: str, folded: str) -> bool:
    if constraint.pattern is not None:
        return bool(constraint.pattern.search(text))
    return any(fold(form) in folded for form in constraint.forms)


def _ordinal_pattern(n: int) -> re.Pattern[str]:
    word = [k for k, v in _ORDINAL_EN.items() if v == n]
    words = "|".join(word)
    korean = {1: "첫", 2: "두", 3: "세", 4: "네", 5: "다섯"}.get(n, "")
    alternatives = [
        rf"제\s*{n}\s*(차|회)",
        rf"(?<!\d){n}\s*(차|번째|회째|분기)",  # 분기: "the fourth quarter" is 4분기
        rf"\b{n}(st|nd|rd|th)\b",
        rf"\bQ{n}\b|(?<!\d){n}Q\b",
    ]
    if words:
        alternatives.append(rf"\b({words})\b")
    if korean:
        alternatives.append(rf"{korean}\s*번째")
    if n == 1:
        alternatives.append(r"첫|처음|최초")
    return re.compile("|".join(alternatives), re.I)


@lru_cache(maxsize=512)
def _names(question: str, *, korean: bool) -> tuple[str, ...]:
    """Proper names: Kiwi's NNP and Latin words in a Korean question, capitalised words
    (not the first word or a question word) in an English one. Cached: an answer checks
    the same question against each candidate document."""
    if korean:
        with kiwi_lock:
            tokens = kiwi().tokenize(question)
        return tuple(
            t.form
            for t in tokens
            if (t.tag == "NNP" and len(t.form) >= 2 and t.form not in KO_QUESTION_WORDS)
            or t.tag == "SL"
        )
    words = []
    for m in _LATIN_NAME.finditer(question):
        if m.start() == 0 or m.group() in _EN_STOP:
            continue
        words.append(m.group())
    return tuple(words)
