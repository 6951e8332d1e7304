"""Write the seed corpora in fuzz/seeds/ (committed; rerun after changing this file).

    python fuzz/make_seeds.py

Small, valid examples of each input kind, so the fuzzers start inside the parsers:
UTF-8, CP949 and UTF-16 text, Markdown with front matter, HTML with a script and a
declared charset, a text PDF, an encrypted PDF and a truncated one.
"""

from __future__ import annotations

import io
from pathlib import Path

HERE = Path(__file__).resolve().parent
KO = "서울 AI 기업 서약에는 삼성전자, 네이버 등 14개 기업이 참여했다. 2024.05.22 국무조정실\n"
EN = "The Seoul AI Business Pledge was signed by 14 companies on 22 May 2024.\n"


def text_pdf(text: str) -> bytes:
    """A one-page PDF with ``text`` in Helvetica and a correct cross-reference table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    size = len(objects) + 1
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref))
    return out.getvalue()


def encrypted_pdf(source: bytes, password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(source)))
    writer.encrypt(user_password=password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def loader_seeds() -> dict[str, bytes]:
    # First byte: 0 .txt, 1 .md, 2 .html, 3 .pdf, 6-9 office/hwpx (fuzz_loaders.EXTENSIONS).
    pdf = text_pdf("Seoul AI Business Pledge, 22 May 2024")
    return {
        "txt-utf8": b"\x00" + (EN + KO).encode("utf-8"),
        "txt-cp949": b"\x00" + KO.encode("cp949"),
        "txt-utf16": b"\x00" + (EN + KO).encode("utf-16"),
        "md-front-matter": b"\x01"
        + f"---\ntitle: 서약\ndate: 2024-05-22\nsource: MSIT\n---\n# Pledge\n\n{EN}".encode(),
        "html-script": b"\x02"
        + (
            '<html><head><meta charset="utf-8"><title>포럼</title>'
            '<meta property="og:site_name" content="국무조정실"></head>'
            "<body><h1>AI 글로벌 포럼</h1>"
            f"<p>{KO}</p><script>window.__pwned=1</script><img src=x onerror=alert(1)>"
            "<p>&lt;b&gt;escaped&lt;/b&gt; &amp; more</p></body></html>"
        ).encode(),
        "html-euckr": b"\x02"
        + b'<html><meta charset="euc-kr"><body><p>'
        + KO.encode("cp949")
        + b"</p></body></html>",
        "pdf-text": b"\x03" + pdf,
        "pdf-encrypted": b"\x03" + encrypted_pdf(pdf, "secret"),
        "pdf-empty-password": b"\x03" + encrypted_pdf(pdf, ""),
        "pdf-truncated": b"\x03" + pdf[: len(pdf) // 2],
        **office_seeds(),
    }


def office_seeds() -> dict[str, bytes]:
    """docx/pptx/xlsx/hwpx seeds (first byte 6-9), made by the tests' writers."""
    import sys

    sys.path.insert(0, str(HERE.parent / "tests"))
    from test_formats import make_docx, make_hwpx, make_pptx, make_xlsx

    return {
        "docx": b"\x06" + make_docx(),
        "pptx": b"\x07" + make_pptx(["One slide.", KO]),
        "xlsx": b"\x08" + make_xlsx(),
        "hwpx": b"\x09" + make_hwpx([KO, EN]),
    }


def chunker_seeds() -> dict[str, bytes]:
    # Two bytes for chunk size and overlap, then the text (see fuzz_chunker).
    texts = {
        "mixed": EN + KO + "Hello. 안녕하세요! 👍🏽 \u202eRTL\u202c ﬁ ① ㄱㅇ\n\n- one\n- two\n",
        "rtl-arabic-hebrew": "مرحبا بالعالم. שלום עולם. \u200f\u200b\ufeff text\r\nnext line\u2028",
        "long-korean": KO * 12,
    }
    return {name: b"\x20\x01" + text.encode("utf-8") for name, text in texts.items()}


def main() -> None:
    for folder, seeds in (("loaders", loader_seeds()), ("chunker", chunker_seeds())):
        target = HERE / "seeds" / folder
        target.mkdir(parents=True, exist_ok=True)
        for name, data in seeds.items():
            (target / name).write_bytes(data)


if __name__ == "__main__":
    main()
