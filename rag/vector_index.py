"""FAISS search structure over normalised vectors (inner product = cosine).

Exact search (``flat``) while it is fast enough; past ``HNSW_FROM`` vectors an
HNSW graph, whose parameters were chosen to keep recall@10 >= 0.95 against
exact search (docs/performance.md). The kind is recorded in the manifest.
"""

from __future__ import annotations

from typing import Literal

import faiss
import numpy as np

IndexKind = Literal["auto", "flat", "hnsw"]
HNSW_FROM = 200_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128


def choose_kind(n_vectors: int, kind: IndexKind = "auto") -> str:
    if kind != "auto":
        return kind
    return "hnsw" if n_vectors >= HNSW_FROM else "flat"


def build(vectors: np.ndarray, *, kind: IndexKind = "auto") -> faiss.Index:
    """vectors: (n, dim) float32, L2-normalised."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dim = vectors.shape[1]
    chosen = choose_kind(len(vectors), kind)
    if chosen == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    elif chosen == "flat":
        index = faiss.IndexFlatIP(dim)
    else:
        raise ValueError(f"Unknown index kind {kind!r}; choose 'auto', 'flat' or 'hnsw'")
    if len(vectors):
        index.add(vectors)
    return index


def kind_of(index: faiss.Index) -> str:
    return "hnsw" if isinstance(index, faiss.IndexHNSWFlat) else "flat"


def search(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (scores, rows), each (n_queries, k); rows are -1 where fewer exist."""
    k = max(1, min(k, index.ntotal))
    if index.ntotal == 0:
        n = len(queries)
        return np.zeros((n, 0), dtype=np.float32), np.zeros((n, 0), dtype=np.int64)
    return index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
