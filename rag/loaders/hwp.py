"""Hangul (HWP 5 and HWPX) files through unhwp (MIT; the ``hwp`` extra).

unhwp renders the document as Markdown: body text, tables (one row a line, cells
joined by " | "), footnotes and endnotes, outline headings. We keep the text and
drop the Markdown (images, emphasis, escapes); outline headings become the heading
path ("§ 1. 개요 › 가. 배경"). HWPX is a zip: it is checked for zip bombs first.
"""

from __future__ import annotations

import re

from ..errors import DocumentError
from .common import Extracted, assemble, damaged, open_zip, push_heading, require, section

_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_STRONG = re.compile(r"\*\*(.+?)\*\*")
_EMPHASIS = re.compile(r"(?<![\w*])\*(\S(?:.*?\S)?)\*(?![\w*])")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_RULE = re.compile(r"^\|(?:\s*:?-+:?\s*\|)+\s*$")
_EMPTY_ROW = re.compile(r"^[\s|]*$")


def hwp_file(data: bytes, ext: str, label: str) -> Extracted:
    kind = "Hangul (.hwpx)" if ext == ".hwpx" else "Hangul (.hwp)"
    if ext == ".hwpx":
        open_zip(data, label, kind)
    unhwp = require("unhwp", extra="hwp", label=label, what=kind)
    try:
        result = unhwp.parse_bytes(data)
        markdown, title = result.markdown, result.title or ""
    except Exception as exc:  # unhwp.ParseError and friends
        if "encrypt" in str(exc).lower():
            raise DocumentError(
                f"{label}: the Hangul file is protected with a password; save a copy "
                "without the password (파일 > 문서 암호 해제) and add that."
            ) from exc
        raise damaged(label, kind, exc) from exc
    text, marks = assemble(_lines(markdown), sep="\n")
    return Extracted(text, {"title": title}, marks)


def _lines(markdown: str) -> list[tuple[str, str]]:
    """(heading path, plain line) for each line of unhwp's Markdown."""
    path: list[tuple[int, str]] = []
    parts: list[tuple[str, str]] = []
    for raw in markdown.split("\n"):
        if raw.lstrip().startswith("|") and (_RULE.match(raw.strip()) or _EMPTY_ROW.match(raw)):
            continue
        line = _plain(raw)
        heading = _HEADING.match(line)
        if heading:
            line = heading.group(2)
            path = push_heading(path, len(heading.group(1)), line)
        if line.strip() or (parts and parts[-1][1].strip()):
            parts.append((section(path), _row(line)))
    return parts


def _plain(line: str) -> str:
    line = _BREAK.sub(" ", _IMAGE.sub("", line))
    line = _EMPHASIS.sub(r"\1", _STRONG.sub(r"\1", line))
    return _ESCAPE.sub(r"\1", line).rstrip()


def _row(line: str) -> str:
    """A Markdown table row "| a | b |" as "a | b"."""
    stripped = line.strip()
    if stripped.startswith("|") and stripped.endswith("|") and len(stripped) > 1:
        return " | ".join(cell.strip() for cell in stripped[1:-1].split("|"))
    return line
