"""Plain text and Markdown: strict decoding, YAML front matter, heading paths.

Text is decoded strictly (UTF-8, UTF-16 with a BOM, a declared HTML charset, then
CP949, which Korean sites still use) and stored normalised (see ``textnorm``).
"""

from __future__ import annotations

import codecs
import contextlib
import re

from ..errors import DocumentError
from ..textnorm import normalize
from .common import SUPPORTED_TEXT, Extracted, heading_marks

_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\v\f\r\x1b")
_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)


def decode(data: bytes, label: str, *, html: bool = False) -> str:
    """Strict decoding: UTF-8 (BOM optional), UTF-16 with a BOM, a declared HTML charset, CP949."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DocumentError(
                f"{label}: broken UTF-16 text ({exc}); re-save it as UTF-8."
            ) from exc
    sample = data[:65536]
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if b"\x00" in sample or controls > 0.05 * len(sample):
        raise DocumentError(
            f"{label}: looks binary (NUL bytes or many control characters), not text. "
            f"Only {SUPPORTED_TEXT} files are supported; check the file's type."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    declared = _CHARSET.search(data[:4096]) if html else None
    if declared:
        with contextlib.suppress(UnicodeDecodeError, LookupError):
            codec = codecs.lookup(declared.group(1).decode("ascii")).name
            if codec not in ("utf-8", "euc_kr", "cp949"):  # Korean pages: CP949 below
                return data.decode(codec)
    with contextlib.suppress(UnicodeDecodeError, LookupError):
        text = data.decode("cp949")
        other = [ch for ch in text if ord(ch) > 127]
        if sum("\uac00" <= ch <= "\ud7a3" for ch in other) >= 0.5 * len(other):
            return text  # plausibly Korean, not Latin-1 bytes read as Hanja
    raise DocumentError(
        f"{label}: not UTF-8 or CP949 text; re-save it as UTF-8 "
        f"(the first invalid byte is at offset {utf8_error.start})."
    )


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)


def front_matter(text: str) -> tuple[str, dict[str, str]]:
    """Strip a leading YAML front matter block; keep its title/date/source."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return text, {}
    meta: dict[str, str] = {}
    for line in match.group(1).split("\n"):
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if sep and key in ("title", "date", "source"):
            meta[key] = value.strip().strip("\"'")
    return text[match.end() :], meta


_MD_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_FENCE = re.compile(r"^ {0,3}(```|~~~)", re.MULTILINE)


def text_file(data: bytes, label: str, *, markdown: bool = False) -> Extracted:
    text = normalize(decode(data, label))
    if not markdown:
        return Extracted(text, {})
    text, meta = front_matter(text)
    return Extracted(text, meta, markdown_marks(text))


def markdown_marks(text: str) -> tuple[tuple[int, str], ...]:
    """Heading paths of ATX headings ("## Scope"), skipping fenced code blocks."""
    fences = [m.start() for m in _FENCE.finditer(text)]
    headings = []
    for match in _MD_HEADING.finditer(text):
        if sum(f < match.start() for f in fences) % 2 == 0:
            headings.append((match.start(), len(match.group(1)), match.group(2)))
    return heading_marks(text, headings)
