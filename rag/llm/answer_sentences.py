"""A generated answer as sentences, each with the ``[n]`` markers it carries.

A marker opening a sentence belongs to the previous one, a run of list lines (with
the line introducing it) is one sentence, and an uncited sentence takes the markers
of the next cited one in its paragraph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..sentences import sentence_spans
from .facts import extract_facts
from .markers import LIST_ITEM, MARKER, parse_markers, strip_markers

_END_AFTER_MARKER = re.compile(rf"(?:\s*{MARKER.pattern})+\s*[.!?。]", re.IGNORECASE)


@dataclass(frozen=True)
class Sentence:
    """A span of the generated answer and the ``[n]`` numbers written in it."""

    text: str
    start: int
    end: int
    markers: tuple[int, ...]


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
        is_item = line_start == start and LIST_ITEM.match(text[start:end])
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
    return bool(LIST_ITEM.match(last_line))
