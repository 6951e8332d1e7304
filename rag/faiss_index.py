"""The FAISS backend of ``rag.vector_store``: which index kind for how many vectors.

One of the four index modules: ``store`` (the index folder on disk), ``indexing``
(documents -> chunks and vectors, re-embedding only what changed), ``vector_store``
(the interface any vector backend implements) and this one (FAISS, the product's).
All vectors are normalised, so inner product = cosine.

Exact search (``flat``) below ``FLAT_UNTIL`` vectors, where one query still
scans everything in about 25 ms; from there IVF-Flat (``ivf``, nlist = 4*sqrt(n))
with an ``nprobe`` that keeps recall@10 >= 0.95 against exact search for real
query embeddings (HNSW at efSearch=256 did not: 0.91 at 100k, and 0.80 on
the clustered synthetic set at 1M). HNSW stays available by name. The rule and
its numbers come from ``python -m bench.scale`` (docs/performance.md, "Scale").
The kind and its search parameters go into the manifest and are applied again
on load; for IVF also what an update measures drift against, since an update adds to
the trained index instead of training again (``rag.ivf_update``).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any, Literal

import numpy as np

# faiss's loader logs which CPU build it picked (four INFO lines) on every start.
logging.getLogger("faiss.loader").setLevel(logging.WARNING)
import faiss  # noqa: E402

log = logging.getLogger(__name__)

IndexKind = Literal["auto", "flat", "hnsw", "ivf"]
KINDS = ("flat", "hnsw", "ivf")
FILE = "vectors.faiss"

FLAT_UNTIL = 100_000  # exact search below this many vectors (p95 ~27 ms at 100k)
ANN_KIND = "ivf"  # and this from FLAT_UNTIL on
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 256
IVF_NPROBE = 32  # real queries: recall@10 0.978 at 8, 1.0 at 16 (100k); 32 for margin
IVF_TRAIN_PER_LIST = 64  # k-means sample: 64 vectors per list (faiss warns below 39)
IVF_TRAIN_ITERATIONS = 10


def ivf_nlist(n_vectors: int) -> int:
    """About 4 * sqrt(n) lists, as the FAISS guidelines suggest for up to ~1M vectors."""
    return max(1, int(round(4 * math.sqrt(n_vectors))))


def choose_kind(n_vectors: int, kind: IndexKind = "auto") -> str:
    if kind == "auto":
        return ANN_KIND if n_vectors >= FLAT_UNTIL else "flat"
    if kind not in KINDS:
        choices = ", ".join(map(repr, KINDS))
        raise ValueError(f"Unknown index kind {kind!r}; choose 'auto', {choices}")
    return kind


def default_params(kind: str, n_vectors: int) -> dict[str, Any]:
    """The build and search parameters of ``kind`` for ``n_vectors`` vectors."""
    if kind == "hnsw":
        return {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION, "efSearch": HNSW_EF_SEARCH}
    if kind == "ivf":
        nlist = ivf_nlist(n_vectors)
        return {"nlist": nlist, "nprobe": min(IVF_NPROBE, nlist)}
    return {}


class FaissStore:
    """A FAISS index plus the parameters it was built and is searched with."""

    def __init__(self, index: faiss.Index, kind: str, params: dict[str, Any]):
        self.index = index
        self.kind = kind
        self.params = dict(params)
        _apply_search_params(index, kind, self.params)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    @property
    def ntotal(self) -> int:
        return len(self)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (scores, rows), each (n_queries, k); rows are -1 where fewer exist."""
        return search(self.index, queries, k)

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.params, "ntotal": len(self)}

    def reconstruct(self) -> np.ndarray:
        if not len(self):
            return np.zeros((0, self.index.d), dtype=np.float32)
        return np.asarray(self.index.reconstruct_n(0, len(self)), dtype=np.float32)

    def save(self, folder: Path) -> list[str]:
        faiss.write_index(self.index, str(Path(folder) / FILE))
        return [FILE]

    @classmethod
    def load(cls, folder: Path, record: dict[str, Any]) -> FaissStore:
        """Read ``vectors.faiss``; the manifest's search parameters win over the file's."""
        index = faiss.read_index(str(Path(folder) / FILE))
        kind = record.get("kind") or kind_of(index)
        params = {k: v for k, v in record.items() if k not in ("kind", "ntotal", "requested")}
        return cls(index, kind, params)


