"""The claim check: is every sentence of a generated answer backed by what it cites?

A generated answer is split into sentences (a bulleted list counts as one). Each
sentence must carry at least one valid ``[n]``, and every number, date and proper
name in it must appear in a passage it cites, after normalisation:

- numbers: digit runs with thousands separators removed (``5,000`` = ``5000``),
  English month names and small number words as digits (``May 22`` needs 5 and 22);
- names: capitalised Latin words (``OpenAI``, ``Park Jin``) and Kiwi's proper
  nouns in Korean. A Latin name matches the passage's Latin text, a romanisation the
  passages give in parentheses (``훅스트라(Hoekstra)``), a Hangul noun with the same
  consonant key (``Samsung``/``삼성``, see ``translit``) or an exonym (``Korea``/``한국``).

Shortcuts: words that name a kind of thing rather than which one (``Minister``,
``Electronics``, ``Pledge``) are not checked, and a capitalised word the question
itself used is accepted if another word of the same name is found. The check can
call a correct sentence unsupported (a translated name it cannot match); that is
the safe direction, since the caller then falls back to the extractive answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from ..sentences import _kiwi, _kiwi_lock, sentence_spans
from ..textnorm import fold, normalize
from ..types import Claim
from .translit import exonyms, hangul_key, latin_key, latin_keys

# [1], [1, 2], [1-3], [1][2], 【1】, [Passage 2], [문서 3]
MARKER = re.compile(
    r"[\[【［]\s*(?:(?:passages?|sources?|documents?|docs?|문서|자료|출처)\s*)?"
    r"(\d{1,3}(?:\s*(?:,|、|-|–|~)\s*\d{1,3})*)\s*[\]】］]",
    re.IGNORECASE,
)
_END_AFTER_MARKER = re.compile(rf"(?:\s*{MARKER.pattern})+\s*[.!?。]", re.IGNORECASE)
_LIST_ITEM = re.compile(r"^\s*(?:[-*•·‣▪]|\d{1,2}[.)])\s+")
_LIST_ITEMS = re.compile(_LIST_ITEM.pattern, re.MULTILINE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+$")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-'’&.][A-Za-z0-9]+)*")
_HANGUL_RUN = re.compile(r"[\uac00-\ud7a3]+")
_ROMANISATION = re.compile(
    r"([\uac00-\ud7a3]+(?:[ \t]+[\uac00-\ud7a3]+){0,3})\s*\(\s*([A-Za-z][A-Za-z .'’\-]*?)\s*\)"
    r"|([A-Za-z][A-Za-z'’\-]*(?:[ \t]+[A-Za-z][A-Za-z'’\-]*){0,3})\s*\(\s*([\uac00-\ud7a3 ]+?)\s*\)"
)
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
    inc corp corporation co ltd llc plc group company companies electronics research
    institute university lab labs laboratory foundation association center centre
    holdings technologies technology systems
    summit conference forum meeting pledge declaration agreement business global
    international national annual high level roundtable session ceremony opening closing
    artificial intelligence military responsible domain use
    passage passages document documents source""".split()
)
_NOUN_TAGS = ("NNP", "NNG", "NR", "XR", "SH")


# --- splitting ------------------------------------------------------------------------


@dataclass(frozen=True)
class Sentence:
    """A span of the generated answer and the ``[n]`` numbers written in it."""

    text: str
    start: int
    end: int
    markers: tuple[int, ...]


def parse_markers(text: str) -> list[int]:
    """Every passage number cited in ``text``, in order, ranges expanded."""
    out: list[int] = []
    for match in MARKER.finditer(text):
        for part in re.split(r"\s*(?:,|、)\s*", match.group(1)):
            ends = re.split(r"\s*[-–~]\s*", part)
            lo, hi = int(ends[0]), int(ends[-1])
            out.extend(range(lo, hi + 1) if 0 <= hi - lo <= 20 else (lo, hi))
    return out


