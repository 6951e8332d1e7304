"""Turn documents into ``IndexData``, re-embedding only what changed.

Unchanged documents keep their chunks and vectors; any chunk whose exact text
was embedded before (by the same model) reuses that vector, so editing one
paragraph of a long document costs one paragraph's worth of embedding.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from .chunking import chunk_document
from .config import Settings
from .embeddings import Embedder
from .store import IndexData
from .terms import terms
from .types import Chunk, Document

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


def chunking_params(settings: Settings) -> dict:
    return {
        "chunk_size": settings.chunk_size,
        "overlap": settings.chunk_overlap,
        "splitter": "kiwi+lines",
    }


def empty_index(embedder: Embedder, settings: Settings) -> IndexData:
    return IndexData(
        model=embedder.info,
        documents={},
        chunks=[],
        terms=[],
        vectors=np.zeros((0, embedder.dim), dtype=np.float32),
        chunking=chunking_params(settings),
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
    chunks, terms_, vectors, embedded, reused = _assemble(
        old, documents, rechunk, embedder=embedder, settings=settings, progress=progress
    )
    report = UpdateReport(
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        removed=removed,
        embedded=embedded,
        reused=reused,
    )
    data = IndexData(
        model=embedder.info,
        documents=documents,
        chunks=chunks,
        terms=terms_,
        vectors=vectors,
        chunking=chunking_params(settings),
        index_kind=old.index_kind,
    )
    return data, report


def _assemble(
    old: IndexData,
    documents: dict[str, Document],
    rechunk: set[str],
    *,
    embedder: Embedder,
    settings: Settings,
    progress: bool,
) -> tuple[list[Chunk], list[list[str]], np.ndarray, int, int]:
    known = {_text_key(c.text): row for row, c in enumerate(old.chunks)}
    kept_rows = [
        row for row, c in enumerate(old.chunks) if c.doc_id in documents and c.doc_id not in rechunk
    ]
    chunks = [old.chunks[r] for r in kept_rows]
    terms_ = [old.terms[r] for r in kept_rows]
    vectors = [old.vectors[kept_rows]] if kept_rows else []
    new_chunks = [
        c
        for doc_id in sorted(rechunk)
        for c in chunk_document(
            documents[doc_id], chunk_size=settings.chunk_size, overlap=settings.chunk_overlap
        )
    ]
    reuse_rows = [known.get(_text_key(c.text)) for c in new_chunks]
    to_embed = [c.text for c, r in zip(new_chunks, reuse_rows, strict=True) if r is None]
    if to_embed:
        log.info("embedding %d chunks (%d reused)", len(to_embed), len(new_chunks) - len(to_embed))
    fresh = embedder.encode_documents(to_embed, batch_size=settings.batch_size, progress=progress)
    fresh_iter = iter(fresh)
    new_vecs = np.zeros((len(new_chunks), embedder.dim), dtype=np.float32)
    for i, row in enumerate(reuse_rows):
        new_vecs[i] = old.vectors[row] if row is not None else next(fresh_iter)
    iterator = tqdm(new_chunks, desc="keyword index", disable=not progress or len(new_chunks) < 200)
    chunks.extend(new_chunks)
    terms_.extend(terms(c.text) for c in iterator)
    vectors.append(new_vecs)
    all_vectors = np.concatenate(vectors) if vectors else np.zeros((0, embedder.dim), np.float32)
    return (
        chunks,
        terms_,
        all_vectors.astype(np.float32),
        len(to_embed),
        len(new_chunks) - len(to_embed),
    )


def _text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()
