"""Bad input gets a clear error naming the problem and the fix; nothing is damaged."""

from __future__ import annotations

import json

import pytest

import rag
from rag.store import CURRENT


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


def _live(index_dir):
    return index_dir / (index_dir / CURRENT).read_text(encoding="utf-8").strip()


def test_truncated_faiss_file_is_detected(index_copy):
    target = _live(index_copy) / "vectors.faiss"
    target.write_bytes(target.read_bytes()[:100])
    with pytest.raises(rag.IndexCorruptedError, match="vectors.faiss.*--rebuild"):
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
    manifest_path = _live(index_copy) / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["format_version"] = 99
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(rag.IndexMismatchError, match="format version 99"):
        rag.open(index_copy)


def test_failed_save_leaves_previous_index_intact(index_copy, monkeypatch):
    qa = rag.open(index_copy)
    before = [h.chunk.chunk_id for h in qa.search("헤이그", top_k=3)]

    import faiss

    def explode(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(faiss, "write_index", explode)
    with pytest.raises(OSError, match="disk full"):
        qa.remove(["reaim-2023.txt"])
    monkeypatch.undo()
    reopened = rag.open(index_copy)
    assert [h.chunk.chunk_id for h in reopened.search("헤이그", top_k=3)] == before
    assert not list(index_copy.glob(".tmp-*"))


@pytest.mark.parametrize(
    "payload, name, message",
    [
        (b"\x00\x01\x02binary\x00junk" * 50, "x.txt", "binary"),
        (b"", "empty.txt", "empty"),
        (b"hello", "notes.docx", "Unsupported|unsupported"),
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
