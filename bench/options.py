"""Embedding options side by side, in one process: speed on the same chunks, quality on one task.

Every option embeds the chunks of one fixed corpus (the gold passages of a
seeded question subset plus seeded distractors, chunked as the product does)
and the questions; speed is chunks/s of that document pass, quality is hit@1,
hit@5 and MRR of dense and hybrid retrieval through the product's Retriever.
Sorting and batch size are swept on a smaller seeded sample. Everything is a
ratio or a difference against the committed default (fp32, sorted, batch 16).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from eval import bench_data
from eval.metrics import gold_rank, paired, score_rankings
from rag.chunking import chunk_document
from rag.config import Settings
from rag.embeddings import Embedder, cpu_supports_bf16
from rag.retrieval import Retriever
from rag.store import IndexData
from rag.terms import terms
from rag.textnorm import normalize

log = logging.getLogger("bench.options")

DEPTH = 50  # chunks fetched per question; passages are deduped from these


def task(data_dir: Path, *, n_korquad: int, n_belebele: int, distractors: int, seed: int):
    """(documents, passages, chunks, questions) of the fixed task, all seeded."""
    data = bench_data.load(data_dir)
    questions = bench_data.sample(data.questions["korquad"], n_korquad, seed=seed)
    questions += bench_data.sample(data.questions["belebele"], n_belebele, seed=seed)
    passages = bench_data.passage_subset(data.passages, questions, distractors, seed=seed)
    documents = bench_data.to_documents(passages)
    s = Settings()
    chunks = [
        c
        for d in documents
        for c in chunk_document(d, chunk_size=s.chunk_size, overlap=s.chunk_overlap)
    ]
    return documents, passages, chunks, questions


def _timed(fn, *args, **kwargs):
    tick = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - tick


def run(
    data_dir: Path,
    *,
    n_korquad: int,
    n_belebele: int,
    distractors: int,
    sweep_sample: int,
    seed: int = 0,
    onnx: bool = True,
) -> dict:
    settings = Settings()
    documents, _passages, chunks, questions = task(
        data_dir, n_korquad=n_korquad, n_belebele=n_belebele, distractors=distractors, seed=seed
    )
    texts = [c.text for c in chunks]
    queries = [normalize(q.question).strip() for q in questions]
    golds = [q.gold_doc for q in questions]
    ko = [q.task == "korquad" for q in questions]
    ref = Embedder(settings.model, cache_dir=settings.cache_dir, precision="fp32")
    tokens = _token_count(ref, texts)
    embedders: dict[str, object] = {"fp32": ref}
    if cpu_supports_bf16():
        embedders["bf16"] = Embedder(settings.model, cache_dir=settings.cache_dir, precision="bf16")
    onnx_status = _onnx_embedders(ref, settings, embedders) if onnx else "skipped (--no-onnx)"

    vectors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    speed: dict[str, dict] = {}
    for name, emb in embedders.items():
        emb.encode_documents(texts[:2])  # warm-up: first call allocates
        docs, secs = _timed(emb.encode_documents, texts, batch_size=settings.batch_size)
        qv, qsecs = _timed(emb.encode_queries, queries, batch_size=settings.batch_size)
        vectors[name] = (docs, qv)
        speed[name] = {
            "seconds": secs,
            "chunks_per_s": len(texts) / secs,
            "tokens_per_s": tokens / secs,
            "queries_per_s": len(queries) / qsecs,
        }
        log.info("%s: %.2f chunks/s", name, len(texts) / secs)
    base_index = _index(ref, documents, chunks, vectors["fp32"][0], settings)
    quality = {}
    ranks = {}
    for name, (docs, qv) in vectors.items():
        quality[name], ranks[name] = _quality(base_index, ref, settings, docs, qv, queries, golds)
    if "bf16" in vectors:
        # An index built in fp32 and queried in bf16 (and the reverse): the default can change
        # under an existing index, and an update can mix both kinds of vector.
        fp_docs, fp_q = vectors["fp32"]
        bf_docs, bf_q = vectors["bf16"]
        quality["fp32 index, bf16 queries"], ranks["fp32 index, bf16 queries"] = _quality(
            base_index, ref, settings, fp_docs, bf_q, queries, golds
        )
        mixed = np.where((np.arange(len(texts)) % 2 == 0)[:, None], fp_docs, bf_docs)
        quality["mixed index, bf16 queries"], ranks["mixed index, bf16 queries"] = _quality(
            base_index, ref, settings, mixed, bf_q, queries, golds
        )
    for name, rk in ranks.items():
        quality[name]["vs_fp32"] = {
            mode: paired(rk[mode], ranks["fp32"][mode]) for mode in ("dense", "hybrid")
        }
    agreement = {name: _cosines(vectors["fp32"][0], docs) for name, (docs, _q) in vectors.items()}
    sweep = _sweep(embedders, texts, sweep_sample, seed)
    return {
        "task": {
            "questions": {"korquad": sum(ko), "belebele": len(ko) - sum(ko)},
            "passages": len(documents),
            "chunks": len(texts),
            "tokens": tokens,
            "mean_tokens_per_chunk": tokens / max(1, len(texts)),
            "distractors": distractors,
            "seed": seed,
        },
        "onnx": onnx_status,
        "speed": speed,
        "quality": quality,
        "cosine_to_fp32": agreement,
        "sweep": sweep,
    }


def _token_count(embedder, texts: list[str]) -> int:
    """Tokens the model sees for ``texts`` (without the prompt), summed."""
    tok = embedder._model.tokenizer
    return int(sum(len(ids) for ids in tok(texts, add_special_tokens=True)["input_ids"]))


def _onnx_embedders(ref, settings: Settings, embedders: dict) -> str:
    try:
        from . import onnx_backend

        folder = Path(settings.cache_dir) / "onnx" / ref.info.fingerprint
        path = onnx_backend.export(ref._model, folder, quantize=True)
        onnx = onnx_backend.OnnxEmbedder(ref._model, path)
        probe = ["서울은 대한민국의 수도이다. " * 8, "A short line.", "짧은 문장"]
        cos = _cosines(ref.encode_documents(probe), onnx.encode_documents(probe, batch_size=2))
        if cos["min"] < 0.9:
            return f"failed: vectors far from fp32 (min cosine {cos['min']:.3f})"
        embedders["onnx-int8"] = onnx
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not fatal
        log.warning("ONNX int8 path unavailable: %s", exc)
        return f"failed: {type(exc).__name__}: {str(exc)[:400]}"
    return "ok"


def _index(ref, documents, chunks, vectors, settings: Settings) -> IndexData:
    from rag.indexing import chunking_params

    return IndexData(
        model=ref.info,
        documents={d.doc_id: d for d in documents},
        chunks=list(chunks),
        terms=[terms(c.text) for c in chunks],
        vectors=np.ascontiguousarray(vectors, dtype=np.float32),
        chunking=chunking_params(settings),
    )


def _quality(base: IndexData, ref, settings, docs, qv, queries, golds) -> tuple[dict, dict]:
    data = replace(base, vectors=np.ascontiguousarray(docs, np.float32), vector_store=None)
    retriever = Retriever(data, ref, settings)
    out, ranks = {}, {}
    for mode in ("dense", "hybrid"):
        rankings = [
            [h.chunk.doc_id for h in retriever.search(q, top_k=DEPTH, mode=mode, query_vector=v)]
            for q, v in zip(queries, qv, strict=True)
        ]
        out[mode] = score_rankings(rankings, golds)
        ranks[mode] = [gold_rank(r, g) for r, g in zip(rankings, golds, strict=True)]
    return out, ranks


def _cosines(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Row-wise cosine of two (n, dim) normalised matrices: how close an option stays to fp32."""
    cos = np.sum(a * b, axis=1) if len(a) else np.ones(1)
    return {"mean": float(cos.mean()), "min": float(cos.min())}


def _sweep(embedders: dict, texts: list[str], n: int, seed: int) -> list[dict]:
    """Sorted vs unsorted and batch sizes on a seeded sample, for each option."""
    sample = list(texts)
    random.Random(f"{seed}:sweep").shuffle(sample)
    sample = sample[:n]
    rows = []
    for name, emb in embedders.items():
        for sort, batch in ((False, 16), (True, 8), (True, 16), (True, 32)):
            _out, secs = _timed(emb.encode_documents, sample, batch_size=batch, sort=sort)
            rows.append(
                {
                    "option": name,
                    "sorted": sort,
                    "batch_size": batch,
                    "chunks": len(sample),
                    "seconds": secs,
                    "chunks_per_s": len(sample) / secs,
                }  # fmt: skip
            )
            log.info(
                "sweep %s sorted=%s batch=%d: %.2f chunks/s",
                name,
                sort,
                batch,
                rows[-1]["chunks_per_s"],
            )
    ref = next(r for r in rows if r["option"] == "fp32" and r["sorted"] and r["batch_size"] == 16)
    for r in rows:
        r["ratio_to_fp32"] = r["chunks_per_s"] / ref["chunks_per_s"]
    return rows
