"""The app's handlers called directly (no server), on a private copy of the real index."""

from __future__ import annotations

import importlib.util
import re
import shutil
import threading
from pathlib import Path

import gradio as gr
import pytest
from conftest import ROOT
from test_formats import _Pages, serve_pages  # the loopback web server of the URL tests

import rag
from rag.loaders import SUPPORTED
from rag.store import CURRENT
from rag.ui import ChatApp, build_app

PLEDGE = "Which companies signed the pledge?"
FESTIVAL = (
    "Qelvarine Gazette, 2025-03-14.\n"
    "The Moonfish Lantern Festival is held every year in the town of Qelvar on the third "
    "Saturday of March. Its founder was the glassblower Ilse Vantrowe.\n"
)


@pytest.fixture(scope="module")
def app_qa(built_index, tmp_path_factory):
    """A writable copy of the session index: uploads here do not touch other tests."""
    target = tmp_path_factory.mktemp("app") / "index"
    shutil.copytree(built_index, target)
    return rag.open(target)


@pytest.fixture(scope="module")
def app(app_qa):
    return ChatApp(app_qa, pace=0, max_file_mb=1, llm=(False, "not installed"))


def _final(steps):
    steps = list(steps)
    return steps, steps[-1]


def _write(tmp_path: Path, name: str, data: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return str(path)


def test_build_app_without_serving(app_qa):
    demo = build_app(app_qa, llm=(False, "not installed"))
    assert isinstance(demo, gr.Blocks)
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    assert {"rag-chat", "rag-question", "rag-retrieval", "rag-upload", "rag-lang"} <= ids
    assert {"rag-url", "rag-add-url"} <= ids  # add a web page by URL
    assert "rag-answer-card" not in ids  # the answer is shown once, in the chat
    radio = next(b for b in demo.blocks.values() if getattr(b, "elem_id", "") == "rag-answerer")
    assert radio.interactive is False and "not installed" in radio.info
    upload = next(b for b in demo.blocks.values() if getattr(b, "elem_id", "") == "rag-upload")
    assert sorted(upload.file_types) == sorted(SUPPORTED)


def test_every_label_has_english_and_korean():
    from rag.ui.strings import DYNAMIC, STATIC

    assert set(STATIC["en"]) == set(STATIC["ko"]) and set(DYNAMIC["en"]) == set(DYNAMIC["ko"])
    assert all(key.startswith("rag_") for key in STATIC["en"])  # no clash with Gradio's keys
    hangul = re.compile(r"[\uac00-\ud7a3]")
    assert all(hangul.search(str(v)) for k, v in DYNAMIC["ko"].items() if k != "doc_cols")
    assert all(hangul.search(v) for v in STATIC["ko"].values())
    config = build_app_config()
    assert config["i18n_translations"]["ko"]["rag_ask"] == "질문하기"


def build_app_config():
    from rag.ui.app import launch_options

    return {"i18n_translations": launch_options()["i18n"].translations_dict}


def test_ask_streams_and_ends_with_cited_answer(app):
    steps, (chat, history, panel, box) = _final(app.ask(PLEDGE, (), "extractive"))
    first_chat = steps[0][0]
    assert first_chat[-1]["role"] == "assistant" and "Searching for" in first_chat[-1]["content"]
    assert len(steps) >= 3 and box == ""
    assert [m["role"] for m in chat] == ["user", "assistant"]
    assert len(history) == 1 and history[0].question == PLEDGE
    answer = chat[-1]["content"]
    for company in ("삼성전자", "OpenAI", "Adobe"):
        assert company in answer
    assert 'class="rag-fn"' in answer and "<mark>" in answer and "2024-05-22" in answer
    assert answer.count('class="rag-text"') == 1  # shown once, with its sources under it
    assert "rag-hint" in answer and "RAG_ANSWERER=llm" in answer  # English asker, Korean quotes
    assert "Searched for:" in panel and "fused" in panel


def test_follow_up_through_the_handler_and_sessions_are_separate(app):
    *_, (_, history, *_rest) = app.ask(PLEDGE, (), "extractive")
    *_, (chat, history2, panel, _) = app.ask("And which of them are Korean?", history, None)
    assert len(history2) == 2 and len(chat) == 4
    assert "(국내) 삼성전자, 네이버, 카카오, SK텔레콤, LG AI 연구원, KT" in chat[-1]["content"]
    assert "rag-hint" in chat[1]["content"] and "rag-hint" not in chat[3]["content"]  # once
    assert "Follow-up" in panel and PLEDGE in panel
    # another session asks the same thing with its own (empty) history
    *_, (other_chat, other, other_panel, _) = app.ask("And which of them are Korean?", (), None)
    assert len(other) == 1 and "Follow-up" not in other_panel
    assert 'class="rag-refusal"' in other_chat[-1]["content"]


def test_llm_choice_falls_back_to_extractive_when_unavailable(app):
    *_, (chat, history, *_rest) = app.ask("REAIM 회의는 어느 도시에서 개최되었나요?", (), "llm")
    assert history[-1].answer.mode == "extractive" and "(인용)" in chat[-1]["content"]


def test_refusal_is_shown_as_a_notice_in_korean(app):
    *_, (chat, history, *_rest) = app.ask("AI 글로벌 포럼의 총 예산은 얼마였나요?", (), None)
    assert history[-1].answer.refused
    bubble = chat[-1]["content"]
    assert 'class="rag-refusal"' in bubble and "문서에서 찾을 수 없습니다." in bubble
    assert "관련 문서를 올려" in bubble and "rag-hint" not in bubble


def test_examples_are_asked_in_the_session_language(app):
    *_, (chat, history, *_rest) = app.ask_example(1, (), None, "ko")
    assert history[-1].question == "REAIM 회의는 어느 도시에서 개최되었나요?"
    assert history[-1].answer.lang == "ko" and 'lang="ko"' in chat[-1]["content"]
    *_, (chat, history, *_rest) = app.ask_example(1, (), None, "en")
    assert history[-1].question == "In which city was the REAIM summit held?"


def test_empty_and_too_long_questions(app):
    assert list(app.ask("   ", (), None)) == [(gr.skip(),) * 4]
    *_, (chat, history, _, box) = app.ask("q" * 3000, (), None)
    assert history == () and "limit" in chat[-1]["content"] and box == "q" * 3000
    assert "Traceback" not in chat[-1]["content"]
    *_, (chat, *_rest) = app.ask("q" * 3000, (), None, "ko")
    assert "답할 수 없습니다" in chat[-1]["content"]


def test_upload_then_answer_then_remove(app, app_qa, tmp_path):
    calls = []
    status, table, dropdown, cleared = app.upload(
        [_write(tmp_path, "qelvar-gazette.txt", FESTIVAL)],
        progress=lambda *a, **k: calls.append((a, k)),
    )
    assert "✓" in status and "added" in status and cleared is None
    assert calls and calls[-1][0][0] == (1, 1)  # progress reported
    assert "qelvar-gazette.txt" in table and "2025-03-14" in table
    assert any(value == "qelvar-gazette.txt" for _, value in dropdown["choices"])
    *_, (_, history, *_rest) = app.ask("Where is the Moonfish Lantern Festival held?", (), None)
    answer = history[-1].answer
    assert not answer.refused and "Qelvar" in answer.text
    assert answer.citations[0].doc_id == "qelvar-gazette.txt"
    # the index on disk has it too (saved atomically), so a restart keeps it
    assert "qelvar-gazette.txt" in rag.open(app_qa.index_dir).data.documents

    status, table, dropdown = app.remove("qelvar-gazette.txt")
    assert "Removed" in status and "qelvar-gazette.txt" not in table
    assert "qelvar-gazette.txt" not in app_qa.data.documents
    status, *_ = app.remove("qelvar-gazette.txt")
    assert "not in the index" in status
    status, table, _ = app.remove("qelvar-gazette.txt", "ko")
    assert "색인에 없습니다" in status and "<th>제목</th>" in table


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("tool.exe", b"MZ\x90\x00", ".exe"),
        ("empty.txt", b"", "empty"),
        ("binary.txt", bytes(range(256)) * 8, "binary"),
        ("big.txt", b"a " * 600_000, "limit"),
        ("just-over.txt", b"a " * 505_000, "limit"),  # 1.01 MB: under 1 MiB, over 1 MB
    ],
)
def test_bad_uploads_get_a_clear_message_and_leave_the_index_alone(
    app, app_qa, tmp_path, name, data, expected
):
    before_docs = dict(app_qa.data.documents)
    before_current = (Path(app_qa.index_dir) / CURRENT).read_text(encoding="utf-8")
    status, table, *_ = app.upload([_write(tmp_path, name, data)])
    assert "✗" in status and name in status and expected in status.lower()
    assert "Traceback" not in status
    assert app_qa.data.documents == before_docs
    assert (Path(app_qa.index_dir) / CURRENT).read_text(encoding="utf-8") == before_current