def strip_markers(text: str) -> str:
    text = re.sub(r"[ \t]+([.,;:!?。])", r"\1", MARKER.sub("", text))
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of the answer; a marker opening a sentence belongs to the previous one,
    and a run of list lines (with the line introducing it) is one sentence."""
    spans: list[list[int]] = []
    for start, end in _split_after_markers(text, sentence_spans(text)):
        lead = re.match(rf"(?:\s*{MARKER.pattern})+[.!?。]?", text[start:end], re.IGNORECASE)
        if lead and spans:
            spans[-1][1] = start + lead.end()
            start += lead.end()
            while start < end and text[start].isspace():
                start += 1
        if start >= end:
            continue
        line_start = text.rfind("\n", 0, start) + 1
        is_item = line_start == start and _LIST_ITEM.match(text[start:end])
        if is_item and spans and _joins_list(text, spans[-1]):
            spans[-1][1] = end
        else:
            spans.append([start, end])
    sentences = [Sentence(text[s:e], s, e, tuple(parse_markers(text[s:e]))) for s, e in spans]
    return _inherit_markers(text, sentences)


def _inherit_markers(text: str, sentences: list[Sentence]) -> list[Sentence]:
    """Uncited sentences take the markers of the next cited one when that one is in the
    same paragraph ("A. B [1].") or only names the source ("These are listed in [1].")."""
    out = list(sentences)
    for i, sentence in enumerate(out):
        if sentence.markers:
            continue
        for nxt in out[i + 1 :]:
            if not nxt.markers:
                continue
            same_paragraph = "\n\n" not in text[sentence.end : nxt.start]
            if same_paragraph or not extract_facts(nxt.text):
                out[i] = Sentence(sentence.text, sentence.start, sentence.end, nxt.markers)
            break
    return out


def _split_after_markers(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Also end a sentence at "[2]. " (Kiwi does not see the end past the marker)."""
    out = []
    for start, end in spans:
        for match in _END_AFTER_MARKER.finditer(text, start, end):
            if match.end() < end and text[match.end()].isspace():
                out.append((start, match.end()))
                start = match.end()
                while start < end and text[start].isspace():
                    start += 1
        out.append((start, end))
    return out


def _joins_list(text: str, prev: list[int]) -> bool:
    """Does a list line continue the previous span (an item, or a line ending in ":")?"""
    if strip_markers(text[prev[0] : prev[1]]).endswith((":", "：")):
        return True
    last_line = text[text.rfind("\n", 0, prev[1]) + 1 : prev[1]]
    return bool(_LIST_ITEM.match(last_line))


# --- facts: what a sentence states that can be checked ---------------------------------


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
    text = normalize(_LIST_ITEMS.sub("", strip_markers(sentence)))
    numbers, dates = _numbers(text)
    words = _LATIN_WORD.findall(text)
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
    for match in _NUMBER.finditer(text):
        raw = match.group()
        parts = re.split(r"[.,]", raw)
        if _THOUSANDS.match(raw):
            numbers.append(_norm_number(raw.replace(",", "")))
        elif "." in raw and len(parts) == 2 and "," not in raw:
            numbers.append(_norm_number(raw))  # 1.5 (a "5.22" date matches "5.22" too)
        elif len(parts) > 1:
            dates.append(tuple(_norm_number(p) for p in parts))  # 2024.5.22, 15,16
        else:
            numbers.append(_norm_number(raw))
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


def _norm_number(raw: str) -> str:
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
    for match in _LATIN_WORD.finditer(text):
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
        if any(not _generic(w) for w in words):
            out.append(tuple(words))
    return out


def _ordinary_by_ending(word: str) -> bool:
    return word[1:].islower() and word.lower().endswith(("s", "ly", "ing", "ed"))


def _is_name_word(word: str) -> bool:
    low = word.lower()
    if low in MONTHS and word[0].isupper() or low in WEEKDAYS or low in NUMBER_WORDS:
        return False  # checked as dates and numbers
    return any(ch.isupper() for ch in word)


def _generic(word: str) -> bool:
    return word.lower().rstrip(".") in GENERIC


def _korean_proper_nouns(text: str) -> list[str]:
    if not _HANGUL_RUN.search(text):
        return []
    with _kiwi_lock:
        tokens = _kiwi().tokenize(text)
    return [t.form for t in tokens if t.tag == "NNP" and _HANGUL_RUN.search(t.form)]


# --- evidence: what a passage offers to check against -------------------------------------


@dataclass(frozen=True)
class Evidence:
    """Precomputed lookups for one passage's text."""

    folded: str
    compact: str  # folded, without spaces
    numbers: frozenset[str]
    hangul_keys: frozenset[str]  # whole nouns and noun compounds
    hangul_prefix_keys: frozenset[str]  # syllable prefixes of nouns (keys of 3+ letters)
    latin_keys: frozenset[str]


