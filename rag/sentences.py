"""Sentence spans for Korean and English text, as character offsets.

Kiwi splits Korean well but leaves English runs whole, so each Kiwi sentence
is split again at English sentence ends. Lines are hard boundaries: scraped
pages put list items and headlines on their own lines.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

_ENGLISH_END = re.compile(r"(?<=[a-z0-9\)\]][.!?])\s+(?=[A-Z\"'(\[])")
_LINE = re.compile(r"[^\n]+")
kiwi_lock = threading.Lock()  # hold it around every call on kiwi()


@lru_cache(maxsize=1)
def kiwi():
    """The one Kiwi analyser of the process (loads in about a second); see ``kiwi_lock``."""
    from kiwipiepy import Kiwi

    return Kiwi()


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Return ``[(start, end), ...]`` covering the non-blank sentences of ``text``."""
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        if not line.group().strip():
            continue
        for start, end in _split_line(line.group()):
            spans.append((line.start() + start, line.start() + end))
    return spans


def _split_line(line: str) -> list[tuple[int, int]]:
    if len(line) < 40:
        return _strip_span(line, 0, len(line))
    with kiwi_lock:  # Kiwi objects are not documented as thread-safe
        sents = kiwi().split_into_sents(line)
    if not sents:  # Kiwi finds no sentence in "꺮" * 60 + "1" (found by fuzz/)
        return _strip_span(line, 0, len(line))
    # Kiwi's sentences only say where to cut: each span runs to the next sentence's start,
    # so characters Kiwi skips (it treats U+2800 as a space; found by fuzz/) stay in a span.
    ends = [sent.start for sent in sents[1:]] + [len(line)]
    spans: list[tuple[int, int]] = []
    cut = 0
    for sent, end in zip(sents, ends, strict=True):
        for match in _ENGLISH_END.finditer(line, sent.start, sent.end):
            spans.extend(_strip_span(line, cut, match.start()))
            cut = match.end()
        spans.extend(_strip_span(line, cut, end))
        cut = end
    return spans or _strip_span(line, 0, len(line))


def _strip_span(text: str, start: int, end: int) -> list[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return [(start, end)] if end > start else []
