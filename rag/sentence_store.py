"""Sentence vectors computed while indexing, so a warm answer embeds nothing.

The sentence answerer compares the question with each candidate sentence embedded on
its own (a short line also with the mean of its and its neighbours' vectors, and a short
"label : value" line with itself and its neighbours embedded as one text: see
rag.sentence_candidates). Those texts are known when the index is built, so they are
embedded then, once per distinct text, and stored with the index as float16 rows keyed
by the text's SHA-1. At question time ``SentenceVectors.encode`` finds them here; only
text the index does not hold (a document changed outside the index) is embedded.

Stored row files (these and the answer units') are memory-mapped, not read into memory:
at about 31 KB a chunk together they would otherwise dominate the index's RAM, and an
answer touches only the rows of its few hits.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .embeddings import Embedder
from .errors import IndexCorruptedError

log = logging.getLogger(__name__)

VECTORS_FILE = "sentence_vectors.npy"
KEYS_FILE = "sentence_keys.json"


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SentenceStore:
    """Embedded texts: ``vectors[rows[text_key(t)]]`` is the vector of text ``t``."""

    rows: dict[str, int] = field(default_factory=dict)
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float16))

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, key: str) -> np.ndarray | None:
        row = self.rows.get(key)
        return None if row is None else self.vectors[row].astype(np.float32)


def build_store(
    texts: Iterable[str],
    *,
    old: SentenceStore | None,
    embedder: Embedder,
    batch_size: int = 16,
    progress: bool = False,
) -> tuple[SentenceStore, int]:
    """The store for ``texts``: rows of ``old`` reused, the rest embedded.

    Returns the store and how many texts were embedded. Texts no longer needed are
    dropped, so the store follows the index.
    """
    wanted: dict[str, str] = {}
    for text in texts:
        wanted.setdefault(text_key(text), text)
    old = old or SentenceStore()
    fresh = [t for k, t in wanted.items() if k not in old.rows]
    if fresh:
        log.info("embedding %d sentences (%d reused)", len(fresh), len(wanted) - len(fresh))
    fresh_vecs = embedder.encode_documents(fresh, batch_size=batch_size, progress=progress)
    fresh_rows = {text_key(t): i for i, t in enumerate(fresh)}
    keys = sorted(wanted)
    vectors = np.zeros((len(keys), embedder.dim), np.float16)
    for row, key in enumerate(keys):
        if key in fresh_rows:
            vectors[row] = fresh_vecs[fresh_rows[key]]
        else:
            vectors[row] = old.vectors[old.rows[key]]
    return SentenceStore({k: i for i, k in enumerate(keys)}, vectors), len(fresh)


def save_store(store: SentenceStore, folder: Path, *, dim: int) -> None:
    """Write the two files into an index version folder being assembled."""
    keys = sorted(store.rows, key=store.rows.__getitem__)
    vectors = store.vectors if len(keys) else np.zeros((0, dim), np.float16)
    np.save(folder / VECTORS_FILE, vectors.astype(np.float16), allow_pickle=False)
    (folder / KEYS_FILE).write_text(json.dumps(keys), encoding="utf-8")


def load_store(folder: Path, *, dim: int, where: str) -> SentenceStore:
    """Read the two files; a mismatch between them is a corrupted index."""
    try:
        vectors = load_rows(folder / VECTORS_FILE)
        keys = json.loads((folder / KEYS_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise  # a concurrent save removed the version: the caller retries
    except (OSError, ValueError) as exc:
        raise IndexCorruptedError(
            f"The index at {where} has unreadable sentence vectors ({exc}); rebuild it with "
            f"`rag index DOCS --index-dir {where}`."
        ) from exc
    if not _valid_keys(keys) or vectors.shape != (len(keys), dim):
        raise IndexCorruptedError(
            f"The index at {where} is inconsistent: {vectors.shape} sentence vectors for "
            f"{len(keys) if isinstance(keys, list) else '?'} keys of dimension {dim}; rebuild "
            f"it with `rag index DOCS --index-dir {where}`."
        )
    return SentenceStore({k: i for i, k in enumerate(keys)}, vectors)


def load_rows(path: Path) -> np.ndarray:
    """A stored ``.npy`` matrix, memory-mapped read-only (never a pickle)."""
    return np.load(path, mmap_mode="r", allow_pickle=False)


def _valid_keys(keys: object) -> bool:
    return isinstance(keys, list) and all(isinstance(k, str) and len(k) == 40 for k in keys)


def stored_vectors(
    texts: Sequence[str], store: SentenceStore | None
) -> tuple[list[str], dict[str, np.ndarray]]:
    """(keys of ``texts``, the vectors ``store`` holds for them)."""
    keys = [text_key(t) for t in texts]
    if store is None or not len(store):
        return keys, {}
    found = {}
    for key in keys:
        vec = store.get(key)
        if vec is not None:
            found[key] = vec
    return keys, found
