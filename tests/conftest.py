"""Shared fixtures: the real model and a real index of the bundled corpus, built once."""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "corpus"


def live_version(index_dir: Path) -> Path:
    """The folder of the index's live version (what CURRENT names)."""
    return index_dir / (index_dir / "CURRENT").read_text(encoding="utf-8").strip()


def set_format_version(index_dir: Path, version: int) -> None:
    """Stamp the live manifest with another format version, as an older rag wrote it."""
    path = live_version(index_dir) / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["format_version"] = version
    path.write_text(json.dumps(manifest), encoding="utf-8")


def gold_items(path: Path = ROOT / "eval" / "gold.jsonl") -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS


@pytest.fixture(scope="session")
def built_index(tmp_path_factory) -> Path:
    """A fresh index of data/corpus, built once per test session with the real model."""
    import rag

    index_dir = tmp_path_factory.mktemp("index")
    rag.build([CORPUS], index_dir=index_dir)
    return index_dir


@pytest.fixture(scope="session")
def qa(built_index):
    import rag

    return rag.open(built_index)


@pytest.fixture()
def index_copy(built_index, tmp_path) -> Path:
    """A private copy of the built index that a test may damage."""
    target = tmp_path / "index"
    shutil.copytree(built_index, target)
    return target


@pytest.fixture(scope="module")
def loopback_only():
    """Python-level sockets may connect to loopback or local sockets only (for tests that
    start servers: Milvus Lite, Ray)."""
    connect = socket.socket.connect

    def guarded(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            assert address[0] in ("127.0.0.1", "::1", "localhost"), f"connect to {address}"
        return connect(sock, address)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", guarded)
        yield
