"""The index in memory (``IndexData``): what ``rag.store`` saves and loads.

Row i of ``vectors`` is ``chunks[i]``; answer units and their vectors follow the chunks;
page furniture and stored sentence vectors are per document and per text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import vector_store
from .embeddings import ModelInfo
from .furniture import Spans, is_furniture, share
from .ivf_rows import IvfRows
from .sentence_store import SentenceStore
from .types import Chunk, Document
from .units import StoredUnit
from .vector_store import VectorStore


@dataclass
class IndexData:
    """Everything an index holds, in memory. Row i of the vectors is ``chunks[i]``."""

    model: ModelInfo
    documents: dict[str, Document]
    chunks: list[Chunk]
    terms: list[list[str]]
    # (n_chunks, dim) float32, normalised; for an IVF index, rows read from it (rag.ivf_rows)
    vectors: np.ndarray | IvfRows
    chunking: dict = field(default_factory=dict)
    index_kind: str = "auto"
    vector_store: VectorStore | None = None
    units: list[list[StoredUnit]] = field(default_factory=list)  # per chunk
    unit_vectors: np.ndarray | None = None  # (n_units, dim) float16, chunk by chunk
    furniture: dict[str, Spans] = field(default_factory=dict)  # per document
    sentences: SentenceStore | None = None  # the sentence answerer's vectors, by text
    # Per chunk, its sentences (offsets in the chunk), so neither an update nor an answer
    # splits a stored chunk again (Kiwi, about 3 ms a chunk).
    sentence_spans: list[list[tuple[int, int]]] = field(default_factory=list)
    _unit_rows: np.ndarray | None = field(default=None, repr=False)
    _chunk_rows: dict[str, int] | None = field(default=None, repr=False)

    def chunk_row(self, chunk_id: str) -> int | None:
        if self._chunk_rows is None:
            self._chunk_rows = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        return self._chunk_rows.get(chunk_id)

    def chunk_sentence_spans(self, chunk: Chunk) -> list[tuple[int, int]] | None:
        """The stored sentences of ``chunk``, or None when the index does not hold it."""
        row = self.chunk_row(chunk.chunk_id)
        if row is None or row >= len(self.sentence_spans) or self.chunks[row] != chunk:
            return None
        return self.sentence_spans[row]

    def chunk_units(self, row: int) -> tuple[list[StoredUnit], np.ndarray]:
        """The answer units of chunk ``row`` and their vectors, ``(k, dim)`` float16."""
        if self._unit_rows is None:
            self._unit_rows = np.concatenate([[0], np.cumsum([len(u) for u in self.units])])
        start, end = self._unit_rows[row], self._unit_rows[row + 1]
        vectors = self.unit_vectors
        if vectors is None:
            vectors = np.zeros((0, self.model.dim), np.float16)
        return self.units[row], vectors[start:end]

    def furniture_share(self, doc_id: str, start: int, end: int) -> float:
        """How much of ``[start, end)`` of document ``doc_id`` is page furniture (0..1)."""
        return share(self.furniture.get(doc_id, ()), start, end)

    def is_furniture(self, doc_id: str, start: int, end: int) -> bool:
        """Is most of ``[start, end)`` of document ``doc_id`` page furniture?"""
        return is_furniture(self.furniture.get(doc_id, ()), start, end)

    def search_index(self) -> VectorStore:
        if self.vector_store is None or len(self.vector_store) != len(self.chunks):
            self.vector_store = vector_store.build(
                self.vectors, kind=self.index_kind, chunks=self.chunks, terms=self.terms
            )
        return self.vector_store
