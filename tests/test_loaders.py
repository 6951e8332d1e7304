"""Loaders and text normalisation: real corpus files, every format, every bad input."""

from __future__ import annotations

import hashlib
import io
import logging
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.errors import DocumentError
from rag.loaders import guess_metadata, load_bytes, load_document, load_documents
from rag.textnorm import detect_lang, fold, normalize

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
ODD = ["\u00a0", "\u30fb", "\u2027", "\u200b", "\ufeff", "\r"]


def tiny_pdf(pages: list[str]) -> bytes:
    """A minimal valid PDF with one line of Helvetica text per page, offsets computed."""
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, text in enumerate(pages):
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
        objs.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        objs.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def encrypted(pdf: bytes, *, user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


# --- the real corpus ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, title, date, source",
    [
        (
            "ai-global-forum-2024.txt",
            "[보도자료] AI 글로벌 포럼 개회식",
            "2024-05-22",
            "국무조정실",
        ),
        (
            "reaim-2023.txt",
            "박진,`인공지능의 책임 있는 군사적 이용에 관한 고위급회의(REAIM 2023)` 참석",
            "2023-02-17",
            "일간환경연합",
        ),
    ],
)
def test_corpus_metadata(name, title, date, source):
    doc = load_document(CORPUS / name)
    assert (doc.doc_id, doc.title, doc.date, doc.source) == (name, title, date, source)
    assert doc.path == str((CORPUS / name).resolve())
    assert doc.content_hash == hashlib.sha256(doc.text.encode("utf-8")).hexdigest()


def test_corpus_text_is_normalised_and_keeps_boilerplate():
    docs = {d.doc_id: d for d in load_documents([CORPUS])}
    assert sorted(docs) == ["ai-global-forum-2024.txt", "reaim-2023.txt"]
    for doc in docs.values():
        raw = (CORPUS / doc.doc_id).read_text(encoding="utf-8")
        assert not [ch for ch in ODD if ch in doc.text], doc.doc_id
        assert normalize(doc.text) == doc.text
        assert doc.text.count("\n") == raw.count("\n")  # offsets stay line-aligned
    assert "혁신·포용성" in docs["ai-global-forum-2024.txt"].text  # was U+30FB
    assert "장관·카이사" in docs["reaim-2023.txt"].text  # was U+2027
    assert "본문 바로가기" in docs["ai-global-forum-2024.txt"].text  # boilerplate is kept
    assert "A.X K1" in docs["reaim-2023.txt"].text  # the sidebar headline is kept


def test_same_file_gives_same_hash_and_id():
    a, b = load_documents([CORPUS]), load_documents([CORPUS])
    assert [(d.doc_id, d.content_hash) for d in a] == [(d.doc_id, d.content_hash) for d in b]


# --- formats ------------------------------------------------------------------------------


def test_txt_round_trip(tmp_path):
    path = tmp_path / "note.txt"
    path.write_bytes(
        "\ufeff제목이 여기에 있습니다\r\n2024-03-01 과학기술부\r\n본문\u00a0입니다.\r".encode()
    )
    doc = load_document(path)
    assert doc.text == "제목이 여기에 있습니다\n2024-03-01 과학기술부\n본문 입니다.\n"
    assert (doc.doc_id, doc.title, doc.date, doc.source) == (
        "note.txt",
        "제목이 여기에 있습니다",
        "2024-03-01",
        "과학기술부",
    )


def test_txt_without_metadata_falls_back_to_stem_and_name(tmp_path):
    path = tmp_path / "short.txt"
    path.write_text("hi\nok", encoding="utf-8")
    doc = load_document(path)
    assert (doc.title, doc.date, doc.source) == ("short", "", "short.txt")


def test_markdown_front_matter_is_metadata_not_text(tmp_path):
    path = tmp_path / "a.md"
    path.write_text(
        '---\ntitle: "Seoul AI Summit"\ndate: 2024-05-21\nsource: MSIT\ntags: [ai]\n---\n'
        "# Heading\n\nBody text.\n",
        encoding="utf-8",
    )
    doc = load_document(path)
    assert doc.text == "# Heading\n\nBody text.\n"
    assert (doc.title, doc.date, doc.source) == ("Seoul AI Summit", "2024-05-21", "MSIT")


def test_markdown_heading_is_the_title(tmp_path):
    path = tmp_path / "b.md"
    path.write_text("intro line\n\n# The Frontier AI Safety Commitments\n\ntext", encoding="utf-8")
    assert load_document(path).title == "The Frontier AI Safety Commitments"


