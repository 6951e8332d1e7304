"""Word tables nested in table cells, and Strict Open XML Office files.

The files are made here with python-docx / python-pptx / openpyxl's own writers; the
Strict ones by rewriting those files' namespaces to the Strict ones (ECMA-376 Part 1,
Strict), as Word's "Save as Strict Open XML Document" writes them.
"""

from __future__ import annotations

import io
import zipfile

import pytest

from rag.chunking import locate
from rag.errors import DocumentError
from rag.loaders import load_bytes
from rag.loaders.office import office_file

docx = pytest.importorskip("docx", reason="the office extra: pip install -e '.[office]'")
pptx = pytest.importorskip("pptx", reason="the office extra: pip install -e '.[office]'")
openpyxl = pytest.importorskip("openpyxl", reason="the office extra: pip install -e '.[office]'")

S, T = "http://purl.oclc.org/ooxml/", "http://schemas.openxmlformats.org/"
# Transitional -> Strict, written out here rather than taken from the product's table.
TO_STRICT = [
    (
        T + "officeDocument/2006/relationships/extended-properties",
        S + "officeDocument/relationships/extendedProperties",
    ),
    (T + "officeDocument/2006/extended-properties", S + "officeDocument/extendedProperties"),
    (T + "officeDocument/2006/docPropsVTypes", S + "officeDocument/docPropsVTypes"),
    (T + "officeDocument/2006/relationships", S + "officeDocument/relationships"),
    (T + "officeDocument/2006/math", S + "officeDocument/math"),
    (T + "wordprocessingml/2006/main", S + "wordprocessingml/main"),
    (T + "presentationml/2006/main", S + "presentationml/main"),
    (T + "spreadsheetml/2006/main", S + "spreadsheetml/main"),
    (T + "drawingml/2006/wordprocessingDrawing", S + "drawingml/wordprocessingDrawing"),
    (T + "drawingml/2006/picture", S + "drawingml/picture"),
    (T + "drawingml/2006/chart", S + "drawingml/chart"),
    (T + "drawingml/2006/main", S + "drawingml/main"),
]


