"""Retrieval and answer quality on public data: ``python -m eval.benchmark``.

One corpus of all KorQuAD 1.0 dev paragraphs and all Belebele Korean passages;
seeded question subsets from each (Korean questions, and English questions
over Korean passages). Runs the product's own indexing, retrieval and
extractive answering, plus the LangChain-tutorial baseline, and writes
docs/quality.md (numbers between markers), a PNG plot and a JSON file.
Document and query vectors are cached on disk, so only the first run is slow.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tqdm.auto import tqdm

from rag.config import Settings
from rag.evaluation import score_answer
from rag.indexing import empty_index, update_index
from rag.qa import extractive_answerer
from rag.retrieval import Retriever
from rag.store import IndexData
from rag.textnorm import detect_lang, normalize

from . import baseline, bench_data, bench_report
from .bench_data import Question
from .embcache import CachedEmbedder, plain_cache
from .metrics import gold_rank, paired, score_rankings

log = logging.getLogger("eval.benchmark")

ROOT = Path(__file__).resolve().parents[1]
TASKS = ("korquad", "belebele")
BM25_WEIGHTS = (0.1, 0.2, 0.4, 0.6, 1.0, 1.5, 2.0, 3.0)
CHUNK_SIZES = (300, 500, 800)
DEPTH_CHUNKS = 50  # chunks fetched per question; passages are deduped from these
QUICK = {"n_korquad": 5, "n_belebele": 5, "n_answers": 5, "distractors": 50}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m eval.benchmark", description=__doc__.split("\n")[0])
    p.add_argument(
        "--data",
        type=Path,
        default=bench_data.default_data_dir(),
        help="folder with korquad1/ and belebele/ (default: data/benchdata)",
    )
    p.add_argument("--n-korquad", type=int, default=300, help="KorQuAD questions (default 300)")
    p.add_argument("--n-belebele", type=int, default=300, help="Belebele questions (default 300)")
    p.add_argument(
        "--n-answers",
        type=int,
        default=100,
        help="KorQuAD questions answered extractively (default 100)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "quality.md")
    p.add_argument("--plot", type=Path, default=None, help="PNG (default: next to --out)")
    p.add_argument("--json", type=Path, default=ROOT / "artifacts" / "bench_quality.json")
    p.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="embedding cache (default: <rag cache dir>/embcache)",
    )
    p.add_argument("--skip-baseline", action="store_true", help="leave out the LangChain baseline")
    p.add_argument(
        "--skip-sweeps",
        action="store_true",
        help="only the default settings: no weight or chunk-size sweep",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="5+5 questions over their passages and 50 others, default chunk size only",
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
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    plot = args.plot or args.out.with_suffix(".png")
    bench_report.plot(results, plot)
    bench_report.write_markdown(results, args.out, plot=plot)
    sys.stdout.write(bench_report.console_table(results) + "\n")
    log.info("wrote %s, %s and %s", args.out, plot, args.json)
    return 0


def run(args: argparse.Namespace) -> dict:
    started = time.perf_counter()
    settings = Settings.from_env()
    progress = not args.no_progress
    data = bench_data.load(args.data)
    n = {"korquad": args.n_korquad, "belebele": args.n_belebele}
    n_answers = args.n_answers
    if args.quick:
        n = {"korquad": QUICK["n_korquad"], "belebele": QUICK["n_belebele"]}
        n_answers = QUICK["n_answers"]
    questions = {t: bench_data.sample(data.questions[t], n[t], seed=args.seed) for t in TASKS}
    passages = data.passages
    if args.quick:
        everyone = [q for t in TASKS for q in questions[t]]
        passages = bench_data.passage_subset(
            passages, everyone, QUICK["distractors"], seed=args.seed
        )
    documents = bench_data.to_documents(passages)
    cache_root = args.cache or Path(settings.cache_dir) / "embcache"
    embedder = CachedEmbedder(
        settings.model,
        cache_root,
        cache_dir=settings.cache_dir,
        precision=settings.precision,
        progress=progress,
    )
    timing: dict[str, float] = {}
    results: dict = {
        "config": _config(args, settings, embedder, passages, questions, n_answers),
        "main": {t: {} for t in TASKS},
    }

    tick = time.perf_counter()
    queries = {t: [_query(q) for q in questions[t]] for t in TASKS}
    vectors = {t: embedder.encode_queries(queries[t]) for t in TASKS}
    timing["embed_queries_s"] = time.perf_counter() - tick

    indexes: dict[int, IndexData] = {}

    def index_for(chunk_size: int) -> IndexData:
        if chunk_size not in indexes:
            tick = time.perf_counter()
            indexes[chunk_size] = build_index(documents, embedder, settings, chunk_size, progress)
            timing[f"index_{chunk_size}_s"] = time.perf_counter() - tick
        return indexes[chunk_size]

    ranks: dict = {t: {} for t in TASKS}  # task -> method -> gold rank per question

    def evaluate(task: str, retriever: Retriever, mode: str, *, keep: str = "") -> dict:
        rankings = product_rankings(
            retriever, queries[task], vectors[task], mode=mode, progress=False
        )
        golds = [q.gold_doc for q in questions[task]]
        if keep:
            ranks[task][keep] = [gold_rank(r, g) for r, g in zip(rankings, golds, strict=True)]
        return score_rankings(rankings, golds)

    default_index = index_for(settings.chunk_size)
    retriever = Retriever(default_index, embedder, settings)
    tick = time.perf_counter()
    for task in TASKS:
        for mode in ("dense", "bm25", "hybrid"):
            results["main"][task][mode] = evaluate(task, retriever, mode, keep=mode)
    timing["search_main_s"] = time.perf_counter() - tick
    if not args.skip_sweeps and not args.quick:
        results["weights"] = weight_sweep(default_index, embedder, settings, TASKS, evaluate)

    if not args.skip_baseline:
        tick = time.perf_counter()
        cache = plain_cache(cache_root, embedder.info.fingerprint)
        everyone = [q for t in TASKS for q in questions[t]]
        ranked, facts = baseline.rankings(
            passages,
            everyone,
            model_path=embedder.path,
            cache=cache,
            k=DEPTH_CHUNKS,
            progress=progress,
        )
        by_qid = dict(zip([q.qid for q in everyone], ranked, strict=True))
        for task in TASKS:
            golds = [q.gold_doc for q in questions[task]]
            ranked_task = [by_qid[q.qid] for q in questions[task]]
            results["main"][task]["langchain"] = score_rankings(ranked_task, golds)
            ranks[task]["langchain"] = [
                gold_rank(r, g) for r, g in zip(ranked_task, golds, strict=True)
            ]
        results["baseline"] = facts
        timing["baseline_s"] = time.perf_counter() - tick

    tick = time.perf_counter()
    results["answers"] = answer_quality(
        questions["korquad"][:n_answers], default_index, embedder, settings, progress
    )
    timing["answers_s"] = time.perf_counter() - tick
    if not args.skip_sweeps and not args.quick:
        results["chunk_size"] = {}
        for size in CHUNK_SIZES:
            data_cs = index_for(size)
            ret = Retriever(data_cs, embedder, settings.with_overrides(chunk_size=size))
            results["chunk_size"][str(size)] = {
                "chunks": len(data_cs.chunks),
                **{t: {m: evaluate(t, ret, m) for m in ("dense", "bm25", "hybrid")} for t in TASKS},
            }
            if size == settings.chunk_size:
                answers = results["answers"]
            else:
                answers = answer_quality(
                    questions["korquad"][:n_answers], data_cs, embedder, ret.settings, progress
                )
            results["chunk_size"][str(size)]["answers"] = {
                k: v for k, v in answers.items() if k != "examples"
            }

    results["paired"] = {t: _paired(ranks[t]) for t in TASKS}
    results["ranks"] = {t: {"qid": [q.qid for q in questions[t]], **ranks[t]} for t in TASKS}
    timing["total_s"] = time.perf_counter() - started
    results["timing"] = {k: round(v, 1) for k, v in timing.items()}
    results["cache"] = {
        "documents": {"hits": embedder.documents.hits, "misses": embedder.documents.misses},
        "queries": {"hits": embedder.queries.hits, "misses": embedder.queries.misses},
    }
    results["default_index"] = {"chunks": len(default_index.chunks)}
    return results


def _paired(ranks: dict) -> dict:
    pairs = [("hybrid", "dense"), ("hybrid", "bm25"), ("dense", "langchain")]
    return {
        f"{a} vs {b}": paired(ranks[a], ranks[b]) for a, b in pairs if a in ranks and b in ranks
    }


def _config(args, settings: Settings, embedder, passages, questions, n_answers: int) -> dict:
    return {
        "model": settings.model,
        "fingerprint": embedder.info.fingerprint,
        "precision": embedder.precision,
        "seed": args.seed,
        "quick": bool(args.quick),
        "passages": len(passages),
        "questions": {t: len(questions[t]) for t in TASKS},
        "answer_questions": min(n_answers, len(questions["korquad"])),
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
        "rrf_k": settings.rrf_k,
        "weights": {
            "ko": {"dense": settings.dense_weight_ko, "bm25": settings.bm25_weight_ko},
            "en": {"dense": settings.dense_weight_en, "bm25": settings.bm25_weight_en},
        },
        "top_k": settings.top_k,
        "extractive": settings.extractive,
    }


def _query(q: Question) -> str:
    """What ``QA.search`` would search for: the normalised, stripped question."""
    return normalize(q.question).strip()


def build_index(documents, embedder, settings: Settings, chunk_size: int, progress: bool):
    """The product's own indexing; the cached embedder makes reruns cheap."""
    s = settings.with_overrides(chunk_size=chunk_size)
    data, _report = update_index(
        empty_index(embedder, s), add=documents, embedder=embedder, settings=s, progress=progress
    )
    log.info(
        "chunk size %d: %d chunks from %d passages", chunk_size, len(data.chunks), len(documents)
    )
    return data


