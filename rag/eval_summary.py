"""Aggregating per-question records into a report: overall, then per language.

The summary is computed from the per-question records alone, so reports of
separate runs (``--lang en`` and ``--lang ko``) can be merged.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypedDict

from .errors import RagError
from .eval_gold import LANGS
from .eval_scoring import CLAIM_STATUSES, FALLBACK_KINDS, QuestionResult


class EvalReport(TypedDict):
    """A plain dict, so ``json.dumps(report, ensure_ascii=False)`` just works."""

    n: int
    retrieval: dict[str, float | None]
    answer: dict[str, float | None]
    citation: dict[str, float | None]
    refusal: dict[str, float | None]
    latency_ms: dict[str, float | None]
    ttft_ms: dict[str, float | None]
    llm: dict[str, Any]
    rendering: dict[str, Any]
    by_lang: dict[str, dict[str, Any]]
    questions: list[QuestionResult]


def summarise(questions: Sequence[QuestionResult]) -> EvalReport:
    """The report for these per-question records: overall, then per language."""
    by_lang = {}
    for lang in LANGS:
        subset = [q for q in questions if q["lang"] == lang]
        by_lang[lang] = {"n": len(subset), **_metrics(subset)}
    return EvalReport(n=len(questions), **_metrics(questions), by_lang=by_lang,
                      questions=list(questions))  # fmt: skip


def merge_reports(reports: Sequence[dict[str, Any]]) -> EvalReport:
    """One report from several runs over disjoint gold questions (e.g. ``--lang en``, ``ko``)."""
    questions = [q for r in reports for q in r["questions"]]
    ids = [q["id"] for q in questions]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise RagError(f"Cannot merge: question(s) {dupes} appear in more than one report")
    return summarise(questions)


def load_report(path: str | Path) -> dict[str, Any]:
    """Read a report written by ``rag eval --json``."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(raw, dict) or not isinstance(raw.get("questions"), list):
            raise ValueError("no 'questions' list")
        required = set(QuestionResult.__annotations__)
        for q in raw["questions"]:
            if not isinstance(q, dict) or not required <= set(q):
                missing = sorted(required - set(q)) if isinstance(q, dict) else "all"
                raise ValueError(f"a question record lacks {missing}; re-run `rag eval`")
    except (OSError, ValueError) as exc:
        raise RagError(f"Cannot read eval report {str(path)!r}: {exc}") from exc
    return raw


def report_dict(report: EvalReport) -> dict[str, Any]:
    """A JSON-ready deep copy of the report (which is already a plain dict)."""
    return json.loads(json.dumps(report, ensure_ascii=False))


def _metrics(questions: Sequence[QuestionResult]) -> dict[str, dict[str, Any]]:
    answerable = [q for q in questions if q["answerable"]]
    unanswerable = [q for q in questions if not q["answerable"]]
    with_evidence = [q for q in answerable if q["cited_ok"] is not None]
    ranks = [q["hit_rank"] for q in with_evidence]
    latencies = [q["latency_ms"] for q in questions]
    ttfts = [q["ttft_ms"] for q in questions if q["ttft_ms"] is not None]
    n_cited = sum(q["n_cited"] for q in with_evidence)
    return {
        "retrieval": {
            **{f"hit@{k}": _mean([r is not None and r <= k for r in ranks]) for k in (1, 3, 5)},
            "mrr": _mean([1 / r if r else 0.0 for r in ranks]),
        },
        "answer": {
            "accuracy": _mean([q["answer_score"] == 1.0 for q in answerable]),
            "partial": _mean([q["answer_score"] for q in answerable]),
            "token_f1": _mean([q["token_f1"] for q in answerable]),
            "mean_chars": _mean([q["answer_chars"] for q in answerable if not q["refused"]]),
        },
        "citation": {
            "precision": _ratio(sum(q["n_cited_ok"] for q in with_evidence), n_cited),
            "recall": _mean([bool(q["cited_ok"]) for q in with_evidence]),
        },
        "refusal": {
            "accuracy": _mean([q["refused"] for q in unanswerable]),
            "false_refusals": _mean([q["refused"] for q in answerable]),
            "auroc": auroc(
                [q["confidence"] for q in answerable], [q["confidence"] for q in unanswerable]
            ),
        },
        "latency_ms": {"p50": _percentile(latencies, 50), "p95": _percentile(latencies, 95)},
        "ttft_ms": {"p50": _percentile(ttfts, 50), "p95": _percentile(ttfts, 95)},
        "llm": _llm_counts(questions),
        "rendering": _rendering_counts(questions),
    }


def _rendering_counts(questions: Sequence[QuestionResult]) -> dict[str, Any]:
    """What the LLM's renderings of the quotes did (``rag.llm.render``)."""
    tried = [q for q in questions if q.get("rendering_status")]
    answered = [q for q in questions if not q["refused"]]
    shown = [q for q in tried if q["rendering_status"] == "shown"]
    scored = [q for q in shown if q["rendering_score"] is not None]
    firsts = [q["rendering_first_ms"] for q in tried if q["rendering_first_ms"] is not None]
    done = [q["latency_ms"] for q in tried]
    statuses = [q["rendering_status"] for q in tried]
    return {
        "tried": len(tried),
        "answered": len(answered),
        "shown": len(shown),
        "shown_rate": _ratio(len(shown), len(answered)),
        "accuracy": _mean([q["rendering_score"] == 1.0 for q in scored]),
        "quote_accuracy": _mean([q["answer_score"] == 1.0 for q in scored]),
        **{s: statuses.count(s) for s in ("rejected", "refused", "restated")},
        "unsupported_shown": sum(q["rendering_unsupported"] for q in shown),
        "first_token_ms": {"p50": _percentile(firsts, 50), "p95": _percentile(firsts, 95)},
        "done_ms": {"p50": _percentile(done, 50), "p95": _percentile(done, 95)},
    }


def _llm_counts(questions: Sequence[QuestionResult]) -> dict[str, Any]:
    """What the LLM path did: generated answers shown, fallbacks by kind, claim verdicts."""
    kinds = [q["fallback"] for q in questions if q["fallback"]]
    return {
        "shown": sum(q["mode"] == "llm" for q in questions),
        "fallbacks": len(kinds),
        "fallback_kinds": {k: kinds.count(k) for k in (*FALLBACK_KINDS, "other")},
        "claims": {s: sum(q["claims"].get(s, 0) for q in questions) for s in CLAIM_STATUSES},
    }


def _mean(values: Sequence[float | bool]) -> float | None:
    return _ratio(sum(float(v) for v in values), len(values))


def _ratio(num: float, den: int) -> float | None:
    return None if den == 0 else round(num / den, 4)


def _percentile(values: Sequence[float], pct: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * pct / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return round(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo), 1)


def auroc(positives: Sequence[float], negatives: Sequence[float]) -> float | None:
    """P(an answerable question's confidence beats an unanswerable one's); ties count half."""
    if not positives or not negatives:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return round(wins / (len(positives) * len(negatives)), 4)