def test_upload_limit_above_the_loader_default_reaches_the_loader(app_qa, tmp_path):
    """--max-file-mb 25 lets a 21 MB file through the page *and* the loader (default 20 MB)."""
    from rag.loaders import MAX_BYTES

    padding = "<!-- " + "x" * 21_000_000 + " -->"
    page = f"<html><body><p>The Qelvar ferry leaves at dawn.</p>{padding}</body></html>"
    path = _write(tmp_path, "ferry.html", page)
    assert Path(path).stat().st_size > MAX_BYTES
    bigger = ChatApp(app_qa, pace=0, max_file_mb=25, llm=(False, "not installed"))
    status, *_ = bigger.upload([path], progress=lambda *a, **k: None)
    assert "✓" in status and "ferry.html: added" in status, status
    bigger.remove("ferry.html")
    smaller = ChatApp(app_qa, pace=0, max_file_mb=20, llm=(False, "not installed"))
    status, *_ = smaller.upload([path], progress=lambda *a, **k: None)
    assert "✗" in status and "limit" in status


def test_good_and_bad_files_in_one_upload(app, app_qa, tmp_path):
    good = _write(tmp_path, "notes.md", "# Notes\n\nThe Qelvar ferry leaves at dawn.\n")
    bad = _write(tmp_path, "bad.docx", b"PK\x03\x04")
    status, *_ = app.upload([bad, good])
    assert status.count("✗") == 1 and status.count("✓") == 1
    assert "notes.md" in app_qa.data.documents
    app.remove("notes.md")


