"""The on-disk index survives a writer killed at any moment, detects damage, never pickles.

No model is needed: the index is built directly from random normalised vectors.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import rag
from rag.embeddings import ModelInfo
from rag.store import CURRENT, IndexData, load_index, save_index
from rag.types import Chunk, Document

ROOT = Path(__file__).resolve().parents[1]
KILL_ITERATIONS = 15
KILL_BUDGET_SECONDS = 90  # stop early on a slow machine; at least 5 kills always run
DIM = 8


def make_data(n_chunks: int, *, seed: int) -> IndexData:
    """A deterministic index of ``n_chunks`` chunks over a few documents."""
    rng = np.random.default_rng(seed)
    n_docs = max(1, n_chunks // 50)
    docs, chunks, terms = {}, [], []
    per_doc = -(-n_chunks // n_docs)
    for d in range(n_docs):
        doc_id = f"doc-{seed}-{d}.txt"
        sentences = [f"문장 {seed}.{d}.{i} sentence text number {i}. " * 4 for i in range(per_doc)]
        text = "".join(sentences)
        docs[doc_id] = Document(doc_id=doc_id, text=text, title=f"Doc {d}", content_hash=str(d))
        pos = 0
        for s in sentences:
            if len(chunks) == n_chunks:
                break
            start, end = pos, pos + len(s)
            chunks.append(
                Chunk(f"{doc_id}#{start}-{end}", doc_id, text[start:end], start, end, f"Doc {d}")
            )
            terms.append(s.split()[:6])
            pos = end
    vectors = rng.standard_normal((n_chunks, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    model = ModelInfo(name="fake", fingerprint="x", dim=DIM)
    return IndexData(model=model, documents=docs, chunks=chunks, terms=terms, vectors=vectors)


SMALL = {"n_chunks": 20, "seed": 1}  # version A
BIG = {"n_chunks": 20_000, "seed": 2}  # version B: a few MB, so a save takes a while

# The child saves one of the two versions, says "go" just before save_index, then saves.
_CHILD = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("crash_helpers", sys.argv[1])
mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
data = mod.make_data(**(mod.BIG if sys.argv[3] == "B" else mod.SMALL))
print("go", flush=True)
mod.save_index(data, sys.argv[2])
print("saved", flush=True)
"""


def _same(loaded: IndexData, expected: IndexData) -> bool:
    return [c.chunk_id for c in loaded.chunks] == [
        c.chunk_id for c in expected.chunks
    ] and np.array_equal(loaded.vectors, expected.vectors)


def test_killed_writer_always_leaves_a_complete_version(tmp_path):
    index_dir = tmp_path / "index"
    versions = {"A": make_data(**SMALL), "B": make_data(**BIG)}
    save_index(versions["A"], index_dir)
    live = "A"
    rng = random.Random(0)
    began = time.monotonic()
    outcomes = []
    for i in range(KILL_ITERATIONS):
        if i >= 5 and time.monotonic() - began > KILL_BUDGET_SECONDS:
            break
        target = "B" if live == "A" else "A"
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, __file__, str(index_dir), target],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        try:
            assert child.stdout.readline().strip() == "go", "child failed before saving"
            # A saves in a few ms, B in about a second: B's window covers its whole save.
            time.sleep(rng.uniform(0.0, 0.3 if target == "A" else 1.2))
            child.send_signal(signal.SIGKILL)
        finally:
            child.wait(timeout=60)
            child.stdout.close()
        loaded = load_index(index_dir)  # must never raise
        matches = [name for name, data in versions.items() if _same(loaded, data)]
        assert matches, f"iteration {i}: the loaded index is neither version A nor B"
        outcomes.append(f"{live}->{target}:{matches[0]}")
        live = matches[0]
    print(f"{len(outcomes)} kills, outcomes (from->target:loaded): {outcomes}")
    assert len(outcomes) >= 5
    # Leftovers of killed saves are collected by the next successful save.
    save_index(versions["A"], index_dir)
    assert not list(index_dir.glob(".tmp-*"))
    assert _same(load_index(index_dir), versions["A"])


def _live_folder(index_dir: Path) -> Path:
    return index_dir / (index_dir / CURRENT).read_text(encoding="utf-8").strip()


@pytest.mark.parametrize("name", ["vectors.faiss", "chunks.jsonl", "documents.jsonl"])
def test_flipped_byte_is_detected_with_rebuild_hint(tmp_path, name):
    save_index(make_data(**SMALL), tmp_path)
    target = _live_folder(tmp_path) / name
    raw = bytearray(target.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    target.write_bytes(bytes(raw))
    with pytest.raises(rag.IndexCorruptedError, match="rebuild") as info:
        load_index(tmp_path)
    assert name in str(info.value)


def test_saved_index_contains_no_pickle(tmp_path):
    save_index(make_data(**SMALL), tmp_path)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "vectors.faiss" for p in files)
    for path in files:
        assert path.suffix not in (".pkl", ".pickle"), path
        with open(path, "rb") as fh:
            head = fh.read(2)
        assert head not in (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05"), path


def test_library_never_imports_pickle():
    offenders = []
    for path in sorted((ROOT / "rag").rglob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if any(s in line for s in ("import pickle", "pickle.load", "from pickle")):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, offenders
