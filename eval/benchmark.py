"""Retrieval and answer quality on public data: ``python -m eval.benchmark``.

One index holds every KorQuAD 1.0 dev paragraph and every Belebele passage in
Korean and in English. The questions are all of KorQuAD's (ko → ko) and all of
Belebele's in four language pairs (ko → ko, en → ko, en → en, ko → en), each cut
by a fixed seed into a tuning half and a test half. Dense, BM25, the previous
reciprocal-rank fusion, the product's fusion and the LangChain-tutorial
baseline are scored side by side; fusion weights are swept on the tuning half
only. Writes docs/quality.md (between markers), a PNG, the full JSON and
bench/results/quality.json. Vectors are cached on disk, so reruns are cheap.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from tqdm.auto import tqdm

from rag.config import Settings
from rag.fusion import rrf
from rag.indexing import empty_index, update_index
from rag.retrieval import Retriever, fusion_weights

from . import baseline, bench_data, bench_report, fusion_sweep
from .bench_answers import _query, answer_quality
from .bench_candidates import gather, rankings, without_twin
from .bench_data import Question
from .embcache import CachedEmbedder, plain_cache
from .metrics import gold_rank, paired, score_rankings

log = logging.getLogger("eval.benchmark")

ROOT = Path(__file__).resolve().parents[1]
TASKS = ("korquad", "belebele-ko-ko", "belebele", "belebele-en-en", "belebele-ko-en")
SPLITS = ("tuning", "test")
DEPTH_CHUNKS = 50  # chunks fetched per question; passages are deduped from these
PREVIOUS_RRF = {"ko": 1.0, "en": 0.0}  # BM25 weight of the previous default (dense 1, k 60)
QUICK = {"n": 4, "n_answers": 4, "distractors": 50}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m eval.benchmark", description=__doc__.split("\n")[0])
    p.add_argument(
        "--data",
        type=Path,
        default=bench_data.default_data_dir(),
        help="folder with korquad1/ and belebele/ (default: data/benchdata)",
    )
    p.add_argument(
        "--n-answers",
        type=int,
        default=100,
        help="KorQuAD test questions answered extractively (default 100)",
    )
    p.add_argument("--seed", type=int, default=0, help="the tuning/test split (default 0)")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "quality.md")
    p.add_argument("--plot", type=Path, default=None, help="PNG (default: next to --out)")
    p.add_argument("--json", type=Path, default=ROOT / "artifacts" / "bench_quality.json")
    p.add_argument(
        "--results",
        type=Path,
        default=None,
        help="the test-half table as JSON (default bench/results/quality.json; "
        "--quick writes it only when given)",
    )
    p.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="embedding cache (default: <rag cache dir>/embcache)",
    )
    p.add_argument("--skip-baseline", action="store_true", help="leave out the LangChain baseline")
    p.add_argument("--skip-sweeps", action="store_true", help="no fusion sweep on the tuning half")
    p.add_argument(
        "--quick",
        action="store_true",
        help="4 questions per pair and half over their passages and 50 others; no sweep",
    )
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    # At INFO, sentence-transformers adds a progress bar per batch; ours are enough.
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the baseline loads the model too
    results = run(args)
    _write_json(args.json, results)
    results_path = args.results or (None if args.quick else ROOT / "bench/results/quality.json")
    if results_path is not None:
        _write_json(results_path, bench_report.summary(results))
    plot = args.plot or args.out.with_suffix(".png")
    bench_report.plot(results, plot)
    bench_report.write_markdown(results, args.out, plot=plot)
    sys.stdout.write(bench_report.console_table(results) + "\n")
    log.info("wrote %s, %s and %s", args.out, plot, args.json)
    return 0


def _write_json(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def questions_by_half(data: bench_data.BenchData, args) -> dict[str, dict[str, list[Question]]]:
    """task -> split -> questions; ``--quick`` keeps a seeded few of each."""
    halves = {}
    for task in TASKS:
        tuning, test = bench_data.split(data.questions[task], seed=args.seed)
        halves[task] = {"tuning": tuning, "test": test}
        if args.quick:
            for s in SPLITS:
                halves[task][s] = bench_data.sample(halves[task][s], QUICK["n"], seed=args.seed)
    return halves


def run(args: argparse.Namespace) -> dict:
    started = time.perf_counter()
    settings = Settings.from_env()
    progress = not args.no_progress
    data = bench_data.load(args.data)
    halves = questions_by_half(data, args)
    everyone = [q for t in TASKS for s in SPLITS for q in halves[t][s]]
    passages = data.passages + data.english_passages
    if args.quick:
        passages = bench_data.passage_subset(
            passages, everyone, QUICK["distractors"], seed=args.seed
        )
    cache_root = args.cache or Path(settings.cache_dir) / "embcache"
    embedder = CachedEmbedder(
        settings.model,
        cache_root,
        cache_dir=settings.cache_dir,
        precision=settings.precision,
        progress=progress,
    )
    timing: dict[str, float] = {}

    tick = time.perf_counter()
    queries = [_query(q) for q in everyone]
    vectors = dict(zip((q.qid for q in everyone), embedder.encode_queries(queries), strict=True))
    timing["embed_queries_s"] = time.perf_counter() - tick

    tick = time.perf_counter()
    index = build_index(bench_data.to_documents(passages), embedder, settings, progress)
    timing["index_s"] = time.perf_counter() - tick
    retriever = Retriever(index, embedder, settings)

    tick = time.perf_counter()
    ranked: dict = {t: {s: {} for s in SPLITS} for t in TASKS}  # task -> split -> method -> lists
    pools: dict = {t: {} for t in TASKS}
    for task in TASKS:
        for split in SPLITS:
            qs = halves[task][split]
            qv = [vectors[q.qid] for q in qs]
            for mode in ("dense", "bm25", "hybrid"):
                ranked[task][split][mode] = product_rankings(retriever, qs, qv, mode=mode)
            pools[task][split] = gather(
                retriever, [_query(q) for q in qs], qv, qs, pool=DEPTH_CHUNKS * 10
            )
            ranked[task][split]["rrf"] = rankings(pools[task][split], previous_rrf)
    timing["search_s"] = time.perf_counter() - tick

    results: dict = {"config": _config(args, settings, embedder, passages, halves, index)}
    if not args.skip_sweeps and not args.quick:
        tick = time.perf_counter()
        tuning = {t: pools[t]["tuning"] for t in TASKS}
        golds = {t: [q.gold_doc for q in halves[t]["tuning"]] for t in TASKS}
        single = {
            t: {m: score_rankings(ranked[t]["tuning"][m], golds[t]) for m in ("dense", "bm25")}
            for t in TASKS
        }
        results["sweep"] = fusion_sweep.sweep(tuning, golds, single)
        timing["sweep_s"] = time.perf_counter() - tick

    if not args.skip_baseline:
        tick = time.perf_counter()
        cache = plain_cache(cache_root, embedder.info.fingerprint)
        lists, facts = baseline.rankings(
            passages, everyone, model_path=embedder.path, cache=cache, k=DEPTH_CHUNKS,
            progress=progress,
        )  # fmt: skip
        by_qid = dict(zip([q.qid for q in everyone], lists, strict=True))
        for task in TASKS:
            for split in SPLITS:
                ranked[task][split]["langchain"] = [
                    without_twin(by_qid[q.qid], q.twin) for q in halves[task][split]
                ]
        results["baseline"] = facts
        timing["baseline_s"] = time.perf_counter() - tick

    results["scores"], results["paired"], results["ranks"] = _score(ranked, halves)

    tick = time.perf_counter()
    n_answers = QUICK["n_answers"] if args.quick else args.n_answers
    results["answers"] = answer_quality(
        halves["korquad"]["test"][:n_answers], index, embedder, settings, progress
    )
    timing["answers_s"] = time.perf_counter() - tick
    timing["total_s"] = time.perf_counter() - started
    results["timing"] = {k: round(v, 1) for k, v in timing.items()}
    results["cache"] = {
        "documents": {"hits": embedder.documents.hits, "misses": embedder.documents.misses},
        "queries": {"hits": embedder.queries.hits, "misses": embedder.queries.misses},
    }
    return results


def previous_rrf(cand):
    """The fusion the product used before: RRF, BM25 weight by the question's language."""
    return rrf(cand.dense, cand.bm25, w_dense=1.0, w_bm25=PREVIOUS_RRF[cand.query_script])