def test_script_in_a_document_is_shown_as_text(app, app_qa, tmp_path):
    evil = (
        "The Zorbly Parade happens in Qelvar each May. "
        "<script>window.__pwned=1</script><img src=x onerror=alert(1)>\n"
    )
    status, table, *_ = app.upload(
        [_write(tmp_path, "zorbly<img src=x onerror=alert(1)>.txt", evil)]
    )
    assert "✓" in status and "<img" not in status + table
    *_, (chat, history, panel, _) = app.ask("When does the Zorbly Parade happen?", (), None)
    answer = chat[-1]["content"]
    assert "Zorbly" in answer
    assert "<script" not in answer + panel and "<img" not in answer + panel
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in answer
    for doc_id in [d for d in app_qa.data.documents if d.startswith("zorbly")]:
        app.remove(doc_id)


def test_questions_are_answered_while_an_upload_is_indexed(app, app_qa, tmp_path):
    long_doc = "\n".join(f"Line {i}: the Qelvar archive lists item {i}." for i in range(120))
    path = _write(tmp_path, "archive.txt", long_doc)
    results = {}
    worker = threading.Thread(target=lambda: results.update(upload=app.upload([path])))
    worker.start()
    *_, (_, history, *_rest) = app.ask("REAIM 회의는 어느 도시에서 개최되었나요?", (), None)
    worker.join(timeout=600)
    assert "헤이그" in history[-1].answer.text
    assert "✓" in results["upload"][0]
    app.remove("archive.txt")


# --- add a web page by URL, served on loopback ------------------------------------------

FERRY = (
    b"<html><head><title>Qelvar ferry timetable</title></head><body><h1>Ferries</h1>"
    b"<h2>Winter</h2><p>The Qelvar night ferry leaves the north pier at 23:40 every "
    b"Tuesday.</p></body></html>"
)


class _AppPages(_Pages):
    routes = {
        **_Pages.routes,
        "/ferry": ("text/html; charset=utf-8", FERRY),
        "/huge": ("text/html", b"<p>" + b"x " * 600_000 + b"</p>"),  # 1.2 MB: over 1 MB
    }


@pytest.fixture(scope="module")
def site():
    with serve_pages(_AppPages) as url:
        yield url


