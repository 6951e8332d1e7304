"""Word, PowerPoint and Excel files through their own MIT-licensed libraries (``office`` extra).

- .docx (python-docx): paragraphs and tables in body order, one row a line with
  cells joined by " | "; a table nested in a cell is read into that cell in its place,
  in brackets with its rows joined by "; " ("a | before [x | y; z | w] after");
  "Heading N"/"Title" styles give the heading path ("§ 1 › 1.1").
- .pptx (python-pptx): each slide's text frames, tables and speaker notes ("slide 3").
- .xlsx (openpyxl, cached values, not formulas): one row a line, marked with its sheet
  and cell range ("Sheet1!A2:D2"); a chunk cites the rows it covers.
Footnotes, comments, headers/footers and embedded images are not read.
Strict Open XML files of all three are translated to the usual namespaces first
(``ooxml_strict``).
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from ..errors import DocumentError
from ..textnorm import normalize
from .common import Extracted, assemble, damaged, open_zip, push_heading, require, section
from .ooxml_strict import is_strict, to_transitional

_KIND = {".docx": "Word (.docx)", ".pptx": "PowerPoint (.pptx)", ".xlsx": "Excel (.xlsx)"}
_STANDARD = {
    ".docx": "Word Document",
    ".pptx": "PowerPoint Presentation",
    ".xlsx": "Excel Workbook",
}


def office_file(data: bytes, ext: str, label: str) -> Extracted:
    kind = _KIND[ext]
    archive = open_zip(data, label, kind)  # refuse non-zips and zip bombs before the library
    reader = {".docx": _docx, ".pptx": _pptx, ".xlsx": _xlsx}[ext]
    module = {".docx": "docx", ".pptx": "pptx", ".xlsx": "openpyxl"}[ext]
    lib = require(module, extra="office", label=label, what=kind)
    strict = False
    try:
        strict = is_strict(archive)
        if strict:  # the libraries know only the transitional namespaces
            data = to_transitional(archive)
        parts, meta = reader(lib, data)
    except Exception as exc:  # each library raises its own types for damaged files
        if strict:
            raise DocumentError(
                f"{label}: cannot read this {kind} file, saved as Strict Open XML "
                f"({type(exc).__name__}: {str(exc)[:200]}); open it in its program and "
                f"save a copy as a standard {_STANDARD[ext]} ({ext})."
            ) from exc
        raise damaged(label, kind, exc) from exc
    text, marks = assemble(parts, sep="\n")
    return Extracted(text, meta, marks)


def _core(props) -> dict[str, str]:
    """Title and creation date from the file's core properties."""
    created = getattr(props, "created", None)
    return {
        "title": getattr(props, "title", "") or "",
        "created": created.date().isoformat() if isinstance(created, datetime.datetime) else "",
    }


# --- Word ---------------------------------------------------------------------------------

_HEADING = re.compile(r"^(?:heading|제목)\s*(\d)$", re.IGNORECASE)


def _docx(docx, data: bytes):
    import io

    document = docx.Document(io.BytesIO(data))
    path: list[tuple[int, str]] = []
    parts: list[tuple[str, str]] = []
    for block in document.iter_inner_content():
        if hasattr(block, "rows"):  # a table
            parts += [(section(path), row) for row in _table_rows(block)]
            continue
        level = _heading_level(block)
        if level is not None and block.text.strip():
            path = push_heading(path, level, block.text)
        if block.text.strip():
            parts.append((section(path), block.text))
    return parts, _core(document.core_properties)


def _heading_level(paragraph) -> int | None:
    """0 for the "Title" style, N for "Heading N", None for body text."""
    name = ((paragraph.style.name if paragraph.style is not None else "") or "").strip()
    if name.lower() == "title":
        return 0
    match = _HEADING.match(name)
    return int(match.group(1)) if match else None


_MAX_NESTING = 4  # tables nested deeper than this inside cells are read as plain text


def _table_rows(table: Any, depth: int = 0) -> list[str]:
    """One line per row, cells joined by " | ", a merged cell's text once."""
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = _cell_text(cell, depth)
            if not cells or cells[-1] != text:  # merged cells repeat their text
                cells.append(text)
        if any(cells):
            rows.append(" | ".join(cells).strip(" |"))
    return rows


def _cell_text(cell: Any, depth: int) -> str:
    """A cell's paragraphs and nested tables in order, nested rows "[a | b; c | d]"."""
    inner = getattr(cell, "iter_inner_content", None)
    if inner is None:  # a PowerPoint cell: text only
        return " ".join(cell.text.split())
    pieces: list[str] = []
    for block in inner():
        if not hasattr(block, "rows"):
            pieces.append(block.text)
            continue
        if depth < _MAX_NESTING:
            nested = "; ".join(_table_rows(block, depth + 1))
        else:  # deeper still: its text without the row structure
            nested = " ".join(" ".join(t.text or "" for t in block._tbl.xpath(".//w:t")).split())
        if nested:
            pieces.append(f"[{nested}]")
    return " ".join(" ".join(pieces).split())


# --- PowerPoint ---------------------------------------------------------------------------


def _pptx(pptx, data: bytes):
    import io

    deck = pptx.Presentation(io.BytesIO(data))
    parts: list[tuple[str, str]] = []
    for number, slide in enumerate(deck.slides, start=1):
        texts = list(_shape_texts(slide.shapes))
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                texts.append("Notes: " + notes.text)
        parts.append((f"slide {number}", "\n".join(t for t in texts if t.strip())))
    meta = _core(deck.core_properties)
    if not meta["title"] and parts:  # the first slide's first line is the deck's title
        meta["title"] = parts[0][1].split("\n", 1)[0]
    return parts, meta


def _shape_texts(shapes):
    for shape in shapes:
        if getattr(shape, "shape_type", None) == 6:  # MSO_SHAPE_TYPE.GROUP
            yield from _shape_texts(shape.shapes)
        elif getattr(shape, "has_table", False):
            yield "\n".join(_table_rows(shape.table))
        elif getattr(shape, "has_text_frame", False):
            yield shape.text_frame.text


# --- Excel --------------------------------------------------------------------------------


def _xlsx(openpyxl, data: bytes):
    import io

    from openpyxl.utils import get_column_letter, quote_sheetname

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    parts: list[tuple[str, str]] = []
    try:
        for sheet in book.worksheets:
            name = quote_sheetname(sheet.title)
            rows = sheet.iter_rows(min_row=1, min_col=1, values_only=True)
            for number, row in enumerate(rows, start=1):
                filled = [i for i, value in enumerate(row) if _cell(value)]
                if not filled:
                    continue
                first, last = filled[0], filled[-1]
                where = f"{name}!{get_column_letter(first + 1)}{number}:"
                where += f"{get_column_letter(last + 1)}{number}"
                parts.append((where, " | ".join(_cell(v) for v in row[first : last + 1])))
        return parts, _core(book.properties)
    finally:
        book.close()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return normalize(" ".join(str(value).split()))
