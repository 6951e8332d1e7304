"""End to end in headless Chromium: the served app, a real index and the real model.

Starts ``python app.py`` on a free loopback port (on a copy of the session's index),
then drives the page like a user: ask, open a citation, follow up, upload, check that
markup inside documents never runs, and use the Korean UI (the switch, and a Korean
browser). Screenshots go to artifacts/screenshots/ (not committed).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "screenshots"
ANSWER_TIMEOUT_MS = 240_000  # 2 CPU cores, and the first answer warms caches
READY_TIMEOUT_S = 300

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (make browser)"),
]
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_served(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"app not served within {READY_TIMEOUT_S}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def server(built_index, tmp_path_factory):
    """(url, timings): app.py serving a private copy of the index."""
    workdir = tmp_path_factory.mktemp("browser")
    index_dir = workdir / "index"
    shutil.copytree(built_index, index_dir)
    port = _free_port()
    log = workdir / "app.log"
    env = {**os.environ, "RAG_APP_USER": "", "RAG_APP_PASSWORD": ""}
    started = time.perf_counter()
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "--index-dir", str(index_dir),
             "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_served(url, proc, log)
        timings = {"ready_s": round(time.perf_counter() - started, 1)}
        yield url, timings, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


LAUNCH_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu",
               "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


def _open(browser, url: str, locale: str = "en-US"):
    pg = browser.new_page(viewport={"width": 1400, "height": 1000}, locale=locale)
    pg.goto(url)
    pg.wait_for_selector("#rag-question textarea", timeout=60_000)
    return pg


@pytest.fixture(scope="module")
def page(server, browser):
    pg = _open(browser, server[0])
    yield pg
    pg.close()


def _answers(page):
    return page.locator("#rag-chat .rag-answer, #rag-chat .rag-error")


def _ask(page, question: str):
    """Ask like a user; returns the new answer bubble once it is complete."""
    before = _answers(page).count()
    page.fill("#rag-question textarea", question)
    page.click("#rag-ask")
    expect(_answers(page)).to_have_count(before + 1, timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#rag-chat [data-testid=user]").last).to_have_text(question)
    return _answers(page).last


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_chat_citations_follow_up_upload_and_no_script(page, server, tmp_path):
    url, timings, _ = server
    _shot(page, "01-empty.png")

    # 1. the pledge question: companies listed, with a citation, shown once
    started = time.perf_counter()
    answer = _ask(page, "Which companies signed the pledge?")
    timings["first_answer_s"] = round(time.perf_counter() - started, 1)
    for company in ("삼성전자", "OpenAI", "Adobe"):
        expect(answer.locator(".rag-text")).to_contain_text(company)
    assert page.locator("#rag-answer-card").count() == 0  # no second copy of the answer
    assert page.locator(".rag-text").count() == 1
    expect(answer.locator(".rag-sources")).to_contain_text("2024-05-22")  # sources under it
    # English question, Korean quotes, no LLM: how to get translations, said once
    # (or, where the local LLM is installed, how to turn translations on in the app)
    expect(answer.locator(".rag-hint")).to_contain_text(
        re.compile(r"RAG_ANSWERER=llm|Quotes \+ translation")
    )
    links = answer.locator("a.rag-fn")
    assert links.count() >= 1
    _shot(page, "02-answer.png")

    # 2. open the citation that quotes the company list: its quote is highlighted
    n = links.last.inner_text().strip("[]")
    links.last.click()
    source = answer.locator(f"li.rag-source.is-target[id$='-{n}']")
    mark = source.locator("details[open] mark")
    expect(mark).to_be_visible()
    expect(mark).to_contain_text("삼성전자")
    expect(source.locator("summary")).to_contain_text("2024-05-22")
    context = source.locator(".rag-context")
    if context.count():  # the answerer gives the sentence around the quote
        expect(context.locator("mark")).to_be_visible()
    _shot(page, "03-citation-open.png")

    # 3. follow-up in the same session; the hint is not repeated
    answer = _ask(page, "And which of them are Korean?")
    expect(answer.locator(".rag-text")).to_contain_text("(국내) 삼성전자, 네이버, 카카오")
    expect(page.locator("#rag-retrieval")).to_contain_text("Which companies signed the pledge?")
    expect(page.locator("#rag-retrieval")).to_contain_text("Follow-up")
    assert answer.locator(".rag-hint").count() == 0 and page.locator(".rag-hint").count() == 1
    _shot(page, "04-follow-up.png")

    # 4. upload a document with a made-up fact, then ask about it
    doc = tmp_path / "qelvar-gazette.txt"
    doc.write_text(
        "Qelvarine Gazette, 2025-03-14.\nThe Moonfish Lantern Festival is held every year "
        "in the town of Qelvar on the third Saturday of March.\n",
        encoding="utf-8",
    )
    page.set_input_files("#rag-upload input[type=file]", str(doc))
    status = page.locator("#rag-upload-status")
    expect(status).to_contain_text("qelvar-gazette.txt: added", timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#rag-docs table")).to_contain_text("qelvar-gazette.txt")
    answer = _ask(page, "Where is the Moonfish Lantern Festival held?")
    expect(answer.locator(".rag-text")).to_contain_text("Qelvar")
    expect(answer.locator(".rag-sources")).to_contain_text("qelvar-gazette.txt")
    _shot(page, "05-upload-answer.png")

    # 5. markup inside documents is shown as text and never runs
    html_doc = tmp_path / "zorbly.html"
    html_doc.write_text(
        "<html><head><title>Zorbly notice</title></head><body>"
        '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
        "<p>The Zorbly Parade marches through Qelvar every May. Organisers wrote "
        "&lt;script&gt;window.__pwned=3&lt;/script&gt; on the banner.</p></body></html>",
        encoding="utf-8",
    )
    txt_doc = tmp_path / "vexmoor.txt"
    txt_doc.write_text(
        "The Vexmoor Cheese Race starts at the old mill. "
        '<img src=x onerror="window.__pwned=4"><script>window.__pwned=5</script>\n',
        encoding="utf-8",
    )
    page.set_input_files("#rag-upload input[type=file]", [str(html_doc), str(txt_doc)])
    expect(status).to_contain_text("vexmoor.txt: added", timeout=ANSWER_TIMEOUT_MS)
    expect(status).to_contain_text("zorbly.html: added")
    expect(page.locator("#rag-docs table")).to_contain_text("Zorbly notice")
    answer = _ask(page, "Where does the Vexmoor Cheese Race start?")
    expect(answer.locator(".rag-text")).to_contain_text('<img src=x onerror="window.__pwned=4">')
    answer = _ask(page, "What did the organisers of the Zorbly Parade write on the banner?")
    expect(answer).to_contain_text("<script>window.__pwned=3</script>")
    answer.locator("a.rag-fn").first.click()
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img[src='x'], img[src$='/x']").count() == 0  # anywhere on the page
    assert page.locator("#rag-chat script, #rag-retrieval script").count() == 0
    _shot(page, "06-markup-as-text.png")

    (SHOTS / "timings.json").write_text(json.dumps(timings, indent=1), encoding="utf-8")
    print(f"\napp timings: {timings}")


def test_language_switch_turns_the_ui_korean(page):
    page.click("#rag-clear")
    expect(_answers(page)).to_have_count(0)
    page.locator("#rag-lang label", has_text="한국어").click()
    expect(page.locator("#rag-ask")).to_have_text("질문하기")
    expect(page.locator("#rag-clear")).to_have_text("새 대화")
    expect(page.locator("#rag-header")).to_contain_text("문서에 묻기")
    expect(page.locator("#rag-remove")).to_have_text("삭제")
    expect(page.locator("#rag-docs th").first).to_have_text("제목")  # server-side HTML too
    expect(page.locator(".rag-examples button").nth(1)).to_have_text(
        "REAIM 회의는 어느 도시에서 개최되었나요?"
    )
    page.locator(".rag-examples button").nth(1).click()  # the example as shown, in Korean
    expect(_answers(page)).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#rag-chat [data-testid=user]").last).to_have_text(
        "REAIM 회의는 어느 도시에서 개최되었나요?"
    )
    expect(_answers(page).last).to_have_attribute("lang", "ko")  # a Korean answer
    expect(page.locator("#rag-retrieval")).to_contain_text("검색어:")
    answer = _ask(page, "AI 글로벌 포럼의 총 예산은 얼마였나요?")  # Korean refusal
    expect(answer.locator(".rag-refusal")).to_contain_text("문서에서 찾을 수 없습니다")
    _shot(page, "07-korean-switch.png")
    answer = _ask(page, "2022년 AI 글로벌 포럼은 어디에서 열렸나요?")  # a changed year
    expect(answer.locator(".rag-reason")).to_have_text(
        "찾은 문서 어디에도 ‘2022’가 나오지 않습니다."
    )
    page.locator("#rag-lang label", has_text="English").click()
    expect(page.locator("#rag-ask")).to_have_text("Ask")
    expect(page.locator("#rag-docs th").first).to_have_text("Title")
    answer = _ask(page, "Who represented Germany at the AI Global Forum?")
    expect(answer.locator(".rag-reason")).to_have_text(
        "None of the documents found mentions “Germany”."
    )
    closest = answer.locator(".rag-closest")
    expect(closest.locator("summary")).to_have_text("Closest passages (not an answer)")
    expect(closest.locator(".rag-passage").first).not_to_be_visible()  # folded
    closest.locator("summary").click()
    expect(closest.locator(".rag-passage").first).to_contain_text("AI")
    _shot(page, "13-refusal-reason.png")


def test_korean_browser_gets_korean_labels(server, browser):
    pg = _open(browser, server[0], locale="ko-KR")
    try:
        expect(pg.locator("#rag-ask")).to_have_text("질문하기")
        expect(pg.locator("#rag-lang input[value=ko]")).to_be_checked()
        expect(pg.locator("#rag-question textarea")).to_have_attribute(
            "placeholder", "문서에 대해 물어보세요 — 한국어 또는 English"
        )
        expect(pg.locator("#rag-answerer")).to_contain_text("답변 방식")
        expect(pg.locator("#rag-docs th").first).to_have_text("제목")
        _shot(pg, "08-korean-browser.png")
    finally:
        pg.close()


def test_citation_context_sentence_in_the_browser(browser, tmp_path):
    """A quote smaller than its sentence (one list item): the sentence is shown around it."""
    from rag.types import Answer, Citation, Document
    from rag.ui import render
    from rag.ui.app import asset

    text = (
        "서울 AI 기업 서약 (2024-05-22)\n참여 기업: (국내) 삼성전자, 네이버, 카카오; "
        "(해외) OpenAI, Adobe, Amazon. 서약은 안전한 AI 개발을 약속한다."
    )
    sentence = "참여 기업: (국내) 삼성전자, 네이버, 카카오; (해외) OpenAI, Adobe, Amazon."
    quote = "(국내) 삼성전자, 네이버, 카카오"
    doc = Document("pledge.txt", text, title="서울 AI 기업 서약", date="2024-05-22")
    start = text.index(quote)
    citation = Citation(
        n=1, doc_id=doc.doc_id, title=doc.title, quote=quote, start=start,
        end=start + len(quote), score=1.0, date=doc.date,
        context=sentence, context_start=text.index(sentence),
    )  # fmt: skip
    answer = Answer("국내 기업은?", f"{quote} [1]", citations=[citation], lang="ko")
    bubble = render.answer_html(answer, {doc.doc_id: doc}, turn=1)
    pg = browser.new_page(viewport={"width": 900, "height": 500})
    try:
        pg.set_content(
            f"<html><head><meta charset='utf-8'><style>{asset('style.css')}</style></head>"
            f"<body><div id='rag-chat'>{bubble}</div></body></html>"
        )
        pg.evaluate(f"({asset('app.js')})()")  # the page's script, as launch(js=...) runs it
        pg.locator("a.rag-fn").click()
        context = pg.locator("li.rag-source.is-target details[open] .rag-context")
        expect(context).to_be_visible()
        expect(context).to_have_text(sentence)
        expect(context.locator("mark")).to_have_text(quote)
        _shot(pg, "09-citation-context.png")
    finally:
        pg.close()


def test_upload_docx_then_ask_cites_it(server, browser, tmp_path):
    """A Word file uploaded through the picker is indexed, answered from and cited by name."""
    docx = pytest.importorskip("docx")
    name = "zephyrine-brief.docx"
    path = tmp_path / name
    document = docx.Document()
    document.add_heading("Project Zephyrine status brief", level=1)
    document.add_paragraph(
        "Project Zephyrine is the internal code name for the tidal battery pilot "
        "run by the Orvelle Harbour Authority."
    )
    document.add_paragraph(
        "The Zephyrine pilot installed exactly 7,342 tidal battery cells along the "
        "north breakwater of Orvelle Harbour."
    )
    document.add_paragraph("제퍼린 프로젝트는 오르벨 항만청의 조력 배터리 시범 사업이다.")
    document.save(path)

    pg = _open(browser, server[0])
    try:
        pg.set_input_files("#rag-upload input[type=file]", str(path))
        status = pg.locator("#rag-upload-status")
        expect(status).to_contain_text(f"{name}: added", timeout=ANSWER_TIMEOUT_MS)
        expect(pg.locator("#rag-docs table")).to_contain_text(name)

        answer = _ask(pg, "How many tidal battery cells did the Zephyrine pilot install?")
        expect(answer.locator(".rag-text")).to_contain_text("7,342")
        expect(answer.locator(".rag-sources")).to_contain_text(name)
        # a footnote in the answer text points at a source entry naming the .docx
        links = answer.locator(".rag-text a.rag-fn")
        assert links.count() >= 1
        targets = [links.nth(i).get_attribute("href") for i in range(min(links.count(), 10))]
        cited = [answer.locator(f"li.rag-source[id='{t.lstrip('#')}']") for t in targets if t]
        assert any(c.count() == 1 and name in c.inner_text() for c in cited), targets
        _shot(pg, "10-docx-upload-answer.png")
    finally:
        pg.close()


# --- the quote, then its machine rendering (a fake chat model stands in for the LLM) ------

THE_14 = (
    "Samsung Electronics, Naver, Kakao, SK Telecom, LG AI Research, KT, OpenAI, "
    "Anthropic, Microsoft, Google, Salesforce, IBM, Cohere and Adobe"
)


@pytest.fixture()
def rendering_app(qa):
    """The app in this process over the session's QA, a fake LLM plugged in (loopback)."""
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

    from rag.ui.app import build_app, launch_options

    before = qa.chat_model
    qa.chat_model = GenericFakeChatModel(
        messages=iter([f"The pledge was signed by {THE_14}.", "국내외 14개 AI 관련 기업입니다."])
    )
    demo = build_app(qa, llm=(True, ""), pace=0.0)
    port = _free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True,
                        quiet=True, **launch_options())  # fmt: skip
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
        qa.chat_model = before


