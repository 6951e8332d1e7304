"""Data passed between the stages: documents, chunks, hits, citations, answers.

All are frozen dataclasses so results can be shared between threads (the web app
serves several sessions from one index).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Lang = Literal["ko", "en"]
ClaimStatus = Literal["supported", "unsupported", "unchecked"]
# "shown": passed the check; "rejected": a sentence it could not support; "refused": the
# model said the quotes do not answer; "restated": it only said the question back.
RenderingStatus = Literal["shown", "rejected", "refused", "restated"]


@dataclass(frozen=True)
class Document:
    """A loaded, normalised document. Offsets everywhere point into ``text``."""

    doc_id: str
    text: str
    title: str = ""
    date: str = ""
    source: str = ""
    path: str = ""
    content_hash: str = ""
    # Ascending (offset, location) pairs: from each offset on, the text is at that place
    # in the original ("p. 3", "slide 2", "Sheet1!A1:D1", "§ Intro › Scope").
    marks: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Chunk:
    """A span ``[start, end)`` of a document's normalised text."""

    chunk_id: str
    doc_id: str
    text: str
    start: int
    end: int
    title: str = ""
    location: str = ""  # where the chunk starts in the original: "p. 3", "slide 2", ...


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk. ``score`` is the fused score used for ranking."""

    chunk: Chunk
    score: float
    dense_score: float | None = None
    bm25_score: float | None = None


@dataclass(frozen=True)
class Citation:
    """The exact source span behind an ``[n]`` marker in an answer."""

    n: int
    doc_id: str
    title: str
    quote: str
    start: int
    end: int
    score: float
    chunk_id: str = ""
    date: str = ""
    source: str = ""
    # The whole sentence around the quote (the quote may be one list item or clause of it),
    # and the document offset where that sentence starts.
    context: str = ""
    context_start: int = 0
    location: str = ""  # the chunk's location: "p. 3", "slide 2", "Sheet1!A1:D9", "§ 2 › 2.1"


@dataclass(frozen=True)
class Claim:
    """One sentence of a generated answer and whether its citations support it."""

    text: str
    status: ClaimStatus
    citations: tuple[int, ...] = ()
    reason: str = ""


class RenderingDelta(str):
    """A piece of the rendering as the LLM writes it (the quote's deltas are plain ``str``)."""

    __slots__ = ()


@dataclass(frozen=True)
class Rendering:
    """The quoted answer retold in the asker's language by an LLM that read only the quotes.

    The quote stays the answer of record; a rendering is shown beside it, labelled as a
    machine rendering of the citations it names, and only when ``status == "shown"``.
    """

    text: str  # with [n] markers that point at the answer's citations
    lang: Lang
    status: RenderingStatus
    sources: tuple[int, ...] = ()  # the citation numbers the model was given
    claims: tuple[Claim, ...] = ()
    reason: str = ""  # why it is not shown
    first_token_ms: float | None = None  # from the request to the model's first token
    total_ms: float = 0.0

    @property
    def shown(self) -> bool:
        return self.status == "shown"


@dataclass(frozen=True)
class Mismatch:
    """A refusal's reason: the question asks about ``asked`` (a year, a day), and the
    passage that matches best names ``found`` instead (``rag.mismatches``)."""

    asked: str
    found: tuple[str, ...]


@dataclass(frozen=True)
class Answer:
    """What ``ask()`` returns. A refusal is a normal answer with ``refused=True``."""

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    lang: Lang = "en"
    hits: list[Hit] = field(default_factory=list)
    mode: Literal["extractive", "llm"] = "extractive"
    search_query: str = ""
    claims: list[Claim] = field(default_factory=list)
    fallback_reason: str = ""
    # The scorer's probability that the best unit answers (rag.answer_scorer); a refusal
    # keeps it too, so callers can see how close the documents came.
    confidence: float = 0.0
    # With an LLM: the quote retold in the asker's language (``rag.llm.render``).
    rendering: Rendering | None = None
    # A refusal's reason: the question's specifics (a year, an ordinal, a place, a name)
    # that none of the retrieved documents mentions (``rag.refusals``).
    unmentioned: list[str] = field(default_factory=list)
    # ... or the specifics the best-matching passage contradicts (``rag.mismatches``).
    mismatched: list[Mismatch] = field(default_factory=list)
    # ... or the specifics that the best-matching passage's own document never mentions,
    # though another retrieved document does (``rag.refusals.unmentioned_in``).
    missing_from_best: list[str] = field(default_factory=list)
    # ... or the names and places that neither the best-matching sentence nor the one
    # before it mentions (``rag.nearby_names``).
    missing_near_best: list[str] = field(default_factory=list)
    # ... or the kind of thing the question asks for ("organisation", "country", "city")
    # that no sentence near the best names (``rag.answer_entities``).
    names_no: str = ""
