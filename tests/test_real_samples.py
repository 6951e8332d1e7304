"""Real-world documents: files written by Word, PowerPoint, Excel, Hangul and a scanner.

The files in tests/data/ come unchanged from packages on PyPI and npm (provenance,
licences and SHA-256 in tests/data/README.md). Each is read through ``rag.loaders``; the
strings checked were picked by reading the files with pypdf, python-pptx, python-docx,
openpyxl and the HWPX XML, not from the loaders' output. Questions about a fact on page
or slide N of an index built from them (the real model) must cite page or slide N.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

import rag
from rag.chunking import locate
from rag.errors import DocumentError
from rag.loaders import load_document

pytest.importorskip("docx", reason="the office extra: pip install -e '.[office]'")
pytest.importorskip("pptx", reason="the office extra: pip install -e '.[office]'")
pytest.importorskip("openpyxl", reason="the office extra: pip install -e '.[office]'")
pytest.importorskip("unhwp", reason="the hwp extra: pip install -e '.[hwp]'")

DATA = Path(__file__).resolve().parent / "data"

PDF = "indirect-rotation.pdf"
SPACING = "txt-paragraph-spacing.pptx"
LINES = "dml-line.pptx"
NESTED = "blk-paras-and-tables.docx"
STRICT = "strict-format.docx"
SHEETS = "sheets.xlsx"
GREETINGS = "utf8.xlsx"
HWP, HWPX, PROTECTED = "sample_document.hwp", "sample_document.hwpx", "protected_document.hwp"

ANTHEM = [  # the eight verse lines of 애국가, one <hp:p> each in the HWPX
    "동해 물과 백두산이 마르고 닳도록",
    "하느님이 보우하사 우리나라 만세",
    "남산 위의 저 소나무 철갑을 두른 듯",
    "바람 서리 불변함은 우리 기상일세",
    "가을 하늘 공활한데 높고 구름 없이",
    "밝은 달은 우리 가슴 일편단심일세",
    "이 기상과 이 맘으로 충성을 다하여",
    "괴로우나 즐거우나 나라 사랑하세",
]
CHORUS = ["무궁화 삼천리", "화려 강산", "대한 사람 대한으로", "길이 보전하세"]  # a 1-cell table


def load(name: str):
    return load_document(DATA / name)


def where(doc, needle: str) -> str:
    """The location the loader gives the first occurrence of ``needle``."""
    start = doc.text.index(needle)
    return locate(doc.marks, start, start + len(needle))


def test_every_sample_matches_its_recorded_checksum():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    recorded = dict(re.findall(r"^\| `([^`]+)` \|.*`([0-9a-f]{64})` \|$", readme, re.M))
    on_disk = {p.name for p in DATA.iterdir() if p.name != "README.md"}
    assert set(recorded) == on_disk
    for name, digest in recorded.items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest, name
        assert (DATA / name).stat().st_size < 200_000, name


# --- each reader on its real files ---------------------------------------------------------


def test_scanned_pdf_keeps_each_page_of_its_ocr_text():
    doc = load(PDF)
    assert [location for _, location in doc.marks] == [f"p. {n}" for n in range(1, 6)]
    assert doc.text.count("Appendix A - Members") == 5  # the running header of each page
    assert where(doc, "APL Co. Pte Ltd.") == "p. 1"
    assert where(doc, "Evergreen Marine Corporation (Taiwan) Ltd.") == "p. 2"
    assert where(doc, "Hanjin Shipping Co., Ltd.") == "p. 3"
    assert where(doc, "Maersk Line A/S") == "p. 3"
    assert where(doc, "Orient Overseas Container Line Ltd.") == "p. 4"
    assert where(doc, "Zim Integrated Shipping Services Ltd.") == "p. 5"
    assert where(doc, "Haifa 31016") == "p. 5"


def test_powerpoint_decks_keep_their_slides():
    spacing = load(SPACING)
    assert [location for _, location in spacing.marks] == ["slide 1", "slide 2", "slide 3"]
    assert where(spacing, "Paragraph having space before of 6 pt") == "slide 1"
    assert where(spacing, "Paragraph having space after of 6 pt") == "slide 2"
    assert where(spacing, "Paragraph having line spacing of 1.5 lines") == "slide 3"
    assert where(spacing, "Paragraph having line spacing of 20pt") == "slide 3"

    lines = load(LINES)
    assert [location for _, location in lines.marks] == [f"slide {n}" for n in range(1, 5)]
    assert where(lines, "Solid Outline Format") == "slide 1"
    assert where(lines, "RGB Outline Color") == "slide 2"
    assert where(lines, "Theme Outline Color") == "slide 2"
    assert where(lines, "line width") == "slide 3"  # "1 point<vertical tab>line width"
    assert where(lines, "Dash-dot") == "slide 4"


def test_word_file_keeps_paragraphs_and_table_cells_in_body_order():
    doc = load(NESTED)
    lorem = doc.text.index("Lorem ipsum dolor sit amet, consectetur adipiscing elit.")
    before, after = doc.text.index("Text before"), doc.text.index("Text after")
    donec = doc.text.index("Donec semper facilisis metus finibus malesuada.")
    assert lorem < before < after < donec
    assert doc.date == "2023-11-03"  # dcterms:created in docProps/core.xml


def test_word_table_nested_in_a_cell_is_read():
    doc = load(NESTED)
    assert "Table" in doc.text.replace("Text before", "").replace("Text after", "")
    assert doc.text.index("Text before") < doc.text.index("Between") < doc.text.index("Text after")


def test_word_strict_open_xml_file_is_read():
    assert "Test" in load(STRICT).text


def test_excel_files_keep_sheets_and_cell_ranges():
    sheets = load(SHEETS)
    assert sheets.title == "Use Case description & register"  # the core title
    assert where(sheets, "Шаблон сценария") == "'Реестр'!A2:G2"
    goal = "Одна или несколько определенных целей для сценария"
    assert where(sheets, goal) == "'Вариант использования'!A9:D9"
    assert where(sheets, "Полное название сценария") == "'Вариант использования'!A3:C3"

    greetings = load(GREETINGS)
    for row, (hello, language) in enumerate(
        [
            ("สวัสดี ครับ", "Thai language"),
            ("こんにちは", "Japanese language"),
            ("Здравствуйте", "Russian language"),
            ("नमस्ते", "Hindi"),
            ("السلام عليكم", "Arabic"),
        ],
        start=1,
    ):
        assert f"{hello} | {language}" in greetings.text
        assert where(greetings, hello) == f"'Sheet1'!A{row}:B{row}"


@pytest.mark.parametrize("name", [HWP, HWPX])
def test_hangul_files_keep_every_line_in_order(name):
    doc = load(name)
    assert doc.title == ANTHEM[0]  # the document summary's title
    positions = [doc.text.index(line) for line in ANTHEM + CHORUS]
    assert positions == sorted(positions)


def test_hwp_and_hwpx_of_one_document_give_the_same_text():
    assert load(HWP).text == load(HWPX).text


def test_password_protected_hangul_file_gets_a_clear_error():
    with pytest.raises(DocumentError, match="protected with a password"):
        load(PROTECTED)


# --- end to end: the real model cites the page or slide of the fact ------------------------


@pytest.fixture(scope="module")
def samples_qa(tmp_path_factory):
    folder = tmp_path_factory.mktemp("samples")
    for name in [PDF, SPACING, LINES, GREETINGS, HWPX]:
        shutil.copy(DATA / name, folder / name)
    return rag.build([folder], index_dir=tmp_path_factory.mktemp("samples-index"))


@pytest.mark.parametrize(
    ("question", "doc_id", "location", "quoted"),
    [
        ("Where is Hanjin Shipping Co., Ltd. located?", PDF, "p. 3", "Hanjin"),
        ("What is the address of Zim Integrated Shipping Services?", PDF, "p. 5", "Zim"),
        ("Which paragraph has a line spacing of 1.5 lines?", SPACING, "slide 3", "1.5 lines"),
        ("Which outline colour is RGB?", LINES, "slide 2", "RGB Outline Color"),
        ("How do you say hello in Japanese?", GREETINGS, "'Sheet1'!A2:B2", "こんにちは"),
    ],
)
def test_a_question_about_page_or_slide_n_cites_it(samples_qa, question, doc_id, location, quoted):
    answer = samples_qa.ask(question)
    assert not answer.refused, question
    first = answer.citations[0]
    assert (first.doc_id, first.location) == (doc_id, location), question
    assert quoted in first.quote


def test_a_korean_question_about_the_hangul_file_quotes_its_line(samples_qa):
    answer = samples_qa.ask("남산 위의 저 소나무는 무엇을 두른 듯한가요?")
    assert not answer.refused
    first = answer.citations[0]
    assert (first.doc_id, first.quote) == (HWPX, "남산 위의 저 소나무 철갑을 두른 듯")
