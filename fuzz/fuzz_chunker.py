"""Coverage-guided fuzzing of ``normalize`` and ``chunk_document`` with atheris.

    python fuzz/fuzz_chunker.py fuzz/seeds/chunker -max_total_time=60

Invariants (as in tests/test_fuzz.py): ``normalize`` is idempotent and its output
encodes as UTF-8; every chunk is an exact, non-blank span ``text[start:end]``, ids
are unique, and every non-space character of the text is in some chunk.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["rag.chunking", "rag.sentences", "rag.textnorm"]):
    from rag.chunking import chunk_document
    from rag.textnorm import normalize
    from rag.types import Document


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    chunk_size = 50 + fdp.ConsumeIntInRange(0, 450)
    overlap = fdp.ConsumeIntInRange(0, 2)
    raw = fdp.ConsumeUnicode(fdp.remaining_bytes())  # may hold lone surrogates
    text = normalize(raw)
    if normalize(text) != text:
        raise AssertionError("normalize is not idempotent")
    text.encode("utf-8")  # raises on a lone surrogate left behind
    chunks = chunk_document(
        Document(doc_id="fuzz.txt", text=text), chunk_size=chunk_size, overlap=overlap
    )
    covered: set[int] = set()
    for c in chunks:
        if not (0 <= c.start < c.end <= len(text)) or c.text != text[c.start : c.end]:
            raise AssertionError(f"chunk {c.chunk_id} is not an exact span")
        if not c.text.strip():
            raise AssertionError(f"blank chunk {c.chunk_id}")
        covered.update(range(c.start, c.end))
    if len({c.chunk_id for c in chunks}) != len(chunks):
        raise AssertionError("duplicate chunk ids")
    missing = [i for i, ch in enumerate(text) if not ch.isspace() and i not in covered]
    if missing:
        raise AssertionError(f"characters in no chunk at {missing[:5]}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
