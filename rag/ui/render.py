"""HTML and Markdown for the chat app, built by hand with every piece of text escaped.

``gr.HTML`` inserts its value with ``innerHTML`` and sanitises nothing, so this
module is the only guard: document text, titles, dates, sources, file names,
questions and error messages all pass through ``esc`` (or ``plain``), and the only
markup on the page is the fixed set written here (<mark>, <a href="#cite-…">,
<details>, <table>). Links to a document's source are emitted only for http(s).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence

from ..chat import SearchPlan, Turn
from ..types import Answer, Citation, Document, Hit

CONTEXT_CHARS = 240  # shown around a cited sentence
SNIPPET_CHARS = 600  # of a retrieved passage in the side panel
_MARKER = re.compile(r"\[(\d+)\]")
_BLANK_LINES = re.compile(r"[ \t]*\n\s*")
_URL = re.compile(r"^https?://[^\s\"'<>]+$", re.IGNORECASE)

LABELS = {
    "en": {
        "sources": "Sources",
        "searched": "Searched for",
        "refusal_hint": "Nothing in the indexed documents answers this. "
        "Try other words, or upload a document that covers it.",
        "chars": "chars",
        "passage": "Open the cited passage",
    },
    "ko": {
        "sources": "출처",
        "searched": "검색어",
        "refusal_hint": "색인된 문서에 답이 없습니다. "
        "다른 표현으로 묻거나 관련 문서를 올려 보세요.",
        "chars": "글자",
        "passage": "인용 구절 열기",
    },
}


def esc(text: object) -> str:
    """HTML-escape anything, quotes included (safe in text and attribute values)."""
    return html.escape(str(text), quote=True)


def plain(text: str) -> str:
    """Text for a chat bubble: the Chatbot renders HTML (no Markdown), so only escape.

    Ordinary text comes out unchanged, so the bubble's copy button copies clean text.
    """
    return html.escape(text, quote=False)


# ------------------------------------------------------------------ chatbot


def chat_user(question: str) -> str:
    return plain(question)


def chat_answer(answer: Answer) -> str:
    """The assistant's chat bubble: the text with [n] markers and a sources line."""
    labels = LABELS.get(answer.lang, LABELS["en"])
    if answer.refused:
        return f"⚠️ {plain(answer.text)}\n{plain(labels['refusal_hint'])}"
    parts = [plain(answer.text)]
    if answer.citations:
        groups: dict[str, list[int]] = {}
        for c in answer.citations:
            groups.setdefault(_short_source(c), []).append(c.n)
        refs = "; ".join("".join(f"[{n}]" for n in ns) + f" {src}" for src, ns in groups.items())
        parts.append(plain(f"{labels['sources']}: {refs}"))
    if answer.fallback_reason:
        parts.append(plain(answer.fallback_reason))
    return "\n\n".join(parts)


def chat_partial(text: str, plan: SearchPlan) -> str:
    """A bubble while the answer is being searched for or streamed."""
    if not text:
        return plain(f"🔎 Searching for: {plan.query}")
    return plain(text) + " ▌"


def chat_error(message: str) -> str:
    return f"⚠️ {plain(message)}"


def chat_messages(turns: Sequence[Turn]) -> list[dict]:
    """The whole transcript in Gradio's messages format."""
    out: list[dict] = []
    for turn in turns:
        out.append({"role": "user", "content": chat_user(turn.question)})
        out.append({"role": "assistant", "content": chat_answer(turn.answer)})
    return out


def _short_source(c: Citation) -> str:
    return " · ".join(x for x in (c.title or c.doc_id, c.date) if x)


# ------------------------------------------------------------------ answer card


def answer_card(answer: Answer, documents: Mapping[str, Document], *, turn: int) -> str:
    """The answer with clickable [n] footnotes, each opening its highlighted passage.

    ``turn`` makes the anchor ids unique (``cite-<turn>-<n>``).
    """
    lang = answer.lang
    labels = LABELS.get(lang, LABELS["en"])
    question = f'<div class="rag-question">{esc(answer.question)}</div>'
    if answer.refused:
        return (
            f'<div class="rag-answer" lang="{lang}">{question}'
            f'<div class="rag-refusal" role="status"><strong>⚠️ {esc(answer.text)}</strong>'
            f"<p>{esc(labels['refusal_hint'])}</p></div></div>"
        )
    known = {c.n for c in answer.citations}
    body = _with_footnotes(answer.text, known, turn=turn, title=labels["passage"])
    sources = "".join(
        _source_item(c, documents, answer.hits, turn=turn, lang=lang) for c in answer.citations
    )
    note = (
        f'<p class="rag-note">{esc(answer.fallback_reason)}</p>' if answer.fallback_reason else ""
    )
    mode = "generated" if answer.mode == "llm" else "extractive"
    return (
        f'<div class="rag-answer" lang="{lang}">{question}'
        f'<p class="rag-text">{body}</p>{note}'
        f'<div class="rag-sources-title">{esc(labels["sources"])} '
        f'<span class="rag-mode">({mode})</span></div>'
        f'<ol class="rag-sources">{sources}</ol></div>'
    )