def build(
    vectors: np.ndarray, *, kind: IndexKind = "auto", params: dict[str, Any] | None = None
) -> FaissStore:
    """vectors: (n, dim) float32, L2-normalised."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    chosen = choose_kind(n, kind)
    if chosen == "ivf" and n < 2:
        chosen = "flat"  # k-means needs points; tiny indexes are exact anyway
    params = {**default_params(chosen, n), **(params or {})}
    if chosen == "hnsw":
        index = faiss.IndexHNSWFlat(dim, int(params["M"]), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(params["efConstruction"])
    elif chosen == "ivf":
        params["nlist"] = min(int(params["nlist"]), n)
        index = faiss.IndexIVFFlat(
            faiss.IndexFlatIP(dim), dim, params["nlist"], faiss.METRIC_INNER_PRODUCT
        )
        index.cp.niter = IVF_TRAIN_ITERATIONS
        index.cp.max_points_per_centroid = IVF_TRAIN_PER_LIST
        log.info("training IVF with %d lists on %d vectors", params["nlist"], n)
        index.train(vectors)
    else:
        index = faiss.IndexFlatIP(dim)
    if n:
        index.add(vectors)
    if chosen == "ivf":  # what an update compares drift against (rag.ivf_update)
        params["trained_n"] = n
        params["trained_imbalance"] = round(float(index.invlists.imbalance_factor()), 4)
        params["fit_floor"] = fit_floor(index, vectors)
        params["poor_fit_n"] = 0
    return FaissStore(index, chosen, params)


FIT_PERCENTILE = 1  # the fit floor: all but this percentage of training vectors reach it
FIT_SAMPLE = 10_000


def centroid_fit(index: faiss.Index, vectors: np.ndarray) -> np.ndarray:
    """Each vector's inner product with its nearest IVF centroid: (n,) float32."""
    if not len(vectors):
        return np.zeros(0, np.float32)
    quantizer = faiss.extract_index_ivf(index).quantizer
    return quantizer.search(np.ascontiguousarray(vectors, dtype=np.float32), 1)[0][:, 0]


def fit_floor(index: faiss.Index, vectors: np.ndarray) -> float:
    """How close the centroids sit to the training vectors: the 1st percentile of their fit.
    Vectors added later below it are ones the trained lists do not describe well."""
    rows = np.random.default_rng(0).permutation(len(vectors))[:FIT_SAMPLE]
    return round(
        float(np.percentile(centroid_fit(index, vectors[np.sort(rows)]), FIT_PERCENTILE)), 4
    )


def _apply_search_params(index: faiss.Index, kind: str, params: dict[str, Any]) -> None:
    if kind == "hnsw" and "efSearch" in params:
        faiss.downcast_index(index).hnsw.efSearch = int(params["efSearch"])
    elif kind == "ivf" and "nprobe" in params:
        faiss.extract_index_ivf(index).nprobe = int(params["nprobe"])


def kind_of(index: faiss.Index) -> str:
    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexHNSW):
        return "hnsw"
    if isinstance(index, faiss.IndexIVF):
        return "ivf"
    return "flat"


def search(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (scores, rows), each (n_queries, k); rows are -1 where fewer exist."""
    k = max(1, min(k, index.ntotal))
    if index.ntotal == 0:
        n = len(queries)
        return np.zeros((n, 0), dtype=np.float32), np.zeros((n, 0), dtype=np.int64)
    return index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
