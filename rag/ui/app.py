"""The Gradio chat app: ``build_app(qa)`` returns a ``gr.Blocks`` without serving it.

Handlers live on ``ChatApp`` so tests can call them directly with a real ``QA``.
Each browser session keeps its own turns in ``gr.State``; the index is shared and
``QA`` swaps snapshots atomically, so questions keep being answered while an
upload is indexed. Everything shown as HTML comes from ``rag.ui.render``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from ..chat import Turn, add_turn, respond
from ..errors import DocumentError, RagError
from . import render

log = logging.getLogger(__name__)

EXAMPLES = (
    "Which companies signed the pledge?",
    "REAIM 회의는 어느 도시에서 개최되었나요?",
    "서울 AI 기업 서약에 참여한 국내 기업은?",
    "Who attended the AI Global Forum?",
)
UPLOAD_TYPES = [".txt", ".md", ".markdown", ".html", ".htm", ".pdf"]
DEFAULT_MAX_FILE_MB = 20

# Opens the cited passage when its [n] is clicked; the page needs no other script.
FOOTNOTE_JS = """
element.addEventListener('click', (event) => {
  const link = event.target.closest('a.rag-fn');
  if (!link) return;
  event.preventDefault();
  const item = element.querySelector('#' + CSS.escape(link.dataset.cite));
  if (!item) return;
  element.querySelectorAll('.rag-source.is-target').forEach((x) => x.classList.remove('is-target'));
  item.classList.add('is-target');
  const details = item.querySelector('details');
  if (details) details.open = true;
  item.scrollIntoView({block: 'nearest', behavior: 'smooth'});
});
"""

CSS = """
#rag-header h1 { margin-bottom: 0; }
#rag-header p { margin-top: 4px; color: var(--body-text-color-subdued); }
#rag-chat .message-content { white-space: pre-line; }
.rag-examples button { font-size: 13px !important; }
.rag-answer { font-size: 15px; line-height: 1.6; }
.rag-question { font-weight: 600; margin-bottom: 6px; color: var(--body-text-color-subdued); }
.rag-text { white-space: pre-wrap; margin: 0 0 10px 0; }
a.rag-fn { text-decoration: none; font-weight: 700; color: var(--color-accent);
  padding: 0 2px; border-radius: 4px; cursor: pointer; }
a.rag-fn:hover, a.rag-fn:focus { background: var(--color-accent-soft); }
.rag-sources-title { font-weight: 600; margin-top: 8px; }
.rag-mode { font-weight: 400; color: var(--body-text-color-subdued); font-size: 13px; }
ol.rag-sources { list-style: none; padding-left: 0; margin: 4px 0; }
li.rag-source { border: 1px solid var(--border-color-primary); border-radius: 8px;
  margin: 6px 0; padding: 6px 10px; }
li.rag-source.is-target { border-color: var(--color-accent);
  box-shadow: 0 0 0 2px var(--color-accent-soft); }
li.rag-source summary { cursor: pointer; }
.rag-n { font-weight: 700; color: var(--color-accent); }
.rag-passage { white-space: pre-wrap; margin: 8px 0; padding: 8px 12px; font-size: 14px;
  border-left: 3px solid var(--color-accent); background: var(--background-fill-secondary); }
