"""Finding the files to load: folders walked in sorted order, types and sizes checked."""

from __future__ import annotations

import logging
import os
import unicodedata
from pathlib import Path

from ..errors import DocumentError
from ..types import Document
from .common import SUPPORTED, SUPPORTED_TEXT

log = logging.getLogger(__name__)


def expand(path: Path) -> list[tuple[Path, str]]:
    """(file, doc_id) pairs for a path given by the user."""
    if path.is_file():
        return [(path, unicodedata.normalize("NFC", path.name))]
    if not path.is_dir():
        raise DocumentError(f"{path}: no such file or folder; check the path.")
    found: list[tuple[Path, str]] = []
    for folder, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            file = Path(folder) / name
            if name.startswith("."):
                continue
            if file.suffix.lower() not in SUPPORTED:
                log.warning("skipping %s: unsupported type (supported: %s)", file, SUPPORTED_TEXT)
                continue
            rel = unicodedata.normalize("NFC", file.relative_to(path).as_posix())
            found.append((file, rel))
    if not found:
        raise DocumentError(
            f"{path}: the folder has no documents to load; supported types are {SUPPORTED_TEXT}."
        )
    return sorted(found, key=lambda pair: pair[1])


def add_unique(docs: dict[str, Document], doc: Document) -> None:
    prev = docs.get(doc.doc_id)
    if prev is not None and prev.path != doc.path:
        raise DocumentError(
            f"Two files would get the doc_id {doc.doc_id!r}: {prev.path} and {doc.path}. "
            "Rename one, or put them in sub-folders of one folder."
        )
    docs[doc.doc_id] = doc


def check_extension(name: str, label: str) -> None:
    ext = Path(name).suffix.lower()
    if ext not in SUPPORTED:
        raise DocumentError(
            f"{label}: unsupported file type {ext or '(no extension)'!r}; "
            f"supported types are {SUPPORTED_TEXT}. Convert it to one of them."
        )


def too_large(label: str, size: int, limit: int) -> str:
    return (
        f"{label} is {size:,} bytes ({size / 1e6:.1f} MB); the limit is {limit:,} bytes. "
        "Split the file or raise max_bytes."
    )
