"""The app's event handlers, on ``ChatApp`` so tests can call them with a real ``QA``.

No per-session data lives here: each browser session keeps its turns and its
language in ``gr.State``; the index is shared and ``QA`` swaps snapshots atomically,
so questions keep being answered while an upload is indexed. Only ``RagError`` (and
``OSError`` for the upload's temporary file) are expected; anything else is a bug,
logged and reported without a traceback. Pages added by URL are fetched with the
same size limit as uploads.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from .. import loaders
from ..chat import Turn, add_turn, respond
from ..errors import DocumentNotFoundError, RagError
from . import panels, render
from .strings import example, lang_or_default, plural, text

log = logging.getLogger(__name__)

MB = 1_000_000  # the loaders count bytes in decimal megabytes, and so does the app
DEFAULT_MAX_FILE_MB = loaders.MAX_BYTES / MB
_WEB = re.compile(r"https?://\S", re.IGNORECASE)  # the loader checks the rest


def upload_types() -> list[str]:
    """The extensions the file picker offers: exactly what the loaders read."""
    return list(loaders.SUPPORTED)


class ChatApp:
    """The app's handlers over one shared ``QA``."""

    def __init__(
        self,
        qa,
        *,
        pace: float = 0.02,
        max_file_mb: float = DEFAULT_MAX_FILE_MB,
        llm: tuple[bool, str] | None = None,
    ):
        from .llm_status import llm_status

        self.qa = qa
        self.pace = pace
        self.max_file_bytes = int(max_file_mb * MB)  # one limit for the picker and the loader
        self.llm_ok, self.llm_why = llm if llm is not None else llm_status()

    # ------------------------------------------------------------ chat

    def ask(
        self,
        question: str,
        history: Sequence[Turn] | None,
        answerer: str | None = None,
        lang: str | None = "en",
    ) -> Iterator[tuple]:
        """Stream (chat, history, retrieval panel, question box); ``lang`` is the UI's."""
        history = tuple(history or ())
        question = (question or "").strip()
        if not question:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        mode = answerer if answerer == "llm" and self.llm_ok else "extractive"
        pending = [*self._transcript(history), _bubble("user", render.plain(question))]
        try:
            for reply in respond(self.qa, question, history, answerer=mode, pace=self.pace):
                yield self._step(reply, history, pending, question, lang)
        except Exception:  # a bug: log it, never show a traceback
            log.exception("answering %r failed", question)
            bubble = _bubble("assistant", render.chat_error(text("failed", lang)))
            yield [*pending, bubble], history, "", question

    def _step(self, reply, history, pending: list[dict], question: str, lang) -> tuple:
        """The outputs for one streamed reply; ``pending`` ends with the question's bubble."""
        if reply.turn is not None:
            turns = add_turn(history, reply.turn)
            panel = panels.retrieval_panel(reply.plan, reply.answer, lang)
            return self._transcript(turns), turns, panel, ""
        panel = panels.retrieval_panel(reply.plan, None, lang)
        if reply.error:
            message = f"{text('could_not_answer', lang)}: {reply.error}"
            return (
                [*pending, _bubble("assistant", render.chat_error(message))],
                history,
                panel,
                question,
            )
        partial = render.chat_partial(reply.text, reply.plan, lang, reply.rendering)
        bubble = _bubble("assistant", partial)
        return [*pending, bubble], gr.skip(), gr.skip() if reply.text else panel, ""

    def ask_example(
        self, i: int, history: Sequence[Turn] | None, answerer: str | None, lang: str | None
    ) -> Iterator[tuple]:
        """Ask the ``i``-th example as the button shows it in ``lang``."""
        yield from self.ask(example(i, lang), history, answerer, lang)

    def clear(self) -> tuple:
        """(chat, history, retrieval panel) for a fresh conversation."""
        return [], (), ""

    def _transcript(self, turns: Sequence[Turn]) -> list[dict]:
        return render.chat_messages(turns, self.qa.data.documents, llm_ok=self.llm_ok)

    # ------------------------------------------------------------ documents

    def open_page(self, lang: str | None) -> tuple:
        """(switch, session language, documents table, remove dropdown) for a new page.

        ``lang`` is the browser's language, read by the page's script.
        """
        lang = lang_or_default(lang)
        return (lang, lang, *self.documents_view(lang))

    def set_language(self, lang: str | None) -> tuple[str, str]:
        """(session language, documents table in it) after the language switch."""
        lang = lang_or_default(lang)
        return lang, self.documents_view(lang)[0]

    def documents_view(self, lang: str | None = "en") -> tuple[str, Any]:
        """(documents table, remove-dropdown update) from the live index."""
        data = self.qa.data
        counts = Counter(c.doc_id for c in data.chunks)
        docs = sorted(data.documents.values(), key=lambda d: d.doc_id)
        choices = [(f"{d.title or d.doc_id} ({d.doc_id})", d.doc_id) for d in docs]
        table = panels.documents_table(docs, counts, lang)
        return table, gr.update(choices=choices, value=None)

    def upload(
        self,
        files: list[str] | str | None,
        lang: str | None = "en",
        progress=gr.Progress(),  # noqa: B008
    ) -> tuple:
        """Index uploaded files one by one; a bad file is reported and skipped.

        Returns (status, documents table, remove dropdown, cleared file input).
        """
        paths = [files] if isinstance(files, str) else list(files or [])
        lines: list[tuple[bool, str]] = []
        for i, path in enumerate(paths):
            name = Path(path).name
            progress((i, len(paths)), desc=text("indexing", lang, name=name), unit="files")
            lines.append(self._index_one(Path(path), name, lang))
        if paths:
            progress((len(paths), len(paths)), desc=text("done", lang), unit="files")
        table, dropdown = self.documents_view(lang)
        return panels.status(lines), table, dropdown, None

    def _index_one(self, path: Path, name: str, lang: str | None) -> tuple[bool, str]:
        try:
            size = path.stat().st_size
            if size > self.max_file_bytes:
                limit = self.max_file_bytes / MB
                return False, text("too_big", lang, name=name, size=size / MB, limit=limit)
            doc = loaders.load_bytes(
                path.read_bytes(), filename=name, max_bytes=self.max_file_bytes
            )
            report = self.qa.add_documents([doc])
        except (RagError, OSError) as exc:
            log.info("upload of %s rejected: %s", name, exc)
            return False, f"{name}: {exc}"
        except Exception:
            log.exception("indexing %s failed", name)
            return False, text("bug", lang, name=name)
        return True, self._added(report, name, lang)

    def _added(self, report, name: str, lang: str | None) -> str:
        """The status line for an ``add_documents`` report: added, updated or unchanged."""
        doc_ids = report.added + report.updated + report.unchanged
        counts = Counter(c.doc_id for c in self.qa.data.chunks)
        verb = "added" if report.added else "updated" if report.updated else "unchanged"
        where = ", ".join(f"{d} ({plural('chunks', counts.get(d, 0), lang)})" for d in doc_ids)
        return text(verb, lang, name=name, where=where)

    def add_url(self, url: str | None, lang: str | None = "en") -> tuple:
        """Fetch one web page and index it, with the upload limit.

        Returns (status, documents table, remove dropdown, URL box): the box is
        cleared when the page was indexed and keeps the address otherwise.
        """
        url = (url or "").strip()
        ok, line = self._index_url(url, lang)
        table, dropdown = self.documents_view(lang)
        return panels.status([(ok, line)]), table, dropdown, "" if ok else url

    def _index_url(self, url: str, lang: str | None) -> tuple[bool, str]:
        if not _WEB.match(url):
            return False, text("not_a_url", lang, url=url or "—")
        try:
            doc = loaders.load_url(url, max_bytes=self.max_file_bytes)
            report = self.qa.add_documents([doc])
        except RagError as exc:
            log.info("adding %s rejected: %s", url, exc)
            return False, str(exc)
        except Exception:
            log.exception("indexing %s failed", url)
            return False, text("bug", lang, name=url)
        return True, self._added(report, url, lang)

    def remove(self, doc_id: str | None, lang: str | None = "en") -> tuple:
        """Remove one document; returns (status, documents table, remove dropdown)."""
        if not doc_id:
            table, dropdown = self.documents_view(lang)
            return panels.status([(False, text("choose_first", lang))]), table, dropdown
        try:
            self.qa.remove([doc_id])
            line = (True, text("removed", lang, doc_id=doc_id))
        except RagError as exc:
            missing = isinstance(exc, DocumentNotFoundError)
            key = "not_in_index" if missing else "cannot_remove"
            line = (False, text(key, lang, doc_id=doc_id, error=exc))
        table, dropdown = self.documents_view(lang)
        return panels.status([line]), table, dropdown


def _bubble(role: str, content: str) -> dict:
    return {"role": role, "content": content}