def _score(ranked: dict, halves: dict) -> tuple[dict, dict, dict]:
    scores: dict = {s: {t: {} for t in TASKS} for s in SPLITS}
    ranks: dict = {t: {} for t in TASKS}
    for task in TASKS:
        for split in SPLITS:
            golds = [q.gold_doc for q in halves[task][split]]
            for method, lists in ranked[task][split].items():
                scores[split][task][method] = score_rankings(lists, golds)
        test = halves[task]["test"]
        ranks[task] = {"qid": [q.qid for q in test]}
        for method, lists in ranked[task]["test"].items():
            ranks[task][method] = [
                gold_rank(r, q.gold_doc) for r, q in zip(lists, test, strict=True)
            ]
    pairs = [("hybrid", "dense"), ("hybrid", "bm25"), ("hybrid", "rrf"), ("dense", "langchain")]
    compared = {
        t: {f"{a} vs {b}": paired(ranks[t][a], ranks[t][b]) for a, b in pairs if b in ranks[t]}
        for t in TASKS
    }
    return scores, compared, ranks


def _config(args, settings: Settings, embedder, passages, halves, index) -> dict:
    return {
        "model": settings.model,
        "fingerprint": embedder.info.fingerprint,
        "precision": embedder.precision,
        "seed": args.seed,
        "quick": bool(args.quick),
        "passages": len(passages),
        "chunks": len(index.chunks),
        "questions": {t: {s: len(halves[t][s]) for s in SPLITS} for t in TASKS},
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
        "fusion": asdict(fusion_weights(settings)),
        "previous_rrf": {"k": 60, "dense": 1.0, "bm25": PREVIOUS_RRF},
        "top_k": settings.top_k,
        "extractive": settings.extractive,
    }


def build_index(documents, embedder, settings: Settings, progress: bool):
    """The product's own indexing; the cached embedder makes reruns cheap."""
    data, _report = update_index(
        empty_index(embedder, settings),
        add=documents,
        embedder=embedder,
        settings=settings,
        progress=progress,
    )
    log.info("%d chunks from %d passages", len(data.chunks), len(documents))
    return data


def product_rankings(retriever: Retriever, questions, vectors, *, mode: str, progress=False):
    """Per question, the passages of the top ``DEPTH_CHUNKS`` chunks, twin left out."""
    out = []
    pairs = list(zip(questions, vectors, strict=True))
    for q, vector in tqdm(pairs, disable=not progress):
        hits = retriever.search(_query(q), top_k=DEPTH_CHUNKS, mode=mode, query_vector=vector)
        out.append(without_twin([h.chunk.doc_id for h in hits], q.twin))
    return out


if __name__ == "__main__":
    raise SystemExit(main())
