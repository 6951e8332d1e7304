"""HTML -> the text a browser shows, with the page's title, date, publisher and headings.

Parsed with the standard library's lenient ``html.parser``; scripts, styles and
markup are dropped, block elements become line breaks. Site boilerplate is kept:
people ask about it. Each h1-h6 starts a heading-path mark ("§ News › Forum").
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from ..errors import DocumentError
from ..textnorm import normalize
from .common import Extracted, heading_marks
from .metadata import one_line

_SKIP = set("script style noscript template svg math iframe object".split())
_HEAD_ONLY = set("head title meta link base script style noscript template".split())
_VOID = set("area base br col embed hr img input link meta param source track wbr".split())
_BLOCK = set(
    "address article aside blockquote br caption dd details dialog div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr legend li main nav ol "
    "p pre section summary table tbody tfoot thead tr ul".split()
)
_HEADINGS = set("h1 h2 h3 h4 h5 h6".split())
_DATE_META = set(
    "date article:published_time pubdate publish_date dc.date dcterms.date datepublished".split()
)


class _VisibleText(HTMLParser):
    """Collects the text a browser would show; markup and attributes are dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.meta: dict[str, str] = {}
        self._skip: list[str] = []
        self._in_head = self._in_title = False
        self._title: list[str] | None = None
        self._h1: list[str] | None = None
        self._h1_open = False
        self.headings: list[tuple[int, str]] = []  # (level, text) of h1-h6 in order
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip.append(tag)
        if self._skip:
            return
        if tag == "head":
            self._in_head = True
        elif tag == "body" or (self._in_head and tag not in _HEAD_ONLY):
            self._in_head = False  # </head> is optional
        if tag == "meta":
            self._read_meta(dict(attrs))
        elif tag == "title" and self._title is None:
            self._in_title, self._title = True, []
        elif tag == "h1" and self._h1 is None:
            self._h1_open, self._h1 = True, []
        if tag in _HEADINGS:
            self._heading = []
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and tag in self._skip:
            del self._skip[len(self._skip) - 1 - self._skip[::-1].index(tag) :]
            return
        if self._skip:
            return
        if tag == "head":
            self._in_head = False
        elif tag == "title":
            self._in_title = False
        elif tag == "h1":
            self._h1_open = False
        if tag in _HEADINGS and self._heading is not None:
            self.headings.append((int(tag[1]), "".join(self._heading)))
            self._heading = None
        if tag in _BLOCK and tag not in _VOID:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title and self._title is not None:
            self._title.append(data)
        elif not self._in_head:
            text = re.sub(r"[ \t\n\r\f]+", " ", data)
            self.parts.append(text)
            if self._h1_open and self._h1 is not None:
                self._h1.append(text)
            if self._heading is not None:
                self._heading.append(text)

    def _read_meta(self, attrs: dict[str, str | None]) -> None:
        key = (attrs.get("name") or attrs.get("property") or attrs.get("itemprop") or "").lower()
        content = (attrs.get("content") or "").strip()
        if key in _DATE_META:
            self.meta.setdefault("date", content)
        elif key == "og:site_name":
            self.meta.setdefault("source", content)
        elif key == "og:title":
            self.meta.setdefault("og_title", content)

    def title(self) -> str:
        for parts in (self._title, self._h1):
            title = one_line("".join(parts or ()))
            if title:
                return title
        return one_line(self.meta.get("og_title", ""))


def html_text(html: str, label: str) -> Extracted:
    parser = _VisibleText()
    try:
        parser.feed(html)
        parser.close()
    except Exception as exc:  # html.parser is lenient; this is a last resort
        raise DocumentError(f"{label}: cannot parse the HTML ({exc}); save it as text.") from exc
    lines = [line.strip() for line in normalize("".join(parser.parts)).split("\n")]
    text = normalize(re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n"))
    meta = {"title": parser.title(), **parser.meta}
    return Extracted(text, meta, heading_marks(text, _find_headings(text, parser.headings)))


def _find_headings(text: str, headings: list[tuple[int, str]]) -> list[tuple[int, int, str]]:
    """Offsets of the headings in the extracted text, searched in document order."""
    found, at = [], 0
    for level, heading in headings:
        heading = normalize(" ".join(heading.split()))
        where = text.find(heading, at) if heading else -1
        if where >= 0:
            found.append((where, level, heading))
            at = where + len(heading)
    return found
