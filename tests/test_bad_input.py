"""Bad input gets a clear error naming the problem and the fix; nothing is damaged."""

from __future__ import annotations

import errno
import importlib.util
import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import live_version as _live
from conftest import set_format_version

import rag
from rag.loaders import load_bytes
from rag.store import CURRENT, save_index

MILVUS_SEGMENTS = "milvus.db/collections/chunks/partitions/_default/data"

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("question", ["", "   ", "\n\t ", "\x00\x01\x02", "\u200b\u200b"])
def test_empty_questions_are_rejected_with_a_clear_message(qa, question):
    with pytest.raises(rag.InvalidQuestionError, match="empty"):
        qa.ask(question)


def test_huge_question_is_rejected_with_the_limit(qa):
    with pytest.raises(rag.InvalidQuestionError, match="limit is 2,000"):
        qa.ask("서울 " * 50_000)


def test_control_characters_are_stripped_not_fatal(qa):
    answer = qa.ask("Which\x00 companies\x07 signed the\x1b pledge?")
    assert not answer.refused and "삼성전자" in answer.text


def test_missing_index_says_how_to_build(tmp_path):
    with pytest.raises(rag.IndexNotFoundError, match="rag index"):
        rag.open(tmp_path / "nothing-here")


def _kind(index_dir: Path) -> str:
    """The vector backend the session's index was built with (RAG_INDEX_KIND)."""
    manifest = json.loads((_live(index_dir) / "manifest.json").read_text(encoding="utf-8"))
    return manifest["index"]["kind"]


def _vector_file(index_dir: Path) -> Path:
    """The file holding the chunk vectors: FAISS's one file, or Milvus Lite's Parquet segment."""
    live = _live(index_dir)
    if _kind(index_dir) != "milvus":
        return live / "vectors.faiss"
    segments = sorted((live / MILVUS_SEGMENTS).glob("*.parquet"))
    assert segments, f"no Milvus Lite segment in {live / MILVUS_SEGMENTS}"
    return segments[0]


def test_truncated_vector_file_is_detected(index_copy):
    target = _vector_file(index_copy)
    target.write_bytes(target.read_bytes()[:100])
    name = re.escape(target.relative_to(_live(index_copy)).as_posix())
    with pytest.raises(rag.IndexCorruptedError, match=f"{name} has SHA-256.*--rebuild"):
        rag.open(index_copy)


def test_vector_store_of_the_wrong_file_type_is_detected(index_copy):
    """FAISS's file replaced by a folder, or Milvus Lite's database folder (``milvus.db``)
    by a file, as a copy that flattened it leaves."""
    live = _live(index_copy)
    if _kind(index_copy) == "milvus":
        shutil.rmtree(live / "milvus.db")
        (live / "milvus.db").write_bytes(b"\0" * 100)
        wrong = "milvus.db in v-[^ ]+ is a file where the index keeps a folder"
    else:
        (live / "vectors.faiss").unlink()
        (live / "vectors.faiss").mkdir()
        wrong = "vectors.faiss in v-[^ ]+ is a folder where the index keeps a file"
    with pytest.raises(rag.IndexCorruptedError, match=f"damaged: {wrong}.*--rebuild"):
        rag.open(index_copy)


def test_missing_manifest_is_detected(index_copy):
    (_live(index_copy) / "manifest.json").unlink()
    with pytest.raises(rag.IndexCorruptedError, match="manifest.json is missing"):
        rag.open(index_copy)


def test_index_from_another_model_is_refused(index_copy):
    manifest_path = _live(index_copy) / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["model"]["name"] = "intfloat/multilingual-e5-small"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(rag.IndexMismatchError, match="multilingual-e5-small.*--rebuild"):
        rag.open(index_copy)


def test_index_with_other_dimension_is_refused(index_copy):
    manifest_path = _live(index_copy) / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["model"]["dim"] = 384
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises((rag.IndexMismatchError, rag.IndexCorruptedError), match="384"):
        rag.open(index_copy)