HTML = """<!doctype html><html><head>
<meta charset="utf-8"><title>AI 서울 정상회의 &amp; 포럼</title>
<meta property="article:published_time" content="2024-05-21T09:00:00+09:00">
<meta property="og:site_name" content="과학기술정보통신부">
<style>body { color: red }</style><script>var secret = "head script";</script>
</head><body>
<nav><ul><li>Home</li><li>News</li></ul></nav>
<h1>Seoul Summit opens</h1>
<p>First   paragraph
spans lines.</p><p>Second<br>line</p>
<script>alert(1)</script><noscript>enable javascript</noscript>
<img src=x onerror="alert(2)"><template><p>hidden template</p></template>
<p>Shown &lt;script&gt; as text</p>
<table><tr><td>a</td><td>b</td></tr></table>
</body></html>"""


def test_html_visible_text_title_and_meta(tmp_path):
    path = tmp_path / "page.HTML"
    path.write_text(HTML, encoding="utf-8")
    doc = load_document(path)
    assert doc.title == "AI 서울 정상회의 & 포럼"
    assert (doc.date, doc.source) == ("2024-05-21", "과학기술정보통신부")
    lines = doc.text.split("\n")
    assert "First paragraph spans lines." in lines
    assert "Second" in lines and "line" in lines
    assert "Seoul Summit opens" in lines and "Home" in lines
    for gone in ("alert", "onerror", "secret", "color", "enable javascript", "hidden template"):
        assert gone not in doc.text
    assert "<img" not in doc.text and "<p>" not in doc.text
    assert "Shown <script> as text" in lines  # escaped text is text, never markup
    assert "\n\n\n" not in doc.text
    assert normalize(doc.text) == doc.text


def test_html_falls_back_to_h1_and_text_date(tmp_path):
    page = "<html><body><div>메뉴</div><h1>Headline of the page</h1><p>2023.02.17 연합</p></body>"
    doc = load_bytes(page.encode(), filename="p.htm")
    assert (doc.title, doc.date, doc.source) == ("Headline of the page", "2023-02-17", "연합")


def test_html_with_euc_kr_charset(tmp_path):
    page = '<html><head><meta charset="euc-kr"><title>한국어 페이지</title></head><body>본문</body>'
    doc = load_bytes(page.encode("cp949"), filename="k.html")
    assert (doc.title, doc.text) == ("한국어 페이지", "본문")


def test_html_declared_charset_is_used():
    page = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
    page += '<meta name="date" content="2019/07/01"></head><body><p>Caf\u00e9 cr\u00e8me</p>'
    doc = load_bytes(page.encode("cp1252"), filename="fr.html")
    assert (doc.text, doc.date) == ("Café crème", "2019-07-01")


def test_pdf_metadata_title_and_creation_date_fallback():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(tiny_pdf(["short"]))))
    writer.add_metadata({"/Title": "Annual AI Report", "/CreationDate": "D:20240131120000"})
    buf = io.BytesIO()
    writer.write(buf)
    doc = load_bytes(buf.getvalue(), filename="r.pdf")
    assert (doc.title, doc.date) == ("Annual AI Report", "2024-01-31")


def test_html_with_only_markup_is_empty(tmp_path):
    with pytest.raises(DocumentError, match="empty"):
        load_bytes(
            b"<html><head><title>t</title></head><body><script>x()</script>", filename="e.html"
        )


def test_pdf_round_trip(tmp_path):
    path = tmp_path / "two.pdf"
    path.write_bytes(tiny_pdf(["Hello page one", "Second page here"]))
    doc = load_document(path)
    assert doc.text == "Hello page one\n\nSecond page here"
    assert doc.title == "Hello page one" and doc.doc_id == "two.pdf"


def test_pdf_encrypted_with_a_password_is_refused():
    data = encrypted(tiny_pdf(["Secret text"]), user_password="secret")
    with pytest.raises(DocumentError, match="encrypted PDF; decrypt it first"):
        load_bytes(data, filename="locked.pdf")


def test_pdf_with_empty_user_password_is_read():
    data = encrypted(tiny_pdf(["Owner restricted only"]), user_password="")
    assert load_bytes(data, filename="restricted.pdf").text == "Owner restricted only"


def test_pdf_without_text_layer_needs_ocr():
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    buf = io.BytesIO()
    writer.write(buf)
    with pytest.raises(DocumentError, match="no text layer; OCR it first"):
        load_bytes(buf.getvalue(), filename="scan.pdf")


@pytest.mark.parametrize("data", [b"%PDF-1.4 garbage", b"not a pdf at all", tiny_pdf(["x"])[:60]])
def test_broken_pdf_names_the_reason(data):
    with pytest.raises(DocumentError, match=r"broken\.pdf: cannot read this PDF \(\w+"):
        load_bytes(data, filename="broken.pdf")


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [b"\x00\x01\x02binary\x00junk" * 50, bytes(range(1, 32)) * 20, b"PK\x03\x04\x00\x00"]
)
def test_binary_is_refused(tmp_path, data):
    path = tmp_path / "blob.txt"
    path.write_bytes(data)
    with pytest.raises(DocumentError, match="looks binary"):
        load_document(path)


