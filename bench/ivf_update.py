"""Updating an IVF index against rebuilding it: ``python -m bench.ivf_update``.

``timing``: build the product's IVF index (rag.faiss_index) over N synthetic vectors, then
add 1,000 (and add 1,000 + remove 1,000) with ``rag.ivf_update.update`` against building
the whole index again, which is what every update did before; recall@10 against exact
search after each. ``drift``: train on N0 vectors, keep adding without retraining, and
compare recall@10, p95 latency and faiss's imbalance factor with a fresh build at each
size, for growth from the same distribution and from unseen topics. That table is where
``rag.ivf_update``'s retraining bounds come from. Results go to bench/results/ivf_update.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag import faiss_index, ivf_update

from . import scale_data
from .scale import _machine, _recall, _timed_search
from .workload import rss_mb

log = logging.getLogger("bench.ivf_update")

ROOT = Path(__file__).resolve().parents[1]
GROWTH = (1.02, 1.05, 1.1, 1.2, 1.5, 2.0, 4.0, 6.0)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.ivf_update", description=__doc__.split("\n")[0]
    )
    p.add_argument("what", choices=("timing", "drift", "memory"))
    p.add_argument("--n", type=int, default=1_000_000, help="index size (timing) or N0 (drift)")
    p.add_argument("--add", type=int, default=1_000)
    p.add_argument("--growth", type=float, nargs="+", default=list(GROWTH))
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--repeat", type=int, default=3, help="incremental updates timed (timing)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--trees", type=Path, nargs="+", default=[ROOT], help="memory: checkouts")
    p.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "ivf_update.json")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    args = parse_args(argv)
    results = json.loads(args.json.read_text(encoding="utf-8")) if args.json.exists() else {}
    results["machine"] = _machine()
    key = f"{args.what}_{args.n}"
    results[key] = {"timing": timing, "drift": drift, "memory": memory}[args.what](args)
    results[key]["peak_rss_mb"] = round(rss_mb())
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    log.info("%s", json.dumps(results[key], indent=1))
    return 0


def timing(args: argparse.Namespace) -> dict:
    """Seconds to add ``--add`` vectors to an N-vector IVF index, incrementally and rebuilt."""
    n, m = args.n, args.add
    vs = scale_data.synthetic(n + m, args.queries, seed=args.seed)
    base, new = vs.base[:n], vs.base[n:]
    t = time.perf_counter()
    store = faiss_index.build(base, kind="ivf")
    out: dict = {"n": n, "add": m, "params": store.describe(), "build_n_s": _since(t)}
    out["before_update_quality"] = _quality(store, base, vs.queries)  # the control
    t = time.perf_counter()
    copy = faiss_index.faiss.clone_index(store.index)  # what keeping readers safe costs
    out["copy_s"] = _since(t)
    del copy
    removed = np.random.default_rng(args.seed).choice(n, size=m, replace=False)
    kept_after_remove = np.setdiff1d(np.arange(n), removed)
    for name, kept in (("add", np.arange(n)), ("add_remove", kept_after_remove)):
        seconds = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            updated = ivf_update.update(store, kept, new)
            seconds.append(_since(t))
            final = np.concatenate([base[kept], new])  # (n - removed + m, dim)
            out[f"{name}_quality"] = _quality(updated, final, vs.queries)
            del updated, final
            gc.collect()
        out[f"{name}_incremental_s"] = seconds
    del store
    gc.collect()
    final = np.concatenate([base[kept_after_remove], new])
    t = time.perf_counter()
    rebuilt = faiss_index.build(final, kind="ivf")
    out["add_remove_rebuild_s"] = _since(t)
    out["add_remove_rebuild_quality"] = _quality(rebuilt, final, vs.queries)
    return out


def drift(args: argparse.Namespace) -> dict:
    """Recall, latency and imbalance of an index never retrained, against fresh builds."""
    n0, top = args.n, max(args.growth)
    total = int(n0 * top)
    same = scale_data.synthetic(total, args.queries, seed=args.seed)
    unseen = scale_data.synthetic(total - n0, args.queries, seed=args.seed + 1)
    half = args.queries // 2
    scenarios = {
        "same topics": (same.base, same.queries),
        "unseen topics": (
            np.concatenate([same.base[:n0], unseen.base]),
            np.concatenate([same.queries[:half], unseen.queries[:half]]),
        ),
    }
    out: dict = {"n0": n0, "rows": []}
    for name, (vectors, queries) in scenarios.items():
        store = faiss_index.build(vectors[:n0], kind="ivf")
        for g in args.growth:
            n = int(n0 * g)
            grown = ivf_update.update(store, np.arange(len(store)), vectors[len(store) : n])
            store = grown or _force_add(store, vectors[len(store) : n])
            row = {"scenario": name, "growth": g, "n": n}
            row["imbalance_ratio"] = round(
                store.index.invlists.imbalance_factor() / store.params["trained_imbalance"], 2
            )
            row["bound_says_retrain"] = grown is None
            fit = faiss_index.centroid_fit(store.index, vectors[n0:n])
            row["poor_fit_share"] = round(float((fit < store.params["fit_floor"]).sum()) / n, 4)
            row.update(_quality(store, vectors[:n], queries, prefix="incremental_"))
            t = time.perf_counter()
            fresh = faiss_index.build(vectors[:n], kind="ivf")
            row["fresh_build_s"] = _since(t)
            row.update(_quality(fresh, vectors[:n], queries, prefix="fresh_"))
            log.info("%s", row)
            out["rows"].append(row)
            del fresh
            gc.collect()
    return out


LOAD = """
import json, sys, time
from bench.workload import current_rss_mb, rss_mb
from rag.store import load_index
t = time.perf_counter()
data = load_index(sys.argv[1])
data.search_index().search(data.vectors[:5], 50)
print(json.dumps({"load_s": round(time.perf_counter() - t, 2), "rss_mb": round(current_rss_mb()),
                  "peak_rss_mb": round(rss_mb()), "vectors": type(data.vectors).__name__}))