def test_other_format_version_is_refused(index_copy):
    set_format_version(index_copy, 99)
    with pytest.raises(rag.IndexMismatchError, match="format version 99"):
        rag.open(index_copy)


def _fill_the_disk(patch: pytest.MonkeyPatch, kind: str) -> list[int]:
    """Saving the vectors fails as on a full disk: FAISS's write of vectors.faiss, or the
    copy of the Milvus Lite database after its first files. Returns the files copied
    before each Milvus failure (so a test sees the copy did stop half-way)."""

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "disk full (simulated)")

    if kind != "milvus":
        import faiss

        patch.setattr(faiss, "write_index", full)
        return []
    copytree, copied, halfway = shutil.copytree, [], []

    def copy(source, target, **kwargs):
        if len(copied) == 3:
            full()
        copied.append(target)
        return shutil.copy2(source, target, **kwargs)

    def copytree_until_full(src, dst, *args, **kwargs):
        if args:  # copytree's own call for a subfolder, handing on ``copy``
            return copytree(src, dst, *args, **kwargs)
        copied.clear()
        try:
            return copytree(src, dst, copy_function=copy, **kwargs)
        finally:
            halfway.append(len(copied))

    patch.setattr(shutil, "copytree", copytree_until_full)
    return halfway


def test_failed_save_leaves_previous_index_intact(index_copy):
    """A save that fails half-way keeps the live version, and the loaded index answering."""
    qa = rag.open(index_copy)

    def top(qa: rag.QA) -> list[str]:
        return [h.chunk.chunk_id for h in qa.search("헤이그", top_k=3)]

    before = top(qa)
    with pytest.MonkeyPatch.context() as patch:
        halfway = _fill_the_disk(patch, _kind(index_copy))
        with pytest.raises(OSError, match="disk full"):
            qa.remove(["reaim-2023.txt"])  # a new version
        with pytest.raises(OSError, match="disk full"):
            save_index(qa.data, index_copy)  # the loaded index itself, as rag.build saves it
    assert halfway == ([3, 3] if _kind(index_copy) == "milvus" else [])
    assert top(qa) == before
    reopened = rag.open(index_copy)
    assert top(reopened) == before
    assert "삼성전자" in reopened.ask("Which companies signed the pledge?").text
    assert not list(index_copy.glob(".tmp-*"))


