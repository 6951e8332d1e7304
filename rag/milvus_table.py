"""The rows rag.milvus_store writes: collections, chunk fields, batched insert, reading back.

The ``chunks`` collection holds, per chunk, its stable int64 key, its vector and the chunk
table's fields (``doc_id``, ``chunk_id``, ``title``, ``location``, ``text``, ``start``,
``end``), so a process holding only the database can show hits. A Milvus server limits a
VARCHAR to 65,535 bytes (Milvus Lite counts characters); a longer value is refused here,
naming the chunk, before anything is written.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import RagError
from .types import Chunk

DENSE, SPARSE = "chunks", "bm25"
BATCH = 2000
INDEX_TYPES = ("FLAT", "IVF_FLAT")  # what Milvus Lite 3.2 really builds (docs/performance.md)
VARCHAR_MAX = 65_535  # bytes: a Milvus server's limit for one VARCHAR value
TEXT_FIELDS = ("doc_id", "chunk_id", "title", "location", "text")
INT_FIELDS = ("start", "end")
CHUNK_FIELDS = (*TEXT_FIELDS, *INT_FIELDS)


def create(
    client: Any,
    pymilvus: Any,
    name: str,
    field: str,
    dtype: str,
    index_type: str,
    params: dict | None = None,
    *,
    chunk_fields: bool = False,
    **kw: Any,
) -> None:
    """A collection ``name``: int64 key ``id``, ``field`` (metric IP) and, with
    ``chunk_fields``, the chunk table's fields."""
    types = pymilvus.DataType
    schema = pymilvus.MilvusClient.create_schema(auto_id=False)
    schema.add_field("id", types.INT64, is_primary=True)
    schema.add_field(field, getattr(types, dtype), **kw)
    if chunk_fields:
        for name_ in TEXT_FIELDS:
            schema.add_field(name_, types.VARCHAR, max_length=VARCHAR_MAX)
        for name_ in INT_FIELDS:
            schema.add_field(name_, types.INT64)
    index = client.prepare_index_params()
    index.add_index(field, index_type=index_type, metric_type="IP", params=params or {})
    client.create_collection(name, schema=schema)
    # sync=False: waiting would call AllocTimestamp, which Milvus Lite does not implement.
    client.create_index(name, index, sync=False)


def insert(client: Any, name: str, rows: Sequence[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        client.insert(name, list(rows[start : start + BATCH]))


def dense_rows(keys: np.ndarray, vectors: np.ndarray, chunks: Sequence[Chunk] | None) -> list[dict]:
    """The ``chunks`` collection's rows; vectors only when ``chunks`` is None."""
    if chunks is None:
        return [{"id": int(k), "vector": v} for k, v in zip(keys, vectors, strict=True)]
    check_lengths(chunks)
    return [
        {"id": int(k), "vector": v, **{f: getattr(c, f) for f in CHUNK_FIELDS}}
        for k, v, c in zip(keys, vectors, chunks, strict=True)
    ]


def check_lengths(chunks: Sequence[Chunk]) -> None:
    """Refuse a chunk whose text or metadata a Milvus VARCHAR cannot hold."""
    for chunk in chunks:
        for name in TEXT_FIELDS:
            size = len(getattr(chunk, name).encode("utf-8"))
            if size > VARCHAR_MAX:
                raise RagError(
                    f"Chunk {chunk.chunk_id[:80]!r} has a {name} of {size:,} UTF-8 bytes; a "
                    f"Milvus VARCHAR holds at most {VARCHAR_MAX:,}. Use a smaller chunk size "
                    "(RAG_CHUNK_SIZE, characters) or the FAISS index (unset RAG_INDEX_KIND)."
                )


def read_chunks(client: Any, keys: np.ndarray) -> list[Chunk]:
    """The chunk table in row order (row i has key ``keys[i]``), read from the collection."""
    by_key: dict[int, Chunk] = {}
    for start in range(0, len(keys), BATCH):
        batch = [int(k) for k in keys[start : start + BATCH]]
        for row in client.get(DENSE, ids=batch, output_fields=["id", *CHUNK_FIELDS]):
            fields = {f: row[f] for f in TEXT_FIELDS} | {f: int(row[f]) for f in INT_FIELDS}
            by_key[int(row["id"])] = Chunk(**fields)
    missing = [int(k) for k in keys if int(k) not in by_key]
    if missing:
        raise RuntimeError(
            f"{len(missing)} chunk keys (first {missing[0]}) are missing from the Milvus "
            "collection: the database is damaged; rebuild it with `rag index --rebuild`."
        )
    return [by_key[int(k)] for k in keys]


def read_vectors(client: Any, keys: np.ndarray, rows_of: Any, dim: int) -> np.ndarray:
    """(len(keys), dim) float32 in row order; ``rows_of`` maps keys to rows."""
    vectors = np.zeros((len(keys), dim), dtype=np.float32)
    for start in range(0, len(keys), BATCH):
        batch = [int(k) for k in keys[start : start + BATCH]]
        found = client.get(DENSE, ids=batch, output_fields=["id", "vector"])
        if len(found) != len(batch):
            raise RuntimeError(
                f"{len(batch) - len(found)} of {len(batch)} chunk keys are missing from the "
                "Milvus collection: the database is damaged; rebuild it with `rag index "
                "--rebuild`."
            )
        if found:
            rows = rows_of(np.array([r["id"] for r in found], dtype=np.int64))
            vectors[rows] = np.array([r["vector"] for r in found], dtype=np.float32)
    return vectors


def wait_for_index(path: str, collection: str, field: str, timeout: float = 600.0) -> None:
    """Milvus Lite indexes each segment in the background after a flush (describe_index
    says "Finished" before that); wait until every segment has its index file."""
    root = Path(path) / "collections" / collection / "partitions"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        segments = {p.stem for p in root.glob("*/data/*.parquet")}
        indexed = {p.name.split(".")[0] for p in root.glob(f"*/indexes/*.{field}.*.idx")}
        if segments <= indexed:
            return
        time.sleep(0.05)


def index_record(params: dict | None, n: int) -> dict[str, Any]:
    """``index_type`` (FLAT or IVF_FLAT) and its parameters, defaults filled in for ``n``."""
    params = dict(params or {})
    index_type = str(params.pop("index_type", "FLAT")).upper()
    if index_type not in INDEX_TYPES:
        raise RagError(
            f"Milvus Lite index type {index_type!r} is not supported; choose one of "
            f"{', '.join(INDEX_TYPES)} (Milvus Lite accepts IVF_PQ, DISKANN and SCANN but "
            "never builds them and searches exactly)."
        )
    if index_type == "IVF_FLAT":
        params.setdefault("nlist", max(1, min(4096, int(4 * np.sqrt(max(n, 1))))))
        params.setdefault("nprobe", 16)
    return {"index_type": index_type, **params}
