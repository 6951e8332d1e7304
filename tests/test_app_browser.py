"""End to end in headless Chromium: the served app, a real index and the real model.

Starts ``python app.py`` on a free loopback port (on a copy of the session's index),
then drives the page like a user: ask, open a citation, follow up, upload, and check
that markup inside documents never runs. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import json
import os
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


@pytest.fixture(scope="module")
def page(server):
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.goto(server[0])
        pg.wait_for_selector("#rag-question textarea", timeout=60_000)
        yield pg
        browser.close()


def _ask(page, question: str) -> None:
    page.fill("#rag-question textarea", question)
    page.click("#rag-ask")
    expect(page.locator("#rag-answer-card .rag-question")).to_have_text(
        question, timeout=ANSWER_TIMEOUT_MS
    )


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_chat_citations_follow_up_upload_and_no_script(page, server, tmp_path):
    url, timings, _ = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    _shot(page, "01-empty.png")

    # 1. the pledge question: companies listed, with a citation
    started = time.perf_counter()
    _ask(page, "Which companies signed the pledge?")
    timings["first_answer_s"] = round(time.perf_counter() - started, 1)
    card = page.locator("#rag-answer-card")
    chat = page.locator("#rag-chat")
    for company in ("삼성전자", "OpenAI", "Adobe"):
        expect(card.locator(".rag-text")).to_contain_text(company)
        expect(chat).to_contain_text(company)
    links = card.locator("a.rag-fn")
    assert links.count() >= 1
    _shot(page, "02-answer.png")

    # 2. open the citation that quotes the company list: its sentence is highlighted
    n = card.locator("a.rag-fn").last.inner_text().strip("[]")
    card.locator("a.rag-fn").last.click()
    source = card.locator(f"li.rag-source.is-target[id$='-{n}']")
    mark = source.locator("details[open] mark")
    expect(mark).to_be_visible()
    expect(mark).to_contain_text("삼성전자")
    expect(source.locator("summary")).to_contain_text("2024-05-22")
    _shot(page, "03-citation-open.png")

    # 3. follow-up in the same session
    _ask(page, "And which of them are Korean?")
    expect(card.locator(".rag-text")).to_contain_text("(국내) 삼성전자, 네이버, 카카오")
    expect(page.locator("#rag-retrieval")).to_contain_text("Which companies signed the pledge?")
    expect(page.locator("#rag-retrieval")).to_contain_text("Follow-up")
    expect(chat).to_contain_text("And which of them are Korean?")
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
    _ask(page, "Where is the Moonfish Lantern Festival held?")
    expect(card.locator(".rag-text")).to_contain_text("Qelvar")
    expect(card.locator(".rag-sources")).to_contain_text("qelvar-gazette.txt")
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
    _ask(page, "Where does the Vexmoor Cheese Race start?")
    expect(card.locator(".rag-text")).to_contain_text('<img src=x onerror="window.__pwned=4">')
    _ask(page, "What did the organisers of the Zorbly Parade write on the banner?")
    expect(card).to_contain_text("<script>window.__pwned=3</script>")
    card.locator("a.rag-fn").first.click()
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img[src='x'], img[src$='/x']").count() == 0  # anywhere on the page
    assert page.locator("#rag-answer-card script, #rag-retrieval script").count() == 0
    _shot(page, "06-markup-as-text.png")

    (SHOTS / "timings.json").write_text(json.dumps(timings, indent=1), encoding="utf-8")
    print(f"\napp timings: {timings}")
