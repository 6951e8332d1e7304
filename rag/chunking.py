"""Document -> Chunks: whole sentences packed up to a target size, with overlap.

Chunks never cut a sentence, so a citation quote is always readable. Each chunk
keeps offsets into the document's normalised text; ``chunk_id`` is
``<doc_id>#<start>-<end>``, stable for as long as the text is. A chunk's
``location`` is the document mark where its new (not overlapped) text starts
("p. 3", "§ Intro"), or the span it covers for pages, slides and rows of one
sheet ("pp. 2–3", "Sheet1!A2:D9").
"""

from __future__ import annotations

import bisect
import re

from .sentences import sentence_spans
from .types import Chunk, Document


def chunk_document(doc: Document, *, chunk_size: int = 500, overlap: int = 1) -> list[Chunk]:
    """Pack sentences greedily into chunks of about ``chunk_size`` characters.

    ``overlap`` sentences at the end of a chunk are repeated at the start of the
    next, so a fact spanning a boundary is whole in at least one chunk.
    """
    if chunk_size < 50:
        raise ValueError(f"chunk_size={chunk_size} is too small; use at least 50 characters")
    spans = sentence_spans(doc.text)
    groups = _pack(spans, chunk_size=chunk_size, overlap=max(0, overlap))
    offsets = [offset for offset, _ in doc.marks]
    return [
        Chunk(
            chunk_id=f"{doc.doc_id}#{start}-{end}",
            doc_id=doc.doc_id,
            text=doc.text[start:end],
            start=start,
            end=end,
            title=doc.title,
            location=locate(doc.marks, fresh, end, offsets=offsets),
        )
        for start, end, fresh in groups
    ]


def _pack(
    spans: list[tuple[int, int]], *, chunk_size: int, overlap: int
) -> list[tuple[int, int, int]]:
    """(start, end, fresh) per chunk; ``fresh`` is where the sentences not overlapped begin."""
    groups: list[tuple[int, int, int]] = []
    i = done = 0  # done: index of the first sentence no earlier chunk has
    while i < len(spans):
        j = i
        while j + 1 < len(spans) and spans[j + 1][1] - spans[i][0] <= chunk_size:
            j += 1
        groups.append((spans[i][0], spans[j][1], spans[max(i, min(done, j))][0]))
        done = j + 1
        if j + 1 >= len(spans):
            break
        i = max(i + 1, j + 1 - overlap)
    return groups


_CELLS = re.compile(r"^(.*)!([A-Z]+[0-9]+):([A-Z]+[0-9]+)$")
_NUMBERED = re.compile(r"^(p\.|slide) (\d+)$")
_PLURAL = {"p.": "pp.", "slide": "slides"}


def locate(marks, start: int, end: int, *, offsets: list[int] | None = None) -> str:
    """Where ``[start, end)`` of a document is, from its ``Document.marks``.

    The mark in force at ``start``, or the span to ``end`` for pages, slides and rows
    of one sheet ("pp. 2–3", "'Sheet1'!A2:D9"); "" for a document without marks.
    ``offsets`` (the marks' offsets) saves recomputing them for many spans.
    """
    offsets = [offset for offset, _ in marks] if offsets is None else offsets
    first = bisect.bisect_right(offsets, start) - 1
    if first < 0:
        return ""
    location = marks[first][1]
    last = marks[bisect.bisect_left(offsets, end) - 1][1]
    head, tail = _CELLS.match(location), _CELLS.match(last)
    if head and tail and head.group(1) == tail.group(1):
        return f"{head.group(1)}!{head.group(2)}:{tail.group(3)}"
    head, tail = _NUMBERED.match(location), _NUMBERED.match(last)
    if head and tail and head.group(1) == tail.group(1) and head.group(2) != tail.group(2):
        return f"{_PLURAL[head.group(1)]} {head.group(2)}–{tail.group(2)}"
    return location
