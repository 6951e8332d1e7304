"""Vectors for the scorer's training data, cached on disk so a retrain embeds nothing.

Passages go through ``Embedder.encode_documents_with_spans`` (the passage vector and
one vector per answer unit, from one forward pass, as the index does); questions
through ``encode_queries``. The cache lives under ``$RAG_CACHE_DIR/train`` in
``.npz``/``.npy`` files read with ``allow_pickle=False``; deleting it changes no number.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from rag.config import Settings

from .answer_data import Passage
from .embcache import CachedEmbedder

log = logging.getLogger(__name__)


class ScorerVectors:
    def __init__(self, settings: Settings, *, progress: bool = True):
        root = Path(settings.cache_dir) / "train"
        self.cached = CachedEmbedder(
            settings.model, root, cache_dir=Path(settings.cache_dir),
            precision=settings.precision, progress=progress,
        )  # fmt: skip
        self.folder = self.cached.folder / "late-units"
        self.progress = progress

    def passages(self, passages: list[Passage]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """key -> (passage vector (dim,), unit vectors (n_units, dim))."""
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        missing = []
        for p in passages:
            got = self._load(p)
            if got is None:
                missing.append(p)
            else:
                out[p.key] = got
        if missing:
            log.info("embedding %d passages (%d cached)", len(missing), len(out))
        step = 32
        bar = tqdm(total=len(missing), desc="passages", disable=not self.progress or not missing)
        for start in range(0, len(missing), step):
            batch = missing[start : start + step]
            docs, units = self.cached.embedder.encode_documents_with_spans(
                [p.text for p in batch], [[(u.start, u.end) for u in p.units] for p in batch]
            )
            for p, doc, unit in zip(batch, docs, units, strict=True):
                self._save(p, doc, unit)
                out[p.key] = (doc, unit)
            bar.update(len(batch))
        bar.close()
        return out

    def questions(self, texts: list[str]) -> np.ndarray:
        return self.cached.encode_queries(texts)

    def _path(self, p: Passage) -> Path:
        spans = ";".join(f"{u.start}-{u.end}" for u in p.units)
        key = hashlib.sha256(f"{p.text}\x00{spans}".encode()).hexdigest()
        return self.folder / key[:2] / f"{key}.npz"

    def _load(self, p: Passage) -> tuple[np.ndarray, np.ndarray] | None:
        path = self._path(p)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                return z["passage"], z["units"]
        except (OSError, ValueError, KeyError):
            return None

    def _save(self, p: Passage, doc: np.ndarray, units: np.ndarray) -> None:
        path = self._path(p)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{uuid.uuid4().hex[:8]}.npz")
        np.savez(tmp, passage=doc.astype(np.float32), units=units.astype(np.float32))
        os.replace(tmp, path)
