"""Generated answers: prompt, stream, check, cite, or fall back to the extractive answer.

``stream_with_llm`` is a generator that yields ``str`` deltas, then exactly one
``Answer`` (always last). Two ways, by ``settings.llm_reads``:

- ``"quotes"`` (default; ``rag.llm.render``): the extractive answer's quote pieces
  first, as plain ``str``, at once; then the model's rendering of those quotes in the
  asker's language as ``RenderingDelta``. The ``Answer`` is the quote, with
  ``rendering`` attached (shown only if it passed the check).
- ``"passages"``: the model reads the top passages and writes the answer; the deltas
  carry its own passage numbers, and the final ``Answer.text`` replaces them, with
  markers renumbered to ``answer.citations`` (or the extractive answer, if the check
  failed).

One generation runs at a time per process (``GENERATION_LOCK``): on 2 cores two
parallel llama.cpp generations each slow to about 1 token/s.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np

from ..errors import RagError
from ..refusals import REFUSAL, refusal
from ..store import IndexData
from ..textnorm import fold
from ..types import Answer, Hit, Lang, Rendering
from .chat_models import make_chat_model
from .citations import attach_citations
from .claims import check_answer
from .evidence import romanisations
from .markers import MARKER, strip_markers
from .prompt import Passage, build_messages
from .render import stream_rendering
from .restate import restates_question

log = logging.getLogger(__name__)

GENERATION_LOCK = threading.Lock()
CHECK_FAILED = (
    "The generated answer failed the citation check ({reason}); "
    "this is the extractive answer instead."
)
RESTATED = "The generated answer only restated the question: this is the extractive answer."
REFUSAL_OVERRIDDEN = (
    "The model said the documents do not say, but they do: this is the extractive answer instead."
)


def stream_with_llm(
    qa: Any,
    question: str,
    hits: list[Hit],
    *,
    lang: Lang,
    search_query: str = "",
    data: IndexData,
    chat_model: Any = None,
    query_vector: np.ndarray | None = None,
) -> Iterator[str | Answer]:
    """Yield text deltas, then the checked ``Answer`` (see the module docstring).

    ``chat_model``: any LangChain ``BaseChatModel``; default ``qa.chat_model`` if set,
    else the one ``qa.settings.llm`` names (``RAG_LLM``). ``qa.settings.llm_reads``
    decides what the model reads: the extractive answer's quotes (``"quotes"``, the
    quote streams first and the rendering after it) or the top passages.
    """
    args = dict(lang=lang, search_query=search_query, data=data, chat_model=chat_model,
                query_vector=query_vector)  # fmt: skip
    if getattr(qa.settings, "llm_reads", "quotes") == "passages":
        yield from _stream_from_passages(qa, question, hits, **args)
    else:
        yield from _stream_from_quotes(qa, question, hits, **args)


def _stream_from_quotes(
    qa: Any,
    question: str,
    hits: list[Hit],
    *,
    lang: Lang,
    search_query: str,
    data: IndexData,
    chat_model: Any,
    query_vector: np.ndarray | None,
) -> Iterator[str | Answer]:
    """The quote at once, then the model's rendering of it as ``RenderingDelta``s."""
    from ..qa import quote_pieces

    answer = _extractive(qa, question, hits, lang, search_query, data, query_vector)
    yield from quote_pieces(answer.text)
    if answer.refused or not answer.citations:
        yield answer
        return
    rendering: Rendering | None = None
    with GENERATION_LOCK:  # also around loading: two threads must not load 1.9 GB each
        model = _chat_model(qa, chat_model)
        for item in stream_rendering(answer, model=model, is_refusal=_is_refusal):
            if isinstance(item, Rendering):
                rendering = item
            else:
                yield item
    yield with_rendering(answer, rendering)


def with_rendering(answer: Answer, rendering: Rendering | None) -> Answer:
    """The quote with its rendering; ``mode`` is "llm" only when the rendering is shown."""
    if rendering is None:
        return answer
    if rendering.shown:
        return replace(answer, rendering=rendering, mode="llm", claims=list(rendering.claims))
    return replace(answer, rendering=rendering, fallback_reason=rendering.reason)


def _chat_model(qa: Any, chat_model: Any) -> Any:
    try:
        return chat_model or getattr(qa, "chat_model", None) or make_chat_model(qa.settings)
    except RagError:
        raise
    except Exception as exc:  # a model that fails to load
        raise RagError(f"The LLM ({qa.settings.llm}) failed to load: {exc}") from exc


def _stream_from_passages(
    qa: Any,
    question: str,
    hits: list[Hit],
    *,
    lang: Lang,
    search_query: str,
    data: IndexData,
    chat_model: Any,
    query_vector: np.ndarray | None,
) -> Iterator[str | Answer]:
    """The model reads the top passages and writes the answer; the check then decides."""
    used = hits[: max(1, qa.settings.llm_passages)]
    if not used:
        yield refusal(question, lang=lang, hits=hits, search_query=search_query)
        return
    passages = [_passage(n, hit, data) for n, hit in enumerate(used, start=1)]
    messages = build_messages(question, passages, lang)
    parts: list[str] = []
    with GENERATION_LOCK:  # also around loading: two threads must not load 1.9 GB each
        model = _chat_model(qa, chat_model)
        try:
            for chunk in model.stream(messages):
                delta = chunk.content if isinstance(chunk.content, str) else ""
                if delta:
                    parts.append(delta)
                    yield delta
        except RagError:
            raise
        except Exception as exc:  # a server that is down
            raise RagError(f"The LLM ({qa.settings.llm}) failed: {exc}") from exc
    yield finish(qa, question, "".join(parts), hits, passages, lang=lang,
                 search_query=search_query, data=data, query_vector=query_vector)  # fmt: skip


