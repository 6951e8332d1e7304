"""The chat transcript as HTML, built by hand with every piece of text escaped.

Each answer is shown once, in its chat bubble: the text with clickable ``[n]``, then
its sources (title, location, date, source) whose passages open with the quote
highlighted. The Chatbot sanitises HTML, but this module does not rely on it: document
text, titles, locations, dates, sources and questions all pass through ``esc`` (or
``plain``), and the only markup is the fixed set written here (<mark>,
<a href="#cite-…">, <details>).
Links to a document's source are emitted only for http(s). Side panels: ``panels``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence

from ..chat import SearchPlan, Turn
from ..refusals import reason_of
from ..types import Answer, Citation, Document
from .strings import text

CONTEXT_CHARS = 240  # of the document shown around a cited sentence
CLOSEST_CHARS = 300  # of each nearest passage shown under a refusal
_MARKER = re.compile(r"\[(\d+)\]")
_BLANK_LINES = re.compile(r"[ \t]*\n\s*")
_URL = re.compile(r"^https?://[^\s\"'<>]+$", re.IGNORECASE)
_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def esc(value: object) -> str:
    """HTML-escape anything, quotes included (safe in text and attribute values)."""
    return html.escape(str(value), quote=True)


def plain(value: str) -> str:
    """Escaped text for a bubble that holds no markup (questions, streamed text)."""
    return html.escape(value, quote=False)


def tidy(value: str) -> str:
    """Blank-line runs of scraped pages shown as one line break."""
    return _BLANK_LINES.sub("\n", value)


def source_link(source: str) -> str:
    if _URL.match(source):
        return (
            f'<a href="{esc(source)}" target="_blank" rel="noopener noreferrer nofollow">'
            f"{esc(source)}</a>"
        )
    return f'<span class="rag-src">{esc(source)}</span>'


# ------------------------------------------------------------------ transcript


def chat_messages(
    turns: Sequence[Turn], documents: Mapping[str, Document], *, llm_ok: bool = False
) -> list[dict]:
    """The whole transcript in Gradio's messages format, one rich bubble per answer.

    The first English answer that quotes Korean (extractive mode) carries a note on
    how to get translations: once per session, since the session is ``turns``.
    """
    hint_at = next((i for i, t in enumerate(turns) if needs_translation_hint(t.answer)), -1)
    out: list[dict] = []
    for i, turn in enumerate(turns):
        hint = text("hint_choose" if llm_ok else "hint_install", "en") if i == hint_at else ""
        out.append({"role": "user", "content": plain(turn.question)})
        bubble = answer_html(turn.answer, documents, turn=i + 1, hint=hint)
        out.append({"role": "assistant", "content": bubble})
    return out


def chat_partial(partial: str, plan: SearchPlan, lang: str | None, rendering: str = "") -> str:
    """A bubble while the answer is being searched for or streamed.

    With an LLM the quote is complete before its rendering starts; the rendering grows
    under it, labelled, so it is never mistaken for the quote.
    """
    if not partial and not rendering:
        return plain(text("searching", lang, query=plan.query))
    if not rendering:
        return plain(partial) + " ▌"
    return (
        f'{plain(partial)}<div class="rag-rendering rag-pending">'
        f'<div class="rag-rendering-label">{esc(text("rendering_pending", lang))}</div>'
        f"<p>{plain(rendering)} ▌</p></div>"
    )


def chat_error(message: str) -> str:
    return f'<div class="rag-refusal rag-error" role="alert">⚠️ {esc(message)}</div>'


def needs_translation_hint(answer: Answer) -> bool:
    """An English question answered with Korean quotes and no translation."""
    return (
        not answer.refused
        and answer.mode == "extractive"
        and not answer.fallback_reason  # the LLM is on; its answer was not kept
        and answer.lang == "en"
        and any(_HANGUL.search(c.quote) for c in answer.citations)
    )


# ------------------------------------------------------------------ one answer


def answer_html(
    answer: Answer, documents: Mapping[str, Document], *, turn: int, hint: str = ""
) -> str:
    """The answer with clickable [n] footnotes and, under it, the sources they open.

    ``turn`` makes the anchor ids unique in the transcript (``cite-<turn>-<n>``).
    The answer's own language decides the words around it (sources, refusal hint).
    """
    lang = answer.lang
    if answer.refused:
        why = reason_of(answer)
        reason = f'<p class="rag-reason">{esc(why)}</p>' if why else ""
        return (
            f'<div class="rag-answer" lang="{esc(lang)}">'
            f'<div class="rag-refusal" role="status"><strong>⚠️ {esc(answer.text)}</strong>'
            f"{reason}<p>{esc(text('refusal_hint', lang))}</p></div>"
            f"{closest_html(answer, documents)}</div>"
        )
    known = {c.n for c in answer.citations}
    body = _with_footnotes(answer.text, known, turn=turn, title=text("passage", lang))
    note = (
        f'<p class="rag-note">{esc(answer.fallback_reason)}</p>' if answer.fallback_reason else ""
    )
    sources = "".join(_source_item(c, documents, turn=turn, lang=lang) for c in answer.citations)
    generated = answer.mode == "llm" and answer.rendering is None  # the model wrote the text
    mode = text("generated" if generated else "extractive", lang)
    hint_html = f'<p class="rag-hint">{esc(hint)}</p>' if hint else ""
    rendering = rendering_html(answer, known, turn=turn)
    listing = (
        f'<div class="rag-sources-title">{esc(text("sources", lang))} '
        f'<span class="rag-mode">({esc(mode)})</span></div><ol class="rag-sources">{sources}</ol>'
        if sources
        else ""
    )
    return (
        f'<div class="rag-answer" lang="{esc(lang)}"><p class="rag-text">{body}</p>'
        f"{rendering}{note}{listing}{hint_html}</div>"
    )


def closest_html(answer: Answer, documents: Mapping[str, Document], *, n: int = 2) -> str:
    """A refusal's nearest passages, folded and marked as not an answer, so the reader
    can see what the documents do say about the topic."""
    items = []
    for hit in answer.hits[:n]:
        chunk = hit.chunk
        doc = documents.get(chunk.doc_id)
        title = (doc.title if doc is not None and doc.title else "") or chunk.doc_id
        snippet = " ".join(chunk.text.split())
        if len(snippet) > CLOSEST_CHARS:
            snippet = snippet[:CLOSEST_CHARS].rstrip() + "…"
        items.append(
            f'<li class="rag-source"><cite>{esc(title)}</cite>'
            f'<blockquote class="rag-passage">{esc(snippet)}</blockquote></li>'
        )
    if not items:
        return ""
    return (
        f'<details class="rag-closest"><summary>{esc(text("closest", answer.lang))}</summary>'
        f'<ol class="rag-sources">{"".join(items)}</ol></details>'
    )


def rendering_html(answer: Answer, known: set[int], *, turn: int) -> str:
    """The LLM's rendering under the quote, labelled with the quotes it renders.

    Only a rendering that passed the check is shown; a withheld one leaves the note
    (``fallback_reason``) saying why.
    """
    r = answer.rendering
    if r is None or not r.shown:
        return ""
    refs = ", ".join(f"[{n}]" for n in r.sources)
    label = text("rendering_label", r.lang, refs=refs)
    body = _with_footnotes(r.text, known, turn=turn, title=text("passage", r.lang))
    return (
        f'<div class="rag-rendering" lang="{esc(r.lang)}">'
        f'<div class="rag-rendering-label">{esc(label)}</div><p>{body}</p></div>'
    )


def _with_footnotes(value: str, known: set[int], *, turn: int, title: str) -> str:
    out: list[str] = []
    pos = 0
    for m in _MARKER.finditer(value):
        out.append(esc(value[pos : m.start()]))
        n = int(m.group(1))
        if n in known:
            out.append(f'<a class="rag-fn" href="#cite-{turn}-{n}" title="{esc(title)}">[{n}]</a>')
        else:
            out.append(esc(m.group()))
        pos = m.end()
    out.append(esc(value[pos:]))
    return "".join(out)


def _source_item(c: Citation, documents: Mapping[str, Document], *, turn: int, lang: str) -> str:
    before, lead, quote, trail, after = passage_parts(c, documents)
    meta = [f"<cite>{esc(c.title or c.doc_id)}</cite>"]
    if c.location:  # page, slide, sheet range or heading path in the original
        meta.append(f'<span class="rag-loc">{esc(c.location)}</span>')
    if c.date:
        meta.append(f"<time>{esc(c.date)}</time>")
    if c.source:
        meta.append(source_link(c.source))
    sentence = f"{esc(lead)}<mark>{esc(quote)}</mark>{esc(trail)}"
    if lead or trail:
        sentence = f'<span class="rag-context">{sentence}</span>'
    where = f"{esc(c.doc_id)} · {esc(text('chars', lang))} {c.start}–{c.end}"
    return (
        f'<li id="cite-{turn}-{c.n}" class="rag-source"><details>'
        f'<summary><span class="rag-n">[{c.n}]</span> {" · ".join(meta)}</summary>'
        f'<blockquote class="rag-passage">{esc(before)}{sentence}{esc(after)}</blockquote>'
        f'<div class="rag-where">{where}</div></details></li>'
    )


def passage_parts(c: Citation, documents: Mapping[str, Document]) -> tuple[str, str, str, str, str]:
    """(before, lead, quote, trail, after) for showing a citation.

    ``lead + quote + trail`` is the sentence around the quote when the citation
    carries one (``context``), else ``lead`` and ``trail`` are empty. ``before`` and
    ``after`` are some of the document around it; if the document has been removed or
    changed since, only the citation's own text is shown.
    """
    lead, trail = _in_context(c)
    start, end = c.start - len(lead), c.end + len(trail)
    doc = documents.get(c.doc_id)
    if doc is None or doc.text[start:end] != lead + c.quote + trail:
        return "", tidy(lead), c.quote, tidy(trail), ""
    before, after = _around(doc.text, start, end)
    return before, tidy(lead), c.quote, tidy(trail), after


def _in_context(c: Citation) -> tuple[str, str]:
    """(lead, trail): the context sentence's text before and after the quote."""
    context = getattr(c, "context", "") or ""
    if not context:
        return "", ""
    at = c.start - getattr(c, "context_start", 0)
    if not (0 <= at and context[at : at + len(c.quote)] == c.quote):
        at = context.find(c.quote)
    if at < 0:
        return "", ""
    return context[:at], context[at + len(c.quote) :]


def _around(doc_text: str, start: int, end: int) -> tuple[str, str]:
    """Up to ``CONTEXT_CHARS`` before ``start`` and after ``end``, cut at a line or word."""
    lo, hi = max(0, start - CONTEXT_CHARS), min(len(doc_text), end + CONTEXT_CHARS)
    before, after = doc_text[lo:start], doc_text[end:hi]
    if lo > 0:
        cut = before.find("\n") + 1 or before.find(" ") + 1
        before = "…" + before[cut:]
    if hi < len(doc_text):
        cut = after.rfind("\n")
        cut = cut if cut > 0 else after.rfind(" ")
        after = (after[:cut] if cut > 0 else after) + "…"
    return tidy(before), tidy(after)
