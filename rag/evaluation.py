"""``rag eval``: gold questions in, metrics out, with minimums that CI checks.

The evaluator never produces answers itself: ``run_eval`` takes any callable
``question -> Answer`` (or a stream of ``str`` deltas ending with the Answer, as
``qa.ask_stream`` yields, which adds time to first token), so the extractive
answerer, the LLM answerer and test fakes are scored by the same code. Gold files
are read by ``rag.eval_gold``, answers scored by ``rag.eval_scoring`` and summed up
by ``rag.eval_summary``; this module runs them and presents the result.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from .errors import RagError
from .eval_gold import LANGS, GoldItem, load_gold
from .eval_scoring import (
    CLAIM_STATUSES,
    FALLBACK_KINDS,
    QuestionResult,
    _score,
    evidence_rank,
    fallback_kind,
    score_answer,
    token_f1,
)
from .eval_summary import EvalReport, auroc, load_report, merge_reports, report_dict, summarise
from .types import Answer, RenderingDelta

logger = logging.getLogger(__name__)

__all__ = [
    "CLAIM_STATUSES", "FALLBACK_KINDS", "LANGS", "VALID_THRESHOLD_KEYS", "EvalReport",
    "GoldItem", "QuestionResult", "auroc", "check_thresholds", "evidence_rank",
    "fallback_kind", "format_table", "load_gold", "load_report", "load_thresholds",
    "merge_reports", "parse_min_args", "report_dict", "run_eval", "score_answer",
    "summarise", "token_f1",
]  # fmt: skip

# Metrics where higher is better carry a minimum; the few where lower is better, a maximum.
_MIN_METRICS = (
    "retrieval.hit@1",
    "retrieval.hit@3",
    "retrieval.hit@5",
    "retrieval.mrr",
    "answer.accuracy",
    "answer.partial",
    "answer.token_f1",
    "citation.precision",
    "citation.recall",
    "refusal.accuracy",
    "refusal.auroc",
)
_MAX_METRICS = ("refusal.false_refusals",)
VALID_THRESHOLD_KEYS: tuple[str, ...] = tuple(
    prefix + key
    for key in _MIN_METRICS + _MAX_METRICS
    for prefix in ("", *(f"by_lang.{lang}." for lang in LANGS))
)


def run_eval(
    ask: Callable[[str], Answer | Iterator[str | Answer]],
    items: Iterable[GoldItem],
    *,
    top_k: int = 5,
    progress: bool = True,
) -> EvalReport:
    """Ask every gold question through ``ask`` and score the answers.

    Args:
        ask: any function from question text to ``rag.types.Answer``, or to an
            iterator of ``str`` deltas ending with the Answer (``qa.ask_stream``):
            then ``ttft_ms`` is the time until the first non-empty delta.
        items: gold questions, e.g. from ``load_gold``.
        top_k: only the first ``top_k`` hits count for retrieval metrics.
        progress: show a progress bar on stderr.
    Raises:
        RagError: if ``ask`` fails or returns something other than an Answer.
    """
    if top_k < 1:
        raise RagError(f"top_k={top_k} must be at least 1")
    items = list(items)
    results = []
    for item in tqdm(items, desc="eval", unit="q", disable=not progress):
        start = time.perf_counter()
        try:
            answer, ttft_ms, rendering_ms = _collect(ask(item.question), start)
        except Exception as exc:
            raise RagError(f"ask() failed on gold question {item.id!r}: {exc}") from exc
        latency_ms = (time.perf_counter() - start) * 1000
        if not isinstance(answer, Answer):
            raise RagError(
                f"ask() returned {type(answer).__name__} for {item.id!r}; it must return "
                "rag.types.Answer (or yield str deltas, then the Answer)"
            )
        results.append(
            _score(item, answer, latency_ms, ttft_ms, top_k, rendering_first_ms=rendering_ms)
        )
        logger.debug("%s: %s", item.id, results[-1])
    return summarise(results)


def _collect(result: Any, start: float) -> tuple[Any, float | None, float | None]:
    """The Answer (the last item of a stream), the ms until the first delta of the
    answer itself, and the ms until the first delta of its rendering."""
    if not isinstance(result, Iterator):
        return result, None, None
    answer: Any = None
    ttft_ms = rendering_ms = None
    for item in result:
        if isinstance(item, RenderingDelta):
            if item and rendering_ms is None:
                rendering_ms = (time.perf_counter() - start) * 1000
        elif isinstance(item, str):
            if item and ttft_ms is None:
                ttft_ms = (time.perf_counter() - start) * 1000
        else:
            answer = item
    return answer, ttft_ms, rendering_ms


# --- presentation and thresholds -------------------------------------------------

_TABLE_ROWS = (
    ("n",)
    + _MIN_METRICS
    + ("refusal.false_refusals", "answer.mean_chars")
    + ("latency_ms.p50", "latency_ms.p95", "ttft_ms.p50", "ttft_ms.p95")
)
_RENDERING_ROWS = (
    "rendering.answered", "rendering.shown", "rendering.shown_rate", "rendering.accuracy",
    "rendering.quote_accuracy", "rendering.rejected", "rendering.refused", "rendering.restated",
    "rendering.unsupported_shown", "rendering.first_token_ms.p50", "rendering.first_token_ms.p95",
    "rendering.done_ms.p50", "rendering.done_ms.p95",
)  # fmt: skip
_LLM_ROWS = (
    ("llm.shown", "llm.fallbacks")
    + tuple(f"llm.fallback_kinds.{k}" for k in (*FALLBACK_KINDS, "other"))
    + tuple(f"llm.claims.{s}" for s in CLAIM_STATUSES)
)


def format_table(report: EvalReport) -> str:
    """Plain-text table: one row per metric, columns overall / en / ko.

    The ``llm.*`` rows (counts) appear when an answer was generated or fell back.
    """
    columns = [("all", report)] + [(lang, report["by_lang"][lang]) for lang in LANGS]
    header = f"{'metric':<36}" + "".join(f"{name:>10}" for name, _ in columns)
    lines = [header, "-" * len(header)]
    llm = report["llm"]["shown"] or report["llm"]["fallbacks"]
    rendered = bool(report["rendering"]["tried"])
    rows = _TABLE_ROWS + (_LLM_ROWS if llm else ()) + (_RENDERING_ROWS if rendered else ())
    for key in rows:
        ms = key.startswith(("latency_ms", "ttft_ms")) or key.endswith(("_ms.p50", "_ms.p95"))
        cells = "".join(f"{_cell(_lookup(block, key), ms=ms):>10}" for _, block in columns)
        lines.append(f"{key:<36}{cells}")
    return "\n".join(lines)


def _cell(value: Any, *, ms: bool) -> str:
    if value is None:
        return "-"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"{value:.1f}" if ms else f"{value:.3f}"


def _lookup(block: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        block = block[part]
    return block


def check_thresholds(report: EvalReport, mins: dict[str, float]) -> list[str]:
    """Return one message per metric below its minimum (empty list: all pass).

    A metric that is null (no questions to average over) fails its minimum.
    """
    failures = []
    for key, limit in mins.items():
        _validate_threshold(key, limit)
        value = _lookup(report, key)
        if value is None:
            failures.append(f"{key} is null (no questions to measure it on); limit is {limit}")
        elif key.endswith(_MAX_METRICS) and value > limit:
            failures.append(f"{key} = {value:.4f} is above the maximum {limit}")
        elif not key.endswith(_MAX_METRICS) and value < limit:
            failures.append(f"{key} = {value:.4f} is below the minimum {limit}")
    return failures


def _validate_threshold(key: str, value: Any) -> None:
    if key not in VALID_THRESHOLD_KEYS:
        raise RagError(
            f"Unknown threshold key {key!r}; valid keys are {list(VALID_THRESHOLD_KEYS)}"
        )
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise RagError(f"Threshold {key}={value!r} must be a number between 0 and 1")


def parse_min_args(args: Sequence[str]) -> dict[str, float]:
    """Parse ``["answer.accuracy=0.8", ...]`` (the ``--min`` options) into a dict."""
    mins: dict[str, float] = {}
    for arg in args:
        key, sep, raw = arg.partition("=")
        key = key.strip()
        try:
            value = float(raw)
        except ValueError:
            value = None
        if not sep or value is None:
            raise RagError(f"--min {arg!r} is not KEY=NUMBER, e.g. answer.accuracy=0.8")
        _validate_threshold(key, value)
        mins[key] = value
    return mins


def load_thresholds(path: str | Path) -> dict[str, float]:
    """Read minimums from a JSON object of dotted keys; keys starting with ``_`` are notes."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RagError(f"Cannot read thresholds file {str(path)!r}: {exc}") from exc
    if not isinstance(raw, dict):
        raise RagError(f"Thresholds file {str(path)!r} must hold a JSON object of key: minimum")
    mins = {k: v for k, v in raw.items() if not k.startswith("_")}
    for key, value in mins.items():
        _validate_threshold(key, value)
    return {k: float(v) for k, v in mins.items()}
