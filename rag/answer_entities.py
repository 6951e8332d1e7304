"""Whether a sentence names what a which-company / -country / -city question asks for.

"Which country co-hosted the AI Global Forum with Korea?" over a page that names no
co-host is answered, by similarity alone, with the page's closing sentence about the
government's plans: it is about the forum, but it names no country. A question that
asks for an organisation or a country is answered only by a sentence naming one that
the question does not already name: a proper noun (Kiwi's NNP, a capitalised Latin
word) that is no person's (no title next to it) and no event's, an organisation word
("국무조정실"), a country name (``rag/data/countries.json``, "(영)" in a list).

A question that asks for a city ("어느 도시", "which city") is answered only by a
sentence naming a place that is not a country: "REAIM 제2차 회의는 한국의 어느 도시에서
열렸나요?" over a page that says only "한국에서 개최하겠다" is refused.

Person ("who") and place ("where") questions are classified and detected the same way
but not checked: on the validation split (``python -m eval.entity_kinds``) checking
them refused more answerable questions than unanswerable ones, because many of their
answers are common nouns ("교사들로부터", "바다로") or names Kiwi does not tag.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

from .answer_types import asks_for_list
from .constraints import GAZETTEER, KO_QUESTION_WORDS
from .sentence_candidates import Candidate
from .sentences import kiwi, kiwi_lock
from .textnorm import fold

EntityKind = str  # "person" | "organisation" | "country" | "city" | "place"
KINDS: tuple[EntityKind, ...] = ("organisation", "person", "country", "city", "place")
# The kinds checked, chosen on the validation split (eval.entity_kinds): those whose
# check does not lower balanced accuracy there and adds at most a point of false refusals.
CHECKED_KINDS: frozenset[EntityKind] = frozenset({"organisation", "country", "city"})

_ORG_Q = re.compile(
    r"\b(which|what) (compan|organi[sz]ation|firm|institut|agenc|ministr|newspaper|bank)|"
    r"(어느|어떤) ?(기업|회사|기관|단체|언론사|업체|부처|은행|매체)|"
    r"(기업|회사|기관|단체|언론사|업체|부처|은행|매체)(은|는|이|가)? (어디|어느 ?곳)",
    re.I,
)
_PERSON_Q = re.compile(r"\bwho\b|\bwhom\b|\bwhose\b|누가|누구", re.I)
_COUNTRY_Q = re.compile(
    r"\b(which|what) (country|nation)|\bwhich country's\b|(어느|어떤) ?(나라|국가)", re.I
)
_CITY_Q = re.compile(
    r"\b(which|what) (city|town)\b|(어느|어떤|무슨) ?도시|"
    r"도시(는|가|이름은)? ?(어디|무엇|어느)",
    re.I,
)
_PLACE_Q = re.compile(
    r"\bwhere\b|\b(which|what) (city|country|nation|place|venue|region)\b|"
    r"어디|(어느|어떤) ?(도시|나라|국가|곳|장소|지역)",
    re.I,
)
_TITLES = (
    "총리|장관|차관|대통령|의원|대표|청장|위원장|의장|회장|사장|교수|박사|기자|감독|선수|"
    "국왕|여왕|황제|대사|총장|시장|지사|이사장|원장|부장|은행장|씨"
)
# ... or stands before it: "SK텔레콤(CEO 정재헌)", "우리은행(은행장 정진완)".
_TITLE_FIRST = re.compile(rf"\b(?:CEO|{_TITLES})\s[가-힣]{{2,4}}(?![가-힣])")
# Proper nouns that name an event, a speech or a document, not who or where:
# "「AI 서울 정상회의」", "폐회사" (which Kiwi may tag as a proper noun).
_EVENT = re.compile(
    r"(회의|포럼|정상회의|선언|서약|협약|행사|대회|박람회|축제|전쟁|회담|"
    r"개회사|폐회사|축사|환영사|기념사|연설)$"
)
# A title may carry a particle ("국무총리는", "장관과", "총리께서").
_PARTICLE = r"(?:께서|에게|[은는이가을를의에와과도께])?(?![가-힣])"
_TITLE_AFTER = rf"\s?[가-힣]{{0,4}}?({_TITLES}){_PARTICLE}"
_TITLED_NAME = re.compile(rf"[가-힣A-Za-z]{{1,4}}\s?({_TITLES}){_PARTICLE}")
_ORG_WORD = re.compile(
    r"[가-힣A-Za-z]+(실|부|청|처|위원회|재단|협회|그룹|전자|은행|공사|공단|연구원|연구소|"
    r"대학교|대학|센터|방송|신문|일보|통신)(?![가-힣])"
)
_PLACE_WORD = re.compile(
    r"[가-힣]+(시|도|군|구|동|읍|면|국|주|섬|궁|사옥|호텔|회관|광장)(?![가-힣])"
)
_PERSON_EN = re.compile(
    r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)+\b|\b(?:minister|president|CEO|chair\w*|director)\b"
)
_ACRONYM = re.compile(r"[A-Z]{2,}")
_COUNTRY_WORD = re.compile(r"(공화국|왕국|제국|연방|합중국|.나라)$")
# Words that look like names of the kind but name no one in particular.
_GENERIC = frozenset(
    "정부 우리정부 국내 국외 해외 국제 전국 각국 외국 본부 내부 외부 우리나라 AI ICT IT".split()
)
_CAPITALISED = re.compile(r"[A-Z][A-Za-z]+")  # a Latin token Kiwi tags SL: "IBM", "Adobe"


def asked_kind(
    question: str, *, checked: frozenset[EntityKind] = CHECKED_KINDS
) -> EntityKind | None:
    """The kind of entity ``question`` asks for, if it is one of the ``checked`` kinds.
    The first pattern that matches decides ("기업은 어디" asks for a company, not a place)."""
    patterns = {"organisation": _ORG_Q, "person": _PERSON_Q, "country": _COUNTRY_Q,
                "city": _CITY_Q, "place": _PLACE_Q}  # fmt: skip
    for kind in KINDS:
        if patterns[kind].search(question):
            return kind if kind in checked else None
    return None


def names_one(question: str, sentence: str, kind: EntityKind) -> bool:
    """Whether ``sentence`` names an entity of ``kind`` that ``question`` does not."""
    return any(
        word not in _GENERIC and not _named_in(word, question) for word in _entities(sentence, kind)
    )


def _entities(sentence: str, kind: EntityKind) -> set[str]:
    """The words of ``sentence`` that may name a ``kind``. Kiwi does not say whose name
    a proper noun is, so a name with a title ("한덕수 국무총리") counts as a person's
    only, and a known place name as a place's only."""
    nouns = _proper_nouns(sentence)
    titled = {w for w in nouns if re.search(re.escape(w) + _TITLE_AFTER, sentence)}
    places = {w for forms in GAZETTEER.values() for w in forms if w in sentence}
    if kind == "person":
        found = titled | {m.group() for m in _TITLED_NAME.finditer(sentence)}
        found |= {m.group() for m in _TITLE_FIRST.finditer(sentence)}
        found |= {w for w in nouns if w not in places and not _EVENT.search(w)}
        return found | set(_PERSON_EN.findall(sentence))
    if kind == "country":  # "(영)" in an attendee list is the United Kingdom
        abbreviations = {w for w in places if w.startswith("(")}
        named = {w for w in _countries() if w in nouns or (len(w) >= 3 and w in sentence)}
        suffixed = {w for w in nouns | set(_words(sentence)) if _COUNTRY_WORD.search(w)}
        english = {m.group() for m in _english_countries().finditer(sentence)}
        return abbreviations | named | suffixed | english  # named: also "소비에트연방"
    if kind == "city":  # a place that is not a country: "헤이그", not "한국"; "홍콩" is both
        countries = _entities(sentence, "country") - _city_states()
        return _entities(sentence, "place") - countries
    names = {
        w for w in nouns - titled if not _EVENT.search(w) and (kind == "place" or w not in places)
    }
    if kind == "place":
        names = {w for w in names if not _ACRONYM.fullmatch(w)}  # "AI", "ICT" name no place
        return names | places | {m.group() for m in _PLACE_WORD.finditer(sentence)}
    return names | {m.group() for m in _ORG_WORD.finditer(sentence)}


