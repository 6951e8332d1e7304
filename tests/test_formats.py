"""Office, Hangul and web documents: real files made with the formats' own writers.

Every chunk keeps where it comes from (page, slide, sheet range, heading path), and bad
files (zip bombs, renamed PDFs, encrypted or truncated files) get a clear error.
"""

from __future__ import annotations

import contextlib
import io
import sys
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import rag
from rag.chunking import chunk_document, locate
from rag.errors import DocumentError
from rag.loaders import SUPPORTED, load_bytes, load_documents, load_url

docx = pytest.importorskip("docx", reason="the office extra: pip install -e '.[office]'")
pptx = pytest.importorskip("pptx", reason="the office extra: pip install -e '.[office]'")
openpyxl = pytest.importorskip("openpyxl", reason="the office extra: pip install -e '.[office]'")

FACT = "서울 AI 기업 서약에는 삼성전자, 네이버 등 14개 기업이 참여했다."


def make_docx() -> bytes:
    document = docx.Document()
    document.core_properties.title = "서약 보고서"
    document.add_heading("1. 개요", 1)
    document.add_paragraph("The Seoul pledge was signed on 22 May 2024.")
    document.add_heading("1.1 참여 기업", 2)
    document.add_paragraph(FACT)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "도시", "인구"
    table.cell(1, 0).text, table.cell(1, 1).text = "부산", "330만"
    document.add_heading("2. 다음 단계", 1)
    document.add_paragraph("The next summit will be held in France.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_pptx(slides: list[str]) -> bytes:
    deck = pptx.Presentation()
    for number, body in enumerate(slides, start=1):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = f"Slide title {number}"
        slide.placeholders[1].text = body
    deck.slides[0].notes_slide.notes_text_frame.text = "Speaker notes: mention Gwangju."
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def make_xlsx() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "인구"
    sheet.append(["도시", "인구", "면적"])
    sheet.append(["서울", 9_400_000, 605.2])
    sheet.append(["Busan", 3_300_000, 770.0])
    notes = book.create_sheet("Notes 2024")
    notes["C5"] = "Incheon airport opened in 2001."
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def make_hwpx(paragraphs: list[str], title: str = "시험 문서") -> bytes:
    """A minimal HWPX package: a zip of OWPML XML, as Hangul writes it."""
    hp, hs = (
        "http://www.hancom.co.kr/hwpml/2011/paragraph",
        "http://www.hancom.co.kr/hwpml/2011/section",
    )
    body = "".join(
        f'<hp:p id="{i}" paraPrIDRef="0" styleIDRef="0"><hp:run charPrIDRef="0">'
        f"<hp:t>{text}</hp:t></hp:run></hp:p>"
        for i, text in enumerate(paragraphs)
    )
    files = {
        "META-INF/container.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><ocf:container '
            'xmlns:ocf="urn:oasis:names:tc:opendocument:xmlns:container"><ocf:rootfiles>'
            '<ocf:rootfile full-path="Contents/content.hpf" '
            'media-type="application/hwpml-package+xml"/></ocf:rootfiles></ocf:container>'
        ),
        "Contents/content.hpf": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<opf:package xmlns:opf="http://www.idpf.org/2007/opf/">'
            f"<opf:metadata><opf:title>{title}</opf:title></opf:metadata><opf:manifest>"
            '<opf:item id="header" href="Contents/header.xml" media-type="application/xml"/>'
            '<opf:item id="section0" href="Contents/section0.xml" media-type="application/xml"/>'
            '</opf:manifest><opf:spine><opf:itemref idref="header" linear="no"/>'
            '<opf:itemref idref="section0"/></opf:spine></opf:package>'
        ),
        "Contents/header.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><hh:head '
            'xmlns:hh="http://www.hancom.co.kr/hwpml/2011/head" version="1.4" secCnt="1"/>'
        ),
        "Contents/section0.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><hs:sec xmlns:hs="{hs}" xmlns:hp="{hp}">'
            f"{body}</hs:sec>"
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/hwp+zip")
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


def zip_bomb(inner: str = "word/document.xml", megabytes: int = 300) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(inner, "w") as member:
            for _ in range(megabytes):
                member.write(b"\0" * 1_000_000)
    return out.getvalue()


def test_every_new_format_is_supported():
    assert {".docx", ".pptx", ".xlsx", ".hwpx", ".hwp"} <= set(SUPPORTED)


def test_docx_keeps_text_tables_title_and_heading_path():
    doc = load_bytes(make_docx(), filename="report.docx")
    assert doc.title == "서약 보고서"
    assert FACT in doc.text and "부산 | 330만" in doc.text
    chunks = chunk_document(doc, chunk_size=60, overlap=0)
    where = {c.text.split("\n")[0]: c.location for c in chunks}
    assert where[FACT] == "§ 1. 개요 › 1.1 참여 기업"
    last = next(c for c in chunks if "France" in c.text)
    assert last.location == "§ 2. 다음 단계"