def product_rankings(retriever: Retriever, queries, vectors, *, mode: str, progress: bool):
    """Per query, the doc_ids of the top ``DEPTH_CHUNKS`` chunks, best first."""
    out = []
    for query, vector in tqdm(list(zip(queries, vectors, strict=True)), disable=not progress):
        hits = retriever.search(query, top_k=DEPTH_CHUNKS, mode=mode, query_vector=vector)
        out.append([h.chunk.doc_id for h in hits])
    return out


def weight_sweep(data: IndexData, embedder, settings: Settings, tasks, evaluate) -> dict:
    """Dense weight 1, BM25 weight w, for both languages at once; plus the two pure modes."""
    out: dict = {t: {} for t in tasks}
    plain = Retriever(data, embedder, settings)
    for task in tasks:
        out[task]["dense"] = evaluate(task, plain, "dense")
    for w in BM25_WEIGHTS:
        s = settings.with_overrides(
            dense_weight_ko=1.0, dense_weight_en=1.0, bm25_weight_ko=w, bm25_weight_en=w
        )
        ret = Retriever(data, embedder, s)
        for task in tasks:
            out[task][f"rrf bm25={w:g}"] = evaluate(task, ret, "hybrid")
    for task in tasks:
        out[task]["bm25"] = evaluate(task, plain, "bm25")
    return out


