"""The vector backend interface (``VectorStore``), the backends by kind, and how one is opened.

One of the four index modules: ``store`` (the index folder on disk: manifest,
chunk table, atomic versions), ``indexing`` (documents -> chunks and vectors,
re-embedding only what changed), this one (what ``store`` and ``retrieval`` need
from any vector backend) and ``faiss_index`` (the FAISS backend and its kinds).

``VectorStore`` is the seam for other backends: a remote vector database
(Qdrant, pgvector, a Milvus cluster) would be one more class with these five
methods plus an entry in ``BACKENDS``, not a rewrite of store.py or
retrieval.py. Two implementations ship: FAISS (``rag.faiss_index``, the
product's) and ``NumpyStore``, exact search in plain numpy, which the tests
use as a second, independent implementation of the same interface.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from . import faiss_index
from .types import Chunk


@runtime_checkable
class VectorStore(Protocol):
    """Row i is chunk i of the index; scores are inner products of normalised vectors."""

    def __len__(self) -> int: ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows), each (n_queries, min(k, len)), best first; rows -1 where missing."""
        ...

    def describe(self) -> dict[str, Any]:
        """``{"kind": ..., <parameters>, "ntotal": n}``: recorded in the manifest."""
        ...

    def reconstruct(self) -> np.ndarray:
        """All vectors (len, dim) float32, in row order: the chunk table keeps them."""
        ...

    def save(self, folder: Path) -> list[str]:
        """Write into ``folder``; return the file names, which the manifest checksums."""
        ...


class NumpyStore:
    """Exact search over an in-memory matrix; saved as ``vectors.npy`` (no pickle)."""

    kind = "numpy"
    FILE = "vectors.npy"

    def __init__(self, vectors: np.ndarray):
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.vectors)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.asarray(queries, dtype=np.float32).reshape(-1, self.vectors.shape[1])
        k = min(max(k, 1), len(self))
        scores = queries @ self.vectors.T  # (n_queries, len)
        rows = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(scores, rows, axis=1), rows.astype(np.int64)

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "ntotal": len(self)}

    def reconstruct(self) -> np.ndarray:
        return self.vectors

    def save(self, folder: Path) -> list[str]:
        np.save(Path(folder) / self.FILE, self.vectors, allow_pickle=False)
        return [self.FILE]

    @classmethod
    def load(cls, folder: Path, record: dict[str, Any]) -> NumpyStore:
        return cls(np.load(Path(folder) / cls.FILE, allow_pickle=False))


Loader = Callable[[Path, dict[str, Any]], VectorStore]
Builder = Callable[[np.ndarray, dict[str, Any]], VectorStore]

# kind -> (build from vectors, load from a version folder + manifest record)
BACKENDS: dict[str, tuple[Builder, Loader]] = {
    **{
        kind: (
            lambda v, p, kind=kind: faiss_index.build(v, kind=kind, params=p),
            faiss_index.FaissStore.load,
        )
        for kind in faiss_index.KINDS
    },
    "numpy": (lambda v, p: NumpyStore(v), NumpyStore.load),
    "milvus": (
        lambda v, p: _milvus().MilvusStore.build(v, p),
        lambda f, r: _milvus().MilvusStore.load(f, r),
    ),
}


def _milvus():
    """rag.milvus_store, imported on first use: pymilvus is an optional extra."""
    from . import milvus_store

    return milvus_store


def build(
    vectors: np.ndarray,
    *,
    kind: str = "auto",
    params: dict | None = None,
    chunks: list[Chunk] | None = None,
    terms: list[list[str]] | None = None,
) -> VectorStore:
    """A store of ``kind`` over ``vectors``; ``auto`` picks by size (rag.faiss_index).
    ``chunks`` and ``terms`` go to a backend that stores them too (Milvus), so it writes
    each row once instead of the vectors now and the rest at the first save."""
    if kind == "auto":
        return faiss_index.build(vectors, kind="auto", params=params)
    if kind == "milvus" and chunks is not None:
        return _milvus().MilvusStore.build(vectors, params, chunks=chunks, terms=terms)
    return _backend(kind)[0](vectors, params or {})


def load(folder: Path, record: dict[str, Any]) -> VectorStore:
    """Open the store a manifest's ``index`` record describes (kind ``flat`` if unrecorded)."""
    return _backend(record.get("kind", "flat"))[1](folder, record)


def _backend(kind: str) -> tuple[Builder, Loader]:
    if kind not in BACKENDS:
        raise ValueError(
            f"Unknown vector store kind {kind!r}; known: 'auto', {', '.join(map(repr, BACKENDS))}"
        )
    return BACKENDS[kind]