def test_pptx_chunks_cite_their_slide():
    deck = make_pptx(["Intro to the pledge.", FACT, "The next summit is in France."])
    doc = load_bytes(deck, filename="deck.pptx")
    assert doc.title == "Slide title 1" and "Speaker notes: mention Gwangju." in doc.text
    chunk = next(c for c in chunk_document(doc, chunk_size=50, overlap=0) if "14개" in c.text)
    assert chunk.location == "slide 2"


def test_xlsx_rows_cite_sheet_and_cell_range():
    doc = load_bytes(make_xlsx(), filename="stats.xlsx")
    assert "서울 | 9400000 | 605.2" in doc.text and "Busan | 3300000 | 770" in doc.text
    assert ("'Notes 2024'!C5:C5" in dict(map(reversed, doc.marks))) is True
    first = chunk_document(doc, chunk_size=60, overlap=0)[0]
    assert "도시" in first.text and "Busan" in first.text and "Incheon" not in first.text
    assert first.location == "'인구'!A1:C3"  # one chunk over the sheet's three rows
    small = chunk_document(doc, chunk_size=50, overlap=0)
    assert next(c for c in small if "Incheon" in c.text).location == "'Notes 2024'!C5:C5"


def test_hwpx_text_and_title():
    pytest.importorskip("unhwp", reason="the hwp extra: pip install -e '.[hwp]'")
    doc = load_bytes(make_hwpx(["첫 문단입니다.", FACT]), filename="보도자료.hwpx")
    assert doc.title == "시험 문서" and FACT in doc.text


@pytest.mark.parametrize(
    "name, payload, message",
    [
        ("bomb.docx", lambda: zip_bomb(), "zip bomb"),
        ("bomb.hwpx", lambda: zip_bomb("Contents/section0.xml"), "zip bomb"),
        ("report.docx", lambda: b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", "it is a PDF"),
        ("locked.xlsx", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "encrypted"),
        ("half.pptx", lambda: make_pptx(["one"])[:3000], "cannot open it as PowerPoint"),
        ("half.docx", lambda: make_docx()[:-200], "cannot open it as Word"),
        ("empty.docx", lambda: b"", "empty"),
        ("empty.hwp", lambda: b"", "empty"),
        ("fake.hwp", lambda: b"%PDF-1.4\n" + b"x" * 100, "cannot read this Hangul|'hwp' extra"),
        ("plain.xlsx", lambda: make_docx(), "cannot read this Excel"),
    ],
)
def test_bad_office_and_hangul_files_get_a_clear_error(name, payload, message):
    with pytest.raises(DocumentError, match=message):
        load_bytes(payload(), filename=name)


def test_missing_extra_names_the_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "unhwp", None)  # as if the hwp extra were not installed
    with pytest.raises(DocumentError, match=r"pip install 'rag\[hwp\]'"):
        load_bytes(make_hwpx(["본문"]), filename="a.hwpx")


def test_pdf_pages_markdown_and_html_headings_are_marked():
    from test_loaders import tiny_pdf

    pdf = load_bytes(tiny_pdf(["First page.", "Second page.", "Third page."]), filename="a.pdf")
    assert [loc for _, loc in pdf.marks] == ["p. 1", "p. 2", "p. 3"]
    assert all(
        pdf.text[at:].startswith(word)
        for (at, _), word in zip(pdf.marks, ["First", "Second", "Third"])
    )
    md = load_bytes(
        b"# Guide\n\nIntro.\n\n## Install\n\n```\n# not a heading\n```\n\n## Use\n\nRun it.\n",
        filename="g.md",
    )
    assert [loc for _, loc in md.marks] == ["§ Guide", "§ Guide › Install", "§ Guide › Use"]
    html = "<h1>News</h1><p>Lead.</p><h2>Forum</h2><p>Body.</p><h3>Q&amp;A</h3><p>More.</p>"
    page = load_bytes(html.encode(), filename="n.html")
    assert [loc for _, loc in page.marks] == ["§ News", "§ News › Forum", "§ News › Forum › Q&A"]
    assert page.text[page.marks[2][0] :].startswith("Q&A")


def test_locate_spans_pages_slides_and_sheet_rows():
    pages = ((0, "p. 1"), (10, "p. 2"), (20, "p. 3"))
    assert (locate(pages, 12, 18), locate(pages, 5, 25), locate(pages, 25, 30)) == (
        "p. 2",
        "pp. 1–3",
        "p. 3",
    )
    rows = ((0, "S!A1:C1"), (10, "S!A2:D2"), (20, "T!B1:B1"))
    assert (locate(rows, 0, 15), locate(rows, 5, 25)) == ("S!A1:D2", "S!A1:C1")
    assert locate((), 0, 5) == "" and locate(((4, "§ A"),), 0, 9) == ""


# --- web pages on a loopback server -------------------------------------------------------

