"""The Milvus Lite backend (index kind ``milvus``) against the FAISS path, on real Milvus Lite.

The bundled corpus is indexed once with ``index_kind="milvus"`` (real model); the FAISS
index it is compared with holds the very same vectors (the Milvus index re-saved with
kind ``flat``), so any difference is the backend's. Milvus Lite runs in this process and
serves pymilvus on 127.0.0.1; the tests refuse any other destination and close every
client they open.
"""

from __future__ import annotations

import importlib
import json
import logging
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip(
    "pymilvus", reason="the Milvus backend needs the extra: pip install -e '.[milvus]'"
)
pytest.importorskip(
    "milvus_lite", reason="the Milvus backend needs the extra: pip install -e '.[milvus]'"
)

from conftest import CORPUS, gold_items  # noqa: E402
from milvus_lite.server_manager import server_manager_instance as SERVERS  # noqa: E402
from test_vector_index import make_data  # noqa: E402

import rag  # noqa: E402
from rag import milvus_bm25, milvus_db, milvus_files, milvus_store, retrieval, vector_store  # noqa: E402
from rag.bm25 import BM25  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.errors import IndexCorruptedError, RagError  # noqa: E402
from rag.milvus_store import MilvusStore  # noqa: E402
from rag.retrieval import (
    Retriever,  # noqa: E402
    fusion_weights,  # noqa: E402
)
from rag.store import load_index, read_manifest, save_index  # noqa: E402
from rag.terms import terms  # noqa: E402
from rag.textnorm import detect_lang  # noqa: E402
from rag.vector_store import NumpyStore  # noqa: E402

PLEDGE = "Which companies signed the pledge?"
pytestmark = pytest.mark.usefixtures("loopback_only")  # tests/conftest.py


@pytest.fixture(autouse=True)
def closes_what_it_opens():
    """Each test closes the Milvus clients (and in-process servers) it opened."""
    before = set(SERVERS._servers)
    yield
    assert set(SERVERS._servers) <= before, set(SERVERS._servers) - before
    for port in (entry[2] for entry in SERVERS._servers.values()):
        assert isinstance(port, int)  # served on 127.0.0.1:port (milvus_lite.server_manager)


@pytest.fixture(scope="module")
def milvus_dir(tmp_path_factory) -> Path:
    index_dir = tmp_path_factory.mktemp("milvus-index")
    qa = rag.build([CORPUS], index_dir=index_dir, index_kind="milvus")
    qa.data.vector_store.close()
    return index_dir


@pytest.fixture(scope="module")
def both(milvus_dir, tmp_path_factory):
    """(QA over Milvus, QA over FAISS flat), the same vectors and chunks."""
    data = load_index(milvus_dir)
    vectors = data.vector_store.reconstruct()
    data.vector_store.close()
    data.index_kind, data.vector_store = "flat", None
    faiss_dir = tmp_path_factory.mktemp("faiss-index")
    save_index(data, faiss_dir)
    before = set(SERVERS._servers)  # with RAG_INDEX_KIND=milvus the session index is one too
    milvus_qa, faiss_qa = rag.open(milvus_dir), rag.open(faiss_dir)
    assert np.array_equal(faiss_qa.data.vectors, vectors)
    yield milvus_qa, faiss_qa
    milvus_qa.data.vector_store.close()
    assert set(SERVERS._servers) <= before, "every Milvus client and in-process server is closed"


def test_built_with_the_setting_and_checksummed(milvus_dir):
    version, manifest = read_manifest(milvus_dir)
    assert manifest["index"]["kind"] == "milvus"
    assert manifest["index"]["index_type"] == "FLAT"
    assert manifest["index"]["requested"] == "milvus"
    db_files = [f for f in manifest["files"] if f.startswith("milvus.db/")]
    assert any(f.endswith(".parquet") for f in db_files), db_files
    assert not (version / "vectors.faiss").exists()


def test_pledge_question_same_hits_and_answer(both):
    milvus_qa, faiss_qa = both
    assert isinstance(milvus_qa.data.vector_store, MilvusStore)
    hits_m, hits_f = milvus_qa.search(PLEDGE, top_k=5), faiss_qa.search(PLEDGE, top_k=5)
    assert [h.chunk.chunk_id for h in hits_m] == [h.chunk.chunk_id for h in hits_f]
    assert [h.score for h in hits_m] == pytest.approx([h.score for h in hits_f], abs=1e-4)
    answer_m, answer_f = milvus_qa.ask(PLEDGE), faiss_qa.ask(PLEDGE)
    assert not answer_m.refused and answer_m.text == answer_f.text
    assert [c.doc_id for c in answer_m.citations] == [c.doc_id for c in answer_f.citations]


