"""The embedding model: queries and documents get the model's own retrieval prompts.

Vectors are L2-normalised float32, so inner product is cosine similarity.
Loading is offline (``HF_HUB_OFFLINE=1``): this product never fetches from a hub
at run time; ``rag models fetch`` puts the default model in the cache first.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .errors import ModelNotFoundError, RagError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelInfo:
    """What an index records about the model that built it."""

    name: str
    fingerprint: str
    dim: int


class Embedder:
    """Wraps a sentence-transformers model; one instance per process is enough."""

    def __init__(
        self,
        name: str,
        *,
        cache_dir: Path | None = None,
        precision: str = "fp32",
        device: str = "cpu",  # "cuda" on a GPU worker of rag.ray_embedding
    ):
        from .models import resolve_model

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.name = name
        self.path = resolve_model(name, cache_dir=cache_dir)
        self.precision = _pick_precision(precision)
        self._model = _load(self.path, self.precision, device)
        self._lock = threading.Lock()  # torch on 2 cores: one forward pass at a time
        get_dim = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        self.info = ModelInfo(name=name, fingerprint=fingerprint(self.path), dim=int(dim))
        log.info("loaded embedding model %s (%s, dim %d)", name, self.precision, dim)

    @property
    def dim(self) -> int:
        return self.info.dim

    def encode_queries(self, texts: list[str], *, batch_size: int = 16) -> np.ndarray:
        """(n, dim) float32, normalised, with the model's query prompt."""
        with self._lock:
            vecs = self._model.encode_query(
                texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
            )
        return _unit_rows(vecs)

    def encode_documents(
        self, texts: list[str], *, batch_size: int = 16, progress: bool = False, sort: bool = True
    ) -> np.ndarray:
        """(n, dim) float32, normalised, with the model's document prompt.

        Texts are sorted by length first so each batch pads little (``sort=False``
        keeps the given order; ``bench.speed`` measures the difference).
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if sort:
            order = np.argsort([-len(t) for t in texts], kind="stable")
        else:
            order = np.arange(len(texts))
        with self._lock:
            vecs = self._model.encode_document(
                [texts[i] for i in order],
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        out = np.empty((len(texts), vecs.shape[1]), dtype=np.float32)
        out[order] = _unit_rows(vecs)
        return out

    def encode_documents_with_spans(
        self,
        texts: list[str],
        spans: list[list[tuple[int, int]]],
        *,
        batch_size: int = 16,
        progress: bool = False,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Document vectors, and a vector for each character span of each text, from one pass.

        A span's vector pools the text's own token states over the span's tokens, then
        goes through the model's projection head, as the whole text's vector does
        ("late chunking"). So answer units get vectors in their context at no extra
        forward pass. Returns ``(n, dim)`` and, per text, ``(len(spans[i]), dim)``,
        all float32 and normalised; the document vectors equal ``encode_documents``'.
        """
        if len(texts) != len(spans):
            raise RagError(f"{len(texts)} texts but {len(spans)} span lists; give one per text")
        docs = np.zeros((len(texts), self.dim), dtype=np.float32)
        units: list[np.ndarray] = [np.zeros((0, self.dim), np.float32) for _ in texts]
        order = np.argsort([-len(t) for t in texts], kind="stable")
        batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        for batch in tqdm(batches, desc="embedding", disable=not progress):
            with self._lock:
                doc_vecs, unit_vecs = _late_pool(
                    self._model, [texts[i] for i in batch], [spans[i] for i in batch]
                )
            for row, i in enumerate(batch):
                docs[i] = doc_vecs[row]
                units[i] = unit_vecs[row]
        return docs, units


