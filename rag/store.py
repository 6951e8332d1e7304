"""The index on disk: FAISS vectors, a chunk table, documents and a manifest.

Layout of ``index_dir``::

    CURRENT              name of the live version folder (replaced atomically)
    v-<time>-<id>/       manifest.json, vectors.faiss, chunks.jsonl, documents.jsonl,
                         unit_vectors.npy, sentence_vectors.npy, sentence_keys.json

The vector file is whatever the index's ``VectorStore`` writes (rag.vector_store);
the manifest's ``index`` record names its kind and search parameters. Each chunk row
lists its sentences and answer units (``rag.units``; offsets relative to the chunk,
terms), and
``unit_vectors.npy`` holds their vectors in that order (float16), so an answer costs
no embedding beyond the question's. Each document row lists its page furniture
(``rag.furniture``: menus, footers, other stories; document offsets). The sentence
answerer's vectors are stored by text (``rag.sentence_store``). Indexes of format 1 (no
units), 2 (no furniture) and 3 (no sentence vectors) are refused with the fix,
``rag index``, which rebuilds them.

A save writes a new version folder completely, fsyncs it, then swaps CURRENT
with ``os.replace``; a crash at any point leaves CURRENT naming a complete
version. The manifest carries SHA-256 checksums of every file, checked on
load. Nothing is pickled: JSON lines, FAISS's own format, or ``.npy`` without pickle
(memory-mapped on load). The chunk vectors of an IVF index are read by row from the index
itself (``rag.ivf_rows``), not held twice. ``IndexData``, the index in memory, is in
``rag.index_data``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
from dataclasses import asdict
from pathlib import Path

import numpy as np

from . import vector_store
from .atomic_files import (
    atomic_write_text,
    fsync_dir,
    fsync_file,
    locked,
    read_jsonl,
    sha256,
    write_jsonl,
)
from .embeddings import ModelInfo
from .errors import IndexCorruptedError, IndexMismatchError, IndexNotFoundError
from .faiss_index import FaissStore
from .index_data import IndexData
from .ivf_rows import IvfRows
from .sentence_store import (
    KEYS_FILE,
    VECTORS_FILE,
    SentenceStore,
    load_rows,
    load_store,
    save_store,
)
from .types import Chunk, Document
from .units import StoredUnit

log = logging.getLogger(__name__)

FORMAT_VERSION = 4
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
TABLE_FILES = ("chunks.jsonl", "documents.jsonl", "unit_vectors.npy", VECTORS_FILE, KEYS_FILE)
KEEP_VERSIONS = 2  # the live one and the one before, for readers that are mid-load


def rebuild_hint(index_dir: Path) -> str:
    return (
        f"Rebuild it with `rag index data/corpus --index-dir {index_dir} --rebuild` "
        f"(or rag.build([...], index_dir={str(index_dir)!r}, rebuild=True))."
    )


# ---------------------------------------------------------------- saving


def save_index(data: IndexData, index_dir: str | Path) -> Path:
    """Write ``data`` as a new version and make it live atomically."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    with _write_lock(index_dir):
        tmp = index_dir / f".tmp-{uuid.uuid4().hex[:12]}"
        tmp.mkdir()
        try:
            _write_version(data, tmp)
            final = index_dir / f"v-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
            os.rename(tmp, final)
            fsync_dir(index_dir)
            atomic_write_text(index_dir / CURRENT, final.name + "\n")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _collect_garbage(index_dir, live=final.name)
    log.info("saved index with %d chunks to %s", len(data.chunks), final)
    return final