def test_dense_search_equals_exact(both):
    milvus_qa, faiss_qa = both
    store, vectors = milvus_qa.data.vector_store, faiss_qa.data.vectors
    queries = milvus_qa.embedder.encode_queries([g["question"] for g in gold_items()[:20]])
    k = 10
    m_scores, m_rows = store.search(queries, k)
    for other in (NumpyStore(vectors), faiss_qa.data.search_index()):
        o_scores, o_rows = other.search(queries, k)
        np.testing.assert_allclose(m_scores, o_scores, atol=1e-4)
        # Rows may swap only between scores tied to within 1e-4.
        for q in range(len(queries)):
            for j in np.flatnonzero(m_rows[q] != o_rows[q]):
                assert abs(m_scores[q, j] - o_scores[q, j]) < 1e-4


def test_sparse_bm25_scores_match_rag_bm25(both):
    milvus_qa, _ = both
    store, data = milvus_qa.data.vector_store, milvus_qa.data
    store.set_chunks(data.chunks, data.terms)
    bm25 = BM25(data.terms)
    for item in gold_items()[:30]:
        query_terms = terms(item["question"])
        expected = bm25.scores(query_terms)
        sparse = store.query_sparse(query_terms)
        if not sparse:
            assert not expected.any()
            continue
        found = store.client.search(
            milvus_store.SPARSE, data=[sparse], limit=50, anns_field="bm25", output_fields=["id"]
        )[0]
        rows = store.rows_of(np.array([h["id"] for h in found], dtype=np.int64))
        got = {int(r): h["distance"] for r, h in zip(rows, found, strict=True)}
        positive = int((expected > 0).sum())
        assert len(got) == min(50, positive)
        for row, score in got.items():
            assert score == pytest.approx(float(expected[row]), rel=1e-5, abs=1e-5)


def test_hybrid_hits_equal_faiss_path_on_gold(both):
    milvus_qa, faiss_qa = both
    store, data = milvus_qa.data.vector_store, milvus_qa.data
    weights = fusion_weights(milvus_qa.settings)
    scripts = [detect_lang(c.text) for c in data.chunks]
    questions = [g["question"] for g in gold_items()]
    assert len(questions) == 100
    differ = []
    for question in questions:
        # One question at a time, as the product embeds it: a batch pads, and in bf16 that
        # moves the vector enough to swap two candidates 5e-4 apart in fused score.
        vector = milvus_qa.embedder.encode_queries([question])[0]
        hits = store.hybrid_search(
            vector,
            terms(question),
            5,
            weights=weights,
            query_script=detect_lang(question),
            chunk_scripts=scripts,
        )
        expected = faiss_qa.data.chunk_row
        want = [expected(h.chunk.chunk_id) for h in faiss_qa.search(question, top_k=5)]
        if [row for row, _, _ in hits] != want:
            differ.append((question, [row for row, _, _ in hits], want))
    assert not differ, f"hybrid top-5 differs from the FAISS path for {len(differ)}: {differ}"


