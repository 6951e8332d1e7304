"""The embedding of an index build on Ray (rag.ray_embedding) against the local Embedder.

``python -m bench.ray_embed`` (``--chunks 160``): KorQuAD 1.0 dev paragraphs become
documents (rag.loaders) until their chunks reach ``--chunks``; each system builds an
index of them from empty with ``rag.indexing.update_index``, which makes the two model
passes of a real build (chunks with their answer units, then the stored sentence
texts), timed per pass. Systems: the local Embedder (model loaded before timing, torch
on all cores), then one local Ray (127.0.0.1) with pools of 1 worker x 1 CPU, 1 x 2 and
2 x 1 (each Ray pass includes starting its pool and loading the model in every worker).
Start-up is measured apart: ``ray.init``, and a one-text pass (pool + model load).
Writes bench/results/ray.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Sequence
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "ray.json"
KORQUAD = Path(__file__).parents[1] / "data" / "benchdata" / "korquad1" / "KorQuAD_v1.0_dev.json"
POOLS = ((1, 1), (1, 2), (2, 1))  # (workers, CPUs per worker)


class Timed:
    """An embedder that records the seconds of each pass ``update_index`` makes."""

    def __init__(self, embedder):
        self.inner, self.info, self.dim, self.passes = embedder, embedder.info, embedder.dim, {}

    def encode_documents_with_spans(self, texts, spans, **kwargs):
        return self._time("chunks", len(texts), self.inner.encode_documents_with_spans,
                          texts, spans, **kwargs)  # fmt: skip

    def encode_documents(self, texts, **kwargs):
        return self._time("sentences", len(texts), self.inner.encode_documents, texts, **kwargs)

    def _time(self, name, n, fn, *args, **kwargs):
        started = time.perf_counter()
        out = fn(*args, **kwargs)
        self.passes[name] = {"texts": n, "s": round(time.perf_counter() - started, 2)}
        return out


def documents(n_chunks: int, settings) -> list:
    """KorQuAD paragraphs as product documents, enough for ``n_chunks`` chunks."""
    from rag.chunking import chunk_document
    from rag.loaders import load_bytes

    data = json.loads(KORQUAD.read_text(encoding="utf-8"))["data"]
    paragraphs = [p["context"] for article in data for p in article["paragraphs"]]
    docs, chunks = [], 0
    for i, text in enumerate(paragraphs):
        doc = load_bytes(text.encode("utf-8"), filename=f"korquad-{i:05d}.txt")
        docs.append(doc)
        chunks += len(chunk_document(doc, chunk_size=settings.chunk_size,
                                     overlap=settings.chunk_overlap))  # fmt: skip
        if chunks >= n_chunks:
            return docs
    return docs


def build(embedder, docs: list, settings) -> dict:
    from rag.indexing import empty_index, update_index

    timed = Timed(embedder)
    started = time.perf_counter()
    data, report = update_index(empty_index(embedder, settings), add=docs, embedder=timed,
                                settings=settings)  # fmt: skip
    wall = time.perf_counter() - started
    model_s = sum(p["s"] for p in timed.passes.values())
    return {
        "chunks": len(data.chunks),
        "sentences": report.sentences_embedded,
        "passes": timed.passes,
        "model_s": round(model_s, 2),
        "wall_s": round(wall, 2),
        "chunks_per_s": round(len(data.chunks) / model_s, 3),
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.ray_embed", description=__doc__)
    p.add_argument("--chunks", type=int, default=160)
    pools = "Ray pools as WORKERSxCPUS (default: 1x1 1x2 2x1)"
    p.add_argument("--pools", nargs="+", default=[f"{w}x{c}" for w, c in POOLS], help=pools)
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)

    from rag.config import Settings
    from rag.index_model import embedder_for
    from rag.ray_embedding import RayEmbedder, ray_session

    settings = Settings.from_env()
    docs = documents(args.chunks, settings)
    local = embedder_for(settings)
    rows = [{"system": "local", "threads": local_threads(), **build(local, docs, settings)}]
    print(json.dumps(rows[-1]), flush=True)
    started = time.perf_counter()
    with ray_session(num_cpus=2) as ray:
        init_s = time.perf_counter() - started
        startup = pool_start(RayEmbedder(settings=settings, workers=1))
        for workers, cpus in (map(int, pool.split("x")) for pool in args.pools):
            remote = RayEmbedder(settings=settings, workers=workers, cpus_per_worker=cpus)
            rows.append({"system": f"ray {workers}x{cpus}", **build(remote, docs, settings)})
            print(json.dumps(rows[-1]), flush=True)
        version = ray.__version__
        leaving = time.perf_counter()
    startup["ray_shutdown_s"] = round(time.perf_counter() - leaving, 2)
    for row in rows:
        row["vs_local"] = round(row["chunks_per_s"] / rows[0]["chunks_per_s"], 3)
    out = {
        "machine": machine(version),
        "settings": {"model": settings.model, "precision": local.precision,
                     "batch_size": settings.batch_size, "chunk_size": settings.chunk_size},
        "startup": {"ray_init_s": round(init_s, 2), **startup},
        "rows": rows,
    }  # fmt: skip
    args.out.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(out["startup"]))
    return 0


def pool_start(embedder) -> dict:
    """One text through a fresh pool: starting the actor and loading its model."""
    started = time.perf_counter()
    embedder.encode_documents(["warm-up"], batch_size=1)
    return {"pool_and_model_load_s": round(time.perf_counter() - started, 2)}


def local_threads() -> int:
    import torch

    return torch.get_num_threads()


def machine(ray_version: str) -> dict:
    import torch

    from eval.machine import machine as host

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "ray": ray_version,
        "date": time.strftime("%Y-%m-%d"),
        "host": host(),
    }


if __name__ == "__main__":
    raise SystemExit(main())