def _write_version(data: IndexData, folder: Path) -> None:
    index = data.search_index()
    if hasattr(index, "set_chunks"):  # a backend that stores chunks and BM25 (rag.milvus_store)
        index.set_chunks(data.chunks, data.terms)
    files = [*index.save(folder), *TABLE_FILES]
    units = data.units or [[] for _ in data.chunks]
    sentences = data.sentence_spans or [[] for _ in data.chunks]
    write_jsonl(
        folder / "chunks.jsonl",
        (
            {
                **asdict(c),
                "terms": t,
                "units": [u.to_row() for u in us],
                "sentences": [list(span) for span in ss],
            }  # fmt: skip
            for c, t, us, ss in zip(data.chunks, data.terms, units, sentences, strict=True)
        ),
    )
    unit_vectors = data.unit_vectors
    if unit_vectors is None:
        unit_vectors = np.zeros((0, data.model.dim), np.float16)
    np.save(folder / "unit_vectors.npy", unit_vectors.astype(np.float16), allow_pickle=False)
    save_store(data.sentences or SentenceStore(), folder, dim=data.model.dim)
    write_jsonl(
        folder / "documents.jsonl",
        (
            {**asdict(d), "furniture": [list(s) for s in data.furniture.get(d.doc_id, ())]}
            for d in data.documents.values()
        ),
    )
    for name in files:
        fsync_file(folder / name)
    manifest = {
        "format_version": FORMAT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "model": asdict(data.model),
        "dimension": data.model.dim,
        "chunking": data.chunking,
        "index": {**index.describe(), "requested": data.index_kind},
        "documents": {d.doc_id: d.content_hash for d in data.documents.values()},
        "files": {name: sha256(folder / name) for name in files},
    }
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))


