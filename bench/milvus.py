"""Milvus Lite against FAISS flat: the product's two vector backends on the same vectors.

``python -m bench.milvus`` (``--sizes 10000 100000``, ``--queries 200``): for each size,
the synthetic clustered set of bench.scale_data (768-d, normalised), and each backend in a
process of its own (so peak RSS is its own): build through the product's classes
(rag.faiss_index flat, rag.milvus_store.MilvusStore FLAT and IVF_FLAT), save to a version
folder and load it back, then one query at a time with k=50 (the retriever's dense
pool), recall@10 against exact search. Writes bench/results/milvus.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench import scale_data
from bench.workload import current_rss_mb as rss_mb
from bench.workload import rss_mb as peak_rss_mb

RESULTS = Path(__file__).parent / "results" / "milvus.json"
POOL = 50
SYSTEMS = ("faiss-flat", "milvus-FLAT", "milvus-IVF_FLAT")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.milvus", description=__doc__)
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--one", nargs=2, metavar=("SYSTEM", "N"), help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]), args.queries)))
        return 0
    rows = []
    for n in args.sizes:
        for system in args.systems:
            cmd = [sys.executable, "-m", "bench.milvus", "--one", system, str(n)]
            out = subprocess.run(
                [*cmd, "--queries", str(args.queries)], check=True, capture_output=True, text=True
            ).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
            print(summary(rows[-1]), flush=True)
    args.out.write_text(
        json.dumps({"machine": machine(), "rows": rows}, indent=1) + "\n", encoding="utf-8"
    )
    return 0


def measure(system: str, n: int, n_queries: int) -> dict:
    """One backend at one size, in this process."""
    vs = scale_data.synthetic(n, n_queries, seed=0)
    truth = np.argsort(-(vs.queries @ vs.base.T), axis=1, kind="stable")[:, :10]
    base_mb = rss_mb()
    store, params = _builder(system)
    t = time.perf_counter()
    index = store(vs.base, params)
    build_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as folder:
        t = time.perf_counter()
        files = index.save(Path(folder))
        save_s = time.perf_counter() - t
        disk_mb = sum((Path(folder) / f).stat().st_size for f in files) / 2**20
        _close(index)
        t = time.perf_counter()
        index = _loader(system)(Path(folder), index.describe())
        index.reconstruct()  # rag.store does this on every load
        load_s = time.perf_counter() - t
    for q in vs.queries[:5]:
        index.search(q[None, :], POOL)  # warm-up
    lat, rows = [], np.empty((len(vs.queries), POOL), dtype=np.int64)
    for i, q in enumerate(vs.queries):
        t = time.perf_counter()
        rows[i] = index.search(q[None, :], POOL)[1][0]
        lat.append((time.perf_counter() - t) * 1000)
    recall = sum(len(set(r[:10]) & set(t)) for r, t in zip(rows, truth, strict=True)) / truth.size
    _close(index)
    return {
        "system": system,
        "n": n,
        "params": index.describe(),
        "build_s": round(build_s, 2),
        "insert_per_s": round(n / build_s),
        "save_s": round(save_s, 2),
        "load_s": round(load_s, 2),
        "disk_mb": round(disk_mb, 1),
        "p50_ms": round(float(np.percentile(lat, 50)), 2),
        "p95_ms": round(float(np.percentile(lat, 95)), 2),
        "recall_at_10": round(recall, 4),
        "queries": len(vs.queries),
        "peak_rss_mb": round(peak_rss_mb()),
        "vectors_rss_mb": round(base_mb),
    }


def _builder(system: str):
    if system == "faiss-flat":
        from rag import faiss_index

        return (lambda v, p: faiss_index.build(v, kind="flat", params=p)), {}
    from rag.milvus_store import MilvusStore

    return MilvusStore.build, {"index_type": system.split("-", 1)[1]}


def _loader(system: str):
    if system == "faiss-flat":
        from rag.faiss_index import FaissStore

        return FaissStore.load
    from rag.milvus_store import MilvusStore

    return MilvusStore.load


def _close(index) -> None:
    if hasattr(index, "close"):
        index.close()


def machine() -> dict:
    import faiss
    import milvus_lite
    import pymilvus

    from eval.machine import machine as host

    return {
        "python": platform.python_version(),
        "faiss": faiss.__version__,
        "pymilvus": pymilvus.__version__,
        "milvus_lite": milvus_lite.__version__,
        "date": time.strftime("%Y-%m-%d"),
        "host": host(),
    }


def summary(row: dict) -> str:
    return (
        f"{row['system']:>16} n={row['n']:>7,}  insert {row['insert_per_s']:>7,}/s  "
        f"save {row['save_s']}s load {row['load_s']}s  p50/p95 {row['p50_ms']}/{row['p95_ms']} ms"
        f"  recall@10 {row['recall_at_10']}  peak RSS {row['peak_rss_mb']} MB "
        f"(vectors {row['vectors_rss_mb']} MB)"
    )


if __name__ == "__main__":
    raise SystemExit(main())