def test_cp949_text_is_decoded(tmp_path):
    text = "국무조정실 보도자료입니다.\n한덕수 국무총리가 참석했습니다.\n"
    path = tmp_path / "old.txt"
    path.write_bytes(text.encode("cp949"))
    assert load_document(path).text == text


def test_utf16_with_bom_is_decoded():
    assert (
        load_bytes("윈도 메모장 문서".encode("utf-16"), filename="w.txt").text == "윈도 메모장 문서"
    )


@pytest.mark.parametrize("data", [b"hello \xff\xfe\xfd world", "café crème".encode("latin-1")])
def test_invalid_bytes_are_refused(data):
    with pytest.raises(DocumentError, match="not UTF-8 or CP949 text; re-save it as UTF-8"):
        load_bytes(data, filename="bad.txt")


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n ", "\u200b\u00a0\ufeff".encode()])
def test_empty_text_is_refused(data):
    with pytest.raises(DocumentError, match="empty"):
        load_bytes(data, filename="empty.txt")


def test_empty_folder_names_path_and_types(tmp_path):
    folder = tmp_path / "nothing"
    folder.mkdir()
    with pytest.raises(DocumentError, match=r"nothing.*\.txt, \.md, \.html, \.htm, \.pdf"):
        load_documents([folder])


def test_folder_with_only_unsupported_files(tmp_path, caplog):
    (tmp_path / "a.doc").write_bytes(b"PK")
    (tmp_path / ".hidden.txt").write_text("secret", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="rag.loaders"):
        with pytest.raises(DocumentError, match="no documents"):
            load_documents([tmp_path])
    assert "a.doc" in caplog.text and "hidden" not in caplog.text


def test_named_unsupported_file_raises(tmp_path):
    path = tmp_path / "notes.doc"
    path.write_bytes(b"hello")
    with pytest.raises(DocumentError, match=r"unsupported file type '\.doc'.*\.pdf"):
        load_documents([path])


def test_missing_path_raises(tmp_path):
    with pytest.raises(DocumentError, match="no such file or folder"):
        load_documents([tmp_path / "missing"])


def test_too_large_names_size_and_limit(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("x" * 2000, encoding="utf-8")
    with pytest.raises(DocumentError, match="2,000 bytes.*limit is 1,000 bytes"):
        load_document(path, max_bytes=1000)
    with pytest.raises(DocumentError, match="2,000 bytes.*limit is 1,000 bytes"):
        load_bytes(b"y" * 2000, filename="big.txt", max_bytes=1000)


@pytest.mark.parametrize(
    "filename, doc_id",
    [
        ("../../etc/notes.txt", "notes.txt"),
        ("/etc/../secret/report.md", "report.md"),
        ("C:\\Users\\kim\\문서.txt", "문서.txt"),
        (unicodedata.normalize("NFD", "보도자료.txt"), "보도자료.txt"),  # macOS upload
        ("re\x00port\n.txt", "report.txt"),
    ],
)
def test_upload_names_are_sanitised(filename, doc_id):
    doc = load_bytes("업로드된 문서의 본문입니다.".encode(), filename=filename)
    assert (doc.doc_id, doc.path) == (doc_id, "")


@pytest.mark.parametrize("filename", ["../../etc/passwd", "..", "", "uploads/"])
def test_upload_names_without_a_usable_file_are_refused(filename):
    with pytest.raises(DocumentError, match="unsupported|no usable file name"):
        load_bytes(b"root:x:0:0", filename=filename)


# --- folders ------------------------------------------------------------------------------


def test_folder_recursion_ids_order_and_skips(tmp_path, caplog):
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    (tmp_path / "b.txt").write_text("second document text", encoding="utf-8")
    (tmp_path / "a.md").write_text("first document text", encoding="utf-8")
    (tmp_path / "sub" / "c.html").write_text("<p>third document</p>", encoding="utf-8")
    (tmp_path / "sub" / "deeper" / "d.txt").write_text("fourth document", encoding="utf-8")
    (tmp_path / "sub" / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / ".git" / "x.txt").write_text("not this", encoding="utf-8")
    (tmp_path / ".DS_Store.txt").write_text("not this", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="rag.loaders"):
        docs = load_documents([str(tmp_path)])
    assert [d.doc_id for d in docs] == ["a.md", "b.txt", "sub/c.html", "sub/deeper/d.txt"]
    assert "image.png" in caplog.text
    assert all(Path(d.path).is_absolute() for d in docs)


def test_single_path_string_is_one_path(tmp_path):
    (tmp_path / "a.txt").write_text("some text here", encoding="utf-8")
    assert [d.doc_id for d in load_documents(str(tmp_path / "a.txt"))] == ["a.txt"]


def test_same_doc_id_from_two_folders_is_an_error(tmp_path):
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.txt").write_text(f"text of {folder}", encoding="utf-8")
    with pytest.raises(DocumentError, match="same.txt"):
        load_documents([tmp_path / "x", tmp_path / "y"])
    path = tmp_path / "x" / "same.txt"
    assert len(load_documents([path, path])) == 1  # the same file twice is fine


def test_bad_file_in_folder_raises_or_is_skipped(tmp_path, caplog):
    (tmp_path / "good.txt").write_text("good text", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"\x00" * 100)
    with pytest.raises(DocumentError, match="bad.txt.*binary"):
        load_documents([tmp_path])
    with caplog.at_level(logging.WARNING, logger="rag.loaders"):
        docs = load_documents([tmp_path], on_error="skip")
    assert [d.doc_id for d in docs] == ["good.txt"] and "bad.txt" in caplog.text


# --- metadata heuristics ------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, date",
    [
        ("등록 2024. 5. 22. 10:00", "2024-05-22"),
        ("2023년 2월 17일 발표", "2023-02-17"),
        ("posted 2024/05/09", "2024-05-09"),
        ("v2024.13.45 then 2021-01-02", "2021-01-02"),
        ("tel 02-2024-05-22", ""),
        ("id 2024-05-22-7 then 2020.2.29", "2020-02-29"),
        ("2023.02.29 is not a day", ""),
        ("no date here", ""),
    ],
)
def test_date_formats(line, date):
    assert guess_metadata(f"A title long enough\n{line}\nbody")["date"] == date


