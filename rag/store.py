"""The index on disk: FAISS vectors, a chunk table, documents and a manifest.

Layout of ``index_dir``::

    CURRENT              name of the live version folder (replaced atomically)
    v-<time>-<id>/       manifest.json, vectors.faiss, chunks.jsonl, documents.jsonl

The vector file is whatever the index's ``VectorStore`` writes (rag.vector_store);
the manifest's ``index`` record names its kind and search parameters.

A save writes a new version folder completely, fsyncs it, then swaps CURRENT
with ``os.replace``; a crash at any point leaves CURRENT naming a complete
version. The manifest carries SHA-256 checksums of every file, checked on
load. Nothing is pickled: JSON lines, FAISS's own format, or ``.npy`` without pickle.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import vector_store
from .embeddings import ModelInfo
from .errors import IndexCorruptedError, IndexMismatchError, IndexNotFoundError
from .types import Chunk, Document
from .vector_store import VectorStore

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
TABLE_FILES = ("chunks.jsonl", "documents.jsonl")
KEEP_VERSIONS = 2  # the live one and the one before, for readers that are mid-load


@dataclass
class IndexData:
    """Everything an index holds, in memory. Row i of the vectors is ``chunks[i]``."""

    model: ModelInfo
    documents: dict[str, Document]
    chunks: list[Chunk]
    terms: list[list[str]]
    vectors: np.ndarray  # (n_chunks, dim) float32, normalised
    chunking: dict = field(default_factory=dict)
    index_kind: str = "auto"
    vector_store: VectorStore | None = None

    def search_index(self) -> VectorStore:
        if self.vector_store is None or len(self.vector_store) != len(self.chunks):
            self.vector_store = vector_store.build(self.vectors, kind=self.index_kind)
        return self.vector_store


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
            _fsync_dir(index_dir)
            _atomic_write_text(index_dir / CURRENT, final.name + "\n")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _collect_garbage(index_dir, live=final.name)
    log.info("saved index with %d chunks to %s", len(data.chunks), final)
    return final


def _write_version(data: IndexData, folder: Path) -> None:
    index = data.search_index()
    files = [*index.save(folder), *TABLE_FILES]
    _write_jsonl(
        folder / "chunks.jsonl",
        ({**asdict(c), "terms": t} for c, t in zip(data.chunks, data.terms, strict=True)),
    )
    _write_jsonl(folder / "documents.jsonl", (asdict(d) for d in data.documents.values()))
    for name in files:
        _fsync_file(folder / name)
    manifest = {
        "format_version": FORMAT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "model": asdict(data.model),
        "dimension": data.model.dim,
        "chunking": data.chunking,
        "index": {**index.describe(), "requested": data.index_kind},
        "documents": {d.doc_id: d.content_hash for d in data.documents.values()},
        "files": {name: _sha256(folder / name) for name in files},
    }
    _atomic_write_text(folder / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))


def _write_jsonl(path: Path, rows: Iterator[dict]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _collect_garbage(index_dir: Path, *, live: str) -> None:
    versions = sorted(p for p in index_dir.glob("v-*") if p.is_dir() and p.name != live)
    for old in versions[: max(0, len(versions) - (KEEP_VERSIONS - 1))]:
        shutil.rmtree(old, ignore_errors=True)
    for tmp in index_dir.glob(".tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _write_lock(index_dir: Path) -> Iterator[None]:
    with open(index_dir / ".lock", "w", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


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
            f"this version of rag reads format {FORMAT_VERSION}. " + rebuild_hint(index_dir)
        )
    return version, manifest


def load_index(index_dir: str | Path, *, verify: bool = True) -> IndexData:
    """Load the live version; retry if a concurrent save removed it mid-read."""
    for attempt in range(3):
        version, manifest = read_manifest(index_dir)
        try:
            return _load_version(Path(index_dir), version, manifest, verify=verify)
        except FileNotFoundError:
            if (Path(index_dir) / CURRENT).read_text(encoding="utf-8").strip() == version.name:
                raise IndexCorruptedError(
                    f"The index at {index_dir} is missing files in {version.name}. "
                    + rebuild_hint(Path(index_dir))
                ) from None
            log.info("index version changed while loading (attempt %d); retrying", attempt + 1)
    raise IndexCorruptedError(f"The index at {index_dir} kept changing while loading; try again.")


def _load_version(index_dir: Path, version: Path, manifest: dict, *, verify: bool) -> IndexData:
    if verify:
        for name, expected in manifest.get("files", {}).items():
            actual = _sha256(version / name)
            if actual != expected:
                raise IndexCorruptedError(
                    f"The index at {index_dir} is damaged: {name} has SHA-256 {actual[:12]}…, "
                    f"the manifest expects {expected[:12]}…. " + rebuild_hint(index_dir)
                )
    try:
        index = vector_store.load(version, manifest.get("index", {}))
        chunk_rows = _read_jsonl(version / "chunks.jsonl")
        doc_rows = _read_jsonl(version / "documents.jsonl")
        vectors = index.reconstruct()
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
    return IndexData(
        model=ModelInfo(**manifest["model"]),
        documents={row["doc_id"]: Document(**row) for row in doc_rows},
        chunks=chunks,
        terms=terms,
        vectors=np.asarray(vectors, dtype=np.float32),
        chunking=manifest.get("chunking", {}),
        # What was asked for ("auto" unless set), so a grown index can change kind.
        index_kind=manifest.get("index", {}).get("requested", "auto"),
        vector_store=index,
    )


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# ---------------------------------------------------------------- file helpers


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