def _with_footnotes(text: str, known: set[int], *, turn: int, title: str) -> str:
    out: list[str] = []
    pos = 0
    for m in _MARKER.finditer(text):
        out.append(esc(text[pos : m.start()]))
        n = int(m.group(1))
        if n in known:
            anchor = f"cite-{turn}-{n}"
            out.append(
                f'<a class="rag-fn" href="#{anchor}" data-cite="{anchor}" '
                f'title="{esc(title)}">[{n}]</a>'
            )
        else:
            out.append(esc(m.group()))
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def _source_item(
    c: Citation, documents: Mapping[str, Document], hits: Sequence[Hit], *, turn: int, lang: str
) -> str:
    before, quote, after = cited_passage(c, documents)
    meta = [esc(c.title or c.doc_id)]
    if c.date:
        meta.append(f"<time>{esc(c.date)}</time>")
    if c.source:
        meta.append(_source_link(c.source))
    chars = LABELS.get(lang, LABELS["en"])["chars"]
    where = f"{esc(c.doc_id)} · {chars} {c.start}–{c.end}"
    return (
        f'<li id="cite-{turn}-{c.n}" class="rag-source"><details>'
        f'<summary><span class="rag-n">[{c.n}]</span> {" · ".join(meta)}</summary>'
        f'<blockquote class="rag-passage">{esc(before)}<mark>{esc(quote)}</mark>{esc(after)}'
        f'</blockquote><div class="rag-where">{where}</div></details></li>'
    )


def cited_passage(c: Citation, documents: Mapping[str, Document]) -> tuple[str, str, str]:
    """(before, quote, after): the cited sentence with some context from its document.

    If the document has since been removed or changed, only the stored quote is shown.
    """
    doc = documents.get(c.doc_id)
    if doc is None or doc.text[c.start : c.end] != c.quote:
        return "", c.quote, ""
    start = max(0, c.start - CONTEXT_CHARS)
    end = min(len(doc.text), c.end + CONTEXT_CHARS)
    before, after = doc.text[start : c.start], doc.text[c.end : end]
    if start > 0:  # begin at a line or word boundary
        cut = max(before.find("\n") + 1, 0) or before.find(" ") + 1
        before = "…" + before[cut:]
    if end < len(doc.text):
        cut = after.rfind("\n")
        cut = cut if cut > 0 else after.rfind(" ")
        after = (after[:cut] if cut > 0 else after) + "…"
    return _tidy(before), c.quote, _tidy(after)


def _tidy(text: str) -> str:
    """Blank-line runs of scraped pages shown as one line break."""
    return _BLANK_LINES.sub("\n", text)


def _source_link(source: str) -> str:
    if _URL.match(source):
        return (
            f'<a href="{esc(source)}" target="_blank" rel="noopener noreferrer nofollow">'
            f"{esc(source)}</a>"
        )
    return f'<span class="rag-src">{esc(source)}</span>'


# ------------------------------------------------------------------ retrieval panel


def retrieval_panel(plan: SearchPlan, answer: Answer | None) -> str:
    """ "Searched for: …" and the retrieved passages with fused, dense and BM25 scores."""
    parts = [
        f'<div class="rag-searched"><span class="rag-label">Searched for:</span> '
        f"<q>{esc(plan.query)}</q></div>"
    ]
    if plan.follow_up:
        parts.append(
            f'<div class="rag-followup">Follow-up ({esc(plan.reason)}): searched together '
            f"with the earlier question <q>{esc(plan.base)}</q></div>"
        )
    if answer is None:
        return "".join(parts)
    cited = {(c.doc_id, c.start) for c in answer.citations}
    rows = "".join(_hit_row(rank, hit, cited) for rank, hit in enumerate(answer.hits, 1))
    if not rows:
        rows = '<tr><td colspan="5">No passages (the index is empty).</td></tr>'
    parts.append(
        '<table class="rag-hits"><thead><tr><th>#</th><th>Passage</th>'
        '<th title="reciprocal-rank fusion of dense and BM25">fused</th>'
        '<th title="cosine similarity">dense</th><th>BM25</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )
    return "".join(parts)


def _hit_row(rank: int, hit: Hit, cited: set[tuple[str, int]]) -> str:
    chunk = hit.chunk
    is_cited = any(d == chunk.doc_id and chunk.start <= s < chunk.end for d, s in cited)
    text = _tidy(chunk.text)
    text = text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS] + "…"
    badge = ' <span class="rag-cited">cited</span>' if is_cited else ""
    return (
        f'<tr class="{"is-cited" if is_cited else ""}"><td>{rank}</td><td><details>'
        f"<summary>{esc(chunk.title or chunk.doc_id)}{badge}"
        f'<span class="rag-where"> {esc(chunk.chunk_id)}</span></summary>'
        f'<div class="rag-passage">{esc(text)}</div></details></td>'
        f"<td>{hit.score:.4f}</td><td>{_num(hit.dense_score, 3)}</td>"
        f"<td>{_num(hit.bm25_score, 2)}</td></tr>"
    )


def _num(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


# ------------------------------------------------------------------ documents


def documents_table(documents: Iterable[Document], chunk_counts: Mapping[str, int]) -> str:
    """The indexed documents: title, date, doc_id, chunks, source."""
    rows = "".join(
        f"<tr><td>{esc(d.title or '—')}</td><td>{esc(d.date or '—')}</td>"
        f"<td><code>{esc(d.doc_id)}</code></td><td>{chunk_counts.get(d.doc_id, 0)}</td>"
        f"<td>{_source_link(d.source) if d.source else '—'}</td></tr>"
        for d in documents
    )
    if not rows:
        rows = '<tr><td colspan="5">No documents yet — upload some.</td></tr>'
    return (
        '<table class="rag-docs"><thead><tr><th>Title</th><th>Date</th><th>doc_id</th>'
        f"<th>Chunks</th><th>Source</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def status(lines: Iterable[tuple[bool, str]]) -> str:
    """Upload/remove results, one line each: (ok, message)."""
    items = "".join(
        f'<li class="{"rag-ok" if ok else "rag-bad"}">{"✓" if ok else "✗"} {esc(msg)}</li>'
        for ok, msg in lines
    )
    return f'<ul class="rag-status">{items}</ul>' if items else ""


def notice(message: str, *, kind: str = "info") -> str:
    return f'<div class="rag-notice rag-{esc(kind)}">{esc(message)}</div>'
