"""PDF -> text with one location mark per page ("p. 3"), through pypdf (BSD-3-Clause).

PDFs encrypted with an empty user password (owner restrictions only) are opened;
others raise. The creation date is only a fallback for a date printed on page 1.
"""

from __future__ import annotations

import io
import logging
import re

from ..errors import DocumentError
from .common import Extracted, assemble

log = logging.getLogger(__name__)


def pdf_file(data: bytes, label: str) -> Extracted:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not _decrypt_empty(reader):
            raise DocumentError(
                f"{label}: encrypted PDF; decrypt it first (e.g. qpdf --decrypt in.pdf out.pdf)."
            )
        pages = list(reader.pages)
    except DocumentError:
        raise
    except Exception as exc:  # pypdf raises many types for damaged files
        raise DocumentError(
            f"{label}: cannot read this PDF ({type(exc).__name__}: {exc}); "
            "it is damaged or not a PDF. Re-export it."
        ) from exc
    texts: list[tuple[str, str]] = []
    for number, page in enumerate(pages, start=1):
        try:
            texts.append((f"p. {number}", page.extract_text() or ""))
        except Exception as exc:
            log.warning("%s: page %d has no readable text (%s)", label, number, exc)
            texts.append((f"p. {number}", ""))
    text, marks = assemble(texts)
    return Extracted(text, _pdf_metadata(reader), marks)


def _decrypt_empty(reader) -> bool:
    """Many PDFs are encrypted with an empty user password (owner-only restrictions)."""
    try:
        return bool(reader.decrypt(""))
    except Exception:  # e.g. AES without the cryptography package
        return False


def _pdf_metadata(reader) -> dict[str, str]:
    try:
        info = reader.metadata
        title = (info.title or "") if info else ""
        created = info.creation_date if info else None
    except Exception:
        return {}
    if re.search(r"\.(docx?|hwpx?|pptx?|xlsx?|pdf)$|^untitled$|^microsoft ", title, re.I):
        title = ""  # the name of the file it was exported from, not a title
    # The creation date is only a fallback: a date printed on page 1 is the publication date.
    return {"title": title, "created": created.date().isoformat() if created else ""}
