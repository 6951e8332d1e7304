"""Updating a Milvus index against rebuilding it: ``python -m bench.milvus_update``.

``timing``: a Milvus Lite index (rag.milvus_store, FLAT) over N synthetic vectors
(bench.scale_data, 768-d, normalised) with synthetic chunks and Zipf terms, then 1,000
chunks added by ``rag.milvus_update.update`` (copy the database, insert by key) against
``MilvusStore.build`` over all N + 1,000, in the same run; both must return the same dense
hits (``of_which_insert_s``: the update after its copy of the database). ``drift``: how many of
BM25's top 10 change when every row keeps the average length it was written with while
the corpus's average drifts (rag.bm25 scoring with a stale ``avg_len`` against the exact
one, synthetic Zipf corpus): where ``rag.milvus_bm25.AVG_LEN_DRIFT`` comes from. Writes
bench/results/milvus_update.json.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench import scale_data
from bench.milvus import machine
from rag.bm25 import BM25
from rag.types import Chunk

RESULTS = Path(__file__).parent / "results" / "milvus_update.json"
DRIFTS = (0.02, 0.05, 0.10, 0.15, 0.25, 0.50)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.milvus_update", description=__doc__)
    p.add_argument("what", nargs="*", choices=["timing", "drift"], default=["drift", "timing"])
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--add", type=int, default=1_000)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--out", type=Path, default=RESULTS)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    out: dict = {"machine": machine()}
    if "drift" in args.what:
        out["drift"] = drift(n_queries=args.queries)
        for row in out["drift"]:
            print(f"avg_len drift {row['drift']:.0%}: {row['top10_changed']:.2%} of top-10 hits")
    if "timing" in args.what:
        out["timing"] = timing(args.n, args.add, n_queries=min(args.queries, 50))
        print(json.dumps(out["timing"], indent=1))
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


def zipf_terms(n: int, *, seed: int, vocab: int = 20_000) -> list[list[str]]:
    """``n`` term lists: Zipf(1.1) over ``vocab`` words, lengths log-normal around 60."""
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.lognormal(np.log(60), 0.5, size=n).astype(int), 1, 400)
    words = np.minimum(rng.zipf(1.1, size=int(lengths.sum())), vocab) - 1
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    return [[f"w{w}" for w in words[bounds[i] : bounds[i + 1]]] for i in range(n)]


def drift(*, n: int = 20_000, n_queries: int = 200) -> list[dict]:
    """Share of top-10 BM25 hits that change when rows use ``avg_len * (1 + d)``."""
    docs = zipf_terms(n, seed=1)
    rng = np.random.default_rng(2)
    queries = [
        list(rng.choice(docs[rng.integers(n)], size=rng.integers(2, 7))) for _ in range(n_queries)
    ]
    exact = BM25(docs)
    truth = [set(r for r, _ in exact.top(q, 10)) for q in queries]
    rows = []
    for d in DRIFTS:
        changed = 0
        for sign in (1, -1):  # the corpus grew longer or shorter than the rows assume
            stale = BM25(docs)
            stale.avg_len = exact.avg_len * (1 + sign * d)
            for q, want in zip(queries, truth, strict=True):
                changed += len(want - {r for r, _ in stale.top(q, 10)})
        total = 2 * sum(len(t) for t in truth)
        rows.append({"drift": d, "top10_changed": round(changed / total, 4), "hits": total})
    return rows


def timing(n: int, add: int, *, n_queries: int) -> dict:
    """Seconds to add ``add`` chunks to an ``n``-chunk index: update vs rebuild."""
    from rag import milvus_update
    from rag.milvus_store import MilvusStore

    vs = scale_data.synthetic(n + add, n_queries, seed=0)
    terms = zipf_terms(n + add, seed=3)
    chunks = [
        Chunk(f"doc{i // 10}#{i}", f"doc{i // 10}", " ".join(t), 0, len(t), f"Doc {i // 10}")
        for i, t in enumerate(terms)
    ]
    t = time.perf_counter()
    old = MilvusStore.build(vs.base[:n], chunks=chunks[:n], terms=terms[:n])
    build_old_s = time.perf_counter() - t
    apply_s, apply = [], milvus_update._apply

    def timed_apply(*args, **kwargs) -> None:  # the update after its copy of the database
        t = time.perf_counter()
        apply(*args, **kwargs)
        apply_s.append(time.perf_counter() - t)

    milvus_update._apply = timed_apply
    t = time.perf_counter()
    updated = milvus_update.update(
        old,
        np.arange(n),
        vs.base,
        chunks=chunks,
        terms=terms,
        old_chunks=chunks[:n],
        old_terms=terms[:n],
    )
    update_s = time.perf_counter() - t
    milvus_update._apply = apply
    t = time.perf_counter()
    rebuilt = MilvusStore.build(vs.base, chunks=chunks, terms=terms)
    rebuild_s = time.perf_counter() - t
    if updated is None:
        raise SystemExit("the update path declined the index")
    same = all(
        np.array_equal(updated.search(q[None, :], 10)[1], rebuilt.search(q[None, :], 10)[1])
        for q in vs.queries
    )
    for store in (old, updated, rebuilt):
        store.close()
    return {
        "n": n,
        "added": add,
        "build_n_s": round(build_old_s, 2),
        "update_s": round(update_s, 2),
        "of_which_insert_s": round(apply_s[0], 2),
        "rebuild_s": round(rebuild_s, 2),
        "speedup": round(rebuild_s / update_s, 1),
        "same_dense_top10": same,
        "queries_compared": len(vs.queries),
        "index_type": "FLAT",
    }


if __name__ == "__main__":
    raise SystemExit(main())
