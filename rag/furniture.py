"""Page furniture: the menus, footers, rules and other stories around a scraped article.

Such text is marked, not dropped: people ask about it ("what is the next article?"),
but an answer about the article should come from the article. Lines are blocks,
classified as in jusText (Pomikálek 2011) by length, by whether they end like a
sentence, by a teaser's cut-off "..." and by repetition; the article body is the run
of blocks with the most sentence text net of the non-sentence lines in it (the
maximum-sum run of Finn et al.'s Body Text Extraction). Blocks before the body,
except the headline and what follows it, and all blocks after the body are furniture,
and so is a short line repeated on every page (a running header), wherever it is.

Shortcut taken: a page without at least ``MIN_BODY_CHARS`` of sentences has no body
to find (a spreadsheet, a slide deck, a list), so nothing in it is marked.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from .textnorm import fold

BlockKind = Literal["sentence", "text", "short", "teaser"]
Spans = tuple[tuple[int, int], ...]

VERSION = 1  # recorded with the index; a change re-marks every document on the next update

SHORT = 25  # characters; a line without a sentence end under this is link-like ("목록")
MIN_SENTENCE = 15  # characters; a sentence block at least this long counts as body text
LINE_COST = 40  # a link-like line weighs as much as this many characters of sentences
TEXT_WEIGHT = 0.25  # per character of a long line without a sentence end (a list item)
REPEATED = 3  # a short line seen this often is a running header or footer
MIN_BODY_CHARS = 200  # sentence characters a page needs before a body is looked for
TITLE_MIN = 8  # characters of a title that must match a line to anchor the headline

_LINE = re.compile(r"[^\n]+")
_LEAD = re.compile(r"^(?:[-–—•·*▪◦●○□■◆◇▶▷►※ㅇ](?=\s)|\s)*(?:\d{1,3}[.)]\s+)?")
_TRAILER = re.compile(r"\s*(?:\([^()]{0,40}\)|\[[^\[\]]{0,40}\])\s*$")  # "(사진=외교부 제공)"
_CLOSERS = "\"'”’」』)]》〉"
_END = re.compile(r"(?:[.!?。]|[다요죠음함]\.?)$")
_TEASER = re.compile(r"(?:\.{2,}|…)$")


@dataclass(frozen=True)
class Block:
    """A non-blank line ``[start, end)`` of the text and what it looks like."""

    start: int
    end: int
    kind: BlockKind
    chars: int  # characters without the leading bullet or number


def furniture_spans(text: str, *, title: str = "") -> Spans:
    """The ``[(start, end), ...]`` of ``text`` that are page furniture, in order.

    ``title`` is the document's title; the line that carries it opens the article.
    """
    blocks = classify(text)
    body = _body(blocks)
    if body is None:
        return ()
    first, last = body
    head = _title_block(text, blocks[:first], title)
    if head is not None:
        first = head
    repeated = _repeated(text, blocks)
    spans = [
        (b.start, b.end)
        for i, b in enumerate(blocks)
        if i < first or i > last or (i in repeated and i != head)
    ]
    return tuple(_merge(text, spans))


def classify(text: str) -> list[Block]:
    """Every non-blank line of ``text`` as a ``Block``."""
    blocks = []
    for line in _LINE.finditer(text):
        raw = line.group()
        stripped = raw.strip()
        if not stripped:
            continue
        start = line.start() + raw.index(stripped[0])
        core = stripped[_LEAD.match(stripped).end() :]
        blocks.append(Block(start, start + len(stripped), _kind(core), len(core)))
    return blocks


def _kind(core: str) -> BlockKind:
    if _TEASER.search(core):
        return "teaser"
    tail = _TRAILER.sub("", core).rstrip(_CLOSERS).rstrip()
    if len(core) >= MIN_SENTENCE and _END.search(tail):
        return "sentence"
    return "short" if len(core) < SHORT else "text"


def _weight(block: Block) -> float:
    """Evidence of body text: sentences for, list-like lines a little, link-like lines and
    teasers against."""
    if block.kind == "sentence":
        return float(block.chars)
    if block.kind == "text":
        return TEXT_WEIGHT * block.chars
    return -float(LINE_COST)


def _body(blocks: list[Block]) -> tuple[int, int] | None:
    """The (first, last) block of the maximum-weight run, or None without enough sentences."""
    if sum(b.chars for b in blocks if b.kind == "sentence") < MIN_BODY_CHARS:
        return None
    best, best_span = 0.0, None
    total, start = 0.0, 0
    for i, block in enumerate(blocks):
        if total <= 0:
            total, start = 0.0, i
        total += _weight(block)
        if total > best:
            best, best_span = total, (start, i)
    return best_span


def _title_block(text: str, before: list[Block], title: str) -> int | None:
    """The index of the last line before the body that carries the title, if any."""
    key = fold(title)
    if len(key) < TITLE_MIN:
        return None
    for i in range(len(before) - 1, -1, -1):
        line = fold(text[before[i].start : before[i].end])
        if len(line) >= TITLE_MIN and (key in line or line in key):
            return i
    return None


def _repeated(text: str, blocks: list[Block]) -> set[int]:
    """Short non-sentence lines that occur ``REPEATED`` times or more."""
    keys = [fold(text[b.start : b.end]) if b.kind != "sentence" else "" for b in blocks]
    counts = Counter(k for k in keys if k and len(k) < 2 * SHORT)
    return {i for i, k in enumerate(keys) if k and counts[k] >= REPEATED}


def _merge(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join spans separated only by whitespace, so a run of lines is one span."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and not text[merged[-1][1] : start].strip():
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def share(spans: Spans, start: int, end: int) -> float:
    """The fraction of ``[start, end)`` that ``spans`` (sorted, disjoint) cover."""
    if end <= start or not spans:
        return 0.0
    first = max(0, bisect.bisect_right(spans, (start, start)) - 1)
    covered = 0
    for s, e in spans[first:]:
        if s >= end:
            break
        covered += max(0, min(e, end) - max(s, start))
    return covered / (end - start)


def is_furniture(spans: Spans, start: int, end: int) -> bool:
    """Is most of ``[start, end)`` furniture? (A quote is either article or furniture.)"""
    return share(spans, start, end) >= 0.5
