"""``IndexData.vectors`` read from an IVF-Flat index, so the vectors are in memory once.

IVF-Flat keeps every vector exactly (its list codes are the float32 vectors), and the rest
of the product needs them only by row: hit scores, answer centrality, an update's kept
rows. ``IvfRows`` answers ``rows[i]`` and ``rows[array]`` from the index through faiss's
direct map (8 bytes a vector) instead of a second ``(n, dim)`` float32 copy, 2.9 GB per
million 768-d chunks. ``np.asarray(rows)`` still gives the full matrix, as a copy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .faiss_index import faiss


class IvfRows:
    """Read-only rows of an IVF index, indexed like a ``(n, dim)`` float32 array."""

    dtype = np.dtype(np.float32)
    ndim = 2

    def __init__(self, index: faiss.Index):
        self.index = index  # the index whose lists hold the vectors; keeps it alive
        ivf = faiss.extract_index_ivf(index)
        if ivf.direct_map.type == faiss.DirectMap.NoMap:
            ivf.make_direct_map(True)  # row -> (list, offset); ids are 0..n-1
        self.shape = (int(index.ntotal), int(index.d))

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, (int, np.integer)):
            row = int(key) + (self.shape[0] if key < 0 else 0)
            if not 0 <= row < self.shape[0]:
                raise IndexError(f"row {key} out of range for {self.shape[0]} vectors")
            return self.index.reconstruct(row)
        rows = np.arange(self.shape[0])[key] if isinstance(key, slice) else np.asarray(key)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        rows = rows.astype(np.int64)
        if rows.size and (rows.min() < 0 or rows.max() >= self.shape[0]):
            raise IndexError(f"rows out of range for {self.shape[0]} vectors")
        flat = self.index.reconstruct_batch(rows.ravel()) if rows.size else np.zeros((0,))
        return np.asarray(flat, np.float32).reshape(*rows.shape, self.shape[1])

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        full = self.index.reconstruct_n(0, self.shape[0]) if self.shape[0] else None
        out = np.zeros(self.shape, np.float32) if full is None else np.asarray(full, np.float32)
        return out if dtype is None else out.astype(dtype)

    def astype(self, dtype: Any, copy: bool = True) -> np.ndarray:
        return np.asarray(self, dtype=dtype)

    @property
    def T(self) -> np.ndarray:  # noqa: N802 - numpy's name
        return np.asarray(self).T