def test_hybrid_equals_retriever_when_the_pool_is_smaller_than_the_index():
    """The corpus has 12 chunks, so every chunk is a candidate there; here 3000 chunks,
    pools of 50 from each side, Korean and English texts, real Kiwi terms."""
    rng = np.random.default_rng(7)
    words = "서울 선언 기업 서약 인공지능 안전 회의 정상 포럼 한국 네덜란드 군사 책임 "
    words += "Seoul pledge company safety summit forum Korea Netherlands military AI 2024 REAIM"
    words = words.split()
    texts = [
        " ".join(rng.choice(words[:13] if i % 3 else words[13:], size=rng.integers(3, 12)))
        for i in range(3000)
    ]
    vectors = rng.standard_normal((3000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    data = make_data(vectors, kind="numpy")
    data.chunks = [replace(c, text=t) for c, t in zip(data.chunks, texts, strict=True)]
    data.terms = [terms(t) for t in texts]
    settings = Settings()
    retriever = Retriever(data, embedder=None, settings=settings)
    store = MilvusStore.build(vectors, terms=data.terms)
    try:
        scripts = [detect_lang(t) for t in texts]
        for i in range(40):
            question = texts[rng.integers(3000)]
            vector = vectors[rng.integers(3000)] + 0.5 * rng.standard_normal(32)
            vector = (vector / np.linalg.norm(vector)).astype(np.float32)
            want = retriever.search(question, top_k=10, query_vector=vector)
            got = store.hybrid_search(
                vector,
                terms(question),
                10,
                weights=retriever.weights,
                query_script=detect_lang(question),
                chunk_scripts=scripts,
            )
            assert [r for r, _, _ in got] == [h.chunk.start for h in want], (i, question)
            assert [s for _, s, _ in got] == pytest.approx([h.score for h in want], abs=1e-5)
    finally:
        store.close()


def test_an_index_assembled_in_memory_gets_its_bm25_terms_from_the_retriever():
    """update_index builds the store without terms (rag.store hands them over on save);
    searching such an index before any save must work, as the benchmark does."""
    rng = np.random.default_rng(11)
    words = "서울 선언 기업 서약 회의 Seoul pledge summit forum REAIM 2024".split()
    texts = [" ".join(rng.choice(words, size=rng.integers(3, 9))) for _ in range(200)]
    vectors = rng.standard_normal((200, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    data = make_data(vectors, kind="numpy")
    data.chunks = [replace(c, text=t) for c, t in zip(data.chunks, texts, strict=True)]
    data.terms = [terms(t) for t in texts]
    want = Retriever(data, embedder=None, settings=Settings())
    store = MilvusStore.build(vectors)
    try:
        assert not store.has_terms()
        data.index_kind, data.vector_store = "milvus", store
        got = Retriever(data, embedder=None, settings=Settings())
        assert store.has_terms()
        for i in range(10):
            question = texts[i * 7]
            hits = got.search(question, top_k=5, query_vector=vectors[i * 7])
            expected = want.search(question, top_k=5, query_vector=vectors[i * 7])
            assert [h.chunk.chunk_id for h in hits] == [h.chunk.chunk_id for h in expected]
    finally:
        store.close()


def _no_recomputation(monkeypatch):
    """Computing BM25 weights or writing the sparse field again fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("BM25 recomputed instead of read from the saved database")

    monkeypatch.setattr(milvus_bm25.TermStats, "of", refuse)
    monkeypatch.setattr(MilvusStore, "set_chunks", refuse)
    monkeypatch.setattr(MilvusStore, "rewrite_sparse", refuse)


def test_rag_index_saves_the_sparse_field(milvus_dir, tmp_path, monkeypatch):
    """The saved database alone (no chunks.jsonl) answers BM25 with rag.bm25's scores."""
    version, manifest = read_manifest(milvus_dir)
    assert manifest["index"]["bm25"] is True
    assert milvus_files.TERMS_FILE in manifest["files"]
    assert milvus_files.KEYS_FILE in manifest["files"]
    sparse_files = [f for f in manifest["files"] if f.startswith("milvus.db/collections/bm25/")]
    assert any(f.endswith(".parquet") for f in sparse_files), sparse_files
    with open(version / "chunks.jsonl", encoding="utf-8") as fh:
        chunk_terms = [json.loads(line)["terms"] for line in fh if line.strip()]
    bm25 = BM25(chunk_terms)
    # Only the database and its term ids, in a folder of their own.
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copytree(version / milvus_store.DB, alone / milvus_store.DB)
    for name in (milvus_files.TERMS_FILE, milvus_files.KEYS_FILE):
        shutil.copy(version / name, alone / name)
    _no_recomputation(monkeypatch)
    opens = (
        lambda: MilvusStore.load(alone, manifest["index"]),
        lambda: rag.open(milvus_dir).data.vector_store,  # a fresh QA over the saved index
    )
    for open_store in opens:
        store = open_store()
        try:
            assert store.vocab is not None and store._terms_source is None
            checked = 0
            for item in gold_items():
                query_terms = terms(item["question"])
                expected = bm25.scores(query_terms)
                sparse = store.query_sparse(query_terms)
                keys = milvus_bm25.sparse_hits(store.client, milvus_store.SPARSE, sparse, 50)
                keys = np.array(keys, dtype=np.int64)
                rows = store.rows_of(keys)
                assert len(rows) == min(50, int((expected > 0).sum()))
                got = milvus_bm25.sparse_scores(store.client, milvus_store.SPARSE, keys, sparse)
                np.testing.assert_allclose(got, expected[rows], rtol=1e-5, atol=1e-5)
                checked += len(rows)
            assert checked > 100
        finally:
            store.close()


def test_qa_over_milvus_equals_faiss_on_gold(both, monkeypatch):
    """QA.search and QA.ask: the same hits and answers for the 100 gold questions, with both
    sides of the hybrid search from Milvus (the in-memory postings are never asked)."""
    milvus_qa, faiss_qa = both
    retriever = milvus_qa._snapshot.retriever
    store = retriever.index
    assert isinstance(store, MilvusStore) and retriever._hybrid
    assert not faiss_qa._snapshot.retriever._hybrid
    calls = {"hybrid": 0, "sparse": 0}
    hybrid, sparse_hits = store.hybrid_search, milvus_store.sparse_hits

    def counted_hybrid(*args, **kwargs):
        calls["hybrid"] += 1
        return hybrid(*args, **kwargs)

    def counted_sparse(*args, **kwargs):
        calls["sparse"] += 1
        return sparse_hits(*args, **kwargs)

    def postings(*args, **kwargs):
        raise AssertionError("BM25 taken from the in-memory postings")

    monkeypatch.setattr(store, "hybrid_search", counted_hybrid)
    monkeypatch.setattr(milvus_store, "sparse_hits", counted_sparse)
    monkeypatch.setattr(retriever.bm25, "scores", postings)
    monkeypatch.setattr(retriever.bm25, "top", postings)
    questions = [g["question"] for g in gold_items()]
    assert len(questions) == 100
    differ = []
    for question in questions:
        hits_m, hits_f = milvus_qa.search(question, top_k=5), faiss_qa.search(question, top_k=5)
        ids_m, ids_f = [h.chunk.chunk_id for h in hits_m], [h.chunk.chunk_id for h in hits_f]
        answer_m, answer_f = milvus_qa.ask(question), faiss_qa.ask(question)
        same = (
            ids_m == ids_f
            and answer_m.refused == answer_f.refused
            and answer_m.text == answer_f.text
            and [(c.doc_id, c.start, c.end) for c in answer_m.citations]
            == [(c.doc_id, c.start, c.end) for c in answer_f.citations]
        )
        if not same:
            differ.append(question)
            continue
        assert [h.score for h in hits_m] == pytest.approx([h.score for h in hits_f], abs=1e-4)
        for m, f in zip(hits_m, hits_f, strict=True):
            assert (m.bm25_score is None) == (f.bm25_score is None), question
            if m.bm25_score is not None:
                assert m.bm25_score == pytest.approx(f.bm25_score, rel=1e-5, abs=1e-5)
    assert not differ, f"{len(differ)} gold questions differ from FAISS: {differ}"
    assert calls["hybrid"] >= 200  # one search per QA.search and per QA.ask
    assert calls["sparse"] >= 100  # questions with no known term skip the sparse search


def test_coverage_power_falls_back_to_the_postings(both, caplog, monkeypatch):
    milvus_qa, _ = both
    monkeypatch.setattr(retrieval, "_logged_coverage", False)
    settings = replace(milvus_qa.settings, bm25_coverage_power=0.5)
    with caplog.at_level(logging.INFO, logger="rag.retrieval"):
        first = Retriever(milvus_qa.data, milvus_qa.embedder, settings)
        second = Retriever(milvus_qa.data, milvus_qa.embedder, settings)
    assert not first._hybrid and not second._hybrid
    assert sum("hybrid_search has no BM25 coverage" in r.message for r in caplog.records) == 1
    hits = first.search(PLEDGE, top_k=3)
    assert len(hits) == 3


def test_saved_db_is_not_touched_by_loading(milvus_dir):
    version, manifest = read_manifest(milvus_dir)
    before = {p: p.stat().st_mtime_ns for p in (version / "milvus.db").rglob("*")}
    for _ in range(2):
        load_index(milvus_dir).vector_store.close()
    after = {p: p.stat().st_mtime_ns for p in (version / "milvus.db").rglob("*")}
    assert before == after


def _copy(milvus_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    target = tmp_path / "index"
    shutil.copytree(milvus_dir, target)
    version, _ = read_manifest(target)
    return target, version / "milvus.db"


def test_corrupted_db_is_the_corrupted_index_error(milvus_dir, tmp_path):
    index_dir, db = _copy(milvus_dir, tmp_path)
    segment = next(db.rglob("*.parquet"))
    segment.write_bytes(b"not a parquet file")
    with pytest.raises(IndexCorruptedError, match=r"damaged.*rag index"):
        rag.open(index_dir)
    with pytest.raises(IndexCorruptedError, match="rag index"):
        load_index(index_dir, verify=False)


def test_missing_db_is_the_corrupted_index_error(milvus_dir, tmp_path):
    index_dir, db = _copy(milvus_dir, tmp_path)
    shutil.rmtree(db)
    with pytest.raises(IndexCorruptedError, match=r"missing files.*rag index"):
        rag.open(index_dir)


def test_missing_extra_names_it(monkeypatch, milvus_dir):
    real = importlib.import_module

    def no_milvus(name, *args, **kwargs):
        if name.split(".")[0] in ("pymilvus", "milvus_lite"):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(milvus_db.importlib, "import_module", no_milvus)
    vectors = np.eye(4, 8, dtype=np.float32)
    with pytest.raises(RagError, match=r"pip install -e '\.\[milvus\]'"):
        vector_store.build(vectors, kind="milvus")
    with pytest.raises(RagError, match=r"pip install -e '\.\[milvus\]'"):
        load_index(milvus_dir)


def test_unknown_index_kind_setting_is_refused():
    with pytest.raises(RagError, match="RAG_INDEX_KIND"):
        rag.config.Settings().with_overrides(index_kind="milvsu")


def test_unbuilt_index_types_are_refused():
    with pytest.raises(RagError, match="IVF_PQ"):
        MilvusStore.build(np.eye(4, 8, dtype=np.float32), {"index_type": "IVF_PQ"})