def answer_quality(
    questions: list[Question], data: IndexData, embedder, settings: Settings, progress: bool
) -> dict:
    """Extractive answers as ``QA.ask`` makes them; does the text contain the gold span?"""
    retriever = Retriever(data, embedder, settings)
    answerer = extractive_answerer(embedder, settings)
    contains = refused = gold_in_hits = top_chunk_contains = 0
    answer_chars = chunk_chars = 0
    examples = []
    qvecs = embedder.encode_queries([_query(q) for q in questions]) if questions else []
    for q, qv in tqdm(
        list(zip(questions, qvecs, strict=True)), desc="extractive answers", disable=not progress
    ):
        query = _query(q)
        hits = retriever.search(query, top_k=settings.top_k, query_vector=qv)
        answer = answerer.answer(
            query,
            hits,
            query_vector=qv,
            data=data,
            lang=detect_lang(query),
            search_query=query,
        )
        gold_in_hits += any(h.chunk.doc_id == q.gold_doc for h in hits)
        if hits:
            top_chunk_contains += score_answer(hits[0].chunk.text, [q.answers]) == 1.0
            chunk_chars += len(hits[0].chunk.text)
        if answer.refused:
            refused += 1
        else:
            ok = score_answer(answer.text, [q.answers]) == 1.0
            contains += ok
            answer_chars += len(answer.text)
            if len(examples) < 3:
                examples.append(
                    {
                        "question": q.question,
                        "gold": q.answers[0],
                        "answer": answer.text,
                        "contains_gold": ok,
                    }
                )
    n = len(questions) or 1
    answered = max(1, len(questions) - refused)
    return {
        "n": len(questions),
        "contains_gold": contains / n,
        "refused": refused / n,
        "contains_gold_when_answered": contains / answered,
        "mean_answer_chars": answer_chars / answered,
        "gold_passage_in_hits": gold_in_hits / n,
        "top_chunk_contains_gold": top_chunk_contains / n,
        "mean_top_chunk_chars": chunk_chars / n,
        "examples": examples,
    }


if __name__ == "__main__":
    raise SystemExit(main())