def _late_pool(model, texts: list[str], spans: list[list[tuple[int, int]]]):
    """One forward pass of ``texts`` with the document prompt; pooled vectors per span."""
    import torch

    prompt = model.prompts.get("document", "") or ""
    full = [prompt + t for t in texts]
    enc = model.tokenizer(
        full,
        return_offsets_mapping=True,
        padding=True,
        truncation=True,
        max_length=model.max_seq_length,
        return_tensors="pt",
    )
    offsets = enc.pop("offset_mapping")  # (b, L, 2) character offsets into ``full``
    mask = enc["attention_mask"]
    enc = {k: v.to(model.device) for k, v in enc.items()}
    head = torch.nn.Sequential(*list(model)[2:])  # Dense layers and Normalize after pooling
    with torch.inference_mode():
        out = model(dict(enc))
        tokens = out["token_embeddings"].float().cpu()  # (b, L, hidden)
        doc_vecs = _unit_rows(out["sentence_embedding"].float().cpu().numpy())
        unit_vecs = []
        for row, text_spans in enumerate(spans):
            if not text_spans:
                unit_vecs.append(np.zeros((0, doc_vecs.shape[1]), np.float32))
                continue
            tok_start, tok_end = offsets[row, :, 0], offsets[row, :, 1]
            bounds = torch.tensor(text_spans, dtype=torch.long) + len(prompt)  # (k, 2)
            inside = (
                (tok_start[None, :] < bounds[:, 1:2])
                & (tok_end[None, :] > bounds[:, 0:1])
                & (tok_end > tok_start)[None, :]
            ).float()  # (k, L): token j overlaps span i
            empty = inside.sum(1) == 0
            inside[empty] = mask[row].float()  # cut off by truncation: whole text
            pooled = (inside @ tokens[row]) / inside.sum(1, keepdim=True)
            param = next(head.parameters(), None)
            dtype = param.dtype if param is not None else torch.float32
            pooled = pooled.to(model.device, dtype)
            vecs = head({"sentence_embedding": pooled})["sentence_embedding"]
            unit_vecs.append(_unit_rows(vecs.float().cpu().numpy()))
    return doc_vecs, unit_vecs


def _unit_rows(vecs: np.ndarray) -> np.ndarray:
    """float32 rows of length 1. A bf16 model normalises in bf16, which leaves norms
    up to ~0.4% off; inner products must stay cosines, so normalise again here."""
    vecs = np.asarray(vecs, dtype=np.float32)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return np.ascontiguousarray(vecs / np.maximum(norms, 1e-12), dtype=np.float32)


def cpu_supports_bf16() -> bool:
    """True when the CPU has native bf16 matrix instructions (AVX512-BF16 or AMX-BF16).

    Elsewhere bf16 has no hardware support to gain from, so "auto" stays fp32.
    """
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _pick_precision(precision: str) -> str:
    if precision not in ("auto", "fp32", "bf16"):
        raise RagError(
            f"Unknown precision {precision!r}; choose 'auto', 'fp32' or 'bf16' (RAG_PRECISION)"
        )
    if precision != "auto":
        return precision
    return "bf16" if cpu_supports_bf16() else "fp32"


def _load(path: str, precision: str, device: str = "cpu"):
    from sentence_transformers import SentenceTransformer

    # bf16 weights are read as bf16, so the fp32 copy never exists (less peak memory).
    kwargs = {"model_kwargs": {"dtype": "bfloat16"}} if precision == "bf16" else {}
    try:
        model = SentenceTransformer(path, device=device, local_files_only=True, **kwargs)
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(
            f"Could not load embedding model {path!r}: {exc}. For the default model run "
            "`rag models fetch`; for another model give a local sentence-transformers folder."
        ) from exc
    if precision == "bf16":
        import torch

        model = model.to(torch.bfloat16)  # the Dense heads are not transformers modules
    return model


def fingerprint(path: str) -> str:
    """A cheap identity of a model folder: names and sizes of every file, and the
    contents of small ones. Two different weight files of equal size are rare
    enough; the fetch step has already verified the big file's SHA-256."""
    root = Path(path)
    if not root.is_dir():
        return hashlib.sha256(path.encode("utf-8")).hexdigest()[:16]
    digest = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        if file.name.startswith("rag-verified"):
            continue
        rel = file.relative_to(root).as_posix()
        size = file.stat().st_size
        digest.update(f"{rel}:{size}\n".encode())
        if size < 2_000_000:
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]
