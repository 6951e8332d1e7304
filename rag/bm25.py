"""Okapi BM25 over pre-computed term lists.

The term lists are stored with the index, so loading never re-tokenises the
corpus; building the postings from them is a single pass.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np


class BM25:
    def __init__(self, docs_terms: list[list[str]], *, k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self.n_docs = len(docs_terms)
        self.doc_len = np.array([len(t) for t in docs_terms], dtype=np.float32)
        self.avg_len = float(self.doc_len.mean()) if self.n_docs else 0.0
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for row, doc_terms in enumerate(docs_terms):
            for term, tf in Counter(doc_terms).items():
                postings[term].append((row, tf))
        self.postings = {
            term: (np.array([r for r, _ in p], dtype=np.int64), np.array([f for _, f in p]))
            for term, p in postings.items()
        }

    def idf(self, term: str) -> float:
        df = len(self.postings[term][0]) if term in self.postings else 0
        return math.log(1.0 + (self.n_docs - df + 0.5) / (df + 0.5))

    def scores(self, query_terms: list[str]) -> np.ndarray:
        """(n_docs,) float32 BM25 score of every document for the query."""
        scores = np.zeros(self.n_docs, dtype=np.float32)
        if not self.n_docs:
            return scores
        norm = self.k1 * (1 - self.b + self.b * self.doc_len / max(self.avg_len, 1e-9))
        for term in set(query_terms):
            if term not in self.postings:
                continue
            rows, tf = self.postings[term]
            scores[rows] += self.idf(term) * tf * (self.k1 + 1) / (tf + norm[rows])
        return scores

    def coverage(self, query_terms: list[str]) -> np.ndarray:
        """(n_docs,) float32: the share of the query's IDF mass each document contains.

        Terms the index lacks count in the total, so a question half of whose words
        no document has reaches at most 0.5 anywhere.
        """
        matched = np.zeros(self.n_docs, dtype=np.float32)
        total = 0.0
        for term in set(query_terms):
            idf = self.idf(term)
            total += idf
            if term in self.postings:
                matched[self.postings[term][0]] += idf
        return matched / total if total > 0 else matched

    def top(self, query_terms: list[str], k: int) -> list[tuple[int, float]]:
        return top_rows(self.scores(query_terms), k)


def top_rows(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` best (row, score) pairs of ``scores`` with a positive score, best first."""
    if not len(scores) or k <= 0:
        return []
    k = min(k, len(scores))
    rows = np.argpartition(-scores, k - 1)[:k]
    rows = rows[np.argsort(-scores[rows], kind="stable")]
    return [(int(r), float(scores[r])) for r in rows if scores[r] > 0]