def test_the_quote_then_its_labelled_machine_rendering(rendering_app, browser):
    pg = _open(browser, rendering_app)
    try:
        pg.locator("#rag-answerer label", has_text="Quotes + translation").click()
        answer = _ask(pg, "Which companies signed the pledge?")
        expect(answer.locator(".rag-text")).to_contain_text("삼성전자")  # the quote, of record
        rendering = answer.locator(".rag-rendering")
        expect(rendering).to_contain_text("Samsung Electronics, Naver, Kakao")
        expect(rendering.locator(".rag-rendering-label")).to_contain_text(
            "Machine rendering of [1]"
        )
        assert pg.locator("#rag-chat .rag-text").count() == 1  # one answer view
        assert pg.locator("#rag-chat .rag-hint").count() == 0  # translated: no hint
        _shot(pg, "11-rendering-en.png")
        pg.locator("#rag-lang label", has_text="한국어").click()
        expect(pg.locator("#rag-ask")).to_have_text("질문하기")
        answer = _ask(pg, "서울 AI 기업 서약에는 몇 개의 기업이 참여했나요?")
        expect(answer).to_have_attribute("lang", "ko")
        label = answer.locator(".rag-rendering-label")
        expect(label).to_contain_text("로컬 LLM이 옮긴 글")
        expect(answer.locator(".rag-rendering")).to_contain_text("14개 AI 관련 기업")
        _shot(pg, "12-rendering-ko.png")
    finally:
        pg.close()
