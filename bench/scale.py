"""Index types at 10k, 100k and 1M chunks: ``python -m bench.scale``.

For each vector set (clustered synthetic; real KorQuAD chunk vectors repeated
with noise) and size, builds exact search, HNSW, IVF-Flat and IVF-PQ and
measures build time, memory (serialised size and RSS growth), single-query
latency (k=50, the retriever's pool; one query at a time, as the product
searches) and recall@10 against exact search. Results merge into a JSON file,
so a long run can be split into several short ones;
docs/performance.md (scale region) and a plot are regenerated from it.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import platform
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import faiss
import numpy as np
from tqdm.auto import tqdm

from eval.machine import machine

from . import scale_data, scale_report
from .workload import current_rss_mb

log = logging.getLogger("bench.scale")

ROOT = Path(__file__).resolve().parents[1]
SIZES = (10_000, 100_000, 1_000_000)
KINDS = ("flat", "hnsw", "ivf", "ivfpq")
SETS = ("synthetic", "spread", "real+noise")
POOL = 50  # Retriever fetches max(50, 10 * top_k) dense candidates
HNSW_MS = (16, 32)
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = (32, 64, 128, 256)
NPROBES = (8, 16, 32, 64, 128)
PQ_M = 96  # 96 sub-quantisers x 8 bits = 96 bytes per 768-d vector (32x smaller)
ADD_BATCH = 10_000


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    p.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    p.add_argument("--hnsw-m", type=int, nargs="+", default=list(HNSW_MS), help="HNSW M values")
    p.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    p.add_argument("--queries", type=int, default=200, help="held-out queries per set")
    p.add_argument("--budget", type=float, default=600, help="seconds one index build may take")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", type=Path, default=ROOT / "data" / "benchdata")
    p.add_argument("--cache", type=Path, default=None, help="default: <rag cache>/bench")
    p.add_argument("--json", type=Path, default=ROOT / "artifacts" / "bench_scale.json")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    p.add_argument("--plot", type=Path, default=ROOT / "docs" / "performance-scale.png")
    p.add_argument("--report-only", action="store_true", help="only regenerate the docs")
    p.add_argument("--quick", action="store_true", help="smoke test: 10k synthetic, few settings")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    args = parse_args(argv)
    if args.quick:
        args.sizes, args.sets, args.queries, args.hnsw_m = [10_000], ["synthetic"], 50, [32]
        args.json = args.json.with_name(args.json.stem + "_quick.json")
    results = _read(args.json)
    if not args.report_only:
        results["machine"] = _machine()
        if not args.quick and "real+noise" in args.sets:
            results["chunk_table"] = chunk_table_memory(args.data)
        for name in args.sets:
            for n in args.sizes:
                for row in run_set(name, n, args):
                    _merge(results, [row])
                    _write(args.json, results)  # an interrupted run keeps its work
    if not args.quick:
        scale_report.write(results, out=args.out, plot=args.plot)
    log.info("results in %s", args.json)
    return 0


def run_set(name: str, n: int, args: argparse.Namespace) -> Iterator[dict]:
    vs = _vectors(name, n, args)
    truth = _exact(vs.base, vs.queries)
    truth_real = _exact(vs.base, vs.real_queries) if vs.real_queries is not None else None
    for kind in args.kinds:
        for row in _measure_kind(kind, vs, truth, truth_real, args):
            row.update(set=name, n=n, dim=vs.base.shape[1], queries=len(vs.queries))
            log.info("%s", _summary(row))
            yield row
        gc.collect()


def chunk_table_memory(data_dir: Path, n_passages: int = 300) -> dict:
    """Bytes per chunk that the product holds besides the vectors: chunk objects, BM25 terms
    and postings, measured with tracemalloc on real KorQuAD chunks (no model needed)."""
    import random
    import tracemalloc

    from eval import bench_data
    from rag.bm25 import BM25
    from rag.chunking import chunk_document
    from rag.terms import terms
    from rag.textnorm import normalize
    from rag.types import Document

    data = bench_data.load(data_dir)
    korquad = [p for p in data.passages if p.doc_id.startswith("korquad")]
    passages = random.Random(0).sample(korquad, n_passages)
    texts = [normalize(p.text) for p in passages]
    terms("warm up")  # load the tokenizer before measuring
    tracemalloc.start()
    chunks = [
        c
        for p, t in zip(passages, texts, strict=True)
        for c in chunk_document(Document(doc_id=p.doc_id, text=t, title=p.title))
    ]
    chunk_terms = [terms(c.text) for c in tqdm(chunks, desc="terms", leave=False)]
    table = tracemalloc.get_traced_memory()[0]
    bm25 = BM25(chunk_terms)
    total = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del bm25
    return {
        "chunks": len(chunks),
        "table_bytes_per_chunk": round(table / len(chunks)),
        "bm25_bytes_per_chunk": round((total - table) / len(chunks)),
        "note": "chunk objects with their own text, and term lists; not the documents",
    }


def _vectors(name: str, n: int, args: argparse.Namespace) -> scale_data.VectorSet:
    if name in ("synthetic", "spread"):
        return scale_data.synthetic(n, args.queries, seed=args.seed, subs=name == "synthetic")
    if name == "real+noise":
        from rag.config import Settings

        cache = args.cache or Path(Settings().cache_dir) / "bench"
        real = scale_data.real_vectors(args.data, cache, seed=args.seed)
        return scale_data.real_repeated(n, args.queries, real, seed=args.seed)
    raise SystemExit(f"unknown vector set {name!r}; choose 'synthetic' or 'real+noise'")


def _exact(base: np.ndarray, queries: np.ndarray) -> np.ndarray:
    index = faiss.IndexFlatIP(base.shape[1])
    index.add(base)
    return index.search(queries, 10)[1]


def _measure_kind(kind, vs, truth, truth_real, args) -> Iterator[dict]:
    budget = args.budget
    if kind == "flat":
        yield from _sweep(
            kind,
            {},
            lambda: faiss.IndexFlatIP(vs.base.shape[1]),
            vs,
            truth,
            truth_real,
            [None],
            budget,
        )
    elif kind == "hnsw":
        for m in args.hnsw_m:

            def make(m=m):
                index = faiss.IndexHNSWFlat(vs.base.shape[1], m, faiss.METRIC_INNER_PRODUCT)
                index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
                return index

            params = {"M": m, "efConstruction": HNSW_EF_CONSTRUCTION}
            yield from _sweep(kind, params, make, vs, truth, truth_real, HNSW_EF_SEARCH, budget)
    else:
        nlist = max(1, round(4 * np.sqrt(len(vs.base))))
        params = {"nlist": nlist} | ({"m": PQ_M, "nbits": 8} if kind == "ivfpq" else {})
        yield from _sweep(
            kind,
            params,
            lambda: _ivf(kind, vs.base.shape[1], nlist),
            vs,
            truth,
            truth_real,
            NPROBES,
            budget,
        )


def _ivf(kind: str, dim: int, nlist: int) -> faiss.Index:
    quantizer = faiss.IndexFlatIP(dim)
    if kind == "ivfpq":
        index = faiss.IndexIVFPQ(quantizer, dim, nlist, PQ_M, 8, faiss.METRIC_INNER_PRODUCT)
        index.pq.cp.niter, index.pq.cp.max_points_per_centroid = 10, 64  # 16k training points
    else:
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.niter, index.cp.max_points_per_centroid = 10, 64  # as rag.faiss_index trains
    return index


def _sweep(kind, params, make, vs, truth, truth_real, settings, budget) -> Iterator[dict]:
    """Build once, then search at each search-time setting (efSearch or nprobe)."""
    rss0 = current_rss_mb()
    t0 = time.perf_counter()
    index = make()
    if not index.is_trained:
        index.train(vs.base)
    train_s = time.perf_counter() - t0
    done = _add_with_budget(index, vs.base, t0=t0, budget=budget, label=f"{kind} {params}")
    build_s = time.perf_counter() - t0
    base = {
        "kind": kind,
        "params": dict(params),
        "build_s": round(build_s, 2),
        "train_s": round(train_s, 2),
    }
    if done < len(vs.base):  # over budget: extrapolate the adds linearly (a lower bound for HNSW)
        per_vector = (build_s - train_s) / done
        base.update(built=done, build_s_extrapolated=round(train_s + per_vector * len(vs.base)))
        yield base
        return
    base.update(
        index_mb=round(_serialised_bytes(index) / 2**20, 1),
        rss_delta_mb=round(current_rss_mb() - rss0, 1),
    )
    for setting in settings:
        _set_search(index, kind, setting)
        row = {**base, "params": {**params, **_setting_name(kind, setting)}}
        rows, lat = _timed_search(index, vs.queries)
        row.update(
            p50_ms=round(float(np.percentile(lat, 50)), 3),
            p95_ms=round(float(np.percentile(lat, 95)), 3),
            recall10=_recall(rows, truth),
        )
        if kind == "ivfpq":  # the product keeps exact vectors: re-rank the pool with them
            row["recall10_rerank"] = _recall(_rerank(rows, vs.base, vs.queries), truth)
        if truth_real is not None:
            real_rows, _ = _timed_search(index, vs.real_queries)
            if kind == "ivfpq":
                real_rows = _rerank(real_rows, vs.base, vs.real_queries)
            row["recall10_real_queries"] = _recall(real_rows, truth_real)
        yield row
    del index


def _add_with_budget(index, vectors, *, t0: float, budget: float, label: str) -> int:
    done = 0
    with tqdm(total=len(vectors), desc=f"add {label}", leave=False, unit="vec") as bar:
        for start in range(0, len(vectors), ADD_BATCH):
            index.add(vectors[start : start + ADD_BATCH])
            done = min(start + ADD_BATCH, len(vectors))
            bar.update(done - bar.n)
            if time.perf_counter() - t0 > budget and done < len(vectors):
                log.warning("%s: over the %.0f s budget after %d vectors", label, budget, done)
                break
    return done


def _set_search(index: faiss.Index, kind: str, setting: int | None) -> None:
    if kind == "hnsw":
        index.hnsw.efSearch = setting
    elif kind in ("ivf", "ivfpq"):
        index.nprobe = setting


def _setting_name(kind: str, setting: int | None) -> dict:
    return {
        "hnsw": {"efSearch": setting},
        "ivf": {"nprobe": setting},
        "ivfpq": {"nprobe": setting},
    }.get(kind, {})


def _timed_search(index: faiss.Index, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One query at a time, as the retriever searches; a few warm-up queries first."""
    for q in queries[:5]:
        index.search(q[None, :], POOL)
    rows = np.empty((len(queries), POOL), dtype=np.int64)
    lat = np.empty(len(queries))
    for i, q in enumerate(queries):
        t = time.perf_counter()
        rows[i] = index.search(q[None, :], POOL)[1][0]
        lat[i] = (time.perf_counter() - t) * 1000
    return rows, lat


