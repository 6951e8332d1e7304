"""The product's BM25 as Milvus sparse vectors, and the client-side fusion of Milvus hits.

Milvus scores a sparse field by inner product. A chunk's vector carries, per term, the
saturated and length-normalised term frequency ``tf * (k1 + 1) / (tf + k1 * (1 - b + b *
len / avg_len))``; a query's vector carries ``idf(t)`` on each distinct query term, computed
here from document frequencies kept on the client (``TermStats``). So the inner product is
``rag.bm25.BM25.scores`` up to float32 rounding, and adding or removing chunks changes only
the counts and the new chunks' rows: a row depends on the corpus only through ``avg_len``,
which stays the one the rows were written with until it drifts past ``AVG_LEN_DRIFT``.
Milvus Lite's BM25 function is not used (no Korean tokenizer).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .bm25 import BM25
from .fusion import Candidates, FusionWeights, fuse

K1, B = BM25([]).k1, BM25([]).b
LAYOUT = 2  # 1 (no "layout" field): idf inside each row; 2: idf on the query side
# Rewrite every sparse row once the corpus's average chunk length (in terms) differs from
# the one the rows were written with by more than this share. From `python -m
# bench.milvus_update drift` (20,000 synthetic Zipf chunks, 200 queries, top 10 scored with
# the stale average against the exact one, either direction): 2% drift changes 0.65% of the
# top-10 hits, 5% 1.4%, 10% 3.2%, 25% 6.8%. Adding 1% more chunks half again as long as the
# average moves it 0.5%, so the rewrite (sparse rows only, no vectors) is rare.
AVG_LEN_DRIFT = 0.05


@dataclass
class TermStats:
    """Document frequencies of the stored chunks, and the ``avg_len`` their rows use."""

    vocab: dict[str, int] = field(default_factory=dict)  # term -> sparse dimension
    df: list[int] = field(default_factory=list)  # per dimension: chunks holding the term
    n: int = 0
    total_len: int = 0
    avg_len: float = 0.0  # the average length every stored row was written with

    @classmethod
    def of(cls, docs_terms: Sequence[Sequence[str]]) -> TermStats:
        """Statistics of a fresh corpus; its rows are written with its own ``avg_len``."""
        vocab = {t: i for i, t in enumerate(sorted({t for doc in docs_terms for t in doc}))}
        stats = cls(vocab=vocab, df=[0] * len(vocab))
        stats.add(docs_terms)
        stats.avg_len = stats.current_avg_len()
        return stats

    def add(self, docs_terms: Sequence[Sequence[str]]) -> None:
        for doc in docs_terms:
            for term in set(doc):
                if term not in self.vocab:
                    self.vocab[term] = len(self.df)
                    self.df.append(0)
                self.df[self.vocab[term]] += 1
            self.total_len += len(doc)
        self.n += len(docs_terms)

    def remove(self, docs_terms: Sequence[Sequence[str]]) -> None:
        """Forget chunks that ``add`` counted (their terms keep their dimensions)."""
        for doc in docs_terms:
            for term in set(doc):
                self.df[self.vocab[term]] -= 1
            self.total_len -= len(doc)
        self.n -= len(docs_terms)

    def current_avg_len(self) -> float:
        return self.total_len / self.n if self.n else 0.0

    def drift(self) -> float:
        """How far the current average length is from the rows' one, as a share."""
        if not self.avg_len:
            return 0.0 if not self.current_avg_len() else math.inf
        return abs(self.current_avg_len() / self.avg_len - 1.0)

    def idf(self, dim: int) -> float:
        """rag.bm25's idf; always positive (df <= n), as Milvus requires of sparse weights."""
        df = self.df[dim]
        return math.log(1.0 + (self.n - df + 0.5) / (df + 0.5))

    def row(self, doc_terms: Sequence[str]) -> dict[int, float]:
        """A chunk's sparse vector (empty for a chunk without terms: Milvus refuses it)."""
        norm = K1 * (1 - B + B * len(doc_terms) / max(self.avg_len, 1e-9))
        return {self.vocab[t]: tf * (K1 + 1) / (tf + norm) for t, tf in Counter(doc_terms).items()}

    def query(self, query_terms: Sequence[str]) -> dict[int, float]:
        """A question's sparse vector: ``idf`` on each distinct term some chunk holds."""
        dims = {self.vocab[t] for t in query_terms if t in self.vocab}
        return {d: self.idf(d) for d in sorted(dims) if self.df[d] > 0}

    def to_record(self) -> dict[str, Any]:
        terms = sorted(self.vocab, key=self.vocab.__getitem__)
        return {
            "layout": LAYOUT,
            "terms": terms,
            "df": self.df,
            "n": self.n,
            "total_len": self.total_len,
            "avg_len": self.avg_len,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> TermStats:
        """Raises ValueError for another layout (idf inside the rows: rewrite them)."""
        if record.get("layout") != LAYOUT:
            raise ValueError(f"sparse layout {record.get('layout', 1)}, expected {LAYOUT}")
        return cls(
            vocab={t: i for i, t in enumerate(record["terms"])},
            df=[int(x) for x in record["df"]],
            n=int(record["n"]),
            total_len=int(record["total_len"]),
            avg_len=float(record["avg_len"]),
        )


def sparse_hits(client: Any, collection: str, query: dict[int, float], pool: int) -> list[int]:
    """The keys of the ``pool`` best positive BM25 scores, best first, from Milvus."""
    if not query:
        return []
    found = client.search(
        collection, data=[query], limit=pool, anns_field="bm25", output_fields=["id"]
    )
    return [int(h["id"]) for h in found[0] if h["distance"] > 0]


def sparse_scores(
    client: Any, collection: str, keys: np.ndarray, query: dict[int, float]
) -> np.ndarray:
    """(len(keys),) float32 BM25 scores: the keys' stored sparse vectors against ``query``."""
    got = {
        int(r["id"]): r["bm25"]
        for r in client.get(collection, ids=keys.tolist(), output_fields=["id", "bm25"])
    }
    return np.array(
        [sum(got.get(int(k), {}).get(t, 0.0) * w for t, w in query.items()) for k in keys],
        dtype=np.float32,
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