def test_add_by_url_indexes_the_page_and_answers_cite_its_section(app, app_qa, site):
    url = f"{site}/ferry"
    status, table, dropdown, box = app.add_url(f"  {url}  ")
    assert "✓" in status and f"{url}: added as {url}" in status and box == ""
    assert "Qelvar ferry timetable" in table and url in table
    assert any(value == url for _, value in dropdown["choices"])
    doc = app_qa.data.documents[url]
    assert (doc.source, doc.title) == (url, "Qelvar ferry timetable")
    *_, (chat, history, *_rest) = app.ask("When does the Qelvar night ferry leave?", (), None)
    citation = history[-1].answer.citations[0]
    chunk = next(c for c in app_qa.data.chunks if c.chunk_id == citation.chunk_id)
    assert (citation.doc_id, chunk.location) == (url, "§ Ferries")  # where the chunk starts
    assert f'<a href="{url}" target="_blank" rel="noopener noreferrer' in chat[-1]["content"]
    status, *_ = app.add_url(url, "ko")
    assert "✓" in status and "바뀐 것이 없습니다" in status  # the same page again
    app.remove(url)
    assert url not in app_qa.data.documents


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("javascript:alert(1)", "not a web address"),
        ("", "not a web address"),
        ("127.0.0.1/ferry", "not a web address"),
        ("file:///etc/passwd", "not a web address"),
        ("ftp://127.0.0.1/ferry", "not a web address"),
        ("http://", "not a web address"),
        ("/missing", "HTTP 404"),
        ("/report.pdf", "not an HTML page"),
        ("/huge", "limit"),  # the app's 1 MB upload limit reaches the loader (its default: 20)
    ],
)
def test_bad_url_gets_a_clear_message_and_leaves_the_index_alone(app, app_qa, site, path, expected):
    url = site + path if path.startswith("/") else path
    before_docs, before_table = dict(app_qa.data.documents), app.documents_view()[0]
    before_current = (Path(app_qa.index_dir) / CURRENT).read_text(encoding="utf-8")
    status, table, _, box = app.add_url(url)
    assert "✗" in status and expected in status and "Traceback" not in status
    assert box == url  # kept, so it can be corrected
    assert app_qa.data.documents == before_docs and table == before_table
    assert (Path(app_qa.index_dir) / CURRENT).read_text(encoding="utf-8") == before_current


def test_not_a_url_message_in_korean(app):
    status, *_ = app.add_url("<b>docs</b>", "ko")
    assert "웹 주소가 아닙니다" in status and "&lt;b&gt;docs&lt;/b&gt;" in status
    assert "<b>" not in status


def _load_app_module():
    spec = importlib.util.spec_from_file_location("rag_app_main", ROOT / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_login_needs_both_user_and_password():
    module = _load_app_module()
    assert module.auth_from_env({}) is None
    assert module.auth_from_env({"RAG_APP_USER": "ed", "RAG_APP_PASSWORD": "pw"}) == ("ed", "pw")
    with pytest.raises(rag.RagError, match="both"):
        module.auth_from_env({"RAG_APP_USER": "ed"})


def test_one_upload_limit_for_the_page_and_the_loader():
    from rag.loaders import MAX_BYTES
    from rag.ui import launch_options

    args = _load_app_module()._parser().parse_args(["--max-file-mb", "25"])
    app = ChatApp(None, max_file_mb=args.max_file_mb, llm=(False, ""))
    page_limit = launch_options(max_file_mb=args.max_file_mb)["max_file_size"]
    assert page_limit == app.max_file_bytes == 25_000_000  # MB, as the loader counts
    assert launch_options()["max_file_size"] == MAX_BYTES


def test_cli_defaults_bind_loopback():
    args = _load_app_module()._parser().parse_args([])
    assert args.host == "127.0.0.1" and args.port == 7860 and args.index_dir == "index"


@pytest.mark.llm
def test_generated_answer_streams_through_the_handler(app_qa):
    from rag.ui.app import llm_status

    available, why = llm_status()
    if not available:
        pytest.skip(f"local LLM not available: {why}")
    app = ChatApp(app_qa, pace=0, llm=(True, ""))
    steps, (chat, history, panel, _) = _final(app.ask(PLEDGE, (), "llm"))
    answer = history[-1].answer
    assert answer.mode == "llm" or answer.fallback_reason  # checked, or fell back visibly
    assert len(steps) >= 3 and "Searched for:" in panel
    if answer.fallback_reason:
        assert answer.fallback_reason in chat[-1]["content"].replace("&#x27;", "'")


def test_upload_types_are_the_loaders_types():
    from rag.loaders import SUPPORTED
    from rag.ui.app import UPLOAD_TYPES

    assert sorted(UPLOAD_TYPES) == sorted(SUPPORTED)  # e.g. no ".markdown" the loaders reject