@lru_cache(maxsize=512)
def evidence(text: str) -> Evidence:
    text = normalize(text)
    folded = fold(text)
    numbers: set[str] = set()
    for match in _NUMBER.finditer(text):
        raw = match.group()
        if _THOUSANDS.match(raw):
            numbers.add(_norm_number(raw.replace(",", "")))
        for part in re.split(r"[.,]", raw):
            numbers.add(_norm_number(part))
        for pair in re.finditer(r"(?=(\d+\.\d+))", raw):
            numbers.add(_norm_number(pair.group(1)))
    whole, prefixes = _hangul_noun_keys(text)
    latin = {latin_key(w) for w in _LATIN_WORD.findall(text)}
    return Evidence(
        folded=folded,
        compact=folded.replace(" ", ""),
        numbers=frozenset(numbers),
        hangul_keys=frozenset(k for k in whole if len(k) >= 2),
        hangul_prefix_keys=frozenset(k for k in prefixes if len(k) >= 3),
        latin_keys=frozenset(k for k in latin if len(k) >= 2),
    )


def _hangul_noun_keys(text: str) -> tuple[set[str], set[str]]:
    with _kiwi_lock:
        tokens = _kiwi().tokenize(text)
    nouns: list[tuple[str, int, int]] = []
    for t in tokens:
        if t.tag.startswith(_NOUN_TAGS) or t.tag == "NNP":
            for run in _HANGUL_RUN.finditer(t.form):
                nouns.append((run.group(), t.start, t.start + t.len))
    whole: set[str] = set()
    prefixes: set[str] = set()
    for i, (form, _, end) in enumerate(nouns):
        whole.add(hangul_key(form))
        compound, last_end = form, end
        for nxt, nstart, nend in nouns[i + 1 : i + 3]:  # 삼성 전자 -> 삼성전자
            if nstart - last_end > 1:
                break
            compound += nxt
            last_end = nend
            whole.add(hangul_key(compound))
        for k in range(1, len(form)):
            prefixes.add(hangul_key(form[:k]))
    return whole, prefixes


@dataclass(frozen=True)
class Romanisations:
    """Pairs the passages state themselves: 훅스트라(Hoekstra), Hoekstra(훅스트라)."""

    latin_to_hangul: Mapping[str, frozenset[str]] = field(default_factory=dict)
    hangul_to_latin: Mapping[str, frozenset[str]] = field(default_factory=dict)


def romanisations(texts: Sequence[str]) -> Romanisations:
    l2h: dict[str, set[str]] = {}
    h2l: dict[str, set[str]] = {}
    for text in texts:
        for m in _ROMANISATION.finditer(normalize(text)):
            hangul, latin = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
            h_words, l_words = hangul.split(), latin.split()
            pairs = [(hangul, latin)]
            if len(h_words) > len(l_words):  # 네덜란드 웝크 훅스트라(Wopke Hoekstra)
                h_words = h_words[-len(l_words) :]
                pairs.append((" ".join(h_words), latin))
            if len(h_words) == len(l_words):
                pairs += list(zip(h_words, l_words, strict=True))
            for h, lat in pairs:
                l2h.setdefault(fold(lat), set()).add(h.replace(" ", ""))
                h2l.setdefault(h.replace(" ", ""), set()).add(fold(lat))
    return Romanisations(
        {k: frozenset(v) for k, v in l2h.items()}, {k: frozenset(v) for k, v in h2l.items()}
    )


# --- checking ---------------------------------------------------------------------------


def missing_facts(
    facts: Facts,
    passages: Sequence[str],
    *,
    roman: Romanisations | None = None,
    question: str = "",
) -> list[str]:
    """What ``facts`` states that none of ``passages`` supports (empty: all supported)."""
    evs = [evidence(p) for p in passages]
    roman = roman or Romanisations()
    numbers = set().union(*(e.numbers for e in evs)) if evs else set()
    missing = [n for n in facts.numbers if n not in numbers]
    missing += [".".join(d) for d in facts.dates if not all(p in numbers for p in d)]
    for day in facts.weekdays:
        ko = WEEKDAYS[day]
        forms = (day, f"({ko})", f"{ko}요일")
        if not any(f in e.folded for e in evs for f in forms):
            missing.append(day.capitalize())
    q_words = {w.lower() for w in _LATIN_WORD.findall(question)}
    for run in facts.names:
        missing += _uncovered(run, evs, roman, q_words)
    for name in facts.korean_names:
        if not _korean_name_found(name, evs, roman):
            missing.append(name)
    return missing


def _uncovered(
    run: tuple[str, ...], evs: list[Evidence], roman: Romanisations, q_words: set[str]
) -> list[str]:
    """Words of a name run that no sub-run found in the passages covers."""
    covered = [False] * len(run)
    i = 0
    while i < len(run):
        for j in range(len(run), i, -1):  # longest sub-run first
            if _name_found(run[i:j], evs, roman):
                covered[i:j] = [True] * (j - i)
                i = j
                break
        else:
            i += 1
    anchored = any(c for c, w in zip(covered, run, strict=True) if not _generic(w))
    out = []
    for word, ok in zip(run, covered, strict=True):
        if ok or _generic(word):
            continue
        if anchored and word.lower() in q_words:
            continue  # the question's own wording of a name the passage does contain
        out.append(word)
    return out


