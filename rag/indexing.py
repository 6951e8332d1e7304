"""Turn documents into ``IndexData``, re-embedding only what changed.

Unchanged documents keep their chunks and vectors; any chunk whose exact text
was embedded before (by the same model) reuses that vector, so editing one
paragraph of a long document costs one paragraph's worth of embedding. A chunk's
answer units get their vectors from the same forward pass as the chunk
(``Embedder.encode_documents_with_spans``), so they add no model time. The sentence
answerer's texts are embedded on their own (``rag.sentence_store``), each distinct
text once, and reused while it stays in the index. Page
furniture (``rag.furniture``) is marked on every new or changed document; it costs
no model time either.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from . import ivf_update
from .chunking import chunk_document
from .config import Settings
from .embeddings import Embedder
from .faiss_index import KINDS, FaissStore, choose_kind
from .furniture import VERSION as FURNITURE_VERSION
from .furniture import Spans, furniture_spans
from .ivf_rows import IvfRows
from .sentence_candidates import SpansOf, embedded_texts
from .sentence_store import build_store
from .sentences import sentence_spans
from .store import IndexData
from .terms import terms
from .types import Chunk, Document
from .units import StoredUnit, answer_units
from .vector_store import VectorStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UpdateReport:
    """What an update did; ``embedded`` counts chunks sent through the model."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    embedded: int = 0
    reused: int = 0
    sentences_embedded: int = 0


def chunking_params(settings: Settings) -> dict:
    return {
        "chunk_size": settings.chunk_size,
        "overlap": settings.chunk_overlap,
        "splitter": "kiwi+lines",
        "furniture": FURNITURE_VERSION,
    }


def empty_index(embedder: Embedder, settings: Settings) -> IndexData:
    return IndexData(
        model=embedder.info,
        documents={},
        chunks=[],
        terms=[],
        vectors=np.zeros((0, embedder.dim), dtype=np.float32),
        chunking=chunking_params(settings),
        index_kind=settings.index_kind,
    )


def update_index(
    old: IndexData,
    *,
    add: Iterable[Document] = (),
    remove: Iterable[str] = (),
    embedder: Embedder,
    settings: Settings,
    progress: bool = False,
) -> tuple[IndexData, UpdateReport]:
    """Return a new ``IndexData``; ``old`` is never modified (readers may hold it)."""
    same_chunking = old.chunking == chunking_params(settings)
    incoming = {doc.doc_id: doc for doc in add}
    removed = [d for d in remove if d in old.documents and d not in incoming]
    documents = {k: v for k, v in old.documents.items() if k not in removed}
    report = UpdateReport(removed=removed)
    for doc_id, doc in incoming.items():
        prev = documents.get(doc_id)
        if prev is None:
            report.added.append(doc_id)
        elif prev.content_hash == doc.content_hash and same_chunking:
            report.unchanged.append(doc_id)
            continue
        else:
            report.updated.append(doc_id)
        documents[doc_id] = doc
    rechunk = set(report.added) | set(report.updated)
    if not same_chunking:
        rechunk |= set(documents)
    chunks, terms_, vectors, embedded, reused, units, unit_vectors, spans = _assemble(
        old, documents, rechunk, embedder=embedder, settings=settings, progress=progress
    )
    sentences, sentences_embedded = build_store(
        embedded_texts(chunks, documents, spans_of=_spans_by_row(chunks, spans))
        if settings.store_sentence_vectors
        else (),
        old=old.sentences,
        embedder=embedder,
        batch_size=settings.batch_size,
        progress=progress,
    )
    report = UpdateReport(
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        removed=removed,
        embedded=embedded,
        reused=reused,
        sentences_embedded=sentences_embedded,
    )
    data = IndexData(
        model=embedder.info,
        documents=documents,
        chunks=chunks,
        terms=terms_,
        vectors=vectors,
        chunking=chunking_params(settings),
        index_kind=old.index_kind,
        units=units,
        unit_vectors=unit_vectors,
        furniture=_furniture(old, documents, rechunk),
        sentences=sentences,
        sentence_spans=spans,
    )
    data.vector_store = _updated_store(old, data, _kept_rows(old, documents, rechunk))
    if isinstance(data.vector_store, FaissStore):  # the index holds the vectors: no second copy
        data.vectors = IvfRows(data.vector_store.index)
    return data, report


def _kept_rows(old: IndexData, documents: dict[str, Document], rechunk: set[str]) -> list[int]:
    """Old rows that stay as they are; they come first in the new index, in this order."""
    return [
        row for row, c in enumerate(old.chunks) if c.doc_id in documents and c.doc_id not in rechunk
    ]


