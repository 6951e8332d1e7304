"""Vectors for the scale benchmark: a clustered synthetic set and real chunks repeated with noise.

Uniform random vectors mislead: every point is nearly equidistant from every
other, which no corpus looks like. Real embeddings sit in topics, clusters and
near-duplicates. So the synthetic set is a hierarchical Gaussian mixture
(topics, clusters with low-rank spread, sub-clusters, points), and the "real"
set starts from the product's own vectors of KorQuAD chunks, each replicated
around noisy sub-centres.
All vectors are float32 and L2-normalised; everything is seeded.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

log = logging.getLogger("bench.scale")

DIM = 768  # embeddinggemma-300m
N_REAL_PASSAGES = 60  # KorQuAD paragraphs, chunked the product's way (~250 chunks)
N_REAL_QUERIES = 100
BATCH = 8192


@dataclass(frozen=True)
class VectorSet:
    name: str
    base: np.ndarray  # (n, dim) indexed
    queries: np.ndarray  # (q, dim) held out, same process, not in base
    real_queries: np.ndarray | None = None  # (q, dim) embedded questions, if any


def normalise(x: np.ndarray) -> np.ndarray:
    x /= np.linalg.norm(x, axis=1, keepdims=True) + 1e-12
    return x


def _noise(rng: np.random.Generator, shape: tuple[int, ...], norm: float) -> np.ndarray:
    """Gaussian noise whose rows have about the given L2 norm."""
    return rng.standard_normal(shape, dtype=np.float32) * np.float32(norm / np.sqrt(shape[-1]))


def synthetic(
    n: int, n_queries: int, *, seed: int = 0, dim: int = DIM, subs: bool = True
) -> VectorSet:
    """Topics -> clusters -> sub-clusters (rank-16 spread) -> points (isotropic noise).

    About 500 points per cluster and 50 per sub-cluster: near-duplicates, same-topic
    chunks and unrelated text at three distances, as in a corpus. With
    ``subs=False`` ("spread") each point is its own sub-cluster: a continuous
    16-dimensional cloud per cluster, the hard case for partitioning (IVF).
    """
    rng = np.random.default_rng(seed)
    total = n + n_queries
    n_topics, n_clusters, rank = 32, max(20, total // 500), 16
    n_subs = max(100, total // 50) if subs else total
    topics = normalise(rng.standard_normal((n_topics, dim), dtype=np.float32))
    centres = topics[rng.integers(n_topics, size=n_clusters)]
    centres = normalise(centres + _noise(rng, (n_clusters, dim), 1.0))
    spread = _noise(rng, (n_clusters, dim, rank), 0.6)  # per-cluster low-rank directions
    sub_cluster = rng.integers(n_clusters, size=n_subs)
    centres_of_points = np.empty((n_subs, dim), dtype=np.float32)
    for start in range(0, n_subs, BATCH):
        ids = sub_cluster[start : start + BATCH]
        z = rng.standard_normal((len(ids), rank), dtype=np.float32)
        centres_of_points[start : start + len(ids)] = centres[ids] + np.einsum(
            "mdr,mr->md", spread[ids], z
        )
    out = np.empty((total, dim), dtype=np.float32)
    for start in tqdm(range(0, total, BATCH), desc=f"synthetic {n:,}", leave=False):
        m = min(BATCH, total - start)
        ids = rng.integers(n_subs, size=m) if subs else np.arange(start, start + m)
        x = centres_of_points[ids] + _noise(rng, (m, dim), 0.5 if subs else 0.15)
        out[start : start + m] = normalise(x)
    return VectorSet("synthetic" if subs else "spread", out[:n], out[n:])


def real_repeated(
    n: int, n_queries: int, real: tuple[np.ndarray, np.ndarray], *, seed: int = 0
) -> VectorSet:
    """Real chunk vectors -> noisy sub-centres (cos ~0.94) -> noisy copies (cos ~0.98)."""
    chunks, questions = real
    rng = np.random.default_rng(seed)
    n_sub = max(len(chunks), (n + n_queries) // 20)
    subs = normalise(
        chunks[np.arange(n_sub) % len(chunks)] + _noise(rng, (n_sub, chunks.shape[1]), 0.35)
    )
    out = np.empty((n + n_queries, chunks.shape[1]), dtype=np.float32)
    for start in tqdm(range(0, len(out), BATCH), desc=f"real+noise {n:,}", leave=False):
        m = min(BATCH, len(out) - start)
        x = subs[rng.integers(n_sub, size=m)] + _noise(rng, (m, chunks.shape[1]), 0.2)
        out[start : start + m] = normalise(x)
    return VectorSet("real+noise", out[:n], out[n:], real_queries=questions)


def real_vectors(
    data_dir: Path, cache_dir: Path, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(chunk vectors, question vectors) of KorQuAD, embedded once and cached as .npy."""
    chunks_path, questions_path = cache_dir / "real_chunks.npy", cache_dir / "real_questions.npy"
    if chunks_path.exists() and questions_path.exists():
        return (
            np.load(chunks_path, allow_pickle=False),
            np.load(questions_path, allow_pickle=False),
        )
    texts, questions = _real_texts(data_dir, seed=seed)
    from rag.config import Settings
    from rag.embeddings import Embedder

    settings = Settings()
    log.info(
        "embedding %d chunks and %d questions once (cached in %s)",
        len(texts),
        len(questions),
        cache_dir,
    )
    embedder = Embedder(settings.model, cache_dir=settings.cache_dir)
    chunk_vecs = embedder.encode_documents(texts, progress=True)
    question_vecs = embedder.encode_queries(questions)
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(chunks_path, chunk_vecs, allow_pickle=False)
    np.save(questions_path, question_vecs, allow_pickle=False)
    (cache_dir / "real_texts.json").write_text(
        json.dumps({"chunks": texts, "questions": questions}, ensure_ascii=False), encoding="utf-8"
    )
    return chunk_vecs, question_vecs


def _real_texts(data_dir: Path, *, seed: int) -> tuple[list[str], list[str]]:
    """Chunks of the first KorQuAD paragraphs (seeded sample) and questions about them."""
    import random

    from eval import bench_data
    from rag.chunking import chunk_document
    from rag.textnorm import normalize
    from rag.types import Document

    data = bench_data.load(data_dir)
    korquad = [p for p in data.passages if p.doc_id.startswith("korquad")] or data.passages
    passages = random.Random(seed).sample(korquad, N_REAL_PASSAGES)
    texts = []
    for p in passages:
        doc = Document(doc_id=p.doc_id, text=normalize(p.text), title=p.title)
        texts.extend(c.text for c in chunk_document(doc))
    chosen = {p.doc_id for p in passages}
    questions = [q.question for q in data.questions["korquad"] if q.gold_doc in chosen]
    return texts, questions[:N_REAL_QUERIES]
