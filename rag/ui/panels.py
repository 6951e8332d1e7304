"""The side panels as escaped HTML: retrieved passages with scores, documents, statuses.

Same rule as ``render``: every piece of text passes through ``esc``; ``lang`` is the
app's language (the switch or the browser's), not the question's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..chat import SearchPlan
from ..types import Answer, Document, Hit
from .render import esc, source_link, tidy
from .strings import text

SNIPPET_CHARS = 600  # of a retrieved passage


def retrieval_panel(plan: SearchPlan, answer: Answer | None, lang: str | None = "en") -> str:
    """ "Searched for: …" and the retrieved passages with fused, dense and BM25 scores."""
    parts = [
        f'<div class="rag-searched"><span class="rag-label">{esc(text("searched", lang))}</span> '
        f"<q>{esc(plan.query)}</q></div>"
    ]
    if plan.follow_up:
        parts.append(
            f'<div class="rag-followup">{esc(text("follow_up", lang, reason=plan.reason))} '
            f"<q>{esc(plan.base)}</q></div>"
        )
    if answer is None:
        return "".join(parts)
    cited = {(c.doc_id, c.start) for c in answer.citations}
    rows = "".join(_hit_row(rank, hit, cited, lang) for rank, hit in enumerate(answer.hits, 1))
    if not rows:
        rows = f'<tr><td colspan="5">{esc(text("no_passages", lang))}</td></tr>'
    parts.append(
        f'<table class="rag-hits"><thead><tr><th>#</th><th>{esc(text("passage_col", lang))}</th>'
        f'<th title="{esc(text("fused_title", lang))}">fused</th>'
        f'<th title="{esc(text("dense_title", lang))}">dense</th><th>BM25</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )
    return "".join(parts)


def _hit_row(rank: int, hit: Hit, cited: set[tuple[str, int]], lang: str | None) -> str:
    chunk = hit.chunk
    is_cited = any(d == chunk.doc_id and chunk.start <= s < chunk.end for d, s in cited)
    snippet = tidy(chunk.text)
    snippet = snippet if len(snippet) <= SNIPPET_CHARS else snippet[:SNIPPET_CHARS] + "…"
    badge = f' <span class="rag-cited">{esc(text("cited", lang))}</span>' if is_cited else ""
    return (
        f'<tr class="{"is-cited" if is_cited else ""}"><td>{rank}</td><td><details>'
        f"<summary>{esc(chunk.title or chunk.doc_id)}{badge}"
        f'<span class="rag-where"> {esc(chunk.chunk_id)}</span></summary>'
        f'<div class="rag-passage">{esc(snippet)}</div></details></td>'
        f"<td>{hit.score:.4f}</td><td>{_num(hit.dense_score, 3)}</td>"
        f"<td>{_num(hit.bm25_score, 2)}</td></tr>"
    )


def _num(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def documents_table(
    documents: Iterable[Document], chunk_counts: Mapping[str, int], lang: str | None = "en"
) -> str:
    """The indexed documents: title, date, doc_id, chunks, source."""
    rows = "".join(
        f"<tr><td>{esc(d.title or '—')}</td><td>{esc(d.date or '—')}</td>"
        f"<td><code>{esc(d.doc_id)}</code></td><td>{chunk_counts.get(d.doc_id, 0)}</td>"
        f"<td>{source_link(d.source) if d.source else '—'}</td></tr>"
        for d in documents
    )
    if not rows:
        rows = f'<tr><td colspan="5">{esc(text("no_docs", lang))}</td></tr>'
    head = "".join(f"<th>{esc(name)}</th>" for name in text("doc_cols", lang))
    return f'<table class="rag-docs"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def status(lines: Iterable[tuple[bool, str]]) -> str:
    """Upload/remove results, one line each: (ok, message)."""
    items = "".join(
        f'<li class="{"rag-ok" if ok else "rag-bad"}">{"✓" if ok else "✗"} {esc(msg)}</li>'
        for ok, msg in lines
    )
    return f'<ul class="rag-status">{items}</ul>' if items else ""


def notice(message: str, *, kind: str = "info") -> str:
    return f'<div class="rag-notice rag-{esc(kind)}">{esc(message)}</div>'
