"""Citations and the extractive answer that quotes them, shared by both answerers."""

from __future__ import annotations

from .chunking import locate
from .types import Answer, Citation, Document, Hit, Lang


def quoting_answer(
    question: str,
    citations: list[Citation],
    *,
    lang: Lang,
    hits: list[Hit],
    search_query: str,
    confidence: float,
) -> Answer:
    """The answer whose text is each citation's quote followed by its ``[n]``."""
    return Answer(
        question=question,
        text=" ".join(f"{c.quote} [{c.n}]" for c in citations),
        citations=citations,
        lang=lang,
        hits=hits,
        search_query=search_query,
        confidence=round(confidence, 4),
    )


def make_citation(
    n: int,
    documents: dict[str, Document],
    *,
    doc_id: str,
    chunk_id: str,
    quote: str,
    start: int,
    end: int,
    score: float,
    context: str,
    context_start: int,
    location: str = "",
) -> Citation:
    """A ``Citation`` with the document's title, date, source and the quote's location."""
    doc = documents.get(doc_id)
    if doc is not None and doc.marks:
        location = locate(doc.marks, start, end)
    return Citation(
        n=n, doc_id=doc_id, title=doc.title if doc else "", quote=quote, start=start, end=end,
        score=round(score, 4), chunk_id=chunk_id, date=doc.date if doc else "",
        source=doc.source if doc else "", context=context, context_start=context_start,
        location=location,
    )  # fmt: skip
