"""Evidence: what the cited passages offer, and which stated facts none of them supports.

A Latin name matches the passage's Latin text, a romanisation the passages give in
parentheses (``훅스트라(Hoekstra)``), a Hangul noun with the same consonant key
(``Samsung``/``삼성``, see ``translit``) or an exonym (``Korea``/``한국``). A
capitalised word the question itself used is accepted if another word of the same
name is found.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from ..sentences import kiwi, kiwi_lock
from ..textnorm import fold, normalize
from .facts import (
    HANGUL_RUN,
    LATIN_WORD,
    NUMBER,
    THOUSANDS,
    WEEKDAYS,
    Facts,
    is_generic,
    norm_number,
)
from .translit import exonyms, hangul_key, latin_key, latin_keys

_ROMANISATION = re.compile(
    r"([\uac00-\ud7a3]+(?:[ \t]+[\uac00-\ud7a3]+){0,3})\s*\(\s*([A-Za-z][A-Za-z .'’\-]*?)\s*\)"
    r"|([A-Za-z][A-Za-z'’\-]*(?:[ \t]+[A-Za-z][A-Za-z'’\-]*){0,3})\s*\(\s*([\uac00-\ud7a3 ]+?)\s*\)"
)
_NOUN_TAGS = ("NNP", "NNG", "NR", "XR", "SH")


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
    for match in NUMBER.finditer(text):
        raw = match.group()
        if THOUSANDS.match(raw):
            numbers.add(norm_number(raw.replace(",", "")))
        for part in re.split(r"[.,]", raw):
            numbers.add(norm_number(part))
        for pair in re.finditer(r"(?=(\d+\.\d+))", raw):
            numbers.add(norm_number(pair.group(1)))
    whole, prefixes = _hangul_noun_keys(text)
    latin = {latin_key(w) for w in LATIN_WORD.findall(text)}
    return Evidence(
        folded=folded,
        compact=folded.replace(" ", ""),
        numbers=frozenset(numbers),
        hangul_keys=frozenset(k for k in whole if len(k) >= 2),
        hangul_prefix_keys=frozenset(k for k in prefixes if len(k) >= 3),
        latin_keys=frozenset(k for k in latin if len(k) >= 2),
    )


def _hangul_noun_keys(text: str) -> tuple[set[str], set[str]]:
    with kiwi_lock:
        tokens = kiwi().tokenize(text)
    nouns: list[tuple[str, int, int]] = []
    for t in tokens:
        if t.tag.startswith(_NOUN_TAGS) or t.tag == "NNP":
            for run in HANGUL_RUN.finditer(t.form):
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
    q_words = {w.lower() for w in LATIN_WORD.findall(question)}
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
    anchored = any(c for c, w in zip(covered, run, strict=True) if not is_generic(w))
    out = []
    for word, ok in zip(run, covered, strict=True):
        if ok or is_generic(word):
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
