"""Speed of indexing and of queries: ``python -m bench.speed [--quick]``.

Three parts, one run, so every ratio compares figures taken minutes apart on
the same machine in the same conditions:

1. embedding options (fp32, bf16, ONNX int8; sorting; batch size) in this
   process, each on the same chunks, with retrieval quality on one fixed task;
2. index build, peak memory and warm query latency of the product as the
   previous defaults ("before": fp32, batch 16), of the product with today's
   defaults ("after") and of the LangChain-tutorial baseline, each in its own
   process (``bench.workload``);
3. cold start: process start to first answer, one subprocess per system.

Writes artifacts/bench_speed.json, docs/performance.md (between the speed
markers) and docs/performance.png.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from eval import bench_data
from eval.machine import machine

from . import options, report

log = logging.getLogger("bench.speed")
ROOT = Path(__file__).resolve().parents[1]
BEFORE = {"precision": "fp32", "batch_size": 16}  # the previous defaults
COLD_QUESTION = "Which companies signed the Seoul AI Business Pledge?"
# Retrieval latency is timed on every question; extractive answers (each embeds ~40
# candidate sentences, seconds on 2 cores) on the first ``answers`` of them.
# The systems' corpus is the gold passages alone (``system_distractors``): rates do not
# depend on its size, and it keeps the fp32 "before" build to about two minutes.
FULL = {"n_korquad": 100, "n_belebele": 100, "distractors": 100, "sweep": 48, "answers": 100,
        "system_distractors": 0}  # fmt: skip
QUICK = {"n_korquad": 3, "n_belebele": 3, "distractors": 4, "sweep": 4, "answers": 6,
         "system_distractors": 2}  # fmt: skip


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.speed", description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, default=bench_data.default_data_dir())
    p.add_argument("--quick", action="store_true", help="a few questions and passages (smoke)")
    p.add_argument("--no-onnx", action="store_true", help="leave out the ONNX int8 option")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, default=ROOT / "artifacts" / "bench_speed.json")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    p.add_argument("--plot", type=Path, default=None, help="PNG (default: next to --out)")
    p.add_argument("--no-docs", action="store_true", help="write the JSON only")
    p.add_argument(
        "--part",
        choices=["all", "options", "systems"],
        default="all",
        help="run one half and merge it into --json (to split a long run into short ones)",
    )
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    results = run(args)
    if args.part != "all" and args.json.exists():
        old = json.loads(args.json.read_text(encoding="utf-8"))
        results = {**old, **results, "total_s": old.get("total_s", 0) + results["total_s"]}
    if "options" in results and "systems" in results:
        results["ratios"] = ratios(results)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    if "options" in results and not args.no_docs:
        plot = args.plot or args.out.with_suffix(".png")
        if "systems" in results:
            report.plot(results, plot)
        report.write_markdown(results, args.out, plot=plot)
    sys.stdout.write(report.console(results) + "\n")
    return 0


def run(args: argparse.Namespace) -> dict:
    started = time.perf_counter()
    size = QUICK if args.quick else FULL
    results: dict = {"config": {**size, "quick": bool(args.quick), "seed": args.seed,
                                "before": BEFORE, "cpu": _cpu(), "machine": machine()}}  # fmt: skip
    if args.part in ("all", "options"):
        results["options"] = options.run(
            args.data, n_korquad=size["n_korquad"], n_belebele=size["n_belebele"],
            distractors=size["distractors"], sweep_sample=size["sweep"], seed=args.seed,
            onnx=not (args.no_onnx or args.quick),
        )  # fmt: skip
    if args.part in ("all", "systems"):
        results.update(systems(args, size))
    results["total_s"] = time.perf_counter() - started
    return results


def systems(args: argparse.Namespace, size: dict) -> dict:
    results = {}
    workdir = Path(tempfile.mkdtemp(prefix="rag-bench-speed-"))
    try:
        common = ["--data", str(args.data), "--seed", str(args.seed), "--workdir", str(workdir),
                  "--n-korquad", str(size["n_korquad"]), "--n-belebele", str(size["n_belebele"]),
                  "--distractors", str(size["system_distractors"]),
                  "--answer-questions", str(size["answers"])]  # fmt: skip
        before = ["--precision", BEFORE["precision"], "--batch-size", str(BEFORE["batch_size"])]
        by_name = {
            "before": _worker(["product", *before, *common], workdir),
            "after": _worker(["product", *common], workdir),
            "baseline": _worker(["baseline", *common], workdir),
        }
        results["systems"] = by_name
        results["cold_start"] = cold_starts(by_name)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def _worker(argv: list[str], workdir: Path) -> dict:
    out = workdir / f"worker-{len(list(workdir.glob('worker-*')))}.json"
    cmd = [sys.executable, "-m", "bench.workload", *argv, "--out", str(out)]
    log.info("running %s", " ".join(argv[:5]))
    tick = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT)
    result = json.loads(out.read_text(encoding="utf-8"))
    result["process_s"] = time.perf_counter() - tick
    return result


def _timed_run(cmd: list[str], env: dict | None = None) -> float:
    tick = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, env={**os.environ, **(env or {})},
                   stdout=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - tick


def cold_starts(systems: dict) -> dict:
    """Wall time from process start to the first answer printed (page cache warm)."""
    rag = [sys.executable, "-m", "rag.cli", "ask", COLD_QUESTION, "--index-dir"]
    out = {}
    for name in ("before", "after"):
        env = {"RAG_PRECISION": systems[name]["precision"]}
        out[name] = _timed_run([*rag, systems[name]["bundled"]["index_dir"]], env)
    store = systems["baseline"]["bundled"]["store_dir"]
    out["baseline"] = _timed_run([sys.executable, "-m", "bench.workload", "cold-baseline",
                                  "--store-dir", store, "--question", COLD_QUESTION])  # fmt: skip
    return out


def ratios(results: dict) -> dict:
    """Speed-ups (> 1 is faster) of "after" over "before" and over the baseline."""
    s = results["systems"]
    out: dict = {}
    for ref in ("before", "baseline"):
        r: dict = {}
        for corpus in ("bundled", "bench"):
            for key in ("chunks_per_s", "tokens_per_s"):
                r[f"{corpus} {key}"] = s["after"][corpus][key] / s[ref][corpus][key]
        for q in ("p50_ms", "p95_ms", "p99_ms"):
            r[f"retrieval {q}"] = (
                s[ref]["bench"]["retrieval"][q] / s["after"]["bench"]["retrieval"][q]
            )
            if "answer" in s[ref]["bench"]:
                r[f"answer {q}"] = s[ref]["bench"]["answer"][q] / s["after"]["bench"]["answer"][q]
        r["peak memory (after / ref)"] = s["after"]["rss_peak_mb"] / s[ref]["rss_peak_mb"]
        r["cold start"] = results["cold_start"][ref] / results["cold_start"]["after"]
        out[f"after vs {ref}"] = r
    return out


def _cpu() -> dict:
    from rag.embeddings import cpu_supports_bf16

    flags = (
        Path("/proc/cpuinfo").read_text(encoding="utf-8") if Path("/proc/cpuinfo").exists() else ""
    )
    return {"cores": os.cpu_count(), "bf16": cpu_supports_bf16(), "vnni": "avx512_vnni" in flags}


if __name__ == "__main__":
    raise SystemExit(main())