def save(document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def rewrite(data: bytes, edit) -> bytes:
    """The zip ``data`` with ``edit(name, bytes)`` applied to each member."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in source.infolist():
            copy.writestr(info, edit(info.filename, source.read(info)))
    return out.getvalue()


def to_strict(data: bytes) -> bytes:
    def edit(name: str, part: bytes) -> bytes:
        if name.endswith((".xml", ".rels")):
            for transitional, strict in TO_STRICT:
                part = part.replace(transitional.encode(), strict.encode())
        return part

    strict = rewrite(data, edit)
    rels = zipfile.ZipFile(io.BytesIO(strict)).read("_rels/.rels")
    assert S.encode() + b"officeDocument/relationships/officeDocument" in rels
    return strict


def nested_document():
    """Heading, a 1x2 table whose second cell holds text, a 2x2 table, more text."""
    document = docx.Document()
    document.add_heading("Budget", level=1)
    document.add_paragraph("Intro paragraph.")
    outer = document.add_table(rows=1, cols=2)
    outer.cell(0, 0).text = "Left cell"
    cell = outer.cell(0, 1)
    cell.paragraphs[0].text = "text before"
    inner = cell.add_table(rows=2, cols=2)
    for (r, c), value in {(0, 0): "a1", (0, 1): "b1", (1, 0): "a2", (1, 1): "b2"}.items():
        inner.cell(r, c).text = value
    cell.add_paragraph("text after")
    document.add_paragraph("Closing paragraph.")
    document.core_properties.title = "Nested tables"
    return document


# --- tables nested in cells ---------------------------------------------------------------


def test_a_table_nested_in_a_cell_is_read_in_place_in_its_row():
    extracted = office_file(save(nested_document()), ".docx", "nested.docx")
    lines = extracted.text.split("\n")
    assert lines == [
        "Budget",
        "Intro paragraph.",
        "Left cell | text before [a1 | b1; a2 | b2] text after",
        "Closing paragraph.",
    ]
    row = extracted.text.index("Left cell")
    assert locate(extracted.marks, row, row + 9) == "§ Budget"  # the row under its heading


def test_merged_cells_of_a_nested_table_appear_once():
    document = docx.Document()
    cell = document.add_table(rows=1, cols=1).cell(0, 0)
    cell.paragraphs[0].text = "outer"
    inner = cell.add_table(rows=1, cols=3)
    inner.cell(0, 0).merge(inner.cell(0, 1)).text = "wide"
    inner.cell(0, 2).text = "narrow"
    text = office_file(save(document), ".docx", "merged.docx").text
    assert text == "outer [wide | narrow]"


def test_deeply_nested_tables_keep_their_text_in_order():
    document = docx.Document()
    cell = document.add_table(rows=1, cols=1).cell(0, 0)
    for level in range(12):
        cell.paragraphs[0].text = f"level{level}"
        cell = cell.add_table(rows=1, cols=2).cell(0, 0)
    cell.paragraphs[0].text = "innermost"
    text = office_file(save(document), ".docx", "deep.docx").text
    words = text.replace("[", " ").replace("]", " ").split()
    assert words == [f"level{n}" for n in range(12)] + ["innermost"]
    assert "\n" not in text  # still one row of the outer table


def test_powerpoint_tables_still_read_one_row_a_line():
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    table = slide.shapes.add_table(2, 2, 0, 0, 914400, 914400).table
    for (r, c), value in {(0, 0): "k", (0, 1): "v", (1, 0): "x", (1, 1): "y"}.items():
        table.cell(r, c).text = value
    assert office_file(save(deck), ".pptx", "t.pptx").text == "k | v\nx | y"


# --- Strict Open XML ----------------------------------------------------------------------


def test_strict_word_file_reads_as_the_same_text_as_the_original():
    original = save(nested_document())
    strict = to_strict(original)
    with pytest.raises(KeyError):  # what python-docx alone does with it
        docx.Document(io.BytesIO(strict))
    expected = office_file(original, ".docx", "a.docx")
    got = office_file(strict, ".docx", "a.docx")
    assert "[a1 | b1; a2 | b2]" in got.text
    assert got == expected  # text, title, date and heading marks
    assert load_bytes(strict, filename="a.docx").title == "Nested tables"


def test_strict_powerpoint_and_excel_files_are_read():
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Quarterly plan"
    slide.placeholders[1].text = "Ship the second release"
    original = save(deck)
    assert office_file(to_strict(original), ".pptx", "d.pptx") == office_file(
        original, ".pptx", "d.pptx"
    )

    book = openpyxl.Workbook()
    book.active.title = "Data"
    book.active.append(["name", "count"])
    book.active.append(["apples", 3])
    original = save(book)
    got = office_file(to_strict(original), ".xlsx", "b.xlsx")
    assert got.text == "name | count\napples | 3"
    assert got == office_file(original, ".xlsx", "b.xlsx")


def test_strict_uris_in_the_document_text_are_left_alone():
    document = docx.Document()
    quoted = f'The namespace ="{S}wordprocessingml/main" and {S}drawingml/main stay.'
    document.add_paragraph(quoted)
    assert office_file(to_strict(save(document)), ".docx", "q.docx").text == quoted


def test_a_strict_file_that_still_cannot_be_read_says_so():
    def damage(name: str, part: bytes) -> bytes:
        return part[: len(part) // 2] if name == "word/document.xml" else part

    broken = rewrite(to_strict(save(nested_document())), damage)
    with pytest.raises(DocumentError) as caught:
        load_bytes(broken, filename="report.docx")
    message = str(caught.value)
    assert "report.docx" in message and "Strict Open XML" in message
    assert "standard Word Document (.docx)" in message


def test_a_strict_zip_bomb_is_refused_before_it_is_rewritten():
    def pad(name: str, part: bytes) -> bytes:
        return part + b" " * 30_000_000 if name == "word/document.xml" else part

    bomb = rewrite(to_strict(save(docx.Document())), pad)
    with pytest.raises(DocumentError, match="zip bomb"):
        load_bytes(bomb, filename="bomb.docx")
