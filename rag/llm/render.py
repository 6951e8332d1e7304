"""Extract, then write: the quoted answer retold in the asker's language.

The extractive answer comes first and stays the answer of record. The LLM then reads
only its quoted units (numbered as the answer's citations, ``[1]``…) and the
question, and writes one or two sentences in the question's language. Each sentence
goes through the claim check against the quotes it cites (``claims``): every
number, date and name must be in them, so a number that changed on the way is
caught. A rendering that fails is not shown; the quote is. Prompts are a few dozen
tokens, so on a 2-core CPU the first token comes within seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from ..errors import RagError
from ..types import Answer, Claim, Rendering, RenderingDelta
from .claims import check_answer
from .markers import MARKER, strip_markers
from .prompt import Passage, build_rendering_messages
from .restate import restates_question

log = logging.getLogger(__name__)

REJECTED = "The translation was withheld ({reason}); the quote above is the answer."
REFUSED = "The model found no answer in the quotes; the quote above is the answer."
RESTATED = "The translation only restated the question; the quote above is the answer."


def quotes_of(answer: Answer) -> list[Passage]:
    """The answer's quoted units as the model sees them, numbered as its citations."""
    return [Passage(n=c.n, text=c.quote) for c in answer.citations]


def stream_rendering(
    answer: Answer, *, model: Any, is_refusal: Any
) -> Iterator[RenderingDelta | Rendering]:
    """Yield the model's tokens as ``RenderingDelta``, then the checked ``Rendering``.

    ``model`` is a LangChain chat model; ``is_refusal(text)`` recognises a generated
    "the documents do not say". The caller holds the generation lock.
    """
    quotes = quotes_of(answer)
    messages = build_rendering_messages(answer.question, quotes, answer.lang)
    parts: list[str] = []
    start = time.perf_counter()
    first_ms: float | None = None
    try:
        for chunk in model.stream(messages):
            delta = chunk.content if isinstance(chunk.content, str) else ""
            if delta:
                if first_ms is None:
                    first_ms = (time.perf_counter() - start) * 1000
                parts.append(delta)
                yield RenderingDelta(delta)
    except RagError:
        raise
    except Exception as exc:  # a server that is down, a model that fails to load
        raise RagError(f"The LLM failed while translating the answer: {exc}") from exc
    total_ms = (time.perf_counter() - start) * 1000
    rendering = check_rendering("".join(parts), answer, quotes=quotes, is_refusal=is_refusal)
    yield replace(
        rendering,
        first_token_ms=None if first_ms is None else round(first_ms, 1),
        total_ms=round(total_ms, 1),
    )


def check_rendering(
    generated: str, answer: Answer, *, quotes: list[Passage], is_refusal: Any
) -> Rendering:
    """Shown only if every number, date and name of every sentence is in what it cites.

    A rendering whose model wrote no ``[n]`` at all (the 1.5B model often does not)
    renders all the quotes it was given, as its label says, so each paragraph is
    checked against all of them. Otherwise the rules are the claim check's, stricter in
    one way: any unsupported sentence withholds the whole rendering.
    """
    text = generated.strip()
    sources = tuple(q.n for q in quotes)
    base = dict(lang=answer.lang, sources=sources)
    if not text:
        return Rendering(text="", status="rejected", reason="the model returned nothing", **base)
    if is_refusal(text):
        return Rendering(text=text, status="refused", reason=REFUSED, **base)
    if restates_question(text, answer.question):
        return Rendering(text=text, status="restated", reason=RESTATED, **base)
    cited = text if MARKER.search(text) else _cite_all(text, sources)
    # Only the quotes are evidence, not the question: an on-topic question the documents
    # do not answer differs from one they do by a name or a number ("the French
    # president", "in 2023"), and a rendering must not carry it over as a fact.
    checked = check_answer(cited, {q.n: q.text for q in quotes}, question=answer.question)
    claims = tuple(checked.claims)
    bad = _first_unsupported(claims)
    if checked.failed or bad is not None:
        reason = checked.reason or f"{strip_markers(bad.text)[:60]!r}: {bad.reason}"
        log.info("rendering rejected (%s): %r", reason, text)
        return Rendering(
            text=text, status="rejected", claims=claims,
            reason=REJECTED.format(reason=reason), **base,
        )  # fmt: skip
    return Rendering(text=text, status="shown", claims=claims, **base)


def _cite_all(text: str, sources: tuple[int, ...]) -> str:
    """``text`` with every quote's marker at the end of each line."""
    refs = "".join(f"[{n}]" for n in sources)
    return "\n".join(f"{line} {refs}" if line.strip() else line for line in text.split("\n"))


def _first_unsupported(claims: tuple[Claim, ...]) -> Claim | None:
    return next((c for c in claims if c.status == "unsupported"), None)
