"""What every format reader returns, and how its parts become one text with location marks.

A reader gives ``Extracted(text, meta, marks)``: the normalised text, metadata
(title/date/source/created) and ``marks``, ascending ``(offset, location)`` pairs
saying where in the original each stretch of ``text`` comes from ("p. 3",
"slide 2", "Sheet1!A1:D1", "§ Intro › Scope").
"""

from __future__ import annotations

import importlib
from typing import NamedTuple

from ..errors import DocumentError
from ..textnorm import normalize

Marks = tuple[tuple[int, str], ...]

MAX_BYTES = 20_000_000
TEXT_TYPES = (".txt", ".md", ".html", ".htm", ".pdf")
OFFICE_TYPES = (".docx", ".pptx", ".xlsx")
HWP_TYPES = (".hwpx", ".hwp")
SUPPORTED = TEXT_TYPES
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
        heading = " ".join(heading.split())
        if not heading:
            continue
        path = [(lv, h) for lv, h in path if lv < level] + [(level, heading)]
        marks.append((min(offset, len(text)), "§ " + " › ".join(h for _, h in path)))
    return tuple(marks)


def require(module: str, *, extra: str, label: str, what: str):
    """Import an optional reader, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise DocumentError(
            f"{label}: reading {what} files needs the optional '{extra}' extra; "
            f"install it with: pip install 'rag[{extra}]'."
        ) from exc


def damaged(label: str, kind: str, exc: Exception) -> DocumentError:
    """The error for a file its library cannot open: damaged, encrypted or mislabelled."""
    return DocumentError(
        f"{label}: cannot read this {kind} file ({type(exc).__name__}: {str(exc)[:200]}); "
        f"it is damaged, encrypted or not a {kind} file. Re-save it from its program."
    )
