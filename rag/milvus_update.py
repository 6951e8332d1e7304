"""Update a Milvus index instead of rebuilding it: delete the removed chunks, insert the new.

A rebuild writes every vector, chunk and BM25 row again (about 30 s at 100k chunks in
Milvus Lite, docs/performance.md), while an update that adds and removes a few documents
copies the old database (readers may still be searching it), deletes the removed chunks'
keys, inserts the new chunks under fresh keys and reorders ``keys`` to the new rows. The
BM25 rows need no rewrite: idf is on the query side (rag.milvus_bm25), so only the counts
change, until the average chunk length drifts past ``AVG_LEN_DRIFT`` and every sparse row
is written again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import cast

import numpy as np

from .milvus_bm25 import AVG_LEN_DRIFT, TermStats
from .milvus_store import MilvusStore
from .milvus_table import DENSE, SPARSE, dense_rows, insert, wait_for_index
from .types import Chunk

log = logging.getLogger(__name__)


def update(
    store: MilvusStore,
    kept_rows: np.ndarray,
    vectors: np.ndarray,
    *,
    chunks: Sequence[Chunk],
    terms: Sequence[Sequence[str]],
    old_chunks: Sequence[Chunk],
    old_terms: Sequence[Sequence[str]],
) -> MilvusStore | None:
    """The old database with only ``kept_rows`` plus the new chunks, as a new store.

    Args:
        store: the old index; it is not modified (a copy is).
        kept_rows: old rows that stay, in their new order (row i of the result is
            ``kept_rows[i]``); the new chunks follow from row ``len(kept_rows)`` on.
        vectors: ``(n, dim)`` float32, all rows of the result in order.
        chunks, terms: the whole chunk table of the result and each chunk's terms.
        old_chunks, old_terms: the old index's rows (the removed ones' terms are uncounted);
            the database must hold exactly these.
    Returns:
        The updated store, or None when the old one cannot be updated (saved before the
        chunk table or BM25 rows were stored in it, or holding other rows): the caller
        builds afresh.
    """
    kept_rows = np.asarray(kept_rows, dtype=np.int64)
    n_old, n_kept = len(store), len(kept_rows)
    if store.stats is None or not store.holds(old_chunks, old_terms):
        return None
    removed = np.setdiff1d(np.arange(n_old, dtype=np.int64), kept_rows, assume_unique=True)
    if not len(removed) and n_kept == len(chunks) and np.array_equal(kept_rows, np.arange(n_kept)):
        return store  # nothing changed: share it (never modified)
    new = store.copy()
    try:
        _apply(new, removed, kept_rows, vectors, chunks, terms, old_terms)
    except BaseException:
        new.close()
        raise
    log.info("Milvus index updated by key: -%d +%d", len(removed), len(chunks) - n_kept)
    return new


def _apply(
    new: MilvusStore,
    removed: np.ndarray,
    kept_rows: np.ndarray,
    vectors: np.ndarray,
    chunks: Sequence[Chunk],
    terms: Sequence[Sequence[str]],
    old_terms: Sequence[Sequence[str]],
) -> None:
    n_kept, stats = len(kept_rows), cast(TermStats, new.stats)  # update checked it is set
    if len(removed):
        gone = new.keys[removed].tolist()
        new.client.delete(DENSE, ids=gone)
        new.client.delete(SPARSE, ids=gone)
        stats.remove([old_terms[r] for r in removed])
    fresh = np.arange(new.next_key, new.next_key + len(chunks) - n_kept, dtype=np.int64)
    new.set_keys(np.concatenate([new.keys[kept_rows], fresh]))
    new.set_vectors(np.ascontiguousarray(vectors, dtype=np.float32))
    insert(new.client, DENSE, dense_rows(fresh, vectors[n_kept:], chunks[n_kept:]))
    stats.add(terms[n_kept:])
    if stats.drift() > AVG_LEN_DRIFT:
        log.info("rewriting the BM25 rows: average length drifted %.1f%%", 100 * stats.drift())
        new.rewrite_sparse(terms)
    else:
        new.insert_sparse(fresh, terms[n_kept:])
        new.client.flush(SPARSE)
    new.client.flush(DENSE)
    wait_for_index(new.path, DENSE, "vector")
    new.mark_written(chunks, terms)
