"""Web pages by URL -> Documents: fetched over HTTP(S) with a timeout and a size limit.

Only HTML is accepted (a PDF or image URL is refused: download it and add the file).
The page's own title, date and publisher are kept as for a saved HTML file; the
URL (without its #fragment) is the document's ``doc_id``, ``source`` and ``path``.
"""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.parse
import urllib.request
from email.message import Message

from ..errors import DocumentError
from ..types import Document
from .common import MAX_BYTES
from .files import too_large
from .html import html_text
from .metadata import guess_metadata, iso_date, one_line
from .text import decode

TIMEOUT = 15.0
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_AGENT = "rag-document-loader/0.1 (+https://pypi.org/project/rag)"


def is_url(value: object) -> bool:
    """True for an http:// or https:// address given as text."""
    return isinstance(value, str) and value.strip().lower().startswith(("http://", "https://"))


def load_url(url: str, *, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES) -> Document:
    """Fetch one web page and load its text.

    Raises:
        DocumentError: a bad address, a network error or timeout, an HTTP error status,
            a response that is not HTML, one over ``max_bytes``, or a page without text.
    """
    url = _check_url(url)
    data, content_type = _fetch(url, timeout=timeout, max_bytes=max_bytes)
    header = Message()
    header["content-type"] = content_type
    charset = header.get_content_charset()
    html = _decode(data, url, charset)
    text, meta, marks = html_text(html, url)
    if not text.strip():
        raise DocumentError(f"{url}: the page has no text after extraction (only markup).")
    guessed = guess_metadata(text)
    return Document(
        doc_id=url,
        text=text,
        title=one_line(meta.get("title", "")) or guessed["title"] or url,
        date=iso_date(meta.get("date", "")) or guessed["date"],
        source=url,
        path=url,
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        marks=marks,
    )


def _check_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise DocumentError(
            f"{url!r} is not a web address; use http://… or https://… with a host name."
        )
    return urllib.parse.urlunsplit(parts._replace(fragment=""))


def _fetch(url: str, *, timeout: float, max_bytes: int) -> tuple[bytes, str]:
    request = urllib.request.Request(url, headers={"User-Agent": _AGENT, "Accept": "text/html"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            content_type = response.headers.get("Content-Type", "")
            if content_type.split(";")[0].strip().lower() not in _HTML_TYPES:
                raise DocumentError(
                    f"{url}: not an HTML page (Content-Type: {content_type or 'none'}); "
                    "download the file and add it as a file instead."
                )
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise DocumentError(too_large(url, int(declared), max_bytes))
            data = response.read(max_bytes + 1)
    except urllib.error.HTTPError as exc:
        raise DocumentError(f"{url}: the server answered HTTP {exc.code} ({exc.reason}).") from exc
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DocumentError(
            f"{url}: cannot fetch the page ({reason}); check the address and the network "
            f"(timeout {timeout:g} s)."
        ) from exc
    if len(data) > max_bytes:
        raise DocumentError(too_large(url, len(data), max_bytes))
    return data, content_type


def _decode(data: bytes, url: str, charset: str | None) -> str:
    if charset:
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong header; fall back to the page's own declaration
    return decode(data, url, html=True)
