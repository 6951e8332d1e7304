"""Files, uploads and web pages -> Documents, with title, date, source and location marks.

One module per format family: ``text`` (txt, md), ``html``, ``pdf``, ``office``
(docx, pptx, xlsx; the ``office`` extra) and ``hwp`` (hwpx, hwp; the ``hwp`` extra);
``web`` fetches pages by URL. Every reader returns normalised text plus
``(offset, location)`` marks, so chunks can cite "p. 3", "slide 2" or "§ Intro".
Metadata a file does not carry is guessed from its first lines (see ``metadata``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from ..errors import DocumentError
from ..types import Document
from .common import MAX_BYTES, SUPPORTED, Extracted
from .files import add_unique, check_extension, expand, too_large
from .metadata import guess_metadata, iso_date, one_line
from .web import is_url, load_url

__all__ = [
    "MAX_BYTES",
    "SUPPORTED",
    "OnError",
    "guess_metadata",
    "load_bytes",
    "load_document",
    "load_documents",
    "load_url",
    "safe_filename",
]

log = logging.getLogger(__name__)

OnError = Literal["raise", "skip"]


def load_documents(
    paths: Iterable[str | Path], *, max_bytes: int = MAX_BYTES, on_error: OnError = "raise"
) -> list[Document]:
    """Load files, folders (recursively, in sorted order) and web pages into Documents.

    Inside folders, hidden files and unsupported extensions are skipped with a warning;
    an unreadable supported file raises, or is skipped with a warning if
    ``on_error="skip"``. ``doc_id`` is the path relative to the folder given, or the
    URL of a page given as ``http(s)://…`` text (see ``web.load_url``).

    Raises:
        DocumentError: a missing path, an empty folder, a named unsupported file,
            two files that would share a ``doc_id``, or (by default) any bad file.
    """
    paths = [paths] if isinstance(paths, str | Path) else list(paths)
    if not paths:
        raise DocumentError("No paths given; pass files or folders to load.")
    docs: dict[str, Document] = {}
    for raw in paths:
        if is_url(raw):
            found = [(raw, None)]
        else:
            found = expand(Path(raw).expanduser())
        for where, doc_id in found:
            try:
                doc = _load_one(where, doc_id, max_bytes)
            except DocumentError as exc:
                if on_error != "skip":
                    raise
                log.warning("skipping %s: %s", where, exc)
                continue
            add_unique(docs, doc)
    if not docs:
        raise DocumentError(f"No documents loaded from {list(map(str, paths))}.")
    return list(docs.values())


def _load_one(where: str | Path, doc_id: str | None, max_bytes: int) -> Document:
    if isinstance(where, str):
        return load_url(where, max_bytes=max_bytes)
    return load_document(where, doc_id=doc_id, max_bytes=max_bytes)


def load_document(
    path: str | Path, *, doc_id: str | None = None, max_bytes: int = MAX_BYTES
) -> Document:
    """Load one file. ``doc_id`` defaults to the file name."""
    path = Path(path).expanduser()
    check_extension(path.name, str(path))
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentError(too_large(str(path), size, max_bytes))
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise DocumentError(f"{path}: no such file; check the path.") from exc
    except OSError as exc:
        raise DocumentError(f"{path}: cannot read it ({exc.strerror or exc}).") from exc
    doc_id = doc_id if doc_id is not None else unicodedata.normalize("NFC", path.name)
    return _parse(data, name=path.name, label=str(path), doc_id=doc_id, path=str(path.resolve()))


def load_bytes(
    data: bytes, *, filename: str, doc_id: str | None = None, max_bytes: int = MAX_BYTES
) -> Document:
    """Load an upload. Only the base name of ``filename`` is used (no directories)."""
    name = safe_filename(filename)
    check_extension(name, name)
    if not isinstance(data, bytes | bytearray | memoryview):
        raise DocumentError(f"{name}: expected the file's bytes, got {type(data).__name__}.")
    if len(data) > max_bytes:
        raise DocumentError(too_large(name, len(data), max_bytes))
    return _parse(bytes(data), name=name, label=name, doc_id=doc_id or name, path="")


def safe_filename(filename: str) -> str:
    """The base name of an uploaded file's name: no folders, no control characters."""
    if not isinstance(filename, str):
        raise DocumentError(f"The file name must be text, not {type(filename).__name__}.")
    base = unicodedata.normalize("NFC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip(" .")
    if not base:
        raise DocumentError(f"The upload has no usable file name ({filename!r}); name the file.")
    if len(base) > 200:
        stem, ext = os.path.splitext(base)
        base = stem[: 200 - len(ext)] + ext
    return base


def _parse(data: bytes, *, name: str, label: str, doc_id: str, path: str) -> Document:
    ext = Path(name).suffix.lower()
    if not data.strip():
        raise DocumentError(f"{label}: the file is empty; there is nothing to index.")
    text, meta, marks = _extract(data, ext, label)
    if not text.strip():
        what = "no text layer; OCR it first" if ext == ".pdf" else "only whitespace or markup"
        raise DocumentError(f"{label}: the text is empty after extraction ({what}).")
    guessed = guess_metadata(text, markdown=ext == ".md")
    if ext in (".pptx", ".xlsx"):  # slides and rows are not a page's first lines
        guessed["title"] = ""
    return Document(
        doc_id=doc_id,
        text=text,
        title=one_line(meta.get("title", "")) or guessed["title"] or Path(name).stem,
        date=iso_date(meta.get("date", "")) or guessed["date"] or meta.get("created", ""),
        source=one_line(meta.get("source", "")) or guessed["source"] or name,
        path=path,
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        marks=marks,
    )


def _extract(data: bytes, ext: str, label: str) -> Extracted:
    """The reader for ``ext``; optional readers are imported only when needed."""
    if ext == ".pdf":
        from .pdf import pdf_file

        return pdf_file(data, label)
    if ext in (".html", ".htm"):
        from .html import html_text
        from .text import decode

        return html_text(decode(data, label, html=True), label)
    if ext in (".docx", ".pptx", ".xlsx"):
        from .office import office_file

        return office_file(data, ext, label)
    if ext in (".hwpx", ".hwp"):
        from .hwp import hwp_file

        return hwp_file(data, ext, label)
    from .text import text_file

    return text_file(data, label, markdown=ext == ".md")
