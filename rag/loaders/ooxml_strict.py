"""Strict Open XML (ISO/IEC 29500 Strict) Office files, translated to the usual form.

Word, PowerPoint and Excel can save "Strict Open XML" files: the same parts as a
standard .docx/.pptx/.xlsx, but with ``http://purl.oclc.org/ooxml/...`` namespaces and
relationship types where the standard ("transitional") files use
``http://schemas.openxmlformats.org/...``. python-docx, python-pptx and openpyxl know
only the latter, so :func:`to_transitional` rewrites every XML part of such a zip in
memory through a fixed table (ECMA-376 Part 1, the Strict and Transitional schemas).
Only attribute values (namespace declarations, a relationship's ``Type``) are
changed, never document text.
"""

from __future__ import annotations

import io
import re
import zipfile

STRICT_MARK = b"http://purl.oclc.org/ooxml/"
_T = "http://schemas.openxmlformats.org/"

# Strict namespace (after http://purl.oclc.org/ooxml/) -> the transitional one.
NAMESPACES: dict[str, str] = {
    "drawingml/chart": _T + "drawingml/2006/chart",
    "drawingml/chartDrawing": _T + "drawingml/2006/chartDrawing",
    "drawingml/compatibility": _T + "drawingml/2006/compatibility",
    "drawingml/diagram": _T + "drawingml/2006/diagram",
    "drawingml/lockedCanvas": _T + "drawingml/2006/lockedCanvas",
    "drawingml/main": _T + "drawingml/2006/main",
    "drawingml/picture": _T + "drawingml/2006/picture",
    "drawingml/spreadsheetDrawing": _T + "drawingml/2006/spreadsheetDrawing",
    "drawingml/wordprocessingDrawing": _T + "drawingml/2006/wordprocessingDrawing",
    "officeDocument/bibliography": _T + "officeDocument/2006/bibliography",
    "officeDocument/characteristics": _T + "officeDocument/2006/characteristics",
    "officeDocument/customProperties": _T + "officeDocument/2006/custom-properties",
    "officeDocument/customXml": _T + "officeDocument/2006/customXml",
    "officeDocument/docPropsVTypes": _T + "officeDocument/2006/docPropsVTypes",
    "officeDocument/extendedProperties": _T + "officeDocument/2006/extended-properties",
    "officeDocument/math": _T + "officeDocument/2006/math",
    "officeDocument/relationships": _T + "officeDocument/2006/relationships",
    "presentationml/main": _T + "presentationml/2006/main",
    "schemaLibrary/main": _T + "schemaLibrary/2006/main",
    "spreadsheetml/main": _T + "spreadsheetml/2006/main",
    "wordprocessingml/main": _T + "wordprocessingml/2006/main",
}
# Relationship types whose last segment is spelt differently (officeDocument/relationships/X).
_RELATIONSHIP_NAMES = {
    b"extendedProperties": b"extended-properties",
    b"customProperties": b"custom-properties",
}
_URI = re.compile(
    rb"""(=\s*["'])http://purl\.oclc\.org/ooxml/(\w+/\w+)(?:/([^"'<>\s]*))?(?=["'])"""
)
# A start tag or other markup: text between tags never holds "<", quoted values may hold ">".
_TAG = re.compile(rb"""<[^<>"']*(?:(?:"[^"]*"|'[^']*')[^<>"']*)*>""")
_XML_SUFFIXES = (".xml", ".rels", ".vml")


def is_strict(archive: zipfile.ZipFile) -> bool:
    """Whether the package's relationships (``_rels/.rels``) point at Strict parts."""
    try:
        with archive.open("_rels/.rels") as part:
            return STRICT_MARK in part.read()
    except KeyError:  # no package relationships: not an Office file the libraries can read
        return False


def to_transitional(archive: zipfile.ZipFile) -> bytes:
    """The package rewritten with transitional namespaces and relationship types.

    ``archive`` must already have passed the loaders' zip-bomb check (``open_zip``): the
    copy holds the same parts, so it is no larger than the sizes that check allowed.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as copy:
        for info in archive.infolist():
            if info.is_dir():
                continue
            data = archive.read(info)
            if info.filename.lower().endswith(_XML_SUFFIXES) and STRICT_MARK in data:
                data = _TAG.sub(_translate_tag, data)
            copy.writestr(info.filename, data)
    return out.getvalue()


def _translate_tag(tag: re.Match[bytes]) -> bytes:
    markup = tag.group(0)
    return _URI.sub(_translate, markup) if STRICT_MARK in markup else markup


def _translate(match: re.Match[bytes]) -> bytes:
    opening, namespace, tail = match.groups()
    transitional = NAMESPACES.get(namespace.decode("ascii"))
    if transitional is None:  # a Strict namespace this table does not know: left alone
        return match.group(0)
    if tail is None:
        return opening + transitional.encode("ascii")
    if namespace == b"officeDocument/relationships":
        tail = _RELATIONSHIP_NAMES.get(tail, tail)
    return opening + transitional.encode("ascii") + b"/" + tail
