"""What kind of answer a question wants, and whether a sentence can supply it.

A question that asks for an amount of money, a count or a date can only be
answered by a sentence that holds one. These rules are the cheapest refusal
signal there is: "How much did the forum cost?" over text with no money in it
must be refused however similar the sentences are.
"""

from __future__ import annotations

import re

_MONEY_Q = re.compile(
    r"how much (money|did|does|was|is|were)|budget|\bcost|\bspen[dt]|price|"
    r"얼마|예산|비용|금액|지출|매출|이익|투자",
    re.IGNORECASE,
)
_MONEY = re.compile(
    r"\d[\d,.]*\s*(천|만|억|조)?\s*(원|달러|유로|엔|위안|파운드)|[$€£₩]\s*\d|"
    r"\d\s*(dollars?|won|euros?)\b",
    re.IGNORECASE,
)
_COUNT_Q = re.compile(r"how many|number of|몇\s*(개국|개|명|곳|번|건|차|국|회|사|분기)?", re.I)
# English nouns after "how many" -> the Korean counters that can answer them.
_COUNTERS_EN = {
    r"people|persons|attendees|participants|delegates|members|visitors|officials": "명",
    r"countries|nations|states|governments": "개국|국",
    r"companies|firms|businesses|organi[sz]ations": "개|곳|사",
}
_MAGNITUDE = r"\d[\d,.]*\s*(천|만|억|조)?\s*(여)?\s*"
_COUNT = re.compile(_MAGNITUDE + r"(개국|개|명|곳|번|건|차|국|회|사|%|배|위)")
_DATE_Q = re.compile(
    r"\bwhen\b|what date|which (day|month|year)|what (day|month|year)|"
    r"언제|날짜|며칠|몇\s*(월|일|년)|일시|무슨 요일|어느 요일",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"\b(19|20)\d\d\s*[./-]\s*\d{1,2}|\b\d{1,2}\.\s?\d{1,2}\.?\s?\(|\(\d{1,2}\.\d{1,2}\.?\)|"
    r"\d{1,2}\s*월|\d+\s*일|\b(19|20)\d\d\s*년|"
    r"\b(January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b|"
    r"(?i:\b(spring|summer|autumn|winter|yesterday|today|tomorrow)\b)|"
    r"내년|올해|작년|지난해|어제|오늘|내일|매년|봄|여름|가을|겨울|[월화수목금토일]요일"
)


def required_pattern(question: str) -> re.Pattern[str] | None:
    """The pattern a sentence must match to answer ``question``, if any."""
    if _MONEY_Q.search(question):
        return _MONEY
    count = _COUNT_Q.search(question)
    if count:
        return _count_pattern(question, count.group(1))
    if _DATE_Q.search(question):
        return _DATE
    return None


def _count_pattern(question: str, korean_counter: str | None) -> re.Pattern[str]:
    if korean_counter:
        counter = {"국": "개국|국", "개": "개|개국"}.get(korean_counter, korean_counter)
        return re.compile(_MAGNITUDE + rf"({counter})")
    after = question.lower().split("how many", 1)[-1]
    for nouns, counter in _COUNTERS_EN.items():
        if re.search(rf"\b({nouns})\b", after):
            return re.compile(_MAGNITUDE + rf"({counter})|\d+\s+({nouns})", re.I)
    noun = re.match(r"\s*([a-z]+?)(e?s)?\b", after)  # "how many turbines" -> "40 turbines"
    if noun:
        return re.compile(_COUNT.pattern + rf"|\d[\d,.]*\s+{re.escape(noun.group(1))}", re.I)
    return _COUNT


# --- soft types: features for the answer scorer, not hard filters ----------------

SoftType = str  # "person" | "place" | "org" | "ordinal" | "list"
_PERSON_Q = re.compile(
    r"\bwho\b|\bwhom\b|whose|which (person|minister|official)|"
    r"누가|누구|누군|어떤 (사람|인물)|인물은",
    re.I,
)
_PLACE_Q = re.compile(
    r"\bwhere\b|which (city|country|place|venue|nation)|what (city|country|place|venue)|"
    r"어디|어느 (도시|나라|국가|곳|장소)|장소는|도시는|지역은",
    re.I,
)
_ORG_Q = re.compile(
    r"which (compan|organi[sz]ation|firm|institut|agenc|ministr)|what (compan|organi[sz]ation)|"
    r"어떤 (기업|회사|기관|단체)|어느 (기업|회사|기관|단체)|기업은|기관은|회사는",
    re.I,
)
_ORDINAL_Q = re.compile(r"\b(which|what) (round|edition|session)\b|몇\s*(번째|차)", re.I)
_LIST_Q = re.compile(
    r"\bwhich (companies|countries|firms|organi[sz]ations|people|ministers|officials)\b|"
    r"\bwho (attended|signed|participated|joined)|\blist\b|\ball the\b|"
    r"어떤 (기업|회사|나라|국가|사람|인물)들|누가 참석|참여한 .*(기업|회사|국가)|모두|목록",
    re.I,
)
_PERSON = re.compile(
    r"장관|차관|총리|대통령|대표|청장|위원장|의장|기자|교수|박사|회장|사장|씨\b|님\b|"
    r"\b(minister|president|director|professor|CEO|chair\w*|secretary)\b|"
    r"\b[A-Z][a-z]+ [A-Z][a-z]+\b",
    re.I,
)
_PLACE = re.compile(
    r"\S+(시|도|군|구|국|주)\b|\S+에서|헤이그|서울|부산|런던|파리|KIST|연구원\b|"
    r"\b(in|at) [A-Z][a-z]+",
)
_ORG = re.compile(
    r"\S+(전자|그룹|연구원|재단|협회|위원회|공사|은행|기업|회사|부|청|처)\b|"
    r"\b[A-Z][A-Za-z]+(\s(Inc|Corp|Ltd|AI|Labs?))?\b|[A-Z]{2,}",
)
_ORDINAL = re.compile(r"제\s*\d+\s*(차|회)|\d+\s*(차|번째|회째)|\b\d+(st|nd|rd|th)\b", re.I)
_SOFT_PATTERNS = {"person": _PERSON, "place": _PLACE, "org": _ORG, "ordinal": _ORDINAL}


def soft_type(question: str) -> SoftType | None:
    """The kind of entity ``question`` asks for, when it is one of the soft types."""
    for name, pattern in (
        ("ordinal", _ORDINAL_Q),
        ("person", _PERSON_Q),
        ("org", _ORG_Q),
        ("place", _PLACE_Q),
    ):
        if pattern.search(question):
            return name
    return None


def has_soft_type(text: str, kind: SoftType) -> bool:
    return bool(_SOFT_PATTERNS[kind].search(text))


def asks_for_list(question: str) -> bool:
    """True for "Which companies signed…", "누가 참석했나요": the whole list answers."""
    return bool(_LIST_Q.search(question))
