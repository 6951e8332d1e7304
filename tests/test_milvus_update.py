"""Updating a Milvus index by key (rag.milvus_update) instead of rebuilding it.

The bundled corpus is indexed with ``index_kind="milvus"`` (real model); ``update_index``
then removes one document and adds another with ``MilvusStore.build`` refused, so the
result can only come from deletes and inserts by key. It must search like a fresh Milvus
build over the same chunks and like FAISS flat, hold the chunk table, and survive a save.
Synthetic term lists check the BM25 rows against rag.bm25 below and above the drift bound,
and an index saved in the old layout (idf inside the rows, no keys) must still score right.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace
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

import rag  # noqa: E402
from rag import (  # noqa: E402
    faiss_index,
    milvus_bm25,
    milvus_db,
    milvus_files,
    milvus_table,
    milvus_update,
)
from rag.bm25 import BM25  # noqa: E402
from rag.errors import RagError  # noqa: E402
from rag.indexing import update_index  # noqa: E402
from rag.milvus_store import MilvusStore  # noqa: E402
from rag.retrieval import Retriever  # noqa: E402
from rag.store import load_index, save_index  # noqa: E402
from rag.terms import terms  # noqa: E402
from rag.textnorm import detect_lang  # noqa: E402
from rag.types import Chunk, Document  # noqa: E402

pytestmark = pytest.mark.usefixtures("loopback_only")  # tests/conftest.py

NEW_TEXT = (
    "The 2025 harbour cleanup pledge was signed by twelve port operators in Busan.\n\n"
    "부산항 정화 서약에는 열두 개 항만 운영사가 서명했으며, 2030년까지 폐기물을 절반으로 "
    "줄이기로 약속했다.\n\n"
    "Operators report their progress each spring to the harbour authority."
)


def _doc(doc_id: str, text: str) -> Document:
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Document(doc_id=doc_id, text=text, title="Harbour pledge", content_hash=digest)


@pytest.fixture(scope="module")
def updated(qa, tmp_path_factory):
    """(old IndexData, updated IndexData, removed doc_id), the update made without a build."""
    index_dir = tmp_path_factory.mktemp("milvus-update")
    rag.build([CORPUS], index_dir=index_dir, index_kind="milvus").data.vector_store.close()
    old = load_index(index_dir)
    removed = sorted(old.documents)[0]
    settings = replace(qa.settings, index_kind="milvus")

    def refuse(*args, **kwargs):
        raise AssertionError("MilvusStore.build called: the update rebuilt the index")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(MilvusStore, "build", refuse)
        data, report = update_index(
            old,
            add=[_doc("harbour.txt", NEW_TEXT)],
            remove=[removed],
            embedder=qa.embedder,
            settings=settings,
        )
    assert report.removed == [removed] and report.added == ["harbour.txt"]
    yield old, data, removed
    data.vector_store.close()
    old.vector_store.close()


def test_kept_chunks_keep_their_keys(updated):
    old, data, removed = updated
    store, old_store = data.vector_store, old.vector_store
    assert isinstance(store, MilvusStore) and store is not old_store
    old_key = {c.chunk_id: int(k) for c, k in zip(old.chunks, old_store.keys, strict=True)}
    kept = [i for i, c in enumerate(data.chunks) if c.doc_id != "harbour.txt"]
    new = [i for i, c in enumerate(data.chunks) if c.doc_id == "harbour.txt"]
    assert kept and new and not any(c.doc_id == removed for c in data.chunks)
    assert [int(store.keys[i]) for i in kept] == [old_key[data.chunks[i].chunk_id] for i in kept]
    assert store.keys[new].min() > old_store.keys.max()  # fresh keys, none reused
    assert len(store) == len(data.chunks) and len(old_store) == len(old.chunks)
    assert old_store.chunks() == old.chunks  # the old store still serves


def test_chunk_table_read_from_the_collection(updated):
    _, data, _ = updated
    assert data.vector_store.chunks() == data.chunks


def _queries(qa) -> tuple[list[str], np.ndarray]:
    questions = [g["question"] for g in gold_items()[:30]] + ["부산항 정화 서약에 누가 서명했나?"]
    return questions, np.stack([qa.embedder.encode_queries([q])[0] for q in questions])


def _assert_same_dense(store, other, queries: np.ndarray, k: int = 10) -> None:
    scores, rows = store.search(queries, k)
    o_scores, o_rows = other.search(queries, k)
    np.testing.assert_allclose(scores, o_scores, atol=1e-4)
    for q in range(len(queries)):  # rows may swap only between scores tied within 1e-4
        for j in np.flatnonzero(rows[q] != o_rows[q]):
            assert abs(scores[q, j] - o_scores[q, j]) < 1e-4


def _hybrid_rows(store, qa, data, questions, vectors) -> list[list[int]]:
    scripts = [detect_lang(c.text) for c in data.chunks]
    weights = Retriever(data, qa.embedder, qa.settings).weights
    return [
        [
            r
            for r, _, _ in store.hybrid_search(
                v,
                terms(q),
                5,
                weights=weights,
                query_script=detect_lang(q),
                chunk_scripts=scripts,
            )
        ]
        for q, v in zip(questions, vectors, strict=True)
    ]


def test_search_equals_a_fresh_build_and_faiss(updated, qa):
    _, data, _ = updated
    store, vectors = data.vector_store, np.asarray(data.vectors)
    np.testing.assert_array_equal(store.reconstruct(), vectors)
    fresh = MilvusStore.build(vectors, chunks=data.chunks, terms=data.terms)
    try:
        flat = faiss_index.build(vectors, kind="flat")
        questions, queries = _queries(qa)
        for other in (fresh, flat):
            _assert_same_dense(store, other, queries)
        got = _hybrid_rows(store, qa, data, questions, queries)
        assert got == _hybrid_rows(fresh, qa, data, questions, queries)
        faiss_data = replace(data, index_kind="flat", vector_store=flat)
        retriever = Retriever(faiss_data, qa.embedder, qa.settings)
        assert not retriever._hybrid
        want = [
            [faiss_data.chunk_row(h.chunk.chunk_id) for h in retriever.search(q, query_vector=v)]
            for q, v in zip(questions, queries, strict=True)
        ]
        assert got == want
        assert any(data.chunks[rows[0]].doc_id == "harbour.txt" for rows in got)
    finally:
        fresh.close()


def _bm25_rows(store: MilvusStore, query_terms: list[str]) -> dict[int, float]:
    """Row -> BM25 score of every chunk the ``bm25`` collection scores above 0."""
    sparse = store.query_sparse(query_terms)
    keys = np.array(milvus_bm25.sparse_hits(store.client, "bm25", sparse, store.n), np.int64)
    scores = milvus_bm25.sparse_scores(store.client, "bm25", keys, sparse)
    return dict(zip(store.rows_of(keys).tolist(), scores.tolist(), strict=True))


def _assert_bm25(store: MilvusStore, docs_terms, queries, *, avg_len: float | None = None):
    bm25 = BM25(docs_terms)
    if avg_len is not None:
        bm25.avg_len = avg_len
    checked = 0
    for query in queries:
        expected = bm25.scores(query)
        got = _bm25_rows(store, query)
        assert sorted(got) == sorted(np.flatnonzero(expected > 0).tolist()), query
        for row, score in got.items():
            assert score == pytest.approx(float(expected[row]), rel=1e-5, abs=1e-5)
        checked += len(got)
    assert checked > 0


def test_save_and_load_keep_keys_chunks_and_scores(updated, qa, tmp_path, monkeypatch):
    _, data, _ = updated
    store = data.vector_store

    def refuse(*args, **kwargs):
        raise AssertionError("the save rewrote the collections the update had written")

    monkeypatch.setattr(MilvusStore, "_write_dense", refuse)
    monkeypatch.setattr(MilvusStore, "rewrite_sparse", refuse)
    save_index(data, tmp_path / "index")
    monkeypatch.undo()
    loaded = load_index(tmp_path / "index")
    try:
        again = loaded.vector_store
        np.testing.assert_array_equal(again.keys, store.keys)
        assert again.next_key == store.next_key
        assert again.chunks() == data.chunks == loaded.chunks
        assert again.stats == store.stats
        questions, queries = _queries(qa)
        _assert_same_dense(again, store, queries)
        assert _hybrid_rows(again, qa, data, questions, queries) == _hybrid_rows(
            store, qa, data, questions, queries
        )
        avg = store.stats.avg_len
        _assert_bm25(again, data.terms, [terms(q) for q in questions], avg_len=avg)
    finally:
        loaded.vector_store.close()


def _synthetic(n: int, *, seed: int, words: int = 8) -> tuple[np.ndarray, list, list]:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vocab = [f"w{i}" for i in range(40)]
    docs = [
        list(rng.choice(vocab, size=rng.integers(words // 2, words * 3 // 2))) for _ in range(n)
    ]
    chunks = [
        Chunk(f"s#{seed}-{i}", f"s{seed}", " ".join(t), 0, len(t)) for i, t in enumerate(docs)
    ]
    return vectors, chunks, docs


QUERIES = [["w1", "w2"], ["w3"], ["w5", "w7", "w11"], ["w0", "w39", "w20"], ["w2", "w2", "w30"]]


def test_bm25_rows_survive_inserts_and_deletes_within_the_drift_bound():
    vectors, chunks, docs = _synthetic(300, seed=1)
    old = MilvusStore.build(vectors, chunks=chunks, terms=docs)
    try:
        _assert_bm25(old, docs, QUERIES)  # a fresh build: exactly rag.bm25
        kept = np.setdiff1d(np.arange(300), [3, 50, 299])
        add_v, add_c, add_t = _synthetic(4, seed=2)  # the same lengths: a small drift
        all_t = [docs[i] for i in kept] + add_t
        new = milvus_update.update(
            old,
            kept,
            np.concatenate([vectors[kept], add_v]),
            chunks=[chunks[i] for i in kept] + add_c,
            terms=all_t,
            old_chunks=chunks,
            old_terms=docs,
        )
        try:
            assert new.stats.drift() <= milvus_bm25.AVG_LEN_DRIFT
            assert new.stats.avg_len == old.stats.avg_len  # the old rows were not rewritten
            assert new.stats.avg_len != pytest.approx(np.mean([len(t) for t in all_t]), abs=1e-9)
            # idf from the current counts, length norm with the rows' avg_len
            _assert_bm25(new, all_t, QUERIES, avg_len=old.stats.avg_len)
            _assert_bm25(old, docs, QUERIES)  # the old store is untouched
        finally:
            new.close()
        long_v, long_c, long_t = _synthetic(60, seed=3, words=40)  # past the bound
        longer = milvus_update.update(
            old,
            np.arange(300),
            np.concatenate([vectors, long_v]),
            chunks=chunks + long_c,
            terms=docs + long_t,
            old_chunks=chunks,
            old_terms=docs,
        )
        try:
            assert longer.stats.avg_len == pytest.approx(np.mean([len(t) for t in docs + long_t]))
            _assert_bm25(longer, docs + long_t, QUERIES)  # all rows rewritten: exact again
        finally:
            longer.close()
    finally:
        old.close()


def _old_layout(folder: Path, vectors: np.ndarray, chunks: list, docs: list) -> None:
    """A version as saved before keys, chunk fields and query-side idf: dense collection
    of vectors only, BM25 rows with idf inside, ``{"terms": {term: id}}``, no keys file."""
    store = MilvusStore.build(vectors)
    try:
        bm25 = BM25(docs)
        vocab = {t: i for i, t in enumerate(sorted(bm25.postings))}
        norm = bm25.k1 * (1 - bm25.b + bm25.b * bm25.doc_len / bm25.avg_len)
        rows: list[dict] = [{} for _ in docs]
        for term, (where, tf) in bm25.postings.items():
            weight = bm25.idf(term) * tf * (bm25.k1 + 1) / (tf + norm[where])
            for row, w in zip(where.tolist(), weight.tolist(), strict=True):
                rows[row][vocab[term]] = w
        milvus_table.create(
            store.client,
            store._pymilvus,
            "bm25",
            "bm25",
            "SPARSE_FLOAT_VECTOR",
            "SPARSE_INVERTED_INDEX",
        )
        milvus_table.insert(
            store.client, "bm25", [{"id": i, "bm25": r} for i, r in enumerate(rows)]
        )
        store.client.flush("bm25")
        store.save(folder)
    finally:
        store.close()
    (folder / milvus_files.KEYS_FILE).unlink()
    record = {"terms": vocab, "sha256": "old"}
    (folder / milvus_files.TERMS_FILE).write_text(json.dumps(record), encoding="utf-8")
    with open(folder / "chunks.jsonl", "w", encoding="utf-8") as fh:
        for c, t in zip(chunks, docs, strict=True):
            fh.write(json.dumps({**asdict(c), "terms": t}, ensure_ascii=False) + "\n")


def test_an_old_layout_save_loads_with_right_scores(tmp_path):
    vectors, chunks, docs = _synthetic(200, seed=4)
    _old_layout(tmp_path, vectors, chunks, docs)
    record = {"kind": "milvus", "index_type": "FLAT", "bm25": True, "ntotal": 200}
    store = MilvusStore.load(tmp_path, record)
    try:
        np.testing.assert_array_equal(store.keys, np.arange(200))
        _assert_bm25(store, docs, QUERIES)  # old rows times idf would square the idf
        with pytest.raises(RagError, match="rag index --rebuild"):
            store.chunks()
        store.set_chunks(chunks, docs)  # what the next save does: the table is stored
        assert store.chunks() == chunks
        _assert_bm25(store, docs, QUERIES)
        np.testing.assert_array_equal(store.reconstruct(), vectors)
    finally:
        store.close()


def test_the_old_layout_fixture_is_old(tmp_path):
    """Guard for the test above: its fixture's rows give BM25 with a query of 1.0s."""
    vectors, chunks, docs = _synthetic(50, seed=5)
    _old_layout(tmp_path, vectors, chunks, docs)
    record = json.loads((tmp_path / milvus_files.TERMS_FILE).read_text(encoding="utf-8"))
    assert "layout" not in record and not (tmp_path / milvus_files.KEYS_FILE).exists()
    db = milvus_db.WorkingCopy(milvus_db.new_workdir(tmp_path / milvus_db.DB))
    try:
        db.client.load_collection("bm25")
        query = {record["terms"][t]: 1.0 for t in QUERIES[0]}
        found = db.client.search("bm25", data=[query], limit=50, anns_field="bm25")[0]
        expected = BM25(docs).scores(QUERIES[0])
        assert len(found) == int((expected > 0).sum()) > 0
        for hit in found:
            assert hit["distance"] == pytest.approx(float(expected[hit["id"]]), rel=1e-5)
    finally:
        db.close()


