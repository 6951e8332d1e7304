"""Files and uploads -> Documents (txt, md, html, pdf) with title, date and source.

Text is decoded strictly (UTF-8, then CP949, which Korean sites still use) and
stored normalised (see ``textnorm``). Site boilerplate is kept: people ask about it.
Metadata for scraped pages is a heuristic: the first date near the top, the line
above it as the title, and the publisher from the date line or a news byline.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime
import hashlib
import io
import itertools
import logging
import os
import re
import unicodedata
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path
from typing import Literal

from .errors import DocumentError
from .textnorm import normalize
from .types import Document

log = logging.getLogger(__name__)

MAX_BYTES = 20_000_000
SUPPORTED = (".txt", ".md", ".html", ".htm", ".pdf")
_SUPPORTED_TEXT = ", ".join(SUPPORTED)
OnError = Literal["raise", "skip"]


# --- public API ---------------------------------------------------------------------------


def load_documents(
    paths: Iterable[str | Path], *, max_bytes: int = MAX_BYTES, on_error: OnError = "raise"
) -> list[Document]:
    """Load files and folders (recursively, in sorted order) into Documents.

    Inside folders, hidden files and unsupported extensions are skipped with a warning;
    an unreadable supported file raises, or is skipped with a warning if
    ``on_error="skip"``. ``doc_id`` is the path relative to the folder given.

    Raises:
        DocumentError: a missing path, an empty folder, a named unsupported file,
            two files that would share a ``doc_id``, or (by default) any bad file.
    """
    paths = [paths] if isinstance(paths, str | Path) else list(paths)
    if not paths:
        raise DocumentError("No paths given; pass files or folders to load.")
    docs: dict[str, Document] = {}
    for raw in paths:
        for file, doc_id in _expand(Path(raw).expanduser()):
            try:
                doc = load_document(file, doc_id=doc_id, max_bytes=max_bytes)
            except DocumentError as exc:
                if on_error != "skip":
                    raise
                log.warning("skipping %s: %s", file, exc)
                continue
            _add_unique(docs, doc)
    if not docs:
        raise DocumentError(f"No documents loaded from {list(map(str, paths))}.")
    return list(docs.values())


def load_document(
    path: str | Path, *, doc_id: str | None = None, max_bytes: int = MAX_BYTES
) -> Document:
    """Load one file. ``doc_id`` defaults to the file name."""
    path = Path(path).expanduser()
    _check_extension(path.name, str(path))
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentError(_too_large(str(path), size, max_bytes))
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
    _check_extension(name, name)
    if not isinstance(data, bytes | bytearray | memoryview):
        raise DocumentError(f"{name}: expected the file's bytes, got {type(data).__name__}.")
    if len(data) > max_bytes:
        raise DocumentError(_too_large(name, len(data), max_bytes))
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


# --- finding files ------------------------------------------------------------------------


def _expand(path: Path) -> list[tuple[Path, str]]:
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
                log.warning("skipping %s: unsupported type (supported: %s)", file, _SUPPORTED_TEXT)
                continue
            rel = unicodedata.normalize("NFC", file.relative_to(path).as_posix())
            found.append((file, rel))
    if not found:
        raise DocumentError(
            f"{path}: the folder has no documents to load; supported types are {_SUPPORTED_TEXT}."
        )
    return sorted(found, key=lambda pair: pair[1])


def _add_unique(docs: dict[str, Document], doc: Document) -> None:
    prev = docs.get(doc.doc_id)
    if prev is not None and prev.path != doc.path:
        raise DocumentError(
            f"Two files would get the doc_id {doc.doc_id!r}: {prev.path} and {doc.path}. "
            "Rename one, or put them in sub-folders of one folder."
        )
    docs[doc.doc_id] = doc


def _check_extension(name: str, label: str) -> None:
    ext = Path(name).suffix.lower()
    if ext not in SUPPORTED:
        raise DocumentError(
            f"{label}: unsupported file type {ext or '(no extension)'!r}; "
            f"supported types are {_SUPPORTED_TEXT}. Convert it to one of them."
        )


def _too_large(label: str, size: int, limit: int) -> str:
    return (
        f"{label} is {size:,} bytes ({size / 1e6:.1f} MB); the limit is {limit:,} bytes. "
        "Split the file or raise max_bytes."
    )


# --- parsing ------------------------------------------------------------------------------


def _parse(data: bytes, *, name: str, label: str, doc_id: str, path: str) -> Document:
    ext = Path(name).suffix.lower()
    if not data.strip():
        raise DocumentError(f"{label}: the file is empty; there is nothing to index.")
    meta: dict[str, str] = {}
    if ext == ".pdf":
        text, meta = _pdf_text(data, label)
    elif ext in (".html", ".htm"):
        text, meta = _html_text(_decode(data, label, html=True), label)
    else:
        text = normalize(_decode(data, label))
        if ext == ".md":
            text, meta = _front_matter(text)
    if not text.strip():
        what = "no text layer; OCR it first" if ext == ".pdf" else "only whitespace or markup"
        raise DocumentError(f"{label}: the text is empty after extraction ({what}).")
    guessed = guess_metadata(text, markdown=ext == ".md")
    return Document(
        doc_id=doc_id,
        text=text,
        title=_one_line(meta.get("title", "")) or guessed["title"] or Path(name).stem,
        date=_iso_date(meta.get("date", "")) or guessed["date"] or meta.get("created", ""),
        source=_one_line(meta.get("source", "")) or guessed["source"] or name,
        path=path,
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\v\f\r\x1b")
_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)


def _decode(data: bytes, label: str, *, html: bool = False) -> str:
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
            f"Only {_SUPPORTED_TEXT} files are supported; check the file's type."
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


def _front_matter(text: str) -> tuple[str, dict[str, str]]:
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


# --- PDF ----------------------------------------------------------------------------------


def _pdf_text(data: bytes, label: str) -> tuple[str, dict[str, str]]:
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
    texts: list[str] = []
    for number, page in enumerate(pages, start=1):
        try:
            texts.append(page.extract_text() or "")
        except Exception as exc:
            log.warning("%s: page %d has no readable text (%s)", label, number, exc)
            texts.append("")
    return normalize("\n\n".join(texts)), _pdf_metadata(reader)


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


# --- HTML ---------------------------------------------------------------------------------

_SKIP = set("script style noscript template svg math iframe object".split())
_HEAD_ONLY = set("head title meta link base script style noscript template".split())
_VOID = set("area base br col embed hr img input link meta param source track wbr".split())
_BLOCK = set(
    "address article aside blockquote br caption dd details dialog div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr legend li main nav ol "
    "p pre section summary table tbody tfoot thead tr ul".split()
)
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
            title = _one_line("".join(parts or ()))
            if title:
                return title
        return _one_line(self.meta.get("og_title", ""))


def _html_text(html: str, label: str) -> tuple[str, dict[str, str]]:
    parser = _VisibleText()
    try:
        parser.feed(html)
        parser.close()
    except Exception as exc:  # html.parser is lenient; this is a last resort
        raise DocumentError(f"{label}: cannot parse the HTML ({exc}); save it as text.") from exc
    lines = [line.strip() for line in normalize("".join(parser.parts)).split("\n")]
    text = normalize(re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n"))
    return text, {"title": parser.title(), **parser.meta}


# --- metadata heuristics ------------------------------------------------------------------

_DATE_NUM = re.compile(  # not inside longer numbers: "v2024.1.2.3", "02-2024-05-22"
    r"(?<!\d)(?<!\d[./-])((?:19|20)\d\d)\s?([./-])\s?(\d{1,2})\s?\2\s?(\d{1,2})(?!\d|[./-]\d)"
)
_DATE_KO = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일")
_TIME = re.compile(r"^\s*\d{1,2}:\d{2}(?::\d{2})?")
_WEEKDAY = re.compile(
    r"^\s*\(?\s*(?:[월화수목금토일](?:요일)?|mon|tue|wed|thu|fri|sat|sun)\s*\)?", re.IGNORECASE
)
_NOT_SOURCE = re.compile(r"조회|수정|등록|입력|작성|댓글|추천|view|update|post|comment", re.I)
_BYLINE = re.compile(r"\[\s*([^\[\]\s=]{2,20})\s+[^\[\]]{0,20}?기자\s*\]")
_BYLINE_AGENCY = re.compile(r"\(\s*[^()=]{1,12}=\s*([^()=]{2,20}?)\s*\)")
_BULLETS = tuple("•·‣◦▪▫●○■□◆◇▶▷►-*–—※")
_MENU = re.compile(r"바로가기|메뉴|로그인|회원가입|skip to|menu|navigation|sign in|log in", re.I)
_HEAD_LINES = 40


def guess_metadata(text: str, *, markdown: bool = False) -> dict[str, str]:
    """Title, date and source of a scraped page from its first lines; "" where unknown."""
    stripped = (line.strip() for line in text[:20_000].split("\n"))
    lines = list(itertools.islice(filter(None, stripped), _HEAD_LINES))
    date, at, rest = "", None, ""
    for i, line in enumerate(lines):
        found = _first_date(line)
        if found:
            date, rest, at = found[0], found[1], i
            break
    title = ""
    if markdown:
        title = next((ln.lstrip("#").strip() for ln in lines if re.match(r"#\s", ln)), "")
    if not title and at is not None:
        title = next((ln for ln in reversed(lines[:at]) if _title_like(ln)), "")
    if not title:
        title = next((ln for ln in lines if _title_like(ln) and not _first_date(ln)), "")
    return {"title": _one_line(title), "date": date, "source": _source(rest) or _byline(lines)}


def _first_date(line: str) -> tuple[str, str] | None:
    """(ISO date, text after it) for the earliest valid date in ``line``."""
    found = []
    for match in _DATE_NUM.finditer(line):
        found.append((match.start(), match.group(1), match.group(3), match.group(4), match.end()))
    for match in _DATE_KO.finditer(line):
        found.append((match.start(), *match.groups(), match.end()))
    for _, year, month, day, end in sorted(found):
        iso = _valid_date(int(year), int(month), int(day))
        if iso:
            return iso, line[end:]
    return None


def _valid_date(year: int, month: int, day: int) -> str:
    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:
        return ""


def _iso_date(value: str) -> str:
    found = _first_date(normalize(value)) if value else None
    return found[0] if found else ""


def _title_like(line: str) -> bool:
    clean = line.lstrip("#").strip()
    return len(clean) >= 10 and not clean.startswith(_BULLETS) and not _MENU.search(clean)


def _source(rest: str) -> str:
    """The publisher after a date ("2024.05.22 국무조정실"), if it looks like one."""
    rest = _WEEKDAY.sub("", _TIME.sub("", rest)).strip(" \t|·,:;()[]-–—/")
    short = 2 <= len(rest) <= 30 and len(rest.split()) <= 4
    if short and any(ch.isalpha() for ch in rest) and not _NOT_SOURCE.search(rest):
        return rest
    return ""


def _byline(lines: list[str]) -> str:
    """The outlet of a Korean news byline: "[일간환경연합 장민주 기자]", "(서울=연합뉴스)"."""
    for line in lines:
        match = _BYLINE.search(line) or _BYLINE_AGENCY.search(line)
        if match:
            return match.group(1).strip()
    return ""


def _one_line(text: str) -> str:
    return " ".join(normalize(text).split())[:300]