def _recall(rows: np.ndarray, truth: np.ndarray) -> float:
    hits = sum(len(set(r[:10]) & set(t)) for r, t in zip(rows, truth, strict=True))
    return round(hits / truth.size, 4)


def _rerank(rows: np.ndarray, base: np.ndarray, queries: np.ndarray) -> np.ndarray:
    out = np.empty_like(rows)
    for i, (r, q) in enumerate(zip(rows, queries, strict=True)):
        valid = r[r >= 0]
        order = np.argsort(-(base[valid] @ q), kind="stable")
        out[i, : len(valid)], out[i, len(valid) :] = valid[order], -1
    return out


def _serialised_bytes(index: faiss.Index) -> int:
    """Size of faiss.write_index's output, counted without writing a file."""
    total = [0]

    def count(chunk: bytes) -> int:
        total[0] += len(chunk)
        return len(chunk)

    writer = faiss.PyCallbackIOWriter(count)
    faiss.write_index(index, writer)
    del writer
    return total[0]


def _machine() -> dict:
    return {
        "python": platform.python_version(),
        "faiss": faiss.__version__,
        "threads": faiss.omp_get_max_threads(),
        "cpu": platform.processor() or platform.machine(),
        "date": time.strftime("%Y-%m-%d"),
        "host": machine(),  # cores, CPU flags, RAM
    }


def _summary(row: dict) -> str:
    keys = (
        "set",
        "n",
        "kind",
        "params",
        "build_s",
        "build_s_extrapolated",
        "index_mb",
        "p50_ms",
        "p95_ms",
        "recall10",
        "recall10_rerank",
        "recall10_real_queries",
    )
    return " ".join(f"{k}={row[k]}" for k in keys if k in row)


def _key(row: dict) -> str:
    return json.dumps([row["set"], row["n"], row["kind"], row["params"]], sort_keys=True)


def _merge(results: dict, rows: list[dict]) -> None:
    new = {_key(r): r for r in rows}
    results["runs"] = [r for r in results.get("runs", []) if _key(r) not in new] + rows


def _read(path: Path) -> dict:
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    return {"runs": []}


def _write(path: Path, results: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