def _collect_garbage(index_dir: Path, *, live: str) -> None:
    versions = sorted(p for p in index_dir.glob("v-*") if p.is_dir() and p.name != live)
    for old in versions[: max(0, len(versions) - (KEEP_VERSIONS - 1))]:
        shutil.rmtree(old, ignore_errors=True)
    for tmp in index_dir.glob(".tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)


def _write_lock(index_dir: Path):
    return locked(index_dir / ".lock")


# ---------------------------------------------------------------- loading


def read_manifest(index_dir: str | Path) -> tuple[Path, dict]:
    """Return (version folder, manifest) of the live version."""
    index_dir = Path(index_dir)
    current = index_dir / CURRENT
    if not current.exists():
        raise IndexNotFoundError(
            f"No index at {index_dir} (no {CURRENT} file). Build one with "
            f"`rag index data/corpus --index-dir {index_dir}` or "
            f"rag.build(['data/corpus'], index_dir={str(index_dir)!r})."
        )
    version = index_dir / current.read_text(encoding="utf-8").strip()
    manifest_path = version / MANIFEST
    if not manifest_path.exists():
        raise IndexCorruptedError(
            f"The index at {index_dir} is damaged: {manifest_path} is missing. "
            + rebuild_hint(index_dir)
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IndexCorruptedError(
            f"The index manifest {manifest_path} is not valid JSON ({exc}). "
            + rebuild_hint(index_dir)
        ) from exc
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"The index at {index_dir} has format version {manifest.get('format_version')!r}; "
            f"this version of rag reads format {FORMAT_VERSION} (answer units are stored since "
            f"format 2, page furniture since format 3, sentence vectors since format 4). Run "
            f"`rag index DOCS --index-dir {index_dir}` with the same documents: it rebuilds an "
            f"older index in place."
        )
    return version, manifest


def stored_format(index_dir: str | Path) -> int | None:
    """The format version of the live index, or None when there is none or it is unreadable."""
    try:
        version = Path(index_dir) / (Path(index_dir) / CURRENT).read_text(encoding="utf-8").strip()
        return json.loads((version / MANIFEST).read_text(encoding="utf-8")).get("format_version")
    except (OSError, ValueError, AttributeError):
        return None


def load_index(index_dir: str | Path, *, verify: bool = True) -> IndexData:
    """Load the live version; retry if a concurrent save removed it mid-read."""
    for attempt in range(3):
        version, manifest = read_manifest(index_dir)
        try:
            return _load_version(Path(index_dir), version, manifest, verify=verify)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            if (Path(index_dir) / CURRENT).read_text(encoding="utf-8").strip() == version.name:
                raise IndexCorruptedError(
                    f"The index at {index_dir} {_unreadable(version, exc)}. "
                    + rebuild_hint(Path(index_dir))
                ) from None
            log.info("index version changed while loading (attempt %d); retrying", attempt + 1)
    raise IndexCorruptedError(f"The index at {index_dir} kept changing while loading; try again.")


def _unreadable(version: Path, exc: OSError) -> str:
    """What of ``version`` could not be opened, for the message: the outermost missing path,
    or a file where the index keeps a folder (``milvus.db``) or the other way round."""
    path = Path(exc.filename or version)
    if path == version or not path.is_relative_to(version):
        return f"is missing files in {version.name}"
    while path.parent != version and not path.parent.is_dir():
        path = path.parent
    name = path.relative_to(version).as_posix()
    if isinstance(exc, NotADirectoryError) and path.is_file():
        return f"is damaged: {name} in {version.name} is a file where the index keeps a folder"
    if isinstance(exc, IsADirectoryError) and path.is_dir():
        return f"is damaged: {name} in {version.name} is a folder where the index keeps a file"
    return f"is missing files in {version.name}: {name}"


def _load_version(index_dir: Path, version: Path, manifest: dict, *, verify: bool) -> IndexData:
    if verify:
        for name, expected in manifest.get("files", {}).items():
            actual = sha256(version / name)
            if actual != expected:
                raise IndexCorruptedError(
                    f"The index at {index_dir} is damaged: {name} has SHA-256 {actual[:12]}…, "
                    f"the manifest expects {expected[:12]}…. " + rebuild_hint(index_dir)
                )
    try:
        index = vector_store.load(version, manifest.get("index", {}))
        chunk_rows = read_jsonl(version / "chunks.jsonl")
        doc_rows = read_jsonl(version / "documents.jsonl")
        vectors = _vectors_of(index)
        unit_vectors = load_rows(version / "unit_vectors.npy")
        units = [[StoredUnit.from_row(u) for u in row.pop("units")] for row in chunk_rows]
        spans = [[(int(s), int(e)) for s, e in row.pop("sentences")] for row in chunk_rows]
        sentences = load_store(version, dim=manifest["model"]["dim"], where=str(index_dir))
        marked = {
            row["doc_id"]: tuple((int(s), int(e)) for s, e in row.pop("furniture"))
            for row in doc_rows
        }
    except (RuntimeError, ValueError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise IndexCorruptedError(
            f"The index at {index_dir} could not be read ({exc}). " + rebuild_hint(index_dir)
        ) from exc
    terms = [row.pop("terms") for row in chunk_rows]
    chunks = [Chunk(**row) for row in chunk_rows]
    if len(index) != len(chunks) or vectors.shape[1] != manifest["model"]["dim"]:
        raise IndexCorruptedError(
            f"The index at {index_dir} is inconsistent: {len(index)} vectors of dimension "
            f"{vectors.shape[1]} for {len(chunks)} chunks, but the manifest says dimension "
            f"{manifest['model']['dim']}. " + rebuild_hint(index_dir)
        )
    n_units = sum(len(u) for u in units)
    if unit_vectors.shape != (n_units, manifest["model"]["dim"]):
        raise IndexCorruptedError(
            f"The index at {index_dir} is inconsistent: {unit_vectors.shape[0]} unit vectors for "
            f"{n_units} answer units. " + rebuild_hint(index_dir)
        )
    return IndexData(
        model=ModelInfo(**manifest["model"]),
        documents={row["doc_id"]: Document(**row) for row in doc_rows},
        chunks=chunks,
        terms=terms,
        vectors=vectors,
        chunking=manifest.get("chunking", {}),
        # What was asked for ("auto" unless set), so a grown index can change kind.
        index_kind=manifest.get("index", {}).get("requested", "auto"),
        vector_store=index,
        units=units,
        sentence_spans=spans,
        unit_vectors=unit_vectors,
        furniture=marked,
        sentences=sentences,
    )


def _vectors_of(index: vector_store.VectorStore) -> np.ndarray | IvfRows:
    """IVF-Flat holds the exact vectors: read rows from it rather than keep a second copy."""
    if isinstance(index, FaissStore) and index.kind == "ivf":
        return IvfRows(index.index)
    return np.asarray(index.reconstruct(), dtype=np.float32)