.rag-passage mark { background: #fde68a; color: #111; padding: 1px 2px; border-radius: 2px; }
.rag-where { color: var(--body-text-color-subdued); font-size: 12px; }
.rag-refusal { border: 1px solid #f59e0b; background: #fffbeb; color: #7c2d12;
  border-radius: 8px; padding: 10px 14px; }
.rag-refusal p { margin: 4px 0 0 0; }
.rag-note, .rag-followup { color: var(--body-text-color-subdued); font-size: 13px; }
.rag-searched { margin-bottom: 4px; }
.rag-label { font-weight: 600; }
table.rag-hits, table.rag-docs { width: 100%; font-size: 13px; border-collapse: collapse; }
table.rag-hits th, table.rag-hits td, table.rag-docs th, table.rag-docs td {
  border-bottom: 1px solid var(--border-color-primary); padding: 4px 6px;
  vertical-align: top; text-align: left; }
table.rag-docs { table-layout: fixed; }
table.rag-docs td, table.rag-docs th, table.rag-hits td:nth-child(2) { overflow-wrap: anywhere; }
table.rag-docs th:nth-child(1) { width: 34%; } table.rag-docs th:nth-child(2) { width: 15%; }
table.rag-docs th:nth-child(3) { width: 24%; } table.rag-docs th:nth-child(4) { width: 10%; }
table.rag-hits td:nth-child(n+3) { font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.is-cited td:first-child { border-left: 3px solid var(--color-accent); }
.rag-cited { font-size: 11px; background: var(--color-accent-soft); border-radius: 4px;
  padding: 0 4px; margin-left: 4px; }
ul.rag-status { list-style: none; padding-left: 0; margin: 4px 0; font-size: 14px; }
.rag-ok { color: #166534; } .rag-bad { color: #b91c1c; }
.rag-notice { border-radius: 8px; padding: 8px 12px; background: var(--background-fill-secondary); }
.rag-notice.rag-error { border: 1px solid #fca5a5; color: #b91c1c; }
.rag-placeholder { color: var(--body-text-color-subdued); }
"""


def theme() -> gr.themes.Base:
    """System fonts only: the page must not fetch fonts from the internet."""
    return gr.themes.Soft(
        font=["system-ui", "Apple SD Gothic Neo", "Noto Sans KR", "NanumGothic", "sans-serif"],
        font_mono=["ui-monospace", "monospace"],
    )


def launch_options(*, max_file_mb: float = DEFAULT_MAX_FILE_MB) -> dict[str, Any]:
    """Keyword arguments for ``demo.launch`` that belong to the app, not the host."""
    return {
        "css": CSS,
        "theme": theme(),
        "max_file_size": int(max_file_mb * 1024 * 1024),  # bytes
        "show_error": False,
        "ssr_mode": False,
    }


def llm_status() -> tuple[bool, str]:
    """(available, why not): the generated-answer mode needs ``rag.llm`` and its model."""
    try:
        from .. import llm
    except ImportError:
        return False, "the optional local LLM is not installed (`make llm`)"
    except Exception as exc:  # a broken optional extra must not stop the app
        log.warning("rag.llm failed to import: %s", exc)
        return False, f"the local LLM failed to load ({type(exc).__name__})"
    if not hasattr(llm, "answer_with_llm"):  # what QA.ask(answerer="llm") calls
        return False, "the local LLM answerer is not installed (`make llm`)"
    check = getattr(llm, "is_available", None)
    if check is None:
        return True, ""
    try:
        result = check()
    except Exception as exc:
        return False, f"the local LLM is unavailable ({exc})"
    if result:
        return True, ""
    reason = getattr(llm, "unavailable_reason", None)
    why = ""
    if reason is not None:
        from ..config import Settings

        why = reason(Settings.from_env()) or ""
    return False, why or "the local LLM or its model is missing (`make llm`)"


class ChatApp:
    """The app's handlers over one shared ``QA``; no per-session data lives here."""

    def __init__(
        self,
        qa,
        *,
        pace: float = 0.02,
        max_file_mb: float = DEFAULT_MAX_FILE_MB,
        llm: tuple[bool, str] | None = None,
    ):
        self.qa = qa
        self.pace = pace
        self.max_file_bytes = int(max_file_mb * 1024 * 1024)
        self.llm_ok, self.llm_why = llm if llm is not None else llm_status()

    # ------------------------------------------------------------ chat

    def ask(
        self, question: str, history: Sequence[Turn] | None, answerer: str | None = None
    ) -> Iterator[tuple]:
        """Stream (chat, history, answer card, retrieval panel, question box)."""
        history = tuple(history or ())
        question = (question or "").strip()
        if not question:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        mode = answerer if answerer == "llm" and self.llm_ok else "extractive"
        transcript = render.chat_messages(history)
        user = {"role": "user", "content": render.chat_user(question)}
        try:
            for reply in respond(self.qa, question, history, answerer=mode, pace=self.pace):
                if reply.error:
                    bubble = {"role": "assistant", "content": render.chat_error(reply.error)}
                    yield (
                        [*transcript, user, bubble],
                        history,
                        render.notice(reply.error, kind="error"),
                        render.retrieval_panel(reply.plan, None),
                        question,
                    )
                elif reply.turn is not None:
                    turns = add_turn(history, reply.turn)
                    yield (
                        render.chat_messages(turns),
                        turns,
                        render.answer_card(reply.answer, self.qa.data.documents, turn=len(turns)),
                        render.retrieval_panel(reply.plan, reply.answer),
                        "",
                    )
                else:
                    bubble = {
                        "role": "assistant",
                        "content": render.chat_partial(reply.text, reply.plan),
                    }
                    panel = (
                        render.retrieval_panel(reply.plan, None) if not reply.text else gr.skip()
                    )
                    yield [*transcript, user, bubble], gr.skip(), gr.skip(), panel, ""
        except Exception:  # a bug: log it, never show a traceback
            log.exception("answering %r failed", question)
            message = "Something went wrong while answering; the server log has the details."
            bubble = {"role": "assistant", "content": render.chat_error(message)}
            yield (
                [*transcript, user, bubble],
                history,
                render.notice(message, kind="error"),
                "",
                question,
            )

    def clear(self) -> tuple:
        """(chat, history, answer card, retrieval panel) for a fresh conversation."""
        return [], (), render.notice(PLACEHOLDER), ""

    # ------------------------------------------------------------ documents

    def documents_view(self) -> tuple[str, Any]:
        """(documents table, remove-dropdown update) from the live index."""
        data = self.qa.data
        counts = Counter(c.doc_id for c in data.chunks)
        docs = sorted(data.documents.values(), key=lambda d: d.doc_id)
        choices = [(f"{d.title or d.doc_id} ({d.doc_id})", d.doc_id) for d in docs]
        return render.documents_table(docs, counts), gr.update(choices=choices, value=None)

    def upload(self, files: list[str] | str | None, progress=gr.Progress()) -> tuple:  # noqa: B008
        """Index uploaded files one by one; a bad file is reported and skipped.

        Returns (status, documents table, remove dropdown, cleared file input).
        """
        paths = [files] if isinstance(files, str) else list(files or [])
        lines: list[tuple[bool, str]] = []
        for i, path in enumerate(paths):
            name = Path(path).name
            progress((i, len(paths)), desc=f"Indexing {name}", unit="files")
            lines.append(self._index_one(Path(path), name))
        if paths:
            progress((len(paths), len(paths)), desc="Done", unit="files")
        table, dropdown = self.documents_view()
        return render.status(lines), table, dropdown, None

    def _index_one(self, path: Path, name: str) -> tuple[bool, str]:
        try:
            size = path.stat().st_size
            if size > self.max_file_bytes:
                limit = self.max_file_bytes / (1024 * 1024)
                return False, f"{name}: {size / 1048576:.1f} MB is over the {limit:g} MB limit."
            report = self.qa.add_bytes(path.read_bytes(), filename=name)
        except (DocumentError, RagError, OSError) as exc:
            log.info("upload of %s rejected: %s", name, exc)
            return False, f"{name}: {exc}"
        except Exception:
            log.exception("indexing %s failed", name)
            return False, f"{name}: could not be indexed (a bug; the server log has the details)."
        doc_ids = report.added + report.updated + report.unchanged
        counts = Counter(c.doc_id for c in self.qa.data.chunks)
        verb = "added" if report.added else "updated" if report.updated else "unchanged"
        where = ", ".join(f"{d} ({_plural(counts.get(d, 0), 'chunk')})" for d in doc_ids)
        return True, f"{name}: {verb} as {where}."

    def remove(self, doc_id: str | None) -> tuple:
        """Remove one document; returns (status, documents table, remove dropdown)."""
        if not doc_id:
            table, dropdown = self.documents_view()
            return render.status([(False, "Choose a document to remove first.")]), table, dropdown
        try:
            self.qa.remove([doc_id])
            line = (True, f"Removed {doc_id}.")
        except KeyError:
            line = (False, f"{doc_id} is not in the index (already removed?).")
        except RagError as exc:
            line = (False, f"Could not remove {doc_id}: {exc}")
        table, dropdown = self.documents_view()
        return render.status([line]), table, dropdown


PLACEHOLDER = "The answer appears here; click a [n] marker to open the cited passage."


def build_app(
    qa,
    *,
    title: str = "Ask the documents",
    examples: Sequence[str] = EXAMPLES,
    pace: float = 0.02,
    max_file_mb: float = DEFAULT_MAX_FILE_MB,
    llm: tuple[bool, str] | None = None,
) -> gr.Blocks:
    """The app over ``qa``; call ``.queue().launch(**launch_options())`` to serve it."""
    app = ChatApp(qa, pace=pace, max_file_mb=max_file_mb, llm=llm)
    with gr.Blocks(title=title, analytics_enabled=False, fill_width=True) as demo:
        history = gr.State(())
        gr.Markdown(
            f"# {title}\nAsk in English or 한국어. Answers quote the indexed documents; "
            "click a **[n]** to open the cited passage. Follow-up questions "
            "(“And which of them are Korean?”) use the previous question.",
            elem_id="rag-header",
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chatbot = gr.Chatbot(
                    label="Conversation",
                    height=440,
                    elem_id="rag-chat",
                    latex_delimiters=[],
                    render_markdown=False,  # bubbles are escaped text, see render.plain
                    sanitize_html=True,
                    feedback_options=None,
                    buttons=["copy", "copy_all"],
                    placeholder="Ask a question about the documents, or pick an example below.",
                )
                with gr.Row():
                    question = gr.Textbox(
                        show_label=False,
                        placeholder="Ask about the documents — English or 한국어",
                        scale=5,
                        max_lines=4,
                        autofocus=True,
                        elem_id="rag-question",
                    )
                    ask_btn = gr.Button("Ask", variant="primary", scale=1, elem_id="rag-ask")
                    clear_btn = gr.Button("New chat", scale=1, elem_id="rag-clear")
                with gr.Row(elem_classes="rag-examples"):
                    example_btns = [
                        gr.Button(text, size="sm", variant="secondary") for text in examples
                    ]
                card = gr.HTML(
                    render.notice(PLACEHOLDER),
                    elem_id="rag-answer-card",
                    js_on_load=FOOTNOTE_JS,
                    padding=True,
                )
            with gr.Column(scale=2, min_width=360):
                answerer = _answerer_control(app)
                with gr.Accordion("Retrieved passages", open=True):
                    retrieval = gr.HTML("", elem_id="rag-retrieval", js_on_load=None)
                with gr.Accordion("Documents", open=True):
                    files = gr.File(
                        file_count="multiple",
                        file_types=UPLOAD_TYPES,
                        label=f"Upload txt, md, html or pdf (up to {max_file_mb:g} MB each)",
                        elem_id="rag-upload",
                        height=120,
                    )
                    upload_status = gr.HTML("", elem_id="rag-upload-status", js_on_load=None)
                    docs = gr.HTML("", elem_id="rag-docs", js_on_load=None)
                    with gr.Row():
                        remove_choice = gr.Dropdown(
                            label="Remove a document",
                            choices=[],
                            scale=3,
                            elem_id="rag-remove-choice",
                        )
                        remove_btn = gr.Button(
                            "Remove", variant="stop", scale=1, elem_id="rag-remove"
                        )

        ask_outputs = [chatbot, history, card, retrieval, question]
        gr.on(
            [question.submit, ask_btn.click],
            app.ask,
            inputs=[question, history, answerer],
            outputs=ask_outputs,
            concurrency_limit=4,
            concurrency_id="ask",
        )
        for btn, text in zip(example_btns, examples, strict=True):
            btn.click(
                _ask_fixed(app, text),
                inputs=[history, answerer],
                outputs=ask_outputs,
                concurrency_limit=4,
                concurrency_id="ask",
            )
        clear_btn.click(app.clear, outputs=[chatbot, history, card, retrieval], queue=False)
        files.upload(
            app.upload,
            inputs=files,
            outputs=[upload_status, docs, remove_choice, files],
            concurrency_limit=1,
            concurrency_id="index",
        )
        remove_btn.click(
            app.remove,
            inputs=remove_choice,
            outputs=[upload_status, docs, remove_choice],
            concurrency_limit=1,
            concurrency_id="index",
        )
        demo.load(app.documents_view, outputs=[docs, remove_choice])
    return demo


def _answerer_control(app: ChatApp) -> gr.Radio:
    if app.llm_ok:
        return gr.Radio(
            [("Extractive (quotes)", "extractive"), ("Generated (local LLM, checked)", "llm")],
            value="extractive",
            label="Answerer",
            elem_id="rag-answerer",
        )
    return gr.Radio(
        [("Extractive (quotes)", "extractive")],
        value="extractive",
        label="Answerer",
        info=f"Answers quote the documents; generated answers are off: {app.llm_why}.",
        interactive=False,
        elem_id="rag-answerer",
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _ask_fixed(app: ChatApp, text: str):
    def ask_example(history, answerer):
        yield from app.ask(text, history, answerer)

    return ask_example