"""


def memory(args: argparse.Namespace) -> dict:
    """Peak RSS of loading a saved N-chunk IVF index, with each checkout's ``rag`` (a fresh
    process each, so nothing else is resident)."""
    import subprocess
    import tempfile

    from rag.embeddings import ModelInfo
    from rag.index_data import IndexData
    from rag.store import save_index
    from rag.types import Chunk, Document

    vectors = scale_data.synthetic(args.n, 1, seed=args.seed).base
    doc = Document(doc_id="d.txt", text="x" * args.n, title="D", content_hash="h")
    chunks = [Chunk(f"d#{i}", "d.txt", "x", i, i + 1, "D") for i in range(args.n)]
    data = IndexData(
        model=ModelInfo(name="synthetic", fingerprint="x", dim=vectors.shape[1]),
        documents={doc.doc_id: doc},
        chunks=chunks,
        terms=[["x"]] * args.n,
        vectors=vectors,
        index_kind="ivf",
    )
    out: dict = {"n": args.n, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        save_index(data, tmp)
        del data, vectors, chunks
        gc.collect()
        for tree in args.trees:
            env = {**os.environ, "PYTHONPATH": f"{tree}:{ROOT}"}
            done = subprocess.run(
                [sys.executable, "-c", LOAD, tmp], env=env, cwd=tree, capture_output=True, text=True
            )
            row = json.loads(done.stdout.strip().splitlines()[-1])
            out["runs"].append({"tree": str(tree), **row})
            log.info("%s", out["runs"][-1])
    return out


def _force_add(store: faiss_index.FaissStore, vectors: np.ndarray) -> faiss_index.FaissStore:
    """Past the bounds the product retrains; the measurement keeps adding to see the cost."""
    if len(vectors):
        store.index.add(vectors)
    return store


def _quality(store, vectors: np.ndarray, queries: np.ndarray, prefix: str = "") -> dict:
    """recall@10 against exact search, and single-query p95 ms at the product's nprobe."""
    truth = np.concatenate(
        [_exact10(queries[i : i + 50], vectors) for i in range(0, len(queries), 50)]
    )
    rows, lat = _timed_search(store.index, queries)
    return {
        f"{prefix}recall10": _recall(rows, truth),
        f"{prefix}p95_ms": round(float(np.percentile(lat, 95)), 3),
    }


def _exact10(queries: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Rows of the 10 best inner products per query, best first: (q, 10)."""
    scores = queries @ vectors.T  # (q, n)
    top = np.argpartition(-scores, 10, axis=1)[:, :10]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
    return np.take_along_axis(top, order, axis=1)


def _since(t: float) -> float:
    return round(time.perf_counter() - t, 3)


if __name__ == "__main__":
    sys.exit(main())
