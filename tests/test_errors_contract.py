"""One error contract, checked settings, and commands that need no model.

The index here is built without the real model: its vectors come from a stand-in
embedder whose record (name = the default model, a made-up fingerprint) matches no
real model. Listing and removing documents must work on it with an empty model
cache; anything that loads the model fails there (ModelNotFoundError), and a loaded
real model would not match the fingerprint (IndexMismatchError). So these tests
fail if a command loads the model when it should not.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import typing
from pathlib import Path

import numpy as np
import pytest

import rag
from rag import cli
from rag.config import DEFAULT_MODEL, NOT_SETTINGS, Answerer, Settings, env_names
from rag.embeddings import ModelInfo
from rag.indexing import empty_index, update_index
from rag.loaders import load_documents
from rag.store import CURRENT, read_manifest, save_index

ROOT = Path(__file__).resolve().parents[1]
TEXTS = {
    "pledge.txt": "Fourteen companies signed the Seoul AI pledge in May 2024.\n",
    "summit.txt": (
        "The REAIM summit on military AI met in The Hague in February 2023. "
        "Ministers from many countries attended the two days of talks. "
        "A call to action on responsible military use of AI was endorsed.\n"
    ),
}


class StandInEmbedder:
    """Deterministic vectors for building the test index: nothing here ranks by them."""

    info = ModelInfo(name=DEFAULT_MODEL, fingerprint="stand-in-not-real", dim=8)
    dim = 8

    def encode_documents(self, texts: list[str], **_: object) -> np.ndarray:
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:8], np.uint8) for t in texts]
        vecs = np.asarray(rows, dtype=np.float32).reshape(len(texts), 8) + 1.0
        return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)

    def encode_documents_with_spans(
        self, texts: list[str], spans: list[list[tuple[int, int]]], **_: object
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        units = [self.encode_documents([t[a:b] for a, b in s]) for t, s in zip(texts, spans)]
        return self.encode_documents(texts), units


@pytest.fixture()
def no_model(tmp_path, monkeypatch) -> Path:
    """An index of two documents, and an empty model cache: loading the model fails."""
    cache = tmp_path / "empty-cache"
    cache.mkdir()
    monkeypatch.setenv("RAG_CACHE_DIR", str(cache))
    docs_dir = tmp_path / "docs"
    docs_dir.mkdir()
    for name, text in TEXTS.items():
        (docs_dir / name).write_text(text, encoding="utf-8")
    settings = Settings.from_env()
    embedder = StandInEmbedder()
    data, _ = update_index(
        empty_index(embedder, settings),
        add=load_documents([docs_dir]),
        embedder=embedder,
        settings=settings,
    )
    index_dir = tmp_path / "index"
    save_index(data, index_dir)
    return index_dir


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def live_version(index_dir: Path) -> str:
    return (index_dir / CURRENT).read_text(encoding="utf-8")


# --- documents not found --------------------------------------------------------------


def test_removing_an_unknown_id_raises_document_not_found(no_model):
    before = live_version(no_model)
    qa = rag.open(no_model, load_model=False)
    with pytest.raises(rag.DocumentNotFoundError, match=r"nope\.txt.*pledge\.txt") as caught:
        qa.remove(["nope.txt", "pledge.txt"])
    assert isinstance(caught.value, rag.RagError)
    assert isinstance(caught.value, KeyError)  # callers that caught KeyError still do
    assert str(caught.value).startswith("No document(s) ['nope.txt']")  # not quoted
    assert live_version(no_model) == before
    assert [d.doc_id for d in qa.documents()] == ["pledge.txt", "summit.txt"]


def test_cli_reports_an_unknown_id_as_one_line_with_status_2(no_model, capsys):
    code, out, err = run(capsys, "remove", "nope.txt", "--index-dir", str(no_model))
    assert code == 2
    assert out == ""
    assert err.startswith("error: No document(s) ['nope.txt'] in the index at ")
    assert "rag docs" in err and "Traceback" not in err


# --- no model for listing and removing -------------------------------------------------


def test_docs_and_remove_work_without_the_model(no_model, capsys):
    recorded = read_manifest(no_model)[1]["model"]
    code, out, _ = run(capsys, "docs", "--index-dir", str(no_model))
    assert code == 0
    assert [line.split("\t")[0] for line in out.splitlines()] == ["pledge.txt", "summit.txt"]

    code, out, _ = run(capsys, "remove", "pledge.txt", "--index-dir", str(no_model))
    assert (code, out) == (0, "removed pledge.txt\n")
    code, out, _ = run(capsys, "docs", "--index", str(no_model))  # the hidden alias
    assert [line.split("\t")[0] for line in out.splitlines()] == ["summit.txt"]
    assert read_manifest(no_model)[1]["model"] == recorded  # the index's record is kept


def test_search_with_bm25_needs_no_model_and_top_k_comes_from_settings(
    no_model, capsys, monkeypatch
):
    monkeypatch.setenv("RAG_TOP_K", "1")
    code, out, _ = run(
        capsys, "search", "REAIM summit", "--mode", "bm25", "--index-dir", str(no_model)
    )
    assert code == 0
    assert re.findall(r"^\d+\. ", out, re.MULTILINE) == ["1. "]
    assert "summit.txt#" in out


def test_the_model_is_loaded_when_an_update_must_embed(no_model, capsys, monkeypatch):
    """Other chunking settings re-chunk every document, and new chunks need vectors."""
    before = live_version(no_model)
    monkeypatch.setenv("RAG_CHUNK_SIZE", "60")
    code, _, err = run(capsys, "remove", "pledge.txt", "--index-dir", str(no_model))
    assert code == 2
    assert "rag models fetch" in err  # it tried to load the model, which is not cached
    assert live_version(no_model) == before


def test_opening_with_the_model_still_checks_it_at_once(no_model):
    with pytest.raises(rag.ModelNotFoundError):
        rag.open(no_model)


# --- top_k and answerer ----------------------------------------------------------------


def test_search_and_retriever_default_to_settings_top_k(no_model):
    qa = rag.open(no_model, load_model=False, top_k=1)
    assert len(qa.search("summit pledge", mode="bm25")) == 1
    assert len(qa.search("summit pledge", mode="bm25", top_k=2)) == 2
    assert qa.as_retriever().top_k == 1
    assert qa.as_retriever(top_k=3).top_k == 3


@pytest.mark.parametrize("method", ["ask", "ask_stream"])
def test_answerer_is_typed_with_the_settings_literal(method):
    hints = typing.get_type_hints(getattr(rag.QA, method))
    assert hints["answerer"] == Answerer | None


# --- environment variables ------------------------------------------------------------


def test_a_mistyped_setting_is_rejected_with_the_valid_names(monkeypatch):
    typo = "RAG_" + "TOPK"
    monkeypatch.setenv(typo, "3")
    with pytest.raises(rag.RagError, match=typo) as caught:
        Settings.from_env()
    assert "RAG_TOP_K" in str(caught.value)
    assert "RAG_CACHE_DIR" in str(caught.value)


def test_a_mistyped_setting_stops_the_cli(monkeypatch, capsys, no_model):
    monkeypatch.setenv("RAG_ANSWERE", "llm")
    code, _, err = run(capsys, "docs", "--index-dir", str(no_model))
    assert code == 2
    assert "RAG_ANSWERE" in err and "RAG_ANSWERER" in err


def test_variables_read_outside_settings_are_accepted(monkeypatch):
    for name in NOT_SETTINGS:
        monkeypatch.setenv(name, "1")
    monkeypatch.setenv("RAG_LLM_BASE_URL", "http://127.0.0.1:9")
    assert Settings.from_env().llm_base_url == "http://127.0.0.1:9"


def test_every_rag_variable_the_repo_mentions_is_accepted():
    """A new RAG_* variable read anywhere must be a setting or listed in NOT_SETTINGS."""
    files = [ROOT / "README.md", ROOT / "Makefile", ROOT / "app.py", ROOT / ".ci" / "run"]
    for folder in ("rag", "tests", "bench", "eval", "fuzz", "docs"):
        files += [p for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".md")]
    this = Path(__file__).resolve()
    found = set()
    for path in files:
        if path.is_file() and path.resolve() != this:
            found |= set(re.findall(r"\bRAG_[A-Z][A-Z0-9_]*[A-Z0-9]\b", path.read_text("utf-8")))
    assert found, "the scan found no RAG_* names at all"
    assert sorted(found - set(env_names()) - set(NOT_SETTINGS)) == []


# --- the command line -------------------------------------------------------------------


def test_every_command_takes_index_dir_and_hides_index(capsys):
    for command in (["index"], ["ask", "q"], ["search", "q"], ["docs"], ["remove", "x"], ["eval"]):
        with pytest.raises(SystemExit):
            cli.main([*command, "--help"])
        out = capsys.readouterr().out
        assert "--index-dir" in out, command
        assert not re.search(r"--index\b(?!-)", out), command


def test_serve_shows_the_apps_options(capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main(["serve", "--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    for option in ("--index-dir", "--host", "--port", "--max-file-mb"):
        assert option in out


def test_unknown_options_are_still_errors(capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main(["docs", "--no-such-option"])
    assert caught.value.code == 2
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err


def test_importing_rag_logs_nothing_about_faiss_builds():
    code = "import logging; logging.basicConfig(level=logging.INFO); import rag.faiss_index"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "faiss.loader" not in proc.stderr
