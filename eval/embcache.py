"""A disk cache of embeddings, so a rerun of the benchmark embeds nothing.

One ``.npy`` file per text, named by the SHA-256 of the text, under a folder
per model fingerprint, precision and prompt kind (``query``, ``document``, or
``plain`` for the LangChain baseline, which uses no prompts). Vectors are saved
with ``allow_pickle=False``. A cache is only ever a speed-up: delete the folder
and the numbers come out the same.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

log = logging.getLogger(__name__)

BATCH = 32  # texts embedded between two cache writes, so an interrupted run keeps its work


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """``get_or_compute(texts, encode)``: cached rows where present, ``encode`` for the rest."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npy"

    def load(self, text: str) -> np.ndarray | None:
        path = self._path(text_key(text))
        if not path.exists():
            return None
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            log.warning("ignoring unreadable cache file %s", path)
            return None

    def save(self, text: str, vector: np.ndarray) -> None:
        path = self._path(text_key(text))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.npy")
        np.save(tmp, np.asarray(vector, dtype=np.float32), allow_pickle=False)
        os.replace(tmp, path)  # atomic: a reader never sees half a file

    def get_or_compute(
        self,
        texts: list[str],
        encode: Callable[[list[str]], np.ndarray],
        *,
        desc: str = "embedding",
        progress: bool = True,
    ) -> np.ndarray:
        """(len(texts), dim) float32 in the order of ``texts``."""
        found = {t: v for t in dict.fromkeys(texts) if (v := self.load(t)) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        if missing:
            log.info("%s: %d texts to embed, %d cached", desc, len(missing), len(found))
        # Longest first, so each batch pads little and the bar's estimate is pessimistic.
        missing.sort(key=len, reverse=True)
        bar = tqdm(total=len(missing), desc=desc, disable=not progress or not missing)
        for start in range(0, len(missing), BATCH):
            batch = missing[start : start + BATCH]
            vectors = np.asarray(encode(batch), dtype=np.float32)
            for text, vector in zip(batch, vectors, strict=True):
                self.save(text, vector)
                found[text] = vector
            bar.update(len(batch))
        bar.close()
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([found[t] for t in texts]).astype(np.float32)


class CachedEmbedder:
    """Stands in for ``rag.embeddings.Embedder`` (same methods), backed by the cache.

    ``rag.indexing``, ``rag.retrieval`` and ``rag.answer`` take it unchanged,
    so the benchmark runs the product's own code with none of it modified. The
    model itself is loaded on the first cache miss only, so a fully cached
    rerun skips the 1.4 GB load.
    """

    def __init__(
        self, name: str, root: Path, *, cache_dir: Path, precision: str, progress: bool = True
    ):
        from rag.embeddings import _pick_precision, fingerprint
        from rag.models import resolve_model

        self.name = name
        self.cache_dir = cache_dir
        self.path = resolve_model(name, cache_dir=cache_dir)
        self.precision = _pick_precision(precision)
        self.progress = progress
        self._embedder = None
        self.fingerprint = fingerprint(self.path)
        self.folder = Path(root) / f"{self.fingerprint}-{self.precision}"
        self.queries = EmbeddingCache(self.folder / "query")
        self.documents = EmbeddingCache(self.folder / "document")
        self.info = self._known_info() or self.embedder.info

    @property
    def embedder(self):
        if self._embedder is None:
            from rag.embeddings import Embedder

            self._embedder = Embedder(self.name, cache_dir=self.cache_dir, precision=self.precision)
            info = {"name": self.name, "dim": self._embedder.dim, "path": self.path}
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / "model.json").write_text(
                json.dumps(info, ensure_ascii=False), encoding="utf-8"
            )
        return self._embedder

    def _known_info(self):
        from rag.embeddings import ModelInfo

        try:
            known = json.loads((self.folder / "model.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return ModelInfo(name=self.name, fingerprint=self.fingerprint, dim=int(known["dim"]))

    @property
    def dim(self) -> int:
        return self.info.dim

    def encode_queries(self, texts: list[str], *, batch_size: int = 16) -> np.ndarray:
        return self.queries.get_or_compute(
            texts,
            lambda b: self.embedder.encode_queries(b, batch_size=batch_size),
            desc="embedding queries",
            progress=self.progress and len(texts) > 1,
        )

    def encode_documents(
        self, texts: list[str], *, batch_size: int = 16, progress: bool = False
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.documents.get_or_compute(
            texts,
            lambda b: self.embedder.encode_documents(b, batch_size=batch_size),
            desc="embedding chunks",
            progress=progress and self.progress,
        )

    def encode_documents_with_spans(
        self,
        texts: list[str],
        spans: list[list[tuple[int, int]]],
        *,
        batch_size: int = 16,
        progress: bool = False,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Chunk and unit vectors (rag.embeddings), one ``.npz`` per chunk text and spans."""
        docs = np.zeros((len(texts), self.dim), dtype=np.float32)
        units: list[np.ndarray] = [np.zeros((0, self.dim), np.float32)] * len(texts)
        missing = []
        for i, (text, text_spans) in enumerate(zip(texts, spans, strict=True)):
            path = self._span_path(text, text_spans)
            try:
                with np.load(path, allow_pickle=False) as z:
                    docs[i], units[i] = z["doc"], z["units"]
                self.documents.hits += 1
            except (OSError, ValueError, KeyError):
                missing.append(i)
        self.documents.misses += len(missing)
        for start in range(0, len(missing), BATCH):
            batch = missing[start : start + BATCH]
            got_docs, got_units = self.embedder.encode_documents_with_spans(
                [texts[i] for i in batch], [spans[i] for i in batch], batch_size=batch_size
            )
            for i, doc, unit in zip(batch, got_docs, got_units, strict=True):
                docs[i], units[i] = doc, unit
                path = self._span_path(texts[i], spans[i])
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f".{uuid.uuid4().hex[:8]}.npz")
                np.savez(tmp, doc=doc, units=unit)
                os.replace(tmp, path)
        return docs, units

    def _span_path(self, text: str, spans: list[tuple[int, int]]) -> Path:
        key = text_key(text + "\x00" + ";".join(f"{s}-{e}" for s, e in spans))
        return self.folder / "document-units" / key[:2] / f"{key}.npz"


def plain_cache(root: Path, fingerprint: str) -> EmbeddingCache:
    """Where the LangChain baseline's prompt-less vectors go (fp32 is all it uses)."""
    return EmbeddingCache(Path(root) / f"{fingerprint}-fp32" / "plain")
