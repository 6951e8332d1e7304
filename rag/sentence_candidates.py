"""The sentences the sentence answerer may quote, and the texts it embeds for each.

Both question time (the sentences of the top hits) and index time (the sentences of
every chunk, whose vectors are stored with the index: ``rag.sentence_store``) take
them from here, so the stored vectors are exactly the ones an answer looks up.

A short line says little alone, so it is also compared together with its neighbours:
the mean of its own vector and theirs (``pooled``). Those are sentences embedded one
by one anyway, so this costs no embedding, at index time or at question time. A
"label : value" line such as "- 일시/장소 : 2024.5.22(수), KIST" is the exception: what
it is about is only in the heading above it ("※ AI 글로벌 포럼 개요"), which a mean of
vectors does not join to it, so it is embedded once more with its neighbours as one
text (``context``). The public validation data has almost no such lines and scores the
mean as well as embedding every short line with its neighbours (docs/answers.md); the
bundled press releases need the exception to answer "Where was the forum held?".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .furniture import Spans, is_furniture
from .labelled_lines import is_labelled
from .sentences import sentence_spans
from .types import Chunk, Document

# A chunk's sentences when they are already known (stored with the index), else None.
SpansOf = Callable[[Chunk], list[tuple[int, int]] | None]

SHORT_LINE = 50  # characters; shorter sentences are also scored with their neighbours
MIN_SENTENCE_CHARS = 6


@dataclass(frozen=True)
class Candidate:
    doc_id: str
    chunk_id: str
    start: int
    end: int
    text: str
    hit_rank: int
    similarity: float = 0.0
    score: float = 0.0
    furniture: bool = False  # most of the sentence is page furniture
    # Document offsets of the whole sentence when the candidate is one entry of it
    # (rag.pinpoint); the citation shows that sentence as context.
    sentence: tuple[int, int] | None = None
    # A short line's neighbours in its chunk (the sentences before and after it, leaving
    # out the document's headline), whose vectors are pooled with its own; () otherwise.
    neighbours: tuple[str, ...] = ()
    # A short "label : value" line with its neighbours, embedded as one text; "" otherwise.
    context: str = ""


def candidates(
    chunks: Iterable[Chunk],
    documents: dict[str, Document],
    furniture: dict[str, Spans] | None = None,
    *,
    spans_of: SpansOf | None = None,
) -> list[Candidate]:
    """The sentences of ``chunks`` (best hit first), once per position in a document."""
    seen: set[tuple[str, int]] = set()
    out: list[Candidate] = []
    for cand in _chunk_candidates(chunks, documents, furniture or {}, spans_of):
        if (cand.doc_id, cand.start) not in seen:
            seen.add((cand.doc_id, cand.start))
            out.append(cand)
    return out


def embedded_texts(
    chunks: Iterable[Chunk], documents: dict[str, Document], *, spans_of: SpansOf | None = None
) -> Iterator[str]:
    """Every text ``candidates`` can ask to embed for these chunks, in any hit order:
    each sentence, each neighbour of a short line (one too short to be a candidate
    itself as well), and each labelled line's context."""
    for cand in _chunk_candidates(chunks, documents, {}, spans_of):
        yield cand.text
        yield from cand.neighbours
        if cand.context:
            yield cand.context


def pooled(own: np.ndarray, neighbours: Sequence[np.ndarray]) -> np.ndarray:
    """The unit-length mean of a short line's vector and its neighbours': how the line
    reads in its place, from vectors that are already there."""
    total = np.sum([own, *neighbours], axis=0)
    norm = float(np.linalg.norm(total))
    return total / norm if norm > 0 else own


def _chunk_candidates(
    chunks: Iterable[Chunk],
    documents: dict[str, Document],
    furniture: dict[str, Spans],
    spans_of: SpansOf | None,
) -> Iterator[Candidate]:
    for rank, chunk in enumerate(chunks):
        spans = spans_of(chunk) if spans_of is not None else None
        if spans is None:
            spans = sentence_spans(chunk.text)
        for i, (start, end) in enumerate(spans):
            text = chunk.text[start:end]
            if len(text) < MIN_SENTENCE_CHARS:
                continue
            neighbours: tuple[str, ...] = ()
            context = ""
            if len(text) < SHORT_LINE:
                around = _neighbours(chunk.text, spans, i, doc=documents.get(chunk.doc_id))
                neighbours = tuple(t for t in around if t)
                if neighbours and is_labelled(text):
                    before, after = around
                    context = " ".join(" ".join(t.split()) for t in (before, text, after) if t)
            at, to = chunk.start + start, chunk.start + end
            marked = is_furniture(furniture.get(chunk.doc_id, ()), at, to)
            yield Candidate(
                chunk.doc_id, chunk.chunk_id, at, to, text, rank, furniture=marked,
                neighbours=neighbours, context=context,
            )  # fmt: skip


def _neighbours(
    text: str, spans: list[tuple[int, int]], i: int, *, doc: Document | None
) -> tuple[str, str]:
    """The sentences just before and after sentence ``i`` ("" for none), leaving out the
    document's headline."""
    title = doc.title.strip() if doc is not None else None
    out = []
    for j in (i - 1, i + 1):
        part = text[spans[j][0] : spans[j][1]] if 0 <= j < len(spans) else ""
        out.append(part if part.strip() and part.strip() != title else "")
    return out[0], out[1]