def answer_with_llm(
    qa: Any,
    question: str,
    hits: list[Hit],
    *,
    lang: Lang,
    search_query: str = "",
    data: IndexData,
    chat_model: Any = None,
    query_vector: np.ndarray | None = None,
) -> Answer:
    """``stream_with_llm`` without the deltas: the checked ``Answer``."""
    answer = None
    for item in stream_with_llm(qa, question, hits, lang=lang, search_query=search_query,
                                data=data, chat_model=chat_model,
                                query_vector=query_vector):  # fmt: skip
        if isinstance(item, Answer):
            answer = item
    if answer is None:  # stream_with_llm always ends with an Answer
        raise RagError("The LLM answerer produced no answer")
    return answer


def finish(
    qa: Any,
    question: str,
    generated: str,
    hits: list[Hit],
    passages: list[Passage],
    *,
    lang: Lang,
    search_query: str,
    data: IndexData,
    query_vector: np.ndarray | None = None,
) -> Answer:
    """Check the generated text and build the final ``Answer``."""
    text = generated.strip()
    if _is_refusal(text):
        # The 1.5B model sometimes refuses when the answer is there (docs/models.md): a refusal
        # stands only if the extractive answerer, calibrated on unanswerable questions,
        # refuses too.
        extractive = _extractive(qa, question, hits, lang, search_query, data, query_vector)
        if extractive.refused:
            return replace(extractive, mode="llm")
        return replace(extractive, fallback_reason=REFUSAL_OVERRIDDEN)
    if restates_question(text, question):  # passes the claim check, answers nothing
        log.info("generated answer only restates the question: %r", text)
        extractive = _extractive(qa, question, hits, lang, search_query, data, query_vector)
        return replace(extractive, fallback_reason=RESTATED)
    sources = {p.n: _check_text(p) for p in passages}
    checked = check_answer(text, sources, question=question)
    if not text or checked.failed:
        reason = checked.reason if text else "the model returned nothing"
        log.info("generated answer rejected (%s): %r", reason, text)
        extractive = _extractive(qa, question, hits, lang, search_query, data, query_vector)
        # Keep the verdicts on the rejected sentences (they say what was caught); their
        # numbers were the prompt's passages, not this answer's citations, so drop them.
        rejected = [replace(c, citations=()) for c in checked.claims]
        return replace(
            extractive, fallback_reason=CHECK_FAILED.format(reason=reason), claims=rejected
        )
    roman = romanisations(list(sources.values()))
    new_text, citations, claims = attach_citations(
        text,
        checked,
        hits[: len(passages)],
        data.documents,
        roman=roman,
        question=question,
        similarity=_similarity(qa),
    )
    return Answer(
        question=question,
        text=new_text,
        citations=citations,
        refused=False,
        lang=lang,
        hits=hits,
        mode="llm",
        search_query=search_query,
        claims=claims,
    )


def _passage(n: int, hit: Hit, data: IndexData) -> Passage:
    doc = data.documents.get(hit.chunk.doc_id)
    title = hit.chunk.title or (doc.title if doc else "")
    return Passage(n=n, text=hit.chunk.text, title=title)


def _check_text(passage: Passage) -> str:
    """What a claim may be checked against: the title line counts, it is shown to the model."""
    return f"{passage.title}\n{passage.text}"


_PARAPHRASED_REFUSAL = re.compile(
    r"(not|n't|never)\s+(be\s+)?(specified|mentioned|provided|stated|given|found|included|"
    r"available|contained|addressed|say|said|mention|contain|provide|state)\b.{0,40}"
    r"\b(passages?|documents?|text|context)|"
    r"(passages?|documents?|text|context)\s+(do|does)\s+not\s+(say|mention|contain|provide|state)|"
    r"찾을\s*수\s*없|언급(되어|되지|하지)\s*(있지\s*)?않|나와\s*있지\s*않|포함되어\s*있지\s*않",
    re.IGNORECASE,
)


def _is_refusal(text: str) -> bool:
    """The fixed refusal sentence anywhere, or a short uncited paraphrase of it."""
    body = fold(strip_markers(text))
    if any(fold(r).rstrip(".") in body for r in REFUSAL.values()):
        return True
    short = len(body) < 200 and not MARKER.search(text)
    return short and bool(_PARAPHRASED_REFUSAL.search(body))


def _extractive(
    qa: Any,
    question: str,
    hits: list[Hit],
    lang: Lang,
    search_query: str,
    data: IndexData,
    query_vector: np.ndarray | None = None,
) -> Answer:
    vector = query_vector
    if vector is None:
        vector = qa.embedder.encode_queries([search_query or question])[0]
    return qa._extractive.answer(
        question,
        hits,
        query_vector=vector,
        data=data,
        lang=lang,
        search_query=search_query,
    )


def _similarity(qa: Any):
    """Cosine similarity with the index's embedding model (sentence vectors are looked up
    in the index's store first, then cached)."""

    def similarity(claim: str, sentences: list[str]) -> np.ndarray:
        vecs = qa._extractive.vectors.encode(sentences, stored=qa.data.sentences)  # (n, dim)
        return vecs @ qa.embedder.encode_queries([claim])[0]

    return similarity