def _zip_bomb(megabytes: int = 30) -> bytes:
    """A .docx-shaped zip whose one member unpacks to ``megabytes`` of zeros (1000:1)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * (megabytes * 1_000_000))
    return out.getvalue()


@pytest.mark.parametrize(
    "payload, name, message",
    [
        (b"\x00\x01\x02binary\x00junk" * 50, "x.txt", "binary"),
        (b"", "empty.txt", "empty"),
        (b"hello", "notes.doc", "Unsupported|unsupported"),
        (b"hello", "notes.docx", "cannot open it as Word"),
        (b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", "renamed.docx", "it is a PDF"),
        (_zip_bomb(), "bomb.docx", "zip bomb"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "locked.pptx", "encrypted"),
    ],
)
def test_bad_uploads_are_rejected_and_index_unchanged(index_copy, payload, name, message):
    qa = rag.open(index_copy)
    n_chunks = len(qa.data.chunks)
    with pytest.raises(rag.DocumentError, match=message):
        qa.add_bytes(payload, filename=name)
    assert len(rag.open(index_copy).data.chunks) == n_chunks


def test_empty_folder_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(rag.DocumentError):
        rag.build([tmp_path / "empty"], index_dir=tmp_path / "index")


# --- uploads the issue lists: huge, encrypted or broken PDF, wrong encoding, scripts --------


def _seed_builders():
    """fuzz/make_seeds.py: the PDF builders the fuzzing seeds use, loaded from its file."""
    spec = importlib.util.spec_from_file_location("make_seeds", ROOT / "fuzz" / "make_seeds.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pdf(text: str) -> bytes:
    """A one-page text PDF."""
    return _seed_builders().text_pdf(text)


def _encrypted(pdf: bytes, password: str) -> bytes:
    """RC4: pypdf needs the optional cryptography package to write (or read) AES."""
    return _seed_builders().encrypted_pdf(pdf, password)


def test_encrypted_pdf_says_how_to_decrypt():
    pdf = _pdf("Seoul AI Business Pledge, 22 May 2024")
    with pytest.raises(rag.DocumentError, match="encrypted PDF; decrypt it first"):
        load_bytes(_encrypted(pdf, "secret"), filename="locked.pdf")
    # Owner-only restrictions (empty user password) are opened, as a PDF viewer does.
    doc = load_bytes(_encrypted(pdf, ""), filename="restricted.pdf")
    assert "Pledge" in doc.text


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.4\n1 0 obj << /Type /Catalog", b"%PDF-1.7\n" + bytes(range(256)) * 4, b"not a pdf"],
)
def test_broken_pdf_is_a_document_error(data):
    with pytest.raises(rag.DocumentError, match="cannot read this PDF|empty after extraction"):
        load_bytes(data, filename="broken.pdf")


def test_korean_legacy_encodings_are_decoded_others_named():
    ko = "서울 AI 기업 서약에는 삼성전자와 네이버가 참여했다."
    # CP949/EUC-KR is still common on Korean sites: decoded, not rejected.
    assert load_bytes(ko.encode("cp949"), filename="ko.txt").text == ko
    html = b'<html><meta charset="euc-kr"><p>' + ko.encode("euc-kr") + b"</p></html>"
    assert load_bytes(html, filename="ko.html").text == ko
    # Latin-1 or Windows-1252 bytes are not guessed at: a clear error with the fix. (Other
    # East Asian multi-byte encodings can decode as CP949 Hangul: see docs/reliability.md.)
    for data in ("Café naïve déjà vu".encode("latin-1"), "“quoted” – dash".encode("cp1252")):
        with pytest.raises(rag.DocumentError, match="not UTF-8 or CP949.*re-save it as UTF-8"):
            load_bytes(data, filename="other.txt")


def test_html_scripts_are_dropped_from_the_text():
    html = (
        b"<html><body><p>Visible text about the pledge.</p>"
        b"<script>alert('x'); window.__pwned = 1</script><style>p{}</style>"
        b'<p onclick="evil()">More &lt;b&gt;text&lt;/b&gt;.</p></body></html>'
    )
    text = load_bytes(html, filename="page.html").text
    assert "Visible text" in text and "<b>text</b>" in text  # entities become text
    assert "alert" not in text and "__pwned" not in text and "evil" not in text


def _encrypted_pdf_upload() -> bytes:
    return _encrypted(_pdf("Seoul AI Business Pledge"), "secret")


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        ("locked.pdf", _encrypted_pdf_upload, "encrypted pdf"),
        ("broken.pdf", lambda: b"%PDF-1.4\n1 0 obj << /Type /Catalog", "cannot read this pdf"),
        ("latin1.txt", lambda: "Café déjà vu".encode("latin-1"), "not utf-8 or cp949"),
        ("scripts-only.html", lambda: b"<script>alert(1)</script>", "empty after extraction"),
        ("huge.txt", lambda: b"a " * 600_000, "limit"),
    ],
)
def test_bad_uploads_through_the_app_show_a_message_not_a_traceback(
    index_copy, tmp_path, name, make, expected
):
    from rag.ui import ChatApp

    qa = rag.open(index_copy)
    app = ChatApp(qa, pace=0, max_file_mb=1, llm=(False, "not installed"))
    before = (index_copy / CURRENT).read_text(encoding="utf-8")
    path = tmp_path / name
    path.write_bytes(make())
    status, *_ = app.upload([str(path)], progress=lambda *a, **k: None)
    assert "✗" in status and expected in status.lower(), status
    assert "Traceback" not in status and "a bug" not in status
    assert (index_copy / CURRENT).read_text(encoding="utf-8") == before
    assert len(qa.data.documents) == len(rag.open(index_copy).data.documents)