def _name_found(words: tuple[str, ...], evs: list[Evidence], roman: Romanisations) -> bool:
    name = fold(" ".join(words))
    variants = {name, name.replace("-", " "), name.replace(" ", "")}
    exonym = exonyms(name)
    for ev in evs:
        for v in variants:
            if re.search(rf"(?<![a-z0-9]){re.escape(v)}(?![a-z0-9])", ev.folded):
                return True
        korean = set(exonym) | set(roman.latin_to_hangul.get(name, ()))
        if any(k in ev.compact for k in korean):
            return True
        if exonym or all(w.isupper() for w in words):
            continue  # the table decides for countries; acronyms (SK) are spelled out
        for key in latin_keys(words):
            if len(key) >= 2 and key in ev.hangul_keys:
                return True
            if len(key) >= 3 and key in ev.hangul_prefix_keys:  # 삼성 of 삼성전자
                return True
    return False


def _korean_name_found(name: str, evs: list[Evidence], roman: Romanisations) -> bool:
    compact = fold(name).replace(" ", "")
    latin = roman.hangul_to_latin.get(name, frozenset())
    key = hangul_key(name)
    for ev in evs:
        if compact in ev.compact or any(lat in ev.folded for lat in latin):
            return True
        if len(key) >= 2 and key in ev.latin_keys:
            return True
    return False


@dataclass(frozen=True)
class CheckedAnswer:
    """The claims, and whether the answer as a whole fails (then ``reason`` says why)."""

    claims: list[Claim]
    sentences: list[Sentence]
    failed: bool
    reason: str = ""


def check_answer(text: str, passages: Mapping[int, str], *, question: str = "") -> CheckedAnswer:
    """Check every sentence of ``text`` against the ``passages`` (numbered as in the prompt).

    A sentence is "supported" (valid citation, every fact found in what it cites),
    "unchecked" (valid citation, nothing checkable in it) or "unsupported". The
    answer fails when no sentence cites a valid passage, or when a sentence states
    a number, date or name found in none of the passages it cites (a sentence
    without a citation: in none of the passages at all).
    """
    roman = romanisations(list(passages.values()))
    sentences = [s for s in split_sentences(text) if strip_markers(s.text)]
    claims: list[Claim] = []
    fabricated: list[str] = []
    for number, sentence in enumerate(sentences, start=1):
        claim = check_sentence(sentence, passages, roman=roman, question=question)
        claims.append(claim)
        if claim.status == "unsupported" and claim.citations:
            fabricated.append(f"sentence {number}: {claim.reason}")
        elif claim.status == "unsupported":
            facts = extract_facts(sentence.text)
            gone = missing_facts(facts, list(passages.values()), roman=roman, question=question)
            if gone:
                fabricated.append(f"sentence {number}: {', '.join(gone)} in no passage")
    if not any(c.citations for c in claims):
        return CheckedAnswer(claims, sentences, True, "no sentence cites a passage with [n]")
    if fabricated:
        return CheckedAnswer(claims, sentences, True, "; ".join(fabricated))
    return CheckedAnswer(claims, sentences, False)


def check_sentence(
    sentence: Sentence,
    passages: Mapping[int, str],
    *,
    roman: Romanisations | None = None,
    question: str = "",
) -> Claim:
    text = strip_markers(sentence.text)
    valid = tuple(dict.fromkeys(n for n in sentence.markers if n in passages))
    invalid = [n for n in sentence.markers if n not in passages]
    if not sentence.markers:
        return Claim(text, "unsupported", (), "no [n] citation")
    if not valid:
        given = f"[{min(passages)}]-[{max(passages)}]" if passages else "none"
        return Claim(text, "unsupported", (), f"cites {invalid}, but the passages are {given}")
    facts = extract_facts(sentence.text)
    if not facts:
        return Claim(text, "unchecked", valid, "no number, date or name to check")
    roman = roman or romanisations(list(passages.values()))
    gone = missing_facts(facts, [passages[n] for n in valid], roman=roman, question=question)
    if gone:
        cited = "".join(f"[{n}]" for n in valid)
        return Claim(text, "unsupported", valid, f"{', '.join(gone)} not in {cited}")
    return Claim(text, "supported", valid)
