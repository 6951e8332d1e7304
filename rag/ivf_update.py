"""Update a trained IVF index instead of rebuilding it: remove rows, add rows, keep k-means.

An IVF build trains k-means and assigns every vector (about 3 minutes at 1M vectors,
docs/performance.md), while adding 1,000 vectors to a trained index only assigns those.
So an update that adds and removes chunks copies the old index (readers may still be
searching it), removes the removed chunks' entries, renumbers the kept entries to their
new rows and adds the new vectors after them. faiss's IVF stores an explicit id with every
list entry and does not renumber on removal, so the renumbering is one pass over the ids
(8 bytes a vector); the codes are not touched.

The centroids stay those of the training set, so the index is retrained (``update``
returns None and the caller builds afresh) once it has drifted past the bounds below,
measured with ``python -m bench.ivf_update`` (docs/performance.md, "Updating an IVF index").
"""

from __future__ import annotations

import logging

import numpy as np

from .faiss_index import FaissStore, centroid_fit, faiss, ivf_nlist

log = logging.getLogger(__name__)

# The bounds, from `python -m bench.ivf_update drift` (trained on 100k synthetic 768-d vectors,
# nprobe=32, recall@10 against exact search, beside a fresh build at each size):
# Retrain once the index holds more than RETRAIN_GROWTH times (or fewer than 1/RETRAIN_GROWTH
# of) the vectors it was trained on. Growth from the same topics never cost recall (equal to
# a fresh build up to 6x) but lists grow with n while nlist = 4*sqrt(n) stays: p95 1.7x a
# fresh build's at 4x (1.55 vs 0.93 ms); 4x is where the ideal nlist has doubled.
RETRAIN_GROWTH = 4.0
# ... or once faiss's imbalance factor (sum of squared list sizes over the uniform case: the
# expected cost of a probe) exceeds RETRAIN_IMBALANCE times its value after training. A cost
# guard: it stayed within 0.96-1.0x in every measured scenario, new topics included.
RETRAIN_IMBALANCE = 2.0
# ... or once more than this share of the index was added below the training set's fit floor
# (similarity to the nearest centroid that 99% of training vectors reach). Vectors of unseen
# topics: recall equal to a fresh build at 4.8% of the index, 0.020 below it at 9.1%, 0.048
# at 16.6%; same-topic growth stays under 1.6% even at 6x, so it never trips this bound.
RETRAIN_POOR_FIT = 0.05


def update(store: FaissStore, kept_rows: np.ndarray, new_vectors: np.ndarray) -> FaissStore | None:
    """The old IVF index with only ``kept_rows`` (renumbered 0..k-1) plus ``new_vectors``.

    Args:
        store: the old index; it is not modified.
        kept_rows: old rows that stay, in their new order (row i of the result is
            ``kept_rows[i]``); ``new_vectors`` follow as rows ``len(kept_rows)`` onwards.
        new_vectors: ``(m, dim)`` float32, normalised.
    Returns:
        The updated store, or None when the index should be trained again (not IVF,
        inverted lists faiss keeps elsewhere, or drift past the bounds above).
    """
    n_old, kept_rows = len(store), np.asarray(kept_rows, dtype=np.int64)
    n_new = len(kept_rows) + len(new_vectors)
    if store.kind != "ivf" or not _plain_lists(store.index):
        return None
    reason = growth_reason(store.params, n_old=n_old, n_new=n_new)
    if reason:
        log.info("retraining the IVF index: %s", reason)
        return None
    removed = np.setdiff1d(np.arange(n_old, dtype=np.int64), kept_rows, assume_unique=True)
    in_place = np.array_equal(kept_rows, np.arange(len(kept_rows)))
    if not len(removed) and in_place and not len(new_vectors):
        return store  # nothing changed: share it (a FaissStore is never modified)
    index = faiss.clone_index(store.index)
    ivf = faiss.extract_index_ivf(index)
    ivf.set_direct_map_type(faiss.DirectMap.NoMap)  # rag.ivf_rows makes it again for new ids
    if len(removed):
        ivf.remove_ids(faiss.IDSelectorBatch(removed))
    if not in_place:
        _renumber(ivf, kept_rows, n_old)
    if len(new_vectors):
        index.add(np.ascontiguousarray(new_vectors, dtype=np.float32))
    params = dict(store.params)
    reason = drift_reason(params, index, new_vectors, n_new)
    if reason:
        log.info("retraining the IVF index: %s", reason)
        return None
    log.info("IVF index updated without retraining: -%d +%d", len(removed), len(new_vectors))
    return FaissStore(index, "ivf", params)


def drift_reason(params: dict, index: faiss.Index, new_vectors: np.ndarray, n: int) -> str | None:
    """Why the updated ``index`` needs training again, or None; counts the poorly fit
    vectors into ``params["poor_fit_n"]`` (removals do not lower it: a conservative count)."""
    imbalance = float(faiss.extract_index_ivf(index).invlists.imbalance_factor())
    trained = float(params.get("trained_imbalance") or 0)
    if trained and imbalance > RETRAIN_IMBALANCE * trained:
        return f"imbalance {imbalance:.2f} > {RETRAIN_IMBALANCE:g} x {trained:.2f} at training"
    if "fit_floor" not in params:  # saved before the floor was recorded
        return None
    fit = centroid_fit(index, new_vectors)
    params["poor_fit_n"] = int(params.get("poor_fit_n", 0)) + int((fit < params["fit_floor"]).sum())
    if params["poor_fit_n"] > RETRAIN_POOR_FIT * n:
        share = params["poor_fit_n"] / n
        return f"{share:.1%} of the vectors fit no trained centroid (> {RETRAIN_POOR_FIT:.0%})"
    return None


def growth_reason(params: dict, *, n_old: int, n_new: int) -> str | None:
    """Why an index trained for ``params`` no longer fits ``n_new`` vectors, or None."""
    trained = int(params.get("trained_n") or n_old)  # indexes saved before it was recorded
    if trained and n_new > RETRAIN_GROWTH * trained:
        return f"{n_new} vectors > {RETRAIN_GROWTH:g} x {trained} trained on"
    if n_new * RETRAIN_GROWTH < trained:
        return f"{n_new} vectors < 1/{RETRAIN_GROWTH:g} of {trained} trained on"
    if int(params.get("nlist", 0)) > n_new:
        return f"{n_new} vectors for {params['nlist']} lists (ideal {ivf_nlist(n_new)})"
    return None


def _plain_lists(index: faiss.Index) -> bool:
    """In-memory lists: the ids can be rewritten where they lie."""
    lists = faiss.extract_index_ivf(index).invlists
    return isinstance(faiss.downcast_InvertedLists(lists), faiss.ArrayInvertedLists)


def _renumber(ivf: faiss.IndexIVF, kept_rows: np.ndarray, n_old: int) -> None:
    """Rewrite each list entry's id from its old row to its new one, in place."""
    new_row = np.full(n_old, -1, dtype=np.int64)
    new_row[kept_rows] = np.arange(len(kept_rows), dtype=np.int64)
    lists = ivf.invlists
    for list_no in range(ivf.nlist):
        size = lists.list_size(list_no)
        if size:
            ids = faiss.rev_swig_ptr(lists.get_ids(list_no), size)  # a view of faiss's ids
            ids[:] = new_row[ids]
