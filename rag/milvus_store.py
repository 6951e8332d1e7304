"""Milvus Lite as a ``VectorStore`` (index kind ``milvus``), with the product's BM25 in it.

One Milvus Lite database (``milvus.db``: a folder of WAL, Parquet segments and index files)
holds ``chunks`` (int64 key = chunk row, FLOAT_VECTOR, metric IP, FLAT or IVF_FLAT) and
``bm25`` (a SPARSE_FLOAT_VECTOR of the product's own BM25 weights, rag.milvus_bm25; Milvus
Lite's BM25 function has no Korean tokenizer). rag.store hands the chunks' terms to
``set_terms`` before each save, so a saved database holds both fields, and rag.retrieval
takes both sides of a hybrid search from it (``hybrid_search``).

The live database is a private working copy in a temporary folder. ``save`` closes it and
copies it into the version folder, where rag.store checksums each of its files; ``load``
opens a copy of the saved one, because opening a database writes to it (lock, WAL,
compaction). Milvus Lite serves pymilvus in this process over gRPC on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import shutil
import tempfile
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import RagError
from .fusion import FusionWeights
from .milvus_bm25 import bm25_weights, fuse_rows, query_sparse, sparse_hits, sparse_scores

DB = "milvus.db"
TERMS_FILE = "milvus_terms.json"
DENSE, SPARSE = "chunks", "bm25"
INDEX_TYPES = ("FLAT", "IVF_FLAT")  # what Milvus Lite 3.2 really builds (docs/performance.md)
BATCH = 2000
EXTRA = "pip install -e '.[milvus]'"


def import_milvus() -> tuple[Any, Any]:
    """``(pymilvus, milvus_lite.server_manager)``, or the error naming the extra."""
    try:
        pymilvus = importlib.import_module("pymilvus")
        servers = importlib.import_module("milvus_lite.server_manager")
    except ImportError as exc:
        raise RagError(
            "The Milvus index (index kind 'milvus', RAG_INDEX_KIND=milvus) needs the optional "
            f"'milvus' extra (pymilvus + milvus-lite): {EXTRA} (or pip install 'rag[milvus]'); "
            "or use the default FAISS index (unset RAG_INDEX_KIND and run rag index --rebuild)."
        ) from exc
    return pymilvus, servers.server_manager_instance


class MilvusStore:
    """Row i is chunk i; scores are inner products (Milvus metric IP) of normalised vectors."""

    kind = "milvus"

    def __init__(self, workdir: Path, *, dim: int, n: int, index: dict[str, Any]):
        pymilvus, self._servers = import_milvus()
        self._pymilvus = pymilvus
        self.workdir, self.dim, self.n, self.index = Path(workdir), dim, n, index
        self.path = str(self.workdir / DB)
        self.vocab: dict[str, int] | None = None
        self._vectors: np.ndarray | None = None
        self._terms_source: Path | None = None  # chunks.jsonl of an index saved without terms
        self._terms_key: str | None = None  # SHA-256 of the terms the bm25 field holds
        self.client = pymilvus.MilvusClient(uri=self.path)
        self._finalizer = weakref.finalize(
            self, _shutdown, self.client, self._servers, self.path, self.workdir
        )

    @classmethod
    def build(
        cls, vectors: np.ndarray, params: dict | None = None, terms: list[list[str]] | None = None
    ) -> MilvusStore:
        """A new database over ``vectors`` (n, dim) float32; ``params``: ``index_type``
        (FLAT or IVF_FLAT), ``nlist``, ``nprobe``."""
        import_milvus()  # the missing extra is named before anything is created
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        params = dict(params or {})
        index_type = str(params.pop("index_type", "FLAT")).upper()
        if index_type not in INDEX_TYPES:
            raise RagError(
                f"Milvus Lite index type {index_type!r} is not supported; choose one of "
                f"{', '.join(INDEX_TYPES)} (Milvus Lite accepts IVF_PQ, DISKANN and SCANN but "
                "never builds them and searches exactly)."
            )
        if index_type == "IVF_FLAT":
            params.setdefault("nlist", max(1, min(4096, int(4 * np.sqrt(max(len(vectors), 1))))))
            params.setdefault("nprobe", 16)
        store = cls(
            Path(tempfile.mkdtemp(prefix="rag-milvus-")),
            dim=vectors.shape[1],
            n=len(vectors),
            index={"index_type": index_type, **params},
        )
        build = {k: v for k, v in params.items() if k != "nprobe"}
        store._create(DENSE, "vector", "FLOAT_VECTOR", index_type, build, dim=store.dim)
        store._insert(DENSE, [{"id": i, "vector": v} for i, v in enumerate(vectors)])
        store.client.flush(DENSE)
        store._wait_for_index(DENSE, "vector")
        store.client.load_collection(DENSE)
        store._vectors = vectors
        if terms is not None:
            store.set_terms(terms)
        return store

    def set_terms(self, docs_terms: list[list[str]]) -> None:
        """(Re)write the ``bm25`` collection from the chunks' terms (one list per row); a
        no-op when it already holds these terms. rag.store calls it before each save."""
        if len(docs_terms) != self.n:
            raise ValueError(f"{len(docs_terms)} term lists for {self.n} vectors")
        key = _terms_key(docs_terms)
        if key == self._terms_key and self.vocab is not None:
            return
        vocab, rows = bm25_weights(docs_terms)
        if self.client.has_collection(SPARSE):
            self.client.drop_collection(SPARSE)
        self._create(SPARSE, "bm25", "SPARSE_FLOAT_VECTOR", "SPARSE_INVERTED_INDEX")
        self._insert(SPARSE, [{"id": i, "bm25": w} for i, w in enumerate(rows) if w])  # no terms
        self.client.flush(SPARSE)
        self.client.load_collection(SPARSE)
        self.vocab, self._terms_key, self._terms_source = vocab, key, None

    def _create(self, name: str, field: str, dtype: str, index_type: str, params=None, **kw):
        """A collection ``name``: int64 key ``id`` (the chunk row) and ``field``, metric IP."""
        schema = self._pymilvus.MilvusClient.create_schema(auto_id=False)
        schema.add_field("id", self._pymilvus.DataType.INT64, is_primary=True)
        schema.add_field(field, getattr(self._pymilvus.DataType, dtype), **kw)
        index = self.client.prepare_index_params()
        index.add_index(field, index_type=index_type, metric_type="IP", params=params or {})
        self.client.create_collection(name, schema=schema)
        # sync=False: waiting would call AllocTimestamp, which Milvus Lite does not implement.
        self.client.create_index(name, index, sync=False)

    def _insert(self, name: str, rows: list[dict]) -> None:
        for start in range(0, len(rows), BATCH):
            self.client.insert(name, rows[start : start + BATCH])

    def _wait_for_index(self, collection: str, field: str, timeout: float = 600.0) -> None:
        """Milvus Lite indexes each segment in the background after a flush (describe_index
        says "Finished" before that); wait until every segment has its index file."""
        root = Path(self.path) / "collections" / collection / "partitions"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            segments = {p.stem for p in root.glob("*/data/*.parquet")}
            indexed = {p.name.split(".")[0] for p in root.glob(f"*/indexes/*.{field}.*.idx")}
            if segments <= indexed:
                return
            time.sleep(0.05)

    def __len__(self) -> int:
        return self.n

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.asarray(queries, dtype=np.float32).reshape(-1, self.dim)
        k = min(max(k, 1), max(self.n, 1))
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        rows = np.full((len(queries), k), -1, dtype=np.int64)
        if not self.n:
            return scores, rows
        search_params = {"metric_type": "IP"}
        if "nprobe" in self.index:
            search_params["params"] = {"nprobe": int(self.index["nprobe"])}
        found = self.client.search(
            DENSE,
            data=list(queries),
            limit=k,
            anns_field="vector",
            search_params=search_params,
            output_fields=["id"],
        )
        for q, hits in enumerate(found):
            for j, hit in enumerate(hits):
                rows[q, j], scores[q, j] = hit["id"], hit["distance"]
        return scores, rows

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.index, "bm25": self.vocab is not None, "ntotal": self.n}

    def reconstruct(self) -> np.ndarray:
        if self._vectors is None:
            vectors = np.zeros((self.n, self.dim), dtype=np.float32)
            for start in range(0, self.n, BATCH):
                end = min(self.n, start + BATCH)
                for row in self.client.query(
                    DENSE,
                    filter=f"id >= {start} and id < {end}",
                    output_fields=["id", "vector"],
                    limit=end - start,
                ):
                    vectors[row["id"]] = row["vector"]
            self._vectors = vectors
        return self._vectors

    def save(self, folder: Path) -> list[str]:
        """Close the database, copy it into ``folder``, reopen; the copy's file names. A copy
        that fails (a full disk) still reopens it, so the loaded index keeps answering."""
        self.close_client()
        try:
            shutil.copytree(self.path, Path(folder) / DB)
        finally:
            self._reopen()
        files = sorted(
            str(p.relative_to(folder)) for p in (Path(folder) / DB).rglob("*") if p.is_file()
        )
        if self.vocab is not None:
            record = {"terms": self.vocab, "sha256": self._terms_key}
            text = json.dumps(record, ensure_ascii=False)
            (Path(folder) / TERMS_FILE).write_text(text, encoding="utf-8")
            files.append(TERMS_FILE)
        return files

    def _reopen(self) -> None:
        """A new client on the working copy (after ``close_client``), collections loaded."""
        self.client = self._pymilvus.MilvusClient(uri=self.path)
        self.client.load_collection(DENSE)
        if self.vocab is not None:
            self.client.load_collection(SPARSE)
        self._finalizer.detach()
        self._finalizer = weakref.finalize(
            self, _shutdown, self.client, self._servers, self.path, self.workdir
        )

    @classmethod
    def load(cls, folder: Path, record: dict[str, Any]) -> MilvusStore:
        """Open a private copy of the version's database (the version stays untouched)."""
        folder = Path(folder)
        import_milvus()  # the missing extra is named before anything else is tried
        if not (folder / DB).is_dir():
            raise FileNotFoundError(folder / DB)
        workdir = Path(tempfile.mkdtemp(prefix="rag-milvus-"))
        shutil.copytree(folder / DB, workdir / DB)
        (workdir / DB / "LOCK").unlink(missing_ok=True)
        index = {
            k: v for k, v in record.items() if k not in ("kind", "ntotal", "bm25", "requested")
        }
        store = None
        try:
            store = cls(workdir, dim=0, n=int(record["ntotal"]), index=index)
            store.client.load_collection(DENSE)
            fields = store.client.describe_collection(DENSE)["fields"]
            store.dim = next(int(f["params"]["dim"]) for f in fields if f["name"] == "vector")
            if (folder / TERMS_FILE).exists():
                record = json.loads((folder / TERMS_FILE).read_text("utf-8"))
                store.vocab, store._terms_key = record["terms"], record.get("sha256")
                store.client.load_collection(SPARSE)
            else:  # saved before rag.store handed backends the terms: built on first use
                store._terms_source = folder / "chunks.jsonl"
        except Exception as exc:  # pymilvus / milvus_lite errors: a damaged database
            if store is not None:
                store.close()
            shutil.rmtree(workdir, ignore_errors=True)
            if isinstance(exc, RagError | FileNotFoundError):
                raise
            raise RuntimeError(f"Milvus Lite could not open {folder / DB}: {exc}") from exc
        return store

    def hybrid_search(
        self,
        query_vector: np.ndarray,
        query_terms: Sequence[str],
        k: int,
        *,
        weights: FusionWeights,
        query_script: str,
        chunk_scripts: Sequence[str],
        pool: int | None = None,
    ) -> list[tuple[int, float, float]]:
        """``(row, fused, BM25)`` of the ``k`` best chunks: ``pool`` dense and ``pool`` BM25
        candidates from Milvus, each one's other score from its stored vector or sparse row,
        fused by rag.fusion as rag.retrieval does. ``chunk_scripts``: each chunk's
        ``detect_lang``; ``query_script``: the question's."""
        if weights.coverage_power > 0:
            raise ValueError("hybrid_search does not compute BM25 coverage (coverage_power 0)")
        if not self.n or k <= 0:
            return []
        self._ensure_terms()
        pool = pool or min(self.n, max(50, k * 10))
        query_vector = np.asarray(query_vector, dtype=np.float32)
        dense_rows = [int(r) for r in self.search(query_vector, pool)[1][0] if r >= 0]
        sparse_q = query_sparse(self.vocab or {}, query_terms)
        bm25_rows = sparse_hits(self.client, SPARSE, sparse_q, pool)
        rows = np.array(list(dict.fromkeys(dense_rows + bm25_rows)), dtype=np.int64)
        keyword = sparse_scores(self.client, SPARSE, rows, sparse_q)
        dense = self.reconstruct()[rows] @ query_vector
        return fuse_rows(rows, dense, keyword, k, weights, query_script, chunk_scripts)

    def has_terms(self) -> bool:
        """Whether BM25 searches can run: terms set, or a saved database to read them from."""
        return self.vocab is not None or self._terms_source is not None

    def _ensure_terms(self) -> None:
        if self.vocab is not None:
            return
        if self._terms_source is None:
            raise RagError("This Milvus index has no BM25 terms yet: call set_terms(data.terms).")
        with open(self._terms_source, encoding="utf-8") as fh:
            self.set_terms([json.loads(line)["terms"] for line in fh if line.strip()])

    def close_client(self) -> None:
        """Close the client and stop this database's in-process server (files quiescent)."""
        self.client.close()
        self._servers.release_server(self.path)

    def close(self) -> None:
        """Close everything and delete the working copy; the store is unusable after."""
        self._finalizer()


def _terms_key(docs_terms: list[list[str]]) -> str:
    text = json.dumps(docs_terms, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _shutdown(client: Any, servers: Any, path: str, workdir: Path) -> None:
    try:
        client.close()
        servers.release_server(path)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
