"""One system's build and query figures, measured in a fresh process: ``python -m bench.workload``.

``bench.speed`` starts one of these per system (the product before and after,
the LangChain-tutorial baseline) so that each peak RSS (the kernel's high-water
mark, which counts torch's memory, unlike tracemalloc) belongs to that system alone. Each
corpus is built in turn, smallest first, and the questions are asked warm.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from .options import task

log = logging.getLogger("bench.workload")
ROOT = Path(__file__).resolve().parents[1]


def current_rss_mb() -> float:
    """Resident memory of this process now, in MiB (``VmRSS``; NaN where unreadable)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return float("nan")


def rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB.

    ``VmHWM`` first: ``ru_maxrss`` survives ``exec`` on Linux, so a worker started
    by a parent that had loaded two models would report the parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds, dtype=float) * 1000
    if not len(ms):
        return {"n": 0}
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return {"n": len(ms), "p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "mean_ms": ms.mean()}


def _latencies(fn, questions: list[str]) -> dict:
    fn(questions[0])  # warm-up, not counted
    times = []
    for q in questions:
        tick = time.perf_counter()
        fn(q)
        times.append(time.perf_counter() - tick)
    return percentiles(times)


def corpora(args) -> list[tuple[str, list, list, list]]:
    """(name, documents, passages, questions) per corpus, bundled first.

    The product reads documents (normalised by its loaders); the baseline reads
    passages as published, as a tutorial would.
    """
    from eval.bench_data import Passage
    from rag.loaders import load_documents

    files = sorted((ROOT / "data" / "corpus").glob("*.txt"))
    bundled = load_documents(files)
    raw = [Passage(f.name, f.read_text(encoding="utf-8")) for f in files]
    documents, passages, _chunks, questions = task(
        args.data, n_korquad=args.n_korquad, n_belebele=args.n_belebele,
        distractors=args.distractors, seed=args.seed,
    )  # fmt: skip
    return [
        ("bundled", bundled, raw, []),
        ("bench", documents, passages, [q.question for q in questions]),
    ]


def product(args) -> dict:
    from rag.api import get_embedder
    from rag.api import open as open_qa
    from rag.config import Settings
    from rag.indexing import empty_index, update_index
    from rag.store import save_index

    # None keeps the configured default: that is the "after" system.
    settings = Settings.from_env().with_overrides(
        precision=args.precision, batch_size=args.batch_size
    )
    tick = time.perf_counter()
    embedder = get_embedder(settings.model, Path(settings.cache_dir), settings.precision)
    out = {"load_s": time.perf_counter() - tick, "rss_after_load_mb": rss_mb(),
           "precision": embedder.precision, "batch_size": settings.batch_size}  # fmt: skip
    tok = embedder._model.tokenizer
    for name, docs, _passages, questions in corpora(args):
        folder = Path(tempfile.mkdtemp(prefix=f"bench-{name}-", dir=args.workdir))
        tick = time.perf_counter()
        data, report = update_index(
            empty_index(embedder, settings), add=docs, embedder=embedder, settings=settings
        )
        save_index(data, folder)
        build_s = time.perf_counter() - tick
        texts = [c.text for c in data.chunks]
        row = _build_row(build_s, texts, tok)
        tick = time.perf_counter()
        _again, again = update_index(data, add=docs, embedder=embedder, settings=settings)
        row["unchanged_update_s"] = time.perf_counter() - tick
        row["unchanged_update_embedded"] = again.embedded
        row["index_dir"] = str(folder)
        if questions:
            qa = open_qa(folder, settings=settings)
            row["retrieval"] = _latencies(lambda q: qa.search(q, top_k=settings.top_k), questions)
            row["answer"] = _latencies(qa.ask, questions[: args.answer_questions])
            row["rss_after_queries_mb"] = rss_mb()
        out[name] = row
    return out


def baseline(args) -> dict:
    from langchain_huggingface import HuggingFaceEmbeddings

    from eval.baseline import build_store
    from rag.config import Settings
    from rag.models import resolve_model

    settings = Settings.from_env()
    path = resolve_model(settings.model, cache_dir=settings.cache_dir)
    tick = time.perf_counter()
    emb = HuggingFaceEmbeddings(model_name=path, encode_kwargs={"normalize_embeddings": True})
    out = {"load_s": time.perf_counter() - tick, "rss_after_load_mb": rss_mb(),
           "precision": "fp32", "batch_size": 32}  # fmt: skip
    tok = emb._client.tokenizer
    for name, _docs, passages, questions in corpora(args):
        tick = time.perf_counter()
        store, _n = build_store(passages, emb)
        build_s = time.perf_counter() - tick
        texts = [d.page_content for d in store.docstore._dict.values()]
        row = _build_row(build_s, texts, tok)
        if name == "bundled":
            row["store_dir"] = str(_save_plain(store, texts, args.workdir))
        if questions:
            row["retrieval"] = _latencies(lambda q: store.similarity_search(q, k=5), questions)
            row["rss_after_queries_mb"] = rss_mb()
        out[name] = row
    return out


def _build_row(build_s: float, texts: list[str], tok) -> dict:
    tokens = int(sum(len(ids) for ids in tok(texts, add_special_tokens=True)["input_ids"]))
    return {"build_s": build_s, "chunks": len(texts), "tokens": tokens,
            "chunks_per_s": len(texts) / build_s, "tokens_per_s": tokens / build_s,
            "rss_after_build_mb": rss_mb()}  # fmt: skip


def _save_plain(store, texts: list[str], workdir: Path) -> Path:
    """The baseline store as .npy + JSON (no pickle), for its cold-start run."""
    folder = Path(tempfile.mkdtemp(prefix="bench-baseline-store-", dir=workdir))
    vectors = store.index.reconstruct_n(0, store.index.ntotal)
    np.save(folder / "vectors.npy", vectors, allow_pickle=False)
    (folder / "texts.json").write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    return folder


def cold_baseline(store_dir: Path, question: str) -> None:
    """What a tutorial script does on start: load the model and the store, search once."""
    from langchain_community.vectorstores import FAISS
    from langchain_huggingface import HuggingFaceEmbeddings

    from rag.config import Settings
    from rag.models import resolve_model

    settings = Settings.from_env()
    path = resolve_model(settings.model, cache_dir=settings.cache_dir)
    emb = HuggingFaceEmbeddings(model_name=path, encode_kwargs={"normalize_embeddings": True})
    texts = json.loads((store_dir / "texts.json").read_text(encoding="utf-8"))
    vectors = np.load(store_dir / "vectors.npy", allow_pickle=False)
    store = FAISS.from_embeddings(list(zip(texts, vectors.tolist(), strict=True)), emb)
    hits = store.similarity_search(question, k=5)
    print(hits[0].page_content[:80] if hits else "")  # noqa: T201 - a CLI's output


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.workload")
    p.add_argument("system", choices=["product", "baseline", "cold-baseline"])
    p.add_argument("--precision", default=None, help="default: the configured one")
    p.add_argument("--batch-size", type=int, default=None, help="default: the configured one")
    p.add_argument("--data", type=Path)
    p.add_argument("--n-korquad", type=int, default=100)
    p.add_argument("--n-belebele", type=int, default=100)
    p.add_argument("--distractors", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--answer-questions", type=int, default=200, help="extractive answers timed")
    p.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    p.add_argument("--store-dir", type=Path)
    p.add_argument("--question", default="")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.system == "cold-baseline":
        cold_baseline(args.store_dir, args.question)
        return 0
    result = product(args) if args.system == "product" else baseline(args)
    result["rss_peak_mb"] = rss_mb()
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
