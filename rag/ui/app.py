"""The Gradio chat app: ``build_app(qa)`` returns a ``gr.Blocks`` without serving it.

The page is laid out here; what happens on each event is in ``handlers``, the HTML
in ``render`` and ``panels``, the words in ``strings``, and the CSS and the page's one
script in ``assets/``. Labels follow the browser's language (Korean or English) and
the language switch at the top; each answer is shown once, in its chat bubble.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from .handlers import DEFAULT_MAX_FILE_MB, MB, ChatApp, upload_types
from .llm_status import llm_status
from .strings import I18N, N_EXAMPLES, example

__all__ = [
    "DEFAULT_MAX_FILE_MB",
    "EXAMPLES",
    "UPLOAD_TYPES",
    "ChatApp",
    "build_app",
    "launch_options",
    "llm_status",
]

ASSETS = Path(__file__).with_name("assets")
UPLOAD_TYPES = upload_types()
EXAMPLES = tuple(example(i, "en") for i in range(N_EXAMPLES))
LANGUAGES = [("English", "en"), ("한국어", "ko")]
# The browser's language picks the first one, as Gradio's own i18n does.
BROWSER_LANG_JS = (
    "() => ((navigator.language || 'en').toLowerCase().startsWith('ko') ? 'ko' : 'en')"
)
SWITCH_JS = "(lang) => { if (window.ragSetLocale) window.ragSetLocale(lang); return lang; }"
_ASK = {"concurrency_limit": 4, "concurrency_id": "ask"}
_INDEX = {"concurrency_limit": 1, "concurrency_id": "index"}


def asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def theme() -> gr.themes.Base:
    """System fonts only: the page must not fetch fonts from the internet."""
    return gr.themes.Soft(
        font=["system-ui", "Apple SD Gothic Neo", "Noto Sans KR", "NanumGothic", "sans-serif"],
        font_mono=["ui-monospace", "monospace"],
    )


def launch_options(*, max_file_mb: float = DEFAULT_MAX_FILE_MB) -> dict[str, Any]:
    """Keyword arguments for ``demo.launch`` that belong to the app, not the host."""
    return {
        "css": asset("style.css"),
        "js": asset("app.js"),
        "theme": theme(),
        "i18n": I18N,
        "max_file_size": int(max_file_mb * MB),  # bytes, the same limit the loader applies
        "show_error": False,
        "ssr_mode": False,
    }


@dataclass
class ChatUI:
    chatbot: gr.Chatbot
    question: gr.Textbox
    ask: gr.Button
    clear: gr.Button
    examples: list[gr.Button]


@dataclass
class DocsUI:
    files: gr.File
    url: gr.Textbox
    add_url: gr.Button
    status: gr.HTML
    table: gr.HTML
    remove_choice: gr.Dropdown
    remove: gr.Button


def build_app(
    qa,
    *,
    title: str | None = None,
    pace: float = 0.02,
    max_file_mb: float = DEFAULT_MAX_FILE_MB,
    llm: tuple[bool, str] | None = None,
) -> gr.Blocks:
    """The app over ``qa``; serve it with ``.queue().launch(**launch_options())``."""
    app = ChatApp(qa, pace=pace, max_file_mb=max_file_mb, llm=llm)
    with gr.Blocks(
        title=title or "Ask the documents", analytics_enabled=False, fill_width=True
    ) as demo:
        history, lang = gr.State(()), gr.State("en")
        switch = _header(title)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chat = _chat_column()
            with gr.Column(scale=2, min_width=360):
                answerer = _answerer_control(app)
                with gr.Accordion(I18N("rag_retrieved"), open=True):
                    retrieval = gr.HTML("", elem_id="rag-retrieval")
                docs = _documents_panel(max_file_mb)
        _wire_chat(app, chat, [chat.chatbot, history, retrieval, chat.question], answerer, lang)
        _wire_documents(app, docs, lang)
        switch.change(app.set_language, switch, [lang, docs.table], js=SWITCH_JS, queue=False)
        page = [switch, lang, docs.table, docs.remove_choice]
        demo.load(app.open_page, inputs=switch, outputs=page, js=BROWSER_LANG_JS)
    return demo


def _header(title: str | None) -> gr.Radio:
    with gr.Row(elem_id="rag-header", equal_height=False):
        with gr.Column(scale=4):
            gr.Markdown(title or I18N("rag_title"), elem_id="rag-title")
            gr.Markdown(I18N("rag_intro"))
        return gr.Radio(LANGUAGES, value="en", label="Language · 언어", elem_id="rag-lang", scale=1)


def _chat_column() -> ChatUI:
    chatbot = gr.Chatbot(
        label=I18N("rag_conversation"),
        height=560,
        elem_id="rag-chat",
        latex_delimiters=[],
        render_markdown=False,  # bubbles are HTML built from escaped text, see render.py
        sanitize_html=True,
        feedback_options=None,
        buttons=["copy", "copy_all"],
        placeholder=I18N("rag_chat_placeholder"),
    )
    with gr.Row():
        question = gr.Textbox(
            show_label=False,
            placeholder=I18N("rag_question_placeholder"),
            scale=5,
            max_lines=4,
            autofocus=True,
            elem_id="rag-question",
        )
        ask = gr.Button(I18N("rag_ask"), variant="primary", scale=1, elem_id="rag-ask")
        clear = gr.Button(I18N("rag_new_chat"), scale=1, elem_id="rag-clear")
    with gr.Row(elem_classes="rag-examples"):
        examples = [
            gr.Button(I18N(f"rag_example_{i}"), size="sm", variant="secondary")
            for i in range(N_EXAMPLES)
        ]
    return ChatUI(chatbot, question, ask, clear, examples)


def _answerer_control(app: ChatApp) -> gr.Radio:
    extractive = (I18N("rag_extractive"), "extractive")
    if app.llm_ok:
        default = getattr(getattr(app.qa, "settings", None), "answerer", "extractive")
        return gr.Radio(
            [extractive, (I18N("rag_generated"), "llm")],
            value=default if default in ("extractive", "llm") else "extractive",
            label=I18N("rag_answerer"),
            elem_id="rag-answerer",
        )
    return gr.Radio(
        [extractive],
        value="extractive",
        label=I18N("rag_answerer"),
        info=f"{I18N('rag_llm_off')} {app.llm_why}.",
        interactive=False,
        elem_id="rag-answerer",
    )


def _documents_panel(max_file_mb: float) -> DocsUI:
    with gr.Accordion(I18N("rag_documents"), open=True):
        files = gr.File(
            file_count="multiple",
            file_types=UPLOAD_TYPES,
            label=f"{I18N('rag_upload')} {max_file_mb:g} MB ({', '.join(UPLOAD_TYPES)})",
            elem_id="rag-upload",
            height=150,
        )
        with gr.Row(equal_height=True):
            url = gr.Textbox(
                label=I18N("rag_url_label"),
                placeholder=I18N("rag_url_placeholder"),
                max_lines=1,
                scale=3,
                elem_id="rag-url",
            )
            add_url = gr.Button(I18N("rag_add_url"), scale=1, elem_id="rag-add-url")
        status = gr.HTML("", elem_id="rag-upload-status")
        table = gr.HTML("", elem_id="rag-docs")
        with gr.Row():
            choice = gr.Dropdown(
                label=I18N("rag_remove_label"), choices=[], scale=3, elem_id="rag-remove-choice"
            )
            remove = gr.Button(I18N("rag_remove"), variant="stop", scale=1, elem_id="rag-remove")
    return DocsUI(files, url, add_url, status, table, choice, remove)


def _wire_chat(app: ChatApp, ui: ChatUI, outputs: list, answerer: gr.Radio, lang) -> None:
    history = outputs[1]
    inputs = [ui.question, history, answerer, lang]
    gr.on([ui.question.submit, ui.ask.click], app.ask, inputs=inputs, outputs=outputs, **_ASK)
    for i, button in enumerate(ui.examples):
        button.click(
            _ask_example(app, i), inputs=[history, answerer, lang], outputs=outputs, **_ASK
        )
    ui.clear.click(app.clear, outputs=outputs[:3], queue=False)


def _wire_documents(app: ChatApp, ui: DocsUI, lang) -> None:
    ui.files.upload(
        app.upload,
        inputs=[ui.files, lang],
        outputs=[ui.status, ui.table, ui.remove_choice, ui.files],
        **_INDEX,
    )
    gr.on(
        [ui.url.submit, ui.add_url.click],
        app.add_url,
        inputs=[ui.url, lang],
        outputs=[ui.status, ui.table, ui.remove_choice, ui.url],
        **_INDEX,
    )
    ui.remove.click(
        app.remove,
        inputs=[ui.remove_choice, lang],
        outputs=[ui.status, ui.table, ui.remove_choice],
        **_INDEX,
    )


def _ask_example(app: ChatApp, i: int) -> Callable:
    def ask_example(history, answerer, lang):
        yield from app.ask_example(i, history, answerer, lang)

    return ask_example
