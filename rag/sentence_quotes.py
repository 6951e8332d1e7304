"""An extractive answer from the sentences chosen to quote (rag.sentence_answerer)."""

from __future__ import annotations

from .citing import make_citation, quoting_answer
from .sentence_candidates import Candidate
from .types import Answer, Citation, Document, Hit, Lang


def quoted_answer(
    question: str,
    chosen: list[Candidate],
    documents: dict[str, Document],
    *,
    lang: Lang,
    hits: list[Hit],
    search_query: str,
    confidence: float,
) -> Answer:
    """The answer that quotes ``chosen`` in document order, each with its citation."""
    citations = [_citation(n, c, documents) for n, c in enumerate(chosen, start=1)]
    # confidence: the best sentence's similarity, not a probability
    return quoting_answer(question, citations, lang=lang, hits=hits,
                          search_query=search_query, confidence=confidence)  # fmt: skip


def _citation(n: int, cand: Candidate, documents: dict[str, Document]) -> Citation:
    context, context_start = cand.text, cand.start
    doc = documents.get(cand.doc_id)
    if cand.sentence is not None and doc is not None:
        context_start = cand.sentence[0]
        context = doc.text[cand.sentence[0] : cand.sentence[1]]
    return make_citation(
        n, documents, doc_id=cand.doc_id, chunk_id=cand.chunk_id, quote=cand.text,
        start=cand.start, end=cand.end, score=cand.score, context=context,
        context_start=context_start,
    )  # fmt: skip