PAGE = """<html><head><title>서울 AI 서약 | 과기정통부</title>
<meta property="article:published_time" content="2024-05-22T09:00:00+09:00"></head>
<body><nav>홈 | 뉴스 | 로그인</nav><h1>서울 AI 서약</h1><h2>참여 기업</h2><p>{fact}</p>
<footer>Copyright 2024</footer></body></html>"""


class _Pages(BaseHTTPRequestHandler):
    routes = {
        "/news": ("text/html; charset=utf-8", PAGE.format(fact=FACT).encode()),
        "/euckr": ("text/html; charset=euc-kr", PAGE.format(fact=FACT).encode("cp949")),
        "/report.pdf": ("application/pdf", b"%PDF-1.4\n"),
        "/big": ("text/html", b"<p>" + b"x" * 5000 + b"</p>"),
    }

    def do_GET(self):  # noqa: N802 - the name http.server calls
        if self.path == "/slow":
            threading.Event().wait(3)
        content_type, body = self.routes.get(self.path, ("text/html", b""))
        if self.path not in self.routes and self.path != "/slow":
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # the client gave up on /slow: a broken pipe is the point of that test


@contextlib.contextmanager
def serve_pages(handler: type[_Pages]) -> Iterator[str]:
    """Serve ``handler``'s routes on a free loopback port; yields the base URL, then stops."""
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def site():
    with serve_pages(_Pages) as url:
        yield url


def test_url_is_loaded_with_its_title_date_and_source(site):
    doc = load_url(f"{site}/news#top")
    assert doc.doc_id == doc.source == doc.path == f"{site}/news"
    assert doc.title == "서울 AI 서약 | 과기정통부" and doc.date == "2024-05-22"
    assert FACT in doc.text
    chunk = next(c for c in chunk_document(doc, chunk_size=60, overlap=0) if "14개" in c.text)
    assert chunk.location == "§ 서울 AI 서약 › 참여 기업"


def test_url_charset_from_the_header_and_urls_in_load_documents(site):
    docs = load_documents([f"{site}/euckr"])
    assert FACT in docs[0].text and docs[0].doc_id == f"{site}/euckr"


@pytest.mark.parametrize(
    "path, message",
    [
        ("/report.pdf", r"not an HTML page \(Content-Type: application/pdf\)"),
        ("/missing", "HTTP 404"),
        ("/big", "limit is 1,000 bytes"),
        ("/slow", "cannot fetch the page"),
    ],
)
def test_bad_urls_get_a_clear_error(site, path, message):
    with pytest.raises(DocumentError, match=message):
        load_url(site + path, timeout=1, max_bytes=1000)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "http://", "file:///etc/passwd"])
def test_not_a_web_address(url):
    with pytest.raises(DocumentError, match="not a web address"):
        load_url(url)


# --- end to end: the real model, a question about page 3 cites page 3 ----------------------


def test_answers_cite_the_page_and_slide_of_the_fact(tmp_path):
    from test_loaders import tiny_pdf

    folder = tmp_path / "docs"
    folder.mkdir()
    filler = " ".join(f"Section {i} of the harbour plan lists routine upkeep." for i in range(9))
    pages = [
        "Annual report of the Qelvar harbour authority. " + filler,
        "The harbour dredging finished in March. " + filler,
        filler + " The Qelvar wind farm has 48 turbines on the north pier. " + filler,
    ]
    (folder / "report.pdf").write_bytes(tiny_pdf(pages))
    slides = [
        "Agenda for the board. " + filler,
        filler + " The Zorbly ferry carries 900 people a day.",
    ]
    (folder / "deck.pptx").write_bytes(make_pptx(slides))
    qa = rag.build([folder], index_dir=tmp_path / "index")
    chunks = {c.chunk_id: c for c in qa.data.chunks}
    for question, doc_id, location in [
        ("How many turbines does the Qelvar wind farm have?", "report.pdf", "p. 3"),
        ("How many people does the Zorbly ferry carry a day?", "deck.pptx", "slide 2"),
    ]:
        top = qa.search(question, top_k=1)[0].chunk
        assert (top.doc_id, top.location) == (doc_id, location), question
        answer = qa.ask(question)
        assert not answer.refused, question
        citation = answer.citations[0]
        assert (citation.doc_id, citation.location) == (doc_id, location), question
        assert chunks[citation.chunk_id].location == location
    reopened = rag.open(tmp_path / "index")  # chunks.jsonl keeps the location
    assert {c.location for c in reopened.data.chunks} >= {"p. 3", "slide 2"}


def test_rag_index_reads_a_url_served_on_loopback(site, tmp_path, capsys):
    from rag.cli import main

    assert main(["index", f"{site}/news", "--index-dir", str(tmp_path / "index")]) == 0
    assert "indexed 1 documents" in capsys.readouterr().out
    doc = rag.open(tmp_path / "index").documents()[0]
    assert (doc.doc_id, doc.date) == (f"{site}/news", "2024-05-22")
    assert doc.title == "서울 AI 서약 | 과기정통부"
