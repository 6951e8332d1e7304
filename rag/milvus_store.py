"""Milvus Lite as a ``VectorStore`` (index kind ``milvus``), with the chunk table and BM25.

One Milvus Lite database (``milvus.db``: a folder of WAL, Parquet segments and index files)
holds ``chunks`` (stable int64 key per chunk, FLOAT_VECTOR with metric IP, FLAT or
IVF_FLAT, and the chunk's text and metadata, rag.milvus_table) and ``bm25`` (a
SPARSE_FLOAT_VECTOR of the product's BM25, rag.milvus_bm25; Milvus Lite's BM25 function has
no Korean tokenizer). ``keys`` maps rows to keys (``milvus_keys.npy``), so an update deletes
and inserts by key instead of rebuilding (rag.milvus_update). rag.store hands the chunks and
their terms to ``set_chunks`` before each save; rag.retrieval takes both sides of a hybrid
search from the database (``hybrid_search``).

The live database is a private working copy in a temporary folder. ``save`` closes it and
copies it into the version folder, where rag.store checksums each of its files; ``load``
opens a copy of the saved one, because opening a database writes to it (lock, WAL,
compaction). Milvus Lite serves pymilvus in this process over gRPC on 127.0.0.1.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import milvus_files
from . import milvus_table as table
from .errors import RagError
from .fusion import FusionWeights
from .milvus_bm25 import TermStats, fuse_rows, sparse_hits, sparse_scores
from .milvus_db import DB, WorkingCopy, import_milvus, new_workdir, reading
from .milvus_files import table_key
from .milvus_table import DENSE, SPARSE
from .types import Chunk


class MilvusStore(WorkingCopy):
    """Row i is the chunk with key ``keys[i]``; scores are inner products (metric IP)."""

    kind = "milvus"

    def __init__(self, workdir: Path, *, dim: int, n: int, index: dict[str, Any]):
        super().__init__(workdir)
        self.dim, self.n, self.index = dim, n, index
        self.keys = np.arange(n, dtype=np.int64)  # (n,) row -> key
        self.next_key = n  # keys are never reused, even after a delete
        self.stats: TermStats | None = None  # BM25 counts; None: no sparse collection
        self.chunk_fields = False  # whether ``chunks`` holds the chunk table's fields
        self._vectors: np.ndarray | None = None
        self._terms_source: Path | None = None  # chunks.jsonl of an index saved without terms
        self._table_key: str | None = None  # SHA-256 of the chunks and terms written
        self._key_index: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def vocab(self) -> dict[str, int] | None:
        """Term -> sparse dimension, or None before any BM25 rows are written."""
        return None if self.stats is None else self.stats.vocab

    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        params: dict | None = None,
        *,
        chunks: Sequence[Chunk] | None = None,
        terms: Sequence[Sequence[str]] | None = None,
    ) -> MilvusStore:
        """A new database over ``vectors`` (n, dim) float32, with ``chunks`` and their
        ``terms`` when given; ``params``: ``index_type`` (FLAT or IVF_FLAT), ``nlist``,
        ``nprobe``."""
        import_milvus()  # the missing extra is named before anything is created
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if chunks is not None:
            table.check_lengths(chunks)
        store = cls(
            new_workdir(),
            dim=vectors.shape[1],
            n=len(vectors),
            index=table.index_record(params, len(vectors)),
        )
        store._vectors = vectors
        store._write_dense(chunks)
        if terms is not None:
            store.rewrite_sparse(terms)
            if chunks is not None:
                store._table_key = table_key(chunks, terms)
        return store

    def set_chunks(self, chunks: Sequence[Chunk], terms: Sequence[Sequence[str]]) -> None:
        """Write the chunk table and BM25 into the database (row order); a no-op when it
        holds these already. rag.store calls it before each save."""
        if len(chunks) != self.n or len(terms) != self.n:
            raise ValueError(f"{len(chunks)} chunks, {len(terms)} term lists, {self.n} vectors")
        key = table_key(chunks, terms)
        if key == self._table_key:
            return
        self._write_dense(chunks)
        self.rewrite_sparse(terms)
        self._table_key = key

    def holds(self, chunks: Sequence[Chunk], terms: Sequence[Sequence[str]]) -> bool:
        """Whether the database's chunk table and BM25 rows are exactly these."""
        return self.chunk_fields and self._table_key == table_key(chunks, terms)

    def mark_written(self, chunks: Sequence[Chunk], terms: Sequence[Sequence[str]]) -> None:
        """The database holds these chunks and terms now: ``set_chunks`` skips them."""
        self._table_key = table_key(chunks, terms)

    def _write_dense(self, chunks: Sequence[Chunk] | None) -> None:
        vectors = self.reconstruct()
        if self.client.has_collection(DENSE):
            self.client.drop_collection(DENSE)
        build = {k: v for k, v in self.index.items() if k not in ("index_type", "nprobe")}
        args = (DENSE, "vector", "FLOAT_VECTOR", self.index["index_type"], build)
        table.create(
            self.client, self._pymilvus, *args, chunk_fields=chunks is not None, dim=self.dim
        )
        table.insert(self.client, DENSE, table.dense_rows(self.keys, vectors, chunks))
        self.client.flush(DENSE)
        table.wait_for_index(self.path, DENSE, "vector")
        self.client.load_collection(DENSE)
        self.chunk_fields = chunks is not None

    def rewrite_sparse(self, terms: Sequence[Sequence[str]]) -> None:
        """(Re)write every BM25 row from the chunks' terms, with the corpus's own avg_len."""
        self.stats = TermStats.of(terms)
        if self.client.has_collection(SPARSE):
            self.client.drop_collection(SPARSE)
        args = (SPARSE, "bm25", "SPARSE_FLOAT_VECTOR", "SPARSE_INVERTED_INDEX")
        table.create(self.client, self._pymilvus, *args)
        self.insert_sparse(self.keys, terms)
        self.client.flush(SPARSE)
        self.client.load_collection(SPARSE)
        self._terms_source = None

    def insert_sparse(self, keys: np.ndarray, terms: Sequence[Sequence[str]]) -> None:
        """BM25 rows for ``keys`` with the stored avg_len; chunks without terms get none."""
        if self.stats is None:
            raise RagError("This Milvus index has no BM25 rows yet: call set_chunks first.")
        rows = ({"id": int(k), "bm25": self.stats.row(t)} for k, t in zip(keys, terms, strict=True))
        table.insert(self.client, SPARSE, [r for r in rows if r["bm25"]])

    def __len__(self) -> int:
        return self.n

    def rows_of(self, keys: np.ndarray) -> np.ndarray:
        """The rows of stored ``keys`` (int64)."""
        if self._key_index is None:
            order = np.argsort(self.keys, kind="stable")
            self._key_index = (self.keys[order], order)
        sorted_keys, rows = self._key_index
        return rows[np.searchsorted(sorted_keys, np.asarray(keys, dtype=np.int64))]

    def set_keys(self, keys: np.ndarray) -> None:
        """Row i is now the chunk with key ``keys[i]``."""
        self.keys, self.n, self._key_index = np.asarray(keys, dtype=np.int64), len(keys), None
        self.next_key = max(self.next_key, int(self.keys.max(initial=-1)) + 1)

    @reading
    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.asarray(queries, dtype=np.float32).reshape(-1, self.dim)
        k = min(max(k, 1), max(self.n, 1))
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        rows = np.full((len(queries), k), -1, dtype=np.int64)
        if not self.n:
            return scores, rows
        search_params: dict[str, Any] = {"metric_type": "IP"}
        if "nprobe" in self.index:
            search_params["params"] = {"nprobe": int(self.index["nprobe"])}
        found = self.client.search(
            DENSE, data=list(queries), limit=k, anns_field="vector", search_params=search_params
        )
        for q, hits in enumerate(found):
            if hits:
                rows[q, : len(hits)] = self.rows_of(np.array([h["id"] for h in hits]))
                scores[q, : len(hits)] = [h["distance"] for h in hits]
        return scores, rows

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.index, "bm25": self.stats is not None, "ntotal": self.n}

    @reading
    def reconstruct(self) -> np.ndarray:
        if self._vectors is None:
            self._vectors = table.read_vectors(self.client, self.keys, self.rows_of, self.dim)
        return self._vectors

    def set_vectors(self, vectors: np.ndarray) -> None:
        """What ``reconstruct`` returns: (n, dim) float32 in row order, known to the caller."""
        self._vectors = vectors

    @reading
    def chunks(self) -> list[Chunk]:
        """The chunk table in row order, read from the database alone."""
        if not self.chunk_fields:
            raise RagError(
                "This Milvus index was saved before chunk text was stored in the database; "
                "`rag index --rebuild` (or any save of it) stores it."
            )
        return table.read_chunks(self.client, self.keys)

    def save(self, folder: Path) -> list[str]:
        """Close the database, copy it into ``folder``, reopen; the file names written (the
        database's, its keys and term counts: rag.milvus_files)."""
        folder = Path(folder)
        self.copy_to(folder / DB)
        files = sorted(str(p.relative_to(folder)) for p in (folder / DB).rglob("*") if p.is_file())
        record = {"next_key": self.next_key, "sha256": self._table_key}
        return [*files, *milvus_files.write(folder, self.keys, record, self.stats)]

    def copy(self) -> MilvusStore:
        """A store over a copy of this database; this one stays as it is, and usable."""
        workdir = new_workdir()
        try:
            self.copy_to(workdir / DB)
        except BaseException:
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        (workdir / DB / "LOCK").unlink(missing_ok=True)
        other = MilvusStore(workdir, dim=self.dim, n=self.n, index=dict(self.index))
        other.keys, other.next_key = self.keys.copy(), self.next_key
        other.stats, other.chunk_fields = copy.deepcopy(self.stats), self.chunk_fields
        other._table_key, other._vectors = self._table_key, self._vectors
        other._terms_source = self._terms_source
        other.load_collections()
        return other

    def load_collections(self) -> None:
        self.client.load_collection(DENSE)
        if self.stats is not None:
            self.client.load_collection(SPARSE)

    @classmethod
    def load(cls, folder: Path, record: dict[str, Any]) -> MilvusStore:
        """Open a private copy of the version's database (the version stays untouched)."""
        folder = Path(folder)
        import_milvus()  # the missing extra is named before anything else is tried
        if not (folder / DB).is_dir():
            raise FileNotFoundError(folder / DB)
        workdir = new_workdir(folder / DB)
        index = {
            k: v for k, v in record.items() if k not in ("kind", "ntotal", "bm25", "requested")
        }
        store = None
        try:
            store = cls(workdir, dim=0, n=int(record["ntotal"]), index=index)
            store._open_saved(folder)
        except Exception as exc:  # pymilvus / milvus_lite errors: a damaged database
            if store is not None:
                store.close()
            shutil.rmtree(workdir, ignore_errors=True)
            if isinstance(exc, RagError | FileNotFoundError):
                raise
            raise RuntimeError(f"Milvus Lite could not open {folder / DB}: {exc}") from exc
        return store

    def _open_saved(self, folder: Path) -> None:
        """Keys, term counts and schema of a saved version; an index saved with idf inside
        its BM25 rows (layout 1) gets them rewritten here, never a wrong score."""
        self.client.load_collection(DENSE)
        fields = {f["name"]: f for f in self.client.describe_collection(DENSE)["fields"]}
        self.dim = int(fields["vector"]["params"]["dim"])
        self.chunk_fields = "text" in fields
        saved = milvus_files.read(folder, self.n)
        self.set_keys(saved.keys)
        self.next_key = max(self.next_key, saved.next_key)
        if saved.old_layout:
            self.rewrite_sparse(milvus_files.read_table(saved.table)[1])
        elif saved.stats is None:  # saved without BM25: built on first use
            self._terms_source = saved.table
        else:
            self.stats, self._table_key = saved.stats, saved.table_key
            self.client.load_collection(SPARSE)

    @reading
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
        sparse_q = self.query_sparse(query_terms)
        bm25_keys = np.array(sparse_hits(self.client, SPARSE, sparse_q, pool), dtype=np.int64)
        bm25_rows = self.rows_of(bm25_keys).tolist()
        rows = np.array(list(dict.fromkeys(dense_rows + bm25_rows)), dtype=np.int64)
        keyword = sparse_scores(self.client, SPARSE, self.keys[rows], sparse_q)
        dense = self.reconstruct()[rows] @ query_vector
        return fuse_rows(rows, dense, keyword, k, weights, query_script, chunk_scripts)

    def query_sparse(self, query_terms: Sequence[str]) -> dict[int, float]:
        """The question's BM25 vector (idf per known term) for the ``bm25`` collection."""
        self._ensure_terms()
        return self.stats.query(query_terms) if self.stats is not None else {}

    def has_terms(self) -> bool:
        """Whether BM25 searches can run: terms set, or a saved database to read them from."""
        return self.stats is not None or self._terms_source is not None

    def _ensure_terms(self) -> None:
        if self.stats is not None:
            return
        if self._terms_source is None:
            raise RagError("This Milvus index has no BM25 terms yet: call set_chunks(...).")
        self.set_chunks(*milvus_files.read_table(self._terms_source))