@pytest.mark.parametrize(
    "text, source",
    [
        ("Long enough title\n2024.05.22(수) 국무조정실\nbody", "국무조정실"),
        ("Long enough title\n2024.05.22 조회 153\nbody", ""),
        ("Long enough title\n2024.05.22\n(서울=연합뉴스) 홍길동 기자 = 본문", "연합뉴스"),
    ],
)
def test_source_heuristics(text, source):
    assert guess_metadata(text)["source"] == source


def test_title_skips_bullets_and_menus():
    text = "본문 바로가기 메뉴\n진짜 제목은 이 줄입니다\n• 홍길동 기자 이름입니다\n2024-01-02"
    assert guess_metadata(text)["title"] == "진짜 제목은 이 줄입니다"


# --- textnorm -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("a\r\nb\rc", "a\nb\nc"),
        ("a\u00a0b\u2003c\u202fd\u3000e", "a b c d e"),
        ("zero\u200bwidth\ufeff\u2060\u200d", "zerowidth"),
        ("안전성\u30fb혁신\u2027포용\uff65끝\u2219\u22c5", "안전성·혁신·포용·끝··"),
        ("ＡＢＣ１２３", "ABC123"),
        (unicodedata.normalize("NFD", "한국어"), "한국어"),
        ("ㅇ 이번 ㄱㄴ", "ㅇ 이번 ㄱㄴ"),  # compatibility jamo survive NFKC
        ("bell\x07 nul\x00 del\x7f c1\x9b", "bell nul del c1"),
        ("tab\tand\n\n\nblank  lines  ", "tab\tand\n\n\nblank  lines  "),
        ("lone \ud800 surrogate", "lone  surrogate"),
    ],
)
def test_normalize_cases(raw, expected):
    assert normalize(raw) == expected


def test_fold():
    assert fold("  Ｈｅｌｌｏ\u00a0\n\n  WORLD  ") == "hello world"
    assert fold("Straße") == fold("STRASSE")
    assert fold(unicodedata.normalize("NFD", "헤이그")) == "헤이그"


@pytest.mark.parametrize(
    "text, lang",
    [
        ("", "en"),
        ("12345 !?", "en"),
        ("Which companies signed the pledge?", "en"),
        ("서울 AI 기업 서약", "ko"),
        ("SKT A.X K1 모델은 무엇인가?", "ko"),
        ("The Seoul summit (서울) was held in May", "en"),
    ],
)
def test_detect_lang(text, lang):
    assert detect_lang(text) == lang


@settings(max_examples=500, deadline=None)
@given(st.text(st.characters(exclude_categories=())))
def test_normalize_is_total_and_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once
    once.encode("utf-8")  # no lone surrogates left
    assert "\r" not in once and not any(ch in once for ch in ODD)
    assert all(ch in "\n\t" or unicodedata.category(ch) != "Cc" for ch in once)
    assert all(ch == "\n" or len(f"a{ch}a".splitlines()) == 1 for ch in set(once))
    assert fold(fold(text)) == fold(text)
    assert detect_lang(text) in ("ko", "en")