def sentences_naming_the_kind(
    question: str,
    ranked: list[Candidate],
    *,
    margin: float,
    checked: frozenset[EntityKind] = CHECKED_KINDS,
) -> tuple[list[Candidate], EntityKind | None]:
    """The sentences of ``ranked`` that name what ``question`` asks for, when the best
    of them scores within ``margin`` of the best overall; otherwise no sentences, and
    the kind none of them names."""
    kind = asked_kind(question, checked=checked)
    if kind is None or not ranked or asks_for_list(question):  # a list's names follow it
        return ranked, None
    kept = [c for c in ranked if names_one(question, c.text, kind)]
    if kept and kept[0].score >= ranked[0].score - margin:
        return kept, None
    return [], kind


@lru_cache(maxsize=1)
def _country_names() -> dict:
    path = resources.files("rag") / "data" / "countries.json"
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    """Korean country names, matched against Kiwi's proper nouns only: as plain
    substrings, "수단" (means), "인도" (handing over) and "이란" (a particle) would count."""
    return frozenset(_country_names()["names"])


@lru_cache(maxsize=1)
def _city_states() -> frozenset[str]:
    """Countries and territories that are cities as well: "홍콩", "Singapore"."""
    return frozenset(_country_names()["city_states"])


@lru_cache(maxsize=1)
def _english_countries() -> re.Pattern[str]:
    """English country names and the adjectives of ``GAZETTEER`` ("French", "Dutch"),
    capitalised as names are."""
    names = set(_country_names()["names_en"])
    names |= {
        english.title()
        for english, forms in GAZETTEER.items()
        if forms[0] in _countries() and " " not in english and len(english) > 3
    }  # a country's (not a city's) adjective: "French", "Dutch", "British"
    alternatives = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    return re.compile(rf"\b({alternatives})\b")


def _words(text: str) -> list[str]:
    return re.findall(r"[가-힣]+", text)


@lru_cache(maxsize=4096)
def _proper_nouns(text: str) -> frozenset[str]:
    with kiwi_lock:
        tokens = kiwi().tokenize(text)
    return frozenset(
        t.form
        for t in tokens
        if len(t.form) >= 2
        and (
            (t.tag == "NNP" and t.form not in KO_QUESTION_WORDS)
            or (t.tag == "SL" and _CAPITALISED.fullmatch(t.form) is not None)
        )
    )


def _named_in(word: str, question: str) -> bool:
    """Whether the question already names ``word``: as written, or through the English
    place names of ``rag.constraints.GAZETTEER`` ("Korea" names 한국 and 우리나라)."""
    if fold(word) in fold(question):
        return True
    return any(word in forms for forms in _english_places(question))


@lru_cache(maxsize=512)
def _english_places(question: str) -> Sequence[tuple[str, ...]]:
    return tuple(
        forms
        for english, forms in GAZETTEER.items()
        if re.search(rf"\b{re.escape(english)}\b", question, re.I)
    )
