"""What every format reader returns, and how its parts become one text with location marks.

A reader gives ``Extracted(text, meta, marks)``: the normalised text, metadata
(title/date/source/created) and ``marks``, ascending ``(offset, location)`` pairs
saying where in the original each stretch of ``text`` comes from ("p. 3",
"slide 2", "Sheet1!A1:D1", "§ Intro › Scope").
"""

from __future__ import annotations

import importlib
import io
from typing import NamedTuple

from ..errors import DocumentError
from ..textnorm import normalize

Marks = tuple[tuple[int, str], ...]

MAX_BYTES = 20_000_000
TEXT_TYPES = (".txt", ".md", ".html", ".htm", ".pdf")
OFFICE_TYPES = (".docx", ".pptx", ".xlsx")
HWP_TYPES = (".hwpx", ".hwp")
SUPPORTED = TEXT_TYPES + OFFICE_TYPES + HWP_TYPES
SUPPORTED_TEXT = ", ".join(SUPPORTED)


class Extracted(NamedTuple):
    text: str
    meta: dict[str, str]
    marks: Marks = ()


def assemble(parts: list[tuple[str, str]], *, sep: str = "\n\n") -> tuple[str, Marks]:
    """Join raw ``(location, text)`` parts with ``sep``, normalised; mark where each starts.

    The text is ``normalize(sep.join(texts))`` exactly; a mark can be off by a character
    where normalisation joins across a boundary (a "\\r" before the separator).
    """
    text = normalize(sep.join(raw for _, raw in parts))
    marks: list[tuple[int, str]] = []
    at = 0
    for location, raw in parts:
        if location and (not marks or marks[-1][1] != location):
            marks.append((min(at, len(text)), location))
        at += len(normalize(raw)) + len(sep)
    return text, tuple(marks)


def heading_marks(text: str, headings: list[tuple[int, int, str]]) -> Marks:
    """Marks from ``(offset, level, heading)`` triples: each section's heading path."""
    path: list[tuple[int, str]] = []
    marks: list[tuple[int, str]] = []
    for offset, level, heading in headings:
        if " ".join(heading.split()):
            path = push_heading(path, level, heading)
            marks.append((min(offset, len(text)), section(path)))
    return tuple(marks)


def push_heading(path: list[tuple[int, str]], level: int, heading: str) -> list[tuple[int, str]]:
    """The heading path after a heading of ``level`` (1 = top)."""
    return [(lv, h) for lv, h in path if lv < level] + [(level, " ".join(heading.split()))]


def section(path: list[tuple[int, str]]) -> str:
    """How a heading path reads in a citation: "§ 1. Overview › 1.1 Scope"."""
    return "§ " + " › ".join(h for _, h in path) if path else ""


def require(module: str, *, extra: str, label: str, what: str):
    """Import an optional reader, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise DocumentError(
            f"{label}: reading {what} files needs the optional '{extra}' extra; "
            f"install it with: pip install 'rag[{extra}]'."
        ) from exc


_MAGIC = {
    b"%PDF": "a PDF",
    b"\xd0\xcf\x11\xe0": "an OLE file (an old .doc/.xls/.ppt/.hwp, "
    "or an Office file encrypted with a password)",
    b"PK\x03\x04": "a zip file",
}


def sniff(data: bytes) -> str:
    """What the first bytes say a file is, for error messages ("a PDF"), or ""."""
    return next((what for magic, what in _MAGIC.items() if data.startswith(magic)), "")


def open_zip(data: bytes, label: str, kind: str, *, max_ratio: int = 100):
    """A zip container (docx, pptx, xlsx, hwpx), refused if damaged or a zip bomb."""
    import zipfile

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as exc:
        found = sniff(data)
        hint = f"it is {found}, not a {kind} file" if found else f"it is not a {kind} file"
        raise DocumentError(f"{label}: cannot open it as {kind} ({hint}); check the file.") from exc
    unpacked = sum(info.file_size for info in infos)
    if unpacked > max(MAX_BYTES, max_ratio * len(data)):
        raise DocumentError(
            f"{label}: the {kind} file unpacks to {unpacked:,} bytes from {len(data):,} "
            "(a zip bomb or a damaged file); refusing to read it."
        )
    return archive


def damaged(label: str, kind: str, exc: Exception) -> DocumentError:
    """The error for a file its library cannot open: damaged, encrypted or mislabelled."""
    return DocumentError(
        f"{label}: cannot read this {kind} file ({type(exc).__name__}: {str(exc)[:200]}); "
        f"it is damaged, encrypted or not a {kind} file. Re-save it from its program."
    )