def test_text_longer_than_a_milvus_varchar_is_refused_with_the_fix():
    vectors = np.eye(2, 8, dtype=np.float32)
    chunks = [Chunk("a#0", "a", "짧다", 0, 2), Chunk("b#0", "b", "가" * 30_000, 0, 30_000)]
    with pytest.raises(RagError, match=r"'b#0'.*90,000 UTF-8 bytes.*RAG_CHUNK_SIZE"):
        MilvusStore.build(vectors, chunks=chunks, terms=[["짧다"], ["가"]])


def test_a_store_without_these_rows_is_not_updated_by_key():
    """A store saved before the chunk fields existed, or holding other rows than the old
    index says: the update declines, and update_index builds afresh."""
    vectors, chunks, docs = _synthetic(30, seed=6)
    kept, args = np.arange(29), {"chunks": chunks[:29], "terms": docs[:29], "old_terms": docs}
    bare = MilvusStore.build(vectors, terms=docs)  # vectors and BM25 only
    full = MilvusStore.build(vectors, chunks=chunks, terms=docs)
    try:
        assert milvus_update.update(bare, kept, vectors[:29], old_chunks=chunks, **args) is None
        other = [*chunks[:-1], replace(chunks[-1], text="changed")]
        assert milvus_update.update(full, kept, vectors[:29], old_chunks=other, **args) is None
        new = milvus_update.update(full, kept, vectors[:29], old_chunks=chunks, **args)
        assert new is not None and new.chunks() == chunks[:29]
        new.close()
    finally:
        bare.close()
        full.close()
