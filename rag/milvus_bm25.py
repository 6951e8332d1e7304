"""The product's BM25 as Milvus sparse vectors, and the client-side fusion of Milvus hits.

Milvus scores a sparse field by inner product. Each chunk's vector carries, per term,
its whole Okapi BM25 contribution (idf, saturated term frequency, length norm), and a
query's vector is 1.0 on each distinct query term, so the inner product is
``rag.bm25.BM25.scores`` exactly, up to float32 rounding (Milvus stores float32
weights and sums them in float32; rag.bm25 adds float64 contributions into float32).
The weights depend on the whole corpus (idf, average length), so they are rewritten
whenever the chunks change; Milvus Lite's BM25 function is not used (no Korean tokenizer).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .bm25 import BM25
from .fusion import Candidates, FusionWeights, fuse


def bm25_weights(docs_terms: list[list[str]]) -> tuple[dict[str, int], list[dict[int, float]]]:
    """The term ids and, per chunk, ``{term id: weight}`` such that the inner product with
    a query's vector (1.0 on each distinct query term) is ``rag.bm25.BM25.scores``:
    weight = idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avg_len))."""
    bm25 = BM25(docs_terms)
    norm = bm25.k1 * (1 - bm25.b + bm25.b * bm25.doc_len / max(bm25.avg_len, 1e-9))
    vocab = {term: i for i, term in enumerate(sorted(bm25.postings))}
    rows: list[dict[int, float]] = [{} for _ in docs_terms]
    for term, (docs, tf) in bm25.postings.items():
        w = bm25.idf(term) * tf * (bm25.k1 + 1) / (tf + norm[docs].astype(np.float64))
        for doc, weight in zip(docs.tolist(), w.tolist(), strict=True):
            rows[doc][vocab[term]] = weight
    return vocab, rows


def query_sparse(vocab: dict[str, int], query_terms: Sequence[str]) -> dict[int, float]:
    return {vocab[t]: 1.0 for t in set(query_terms) if t in vocab}


def sparse_hits(client: Any, collection: str, query: dict[int, float], pool: int) -> list[int]:
    """The rows of the ``pool`` best positive BM25 scores, best first, from Milvus."""
    if not query:
        return []
    found = client.search(
        collection, data=[query], limit=pool, anns_field="bm25", output_fields=["id"]
    )
    return [int(h["id"]) for h in found[0] if h["distance"] > 0]


def sparse_scores(
    client: Any, collection: str, rows: np.ndarray, query: dict[int, float]
) -> np.ndarray:
    """(len(rows),) float32 BM25 scores: the rows' stored sparse vectors against ``query``."""
    got = {
        int(r["id"]): r["bm25"]
        for r in client.get(collection, ids=rows.tolist(), output_fields=["id", "bm25"])
    }
    return np.array(
        [sum(got.get(int(r), {}).get(t, 0.0) for t in query) for r in rows], dtype=np.float32
    )


def fuse_rows(
    rows: np.ndarray,
    dense: np.ndarray,
    keyword: np.ndarray,
    k: int,
    weights: FusionWeights,
    query_script: str,
    chunk_scripts: Sequence[str],
) -> list[tuple[int, float, float]]:
    """``(row, fused, BM25)`` of the ``k`` best candidates, as rag.retrieval fuses them."""
    korean = query_script == "ko"
    cand = Candidates(
        dense=np.asarray(dense, dtype=np.float32),
        bm25=keyword,
        same_script=np.array([(chunk_scripts[r] == "ko") == korean for r in rows]),
        coverage=np.ones(len(rows), np.float32),
        query_script="ko" if korean else "en",
    )
    fused = fuse(cand, weights)
    order = np.argsort(-fused, kind="stable")[:k]
    return [(int(rows[i]), float(fused[i]), float(keyword[i])) for i in order]