def _updated_store(old: IndexData, data: IndexData, kept_rows: list[int]) -> VectorStore | None:
    """The old index updated in place of a rebuild, when it fits: a trained IVF index
    (rag.ivf_update) or a Milvus one of the same kind (rag.milvus_update, delete and insert
    by key).

    None leaves the build to ``IndexData.search_index``: other kinds, a kind change by size
    (``auto``), or drift past the retraining bounds.
    """
    store, vectors = old.vector_store, np.asarray(data.vectors)
    if store is None or len(store) != len(old.chunks):
        return None
    if getattr(store, "kind", None) == "milvus" and old.index_kind == "milvus":
        from . import milvus_update  # the optional extra, imported only for a Milvus index

        return milvus_update.update(
            store,  # type: ignore[arg-type]
            np.asarray(kept_rows, np.int64),
            vectors,
            chunks=data.chunks,
            terms=data.terms,
            old_chunks=old.chunks,
            old_terms=old.terms,
        )
    if not isinstance(store, FaissStore):
        return None
    if old.index_kind not in ("auto", *KINDS) or choose_kind(len(vectors), old.index_kind) != "ivf":
        return None
    return ivf_update.update(store, np.asarray(kept_rows, np.int64), vectors[len(kept_rows) :])


def _assemble(
    old: IndexData,
    documents: dict[str, Document],
    rechunk: set[str],
    *,
    embedder: Embedder,
    settings: Settings,
    progress: bool,
) -> tuple[list[Chunk], list[list[str]], np.ndarray, int, int, list, np.ndarray, list]:
    known = {_text_key(c.text): row for row, c in enumerate(old.chunks)}
    kept_rows = _kept_rows(old, documents, rechunk)
    new_chunks = [
        c
        for doc_id in sorted(rechunk)
        for c in chunk_document(
            documents[doc_id], chunk_size=settings.chunk_size, overlap=settings.chunk_overlap
        )
    ]
    reuse_rows = [known.get(_text_key(c.text)) for c in new_chunks]
    fresh = [c for c, r in zip(new_chunks, reuse_rows, strict=True) if r is None]
    if fresh:
        log.info("embedding %d chunks (%d reused)", len(fresh), len(new_chunks) - len(fresh))
    fresh_units = [answer_units(c.text) for c in fresh]
    fresh_vecs, fresh_unit_vecs = embedder.encode_documents_with_spans(
        [c.text for c in fresh],
        [[(u.start, u.end) for u in units] for units in fresh_units],
        batch_size=settings.batch_size,
        progress=progress,
    )
    iterator = tqdm(fresh, desc="keyword index", disable=not progress or len(fresh) < 200)
    fresh_rows = iter(
        (vec, _stored(c.text, units), unit_vecs, terms(c.text), sentence_spans(c.text))
        for c, vec, units, unit_vecs in zip(
            iterator, fresh_vecs, fresh_units, fresh_unit_vecs, strict=True
        )
    )
    rows = [_old_row(old, r) for r in kept_rows]
    rows += [_old_row(old, r) if r is not None else next(fresh_rows) for r in reuse_rows]
    chunks = [old.chunks[r] for r in kept_rows] + new_chunks
    dim = embedder.dim
    vectors = np.zeros((len(rows), dim), np.float32)
    is_old = np.array([r[0] is None for r in rows], dtype=bool)
    old_rows = np.asarray(kept_rows + [r for r in reuse_rows if r is not None], np.int64)
    if len(old_rows):  # one gather: old.vectors may be rows of an IVF index (rag.ivf_rows)
        vectors[is_old] = old.vectors[old_rows]
    if not is_old.all():
        vectors[~is_old] = np.stack([r[0] for r in rows if r[0] is not None])
    unit_vectors = [r[2] for r in rows]
    all_units = np.concatenate(unit_vectors) if unit_vectors else np.zeros((0, dim))
    return (
        chunks,
        [r[3] for r in rows],
        vectors.astype(np.float32),
        len(fresh),
        len(new_chunks) - len(fresh),
        [r[1] for r in rows],
        all_units.astype(np.float16),
        [r[4] for r in rows],
    )


def _furniture(old: IndexData, documents: dict[str, Document], marked: set[str]) -> dict:
    """Furniture spans per document: new for ``marked`` documents, kept for the rest."""
    out: dict[str, Spans] = {}
    for doc_id, doc in documents.items():
        if doc_id in marked or doc_id not in old.furniture:
            out[doc_id] = furniture_spans(doc.text, title=doc.title)
        else:
            out[doc_id] = old.furniture[doc_id]
    return out


def _old_row(old: IndexData, row: int) -> tuple:
    """A chunk's units, unit vectors, terms and sentences as the old index has them; its
    vector (None here) is gathered with the others' in one call."""
    units, unit_vectors = old.chunk_units(row)
    vectors = np.asarray(unit_vectors, np.float32)
    spans = old.chunk_sentence_spans(old.chunks[row])
    if spans is None:  # an IndexData made in memory without them
        spans = sentence_spans(old.chunks[row].text)
    return None, units, vectors, old.terms[row], spans


def _spans_by_row(chunks: list[Chunk], spans: list[list[tuple[int, int]]]) -> SpansOf:
    """``spans_of`` for ``embedded_texts``: chunk ``chunks[i]`` has ``spans[i]``."""
    by_id = {c.chunk_id: s for c, s in zip(chunks, spans, strict=True)}
    return lambda chunk: by_id.get(chunk.chunk_id)


def _stored(text: str, units: list) -> list[StoredUnit]:
    return [
        StoredUnit(
            u.start,
            u.end,
            u.sentence_start,
            u.sentence_end,
            u.kind,
            u.n_items,
            tuple(terms(text[u.start : u.end])),
        )  # fmt: skip
        for u in units
    ]


def _text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()
