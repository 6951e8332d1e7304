"""Vector search structures: exact agrees with numpy, each ANN kind keeps recall@10 >= 0.95,
save -> load keeps kind, parameters and hits, and a second VectorStore implementation
(plain numpy) passes the same retrieval checks. No model: clustered synthetic vectors.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from faiss.contrib.evaluation import check_ref_knn_with_draws

from rag import faiss_index, vector_store
from rag.config import Settings
from rag.embeddings import ModelInfo
from rag.retrieval import Retriever
from rag.store import IndexData, load_index, read_manifest, save_index
from rag.types import Chunk, Document
from rag.vector_store import NumpyStore, VectorStore

DIM = 64


def clustered(n: int, *, seed: int, dim: int = DIM) -> np.ndarray:
    """Gaussian clusters with low-rank spread plus a little isotropic noise, normalised."""
    rng = np.random.default_rng(seed)
    n_clusters, rank = max(4, n // 400), 8
    centres = rng.standard_normal((n_clusters, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    spread = rng.standard_normal((n_clusters, dim, rank)).astype(np.float32) * 0.5 / np.sqrt(dim)
    ids = rng.integers(n_clusters, size=n)
    z = rng.standard_normal((n, rank)).astype(np.float32)
    x = centres[ids] + np.einsum("ndr,nr->nd", spread[ids], z)
    x += rng.standard_normal(x.shape).astype(np.float32) * 0.1 / np.sqrt(dim)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def brute_force(base: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    scores = queries @ base.T
    rows = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, rows, axis=1), rows


def recall_at_10(rows: np.ndarray, truth: np.ndarray) -> float:
    return sum(len(set(r[:10]) & set(t[:10])) for r, t in zip(rows, truth, strict=True)) / (
        10 * len(truth)
    )


def make_data(vectors: np.ndarray, *, kind: str = "auto") -> IndexData:
    doc = Document(doc_id="d.txt", text="x" * len(vectors), title="D", content_hash="h")
    chunks = [Chunk(f"d.txt#{i}-{i + 1}", "d.txt", "x", i, i + 1, "D") for i in range(len(vectors))]
    model = ModelInfo(name="fake", fingerprint="x", dim=vectors.shape[1])
    return IndexData(
        model=model,
        documents={doc.doc_id: doc},
        chunks=chunks,
        terms=[["x"]] * len(vectors),
        vectors=vectors,
        index_kind=kind,
    )


@pytest.fixture(scope="module")
def dataset() -> tuple[np.ndarray, np.ndarray]:
    data = clustered(20_200, seed=0)
    return data[:20_000], data[20_000:]  # held-out queries, not in the index


@pytest.mark.parametrize("kind", ["flat", "numpy"])
def test_exact_kinds_agree_with_brute_force(dataset, kind):
    base, queries = dataset
    store = vector_store.build(base, kind=kind)
    scores, rows = store.search(queries, 50)
    ref_scores, ref_rows = brute_force(base, queries, 50)
    # Ties may be ordered differently; check_ref_knn_with_draws allows exactly that.
    check_ref_knn_with_draws(ref_scores, ref_rows, scores, rows)


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_ann_kind_reaches_recall_at_its_parameters(dataset, kind):
    base, queries = dataset
    store = faiss_index.build(base, kind=kind)
    defaults = faiss_index.default_params(kind, len(base))
    assert {k: store.params.get(k) for k in defaults} == defaults  # IVF adds its training record
    _, rows = store.search(queries, 50)
    _, truth = brute_force(base, queries, 10)
    assert recall_at_10(rows, truth) >= 0.95


@pytest.mark.parametrize(
    ("kind", "params"),
    [("hnsw", {"M": 16, "efConstruction": 40, "efSearch": 24}), ("ivf", {"nprobe": 3})],
)
def test_save_load_keeps_kind_parameters_and_hits(tmp_path, dataset, kind, params):
    base, queries = dataset
    data = make_data(base[:5000], kind=kind)
    data.vector_store = faiss_index.build(data.vectors, kind=kind, params=params)
    before = data.search_index().search(queries, 20)
    save_index(data, tmp_path)
    _, manifest = read_manifest(tmp_path)
    loaded = load_index(tmp_path)
    record = loaded.search_index().describe()
    assert manifest["index"] == {**record, "requested": kind}
    assert record["kind"] == kind and {k: record[k] for k in params} == params
    after = loaded.search_index().search(queries, 20)
    np.testing.assert_array_equal(before[1], after[1])
    np.testing.assert_array_equal(loaded.vectors, data.vectors)  # reconstructed exactly


def test_manifest_search_parameters_win_over_the_faiss_file(tmp_path, dataset):
    base, _ = dataset
    save_index(make_data(base[:3000], kind="ivf"), tmp_path)
    version, manifest = read_manifest(tmp_path)
    store = vector_store.load(version, {**manifest["index"], "nprobe": 5})
    assert faiss_index.faiss.extract_index_ivf(store.index).nprobe == 5


def test_old_manifest_record_without_parameters_still_loads(tmp_path, dataset):
    base, queries = dataset
    data = make_data(base[:2000], kind="hnsw")
    save_index(data, tmp_path)
    version, _ = read_manifest(tmp_path)
    store = vector_store.load(version, {"kind": "hnsw", "ntotal": 2000})  # format-1 record
    np.testing.assert_array_equal(
        store.search(queries, 5)[1], data.search_index().search(queries, 5)[1]
    )


def test_choose_kind_thresholds():
    limit = faiss_index.FLAT_UNTIL
    assert faiss_index.choose_kind(0) == "flat"
    assert faiss_index.choose_kind(limit - 1) == "flat"
    assert faiss_index.choose_kind(limit) == faiss_index.ANN_KIND
    assert faiss_index.choose_kind(10, "hnsw") == "hnsw"
    with pytest.raises(ValueError, match="'annoy'.*'flat'"):
        faiss_index.choose_kind(10, "annoy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'annoy'.*'numpy'"):
        vector_store.build(np.zeros((1, 4), np.float32), kind="annoy")


@pytest.mark.parametrize("kind", ["flat", "numpy"])
def test_retrieval_through_either_store_matches_brute_force(tmp_path, dataset, kind):
    """Two implementations of the interface, one retriever: both give numpy's ranking."""
    base, queries = dataset
    data = make_data(base[:3000], kind=kind)
    assert isinstance(data.search_index(), VectorStore)
    retriever = Retriever(data, embedder=None, settings=Settings())  # query vectors given
    _, truth = brute_force(data.vectors, queries, 10)
    for q, expected in zip(queries[:20], truth[:20], strict=True):
        hits = retriever.search("x", top_k=10, mode="dense", query_vector=q)
        rows = [int(h.chunk.start) for h in hits]  # chunk i starts at offset i
        assert rows == list(expected)
        assert hits[0].dense_score == pytest.approx(float(base[expected[0]] @ q), abs=1e-5)
    save_index(data, tmp_path)
    _, manifest = read_manifest(tmp_path)
    assert manifest["index"]["kind"] == kind
    assert set(manifest["files"]) >= {"chunks.jsonl", "documents.jsonl"}
    reloaded = load_index(tmp_path)
    assert type(reloaded.search_index()) is type(data.search_index())
    if kind == "numpy":
        assert "vectors.npy" in manifest["files"]
        assert isinstance(reloaded.search_index(), NumpyStore)
    json.dumps(manifest)  # the record is plain JSON


@pytest.mark.parametrize(
    ("kind", "params"), [("ivf", {"nprobe": 1}), ("hnsw", {"M": 4, "efSearch": 4})]
)
def test_the_recall_check_can_fail(dataset, kind, params):
    """Starved parameters miss neighbours on this set, so the recall test above means something."""
    base, queries = dataset
    _, rows = faiss_index.build(base, kind=kind, params=params).search(queries, 10)
    assert recall_at_10(rows, brute_force(base, queries, 10)[1]) < 0.95


def test_an_auto_index_stays_auto_after_a_reload(tmp_path, dataset):
    """The manifest records the kind built and the kind asked for; a reloaded small index
    must not stay exact forever once it grows past the threshold."""
    base, _ = dataset
    save_index(make_data(base[:500]), tmp_path)
    _, manifest = read_manifest(tmp_path)
    assert manifest["index"]["kind"] == "flat" and manifest["index"]["requested"] == "auto"
    assert load_index(tmp_path).index_kind == "auto"
