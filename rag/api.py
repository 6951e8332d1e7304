"""The public entry points: ``build`` and ``open``, which return a ``QA`` (rag.qa).

``open`` loads a saved index and checks it was built with the configured model;
``build`` creates or updates one from files, embedding only what changed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .config import Settings
from .embeddings import Embedder
from .errors import IndexNotFoundError
from .index_model import DeferredEmbedder, check_model, check_model_name, embedder_for
from .index_model import get_embedder as get_embedder  # re-exported: bench.workload uses it
from .indexing import empty_index
from .loaders import load_documents
from .qa import QA
from .store import FORMAT_VERSION, IndexData, load_index, save_index, stored_format

log = logging.getLogger(__name__)

__all__ = ["QA", "build", "get_embedder", "open"]


def open(  # noqa: A001 - the library's verb, as in rag.open("index")
    index_dir: str | Path = "index",
    *,
    load_model: bool = True,
    settings: Settings | None = None,
    **overrides: Any,
) -> QA:
    """Load the index at ``index_dir``.

    Args:
        load_model: False puts off loading the embedding model until text must be
            embedded (a question, a search, an added document): listing and removing
            documents, and ``mode="bm25"`` searches, then never load it.
    Raises:
        IndexNotFoundError: nothing there; the message says how to build one.
        IndexCorruptedError: checksums or files do not match the manifest.
        IndexMismatchError: built with another model, dimension or format (with
            ``load_model=False``, another dimension or fingerprint is found on first use).
    """
    settings = (settings or Settings.from_env()).with_overrides(**overrides)
    index_dir = Path(index_dir)
    data = load_index(index_dir)
    check_model_name(data.model, settings, index_dir)
    if not load_model:
        return QA(index_dir, data, DeferredEmbedder(data.model, settings, index_dir), settings)
    embedder = embedder_for(settings)
    check_model(data.model, embedder.info, index_dir)
    return QA(index_dir, data, embedder, settings)


def build(
    paths: Iterable[str | Path],
    *,
    index_dir: str | Path = "index",
    rebuild: bool = False,
    prune: bool = False,
    progress: bool = False,
    settings: Settings | None = None,
    embedder: Embedder | None = None,
    **overrides: Any,
) -> QA:
    """Build the index at ``index_dir`` from ``paths``, or update it in place.

    Only new or changed documents are embedded. ``prune`` also removes indexed
    documents that are not among ``paths``; ``rebuild`` starts from empty. ``embedder``
    replaces the configured model's local ``Embedder`` for this build (the same model
    elsewhere, e.g. ``rag.ray_embedding.RayEmbedder``).
    """
    settings = (settings or Settings.from_env()).with_overrides(**overrides)
    index_dir = Path(index_dir)
    docs = load_documents(paths)
    embedder = embedder or embedder_for(settings)
    old = None if rebuild else _existing(index_dir, embedder, settings)
    qa = QA(index_dir, old or empty_index(embedder, settings), embedder, settings)
    removed = set(qa.data.documents) - {d.doc_id for d in docs} if prune else set()
    outdated = stored_format(index_dir) not in (None, FORMAT_VERSION)  # rebuilt, not read
    report = qa._update(add=docs, remove=removed, progress=progress, fresh=rebuild or outdated)
    if old is None and not (report.added or report.updated):
        save_index(qa.data, index_dir)
    return qa


def _existing(index_dir: Path, embedder: Embedder, settings: Settings) -> IndexData | None:
    found = stored_format(index_dir)
    if found is not None and found < FORMAT_VERSION:
        log.warning(
            "the index at %s has format %s; rebuilding it in format %s",
            index_dir, found, FORMAT_VERSION,
        )  # fmt: skip
        return None
    try:
        data = load_index(index_dir)
    except IndexNotFoundError:
        return None
    check_model_name(data.model, settings, index_dir)
    check_model(data.model, embedder.info, index_dir)
    return data
