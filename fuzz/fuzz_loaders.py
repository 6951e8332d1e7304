"""Coverage-guided fuzzing of ``rag.loaders.load_bytes`` (txt, md, html, pdf, office, hwpx).

    python fuzz/fuzz_loaders.py fuzz/seeds/loaders -max_total_time=60

The first input byte picks the file type, the rest is the file. The invariant is the
one of tests/test_fuzz.py: a normalised ``Document`` or a ``DocumentError``, nothing
else. ``rag`` and ``pypdf`` are instrumented, so the PDF parser is explored too.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["rag.loaders", "rag.textnorm", "pypdf"]):
    import pypdf  # noqa: F401  (imported here so its modules are instrumented)

    from rag.errors import DocumentError
    from rag.loaders import load_bytes
    from rag.loaders.html import html_text  # noqa: F401
    from rag.loaders.hwp import hwp_file  # noqa: F401  (readers are imported lazily)
    from rag.loaders.office import office_file  # noqa: F401
    from rag.loaders.pdf import pdf_file  # noqa: F401
    from rag.textnorm import normalize

EXTENSIONS = (".txt", ".md", ".html", ".pdf", ".htm", ".TXT", ".docx", ".pptx", ".xlsx", ".hwpx")


def test_one_input(data: bytes) -> None:
    if not data:
        return
    name = "fuzz" + EXTENSIONS[data[0] % len(EXTENSIONS)]
    try:
        doc = load_bytes(data[1:], filename=name)
    except DocumentError:
        return
    if not doc.text.strip():
        raise AssertionError("a Document with blank text")
    if normalize(doc.text) != doc.text:
        raise AssertionError("a Document whose text is not normalised")
    if "/" in doc.doc_id:
        raise AssertionError(f"doc_id with a folder: {doc.doc_id!r}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
