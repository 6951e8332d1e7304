"""The sentences the sentence answerer may quote, and the text it embeds for each.

Both question time (the sentences of the top hits) and index time (the sentences of
every chunk, whose vectors are stored with the index: ``rag.sentence_store``) take
them from here, so the stored vectors are exactly the ones an answer looks up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from .furniture import Spans, is_furniture
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
    context: str  # what is embedded: the sentence, or a short line with its neighbours
    hit_rank: int
    similarity: float = 0.0
    score: float = 0.0
    furniture: bool = False  # most of the sentence is page furniture
    # Document offsets of the whole sentence when the candidate is one entry of it
    # (rag.pinpoint); the citation shows that sentence as context.
    sentence: tuple[int, int] | None = None


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
    """Every text ``candidates`` can ask to embed for these chunks, in any hit order.

    A sentence in two overlapping chunks may have other neighbours in each, so every
    chunk's sentences are taken, not only the first position seen.
    """
    for cand in _chunk_candidates(chunks, documents, {}, spans_of):
        yield cand.text
        if cand.context != cand.text:
            yield cand.context


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
            context = text
            if len(text) < SHORT_LINE:
                context = _context(chunk.text, spans, i, title=documents.get(chunk.doc_id))
            at, to = chunk.start + start, chunk.start + end
            marked = is_furniture(furniture.get(chunk.doc_id, ()), at, to)
            yield Candidate(
                chunk.doc_id, chunk.chunk_id, at, to, text, context, rank, furniture=marked
            )


def _context(text: str, spans: list[tuple[int, int]], i: int, *, title: Document | None) -> str:
    """The line with its neighbours, leaving out the document's headline."""
    parts = []
    for j in range(max(0, i - 1), min(len(spans), i + 2)):
        part = text[spans[j][0] : spans[j][1]]
        if j == i or title is None or part.strip() != title.title.strip():
            parts.append(" ".join(part.split()))
    return " ".join(parts)
