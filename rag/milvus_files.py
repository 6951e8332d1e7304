"""What a saved Milvus index keeps beside its database: row keys and BM25 counts.

``milvus_keys.npy`` (int64, row -> key; no pickle) and ``milvus_terms.json`` (the sparse
layout, the next unused key, the SHA-256 of the chunk table written, and the BM25 counts of
rag.milvus_bm25). Indexes saved before these existed still open: without the keys file key
== row; without the terms file the BM25 rows are built on first use from ``chunks.jsonl``;
with layout 1 (idf inside each row) the rows are rewritten on load.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .milvus_bm25 import LAYOUT, TermStats
from .types import Chunk

TERMS_FILE = "milvus_terms.json"
KEYS_FILE = "milvus_keys.npy"
TABLE = "chunks.jsonl"  # rag.store's chunk table, beside the database
CHUNK_FIELDS = ("chunk_id", "doc_id", "text", "start", "end", "title", "location")


@dataclass(frozen=True)
class Saved:
    keys: np.ndarray  # (n,) int64
    next_key: int
    stats: TermStats | None
    table_key: str | None
    old_layout: bool  # BM25 rows with idf inside: rewrite them from ``table``
    table: Path


def write(
    folder: Path, keys: np.ndarray, record: dict[str, Any], stats: TermStats | None
) -> list[str]:
    """Write both files into ``folder``; their names."""
    np.save(Path(folder) / KEYS_FILE, np.asarray(keys, np.int64), allow_pickle=False)
    record = {"layout": LAYOUT, **record, **(stats.to_record() if stats is not None else {})}
    text = json.dumps(record, ensure_ascii=False)
    (Path(folder) / TERMS_FILE).write_text(text, encoding="utf-8")
    return [KEYS_FILE, TERMS_FILE]


def read(folder: Path, n: int) -> Saved:
    """The files of a version holding ``n`` chunks, as old as they may be."""
    folder = Path(folder)
    keys = np.arange(n, dtype=np.int64)
    if (folder / KEYS_FILE).exists():
        keys = np.load(folder / KEYS_FILE, allow_pickle=False).astype(np.int64)
    if len(keys) != n:
        raise ValueError(f"{KEYS_FILE} has {len(keys)} keys for {n} chunks")
    record: dict[str, Any] = {}
    if (folder / TERMS_FILE).exists():
        record = json.loads((folder / TERMS_FILE).read_text(encoding="utf-8"))
    old_layout = bool(record) and record.get("layout") != LAYOUT
    has_stats = not old_layout and "terms" in record
    return Saved(
        keys=keys,
        next_key=int(record.get("next_key", n)),
        stats=TermStats.from_record(record) if has_stats else None,
        table_key=record.get("sha256") if not old_layout else None,
        old_layout=old_layout,
        table=folder / TABLE,
    )


def read_table(path: Path) -> tuple[list[Chunk], list[list[str]]]:
    """The chunks and their terms from rag.store's ``chunks.jsonl``."""
    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    chunks = [Chunk(**{f: row[f] for f in CHUNK_FIELDS if f in row}) for row in rows]
    return chunks, [row["terms"] for row in rows]


def table_key(chunks: Sequence[Chunk], terms: Sequence[Sequence[str]]) -> str:
    """SHA-256 of the chunk table and terms: whether the database holds them already."""
    text = json.dumps(
        [[astuple(c), t] for c, t in zip(chunks, terms, strict=True)], ensure_ascii=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
