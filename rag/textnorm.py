"""One normal form for all text, so offsets, hashes and matches agree everywhere.

``normalize`` is what documents are stored as (chunk offsets point into it), so it
never collapses ordinary whitespace. ``fold`` is for comparing strings only.
Shortcut taken: NFKC is applied everywhere except to Hangul compatibility jamo
(ㄱ, ㅇ, ...), which NFKC would turn into conjoining jamo that render as broken
syllables and no longer match what users type.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

# Every character str.splitlines() treats as a line break becomes "\n", so "\n" is
# the only line boundary left in normalised text.
_LINE_BREAKS = re.compile(r"\r\n|[\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
# Removed before NFKC, so the removal cannot expose a new composable sequence.
_DROP = re.compile(
    "[\ud800-\udfff"  # lone surrogates
    "\u200b-\u200d\u2060\ufeff\u00ad"  # zero-width characters, soft hyphen
    "\x00-\x08\x0e-\x1f\x7f-\x9f]"  # C0/C1 controls except \t \n (mapped above)
)
_SPACES = re.compile("[\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_MIDDLE_DOTS = re.compile("[\u30fb\u2027\u2219\u22c5\uff65]")
_COMPAT_JAMO = re.compile("([\u3131-\u318e]+)")
_WHITESPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """The stored form of any text: NFKC, "\\n" line ends, plain spaces and "·".

    Idempotent and total: any ``str`` (even with lone surrogates) is accepted.
    Whitespace runs and blank lines are kept, because offsets point into the result.
    """
    text = _DROP.sub("", _LINE_BREAKS.sub("\n", text))
    if not unicodedata.is_normalized("NFKC", text):  # fast path: most text already is
        parts = _COMPAT_JAMO.split(text)  # odd indices are compatibility jamo runs, kept
        text = "".join(
            p if i % 2 else unicodedata.normalize("NFKC", p) for i, p in enumerate(parts)
        )
    return _MIDDLE_DOTS.sub("\u00b7", _SPACES.sub(" ", text))


def fold(text: str) -> str:
    """A matching key: normalised, case-folded, whitespace runs as one space, stripped.

    Never store it; use it on both sides of a comparison (eval, citation checks).
    """
    folded = normalize(normalize(text).casefold())  # casefold can leave non-NFKC text
    return _WHITESPACE.sub(" ", folded).strip()


def _is_hangul(ch: str) -> bool:
    code = ord(ch)
    return (
        0xAC00 <= code <= 0xD7A3  # syllables
        or 0x1100 <= code <= 0x11FF  # conjoining jamo
        or 0x3131 <= code <= 0x318E  # compatibility jamo
        or 0xA960 <= code <= 0xA97F
        or 0xD7B0 <= code <= 0xD7FF
    )


def detect_lang(text: str, *, threshold: float = 0.3) -> Literal["ko", "en"]:
    """Return "ko" when Hangul is at least ``threshold`` of the letters, else "en".

    Korean questions often carry English names ("SKT A.X K1 모델은?"), hence 30 %,
    not a majority. Text without letters is "en".
    """
    letters = hangul = 0
    for ch in text:
        if ch.isalpha():
            letters += 1
            hangul += _is_hangul(ch)
    return "ko" if letters and hangul / letters >= threshold else "en"
