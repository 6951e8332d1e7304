"""Scoring behind ``rag eval``: gold questions in, metrics out.

The evaluator never produces answers itself: ``run_eval`` takes any callable
``question -> Answer`` (or a stream of ``str`` deltas ending with the Answer, as
``qa.ask_stream`` yields, which adds time to first token), so the extractive
answerer, the LLM answerer and test fakes are scored by the same code. Matching
is substring matching after ``textnorm.fold`` (NFKC, casefold, whitespace
collapse), as the gold format specifies. The summary is computed from the
per-question records alone, so reports of separate runs can be merged.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from tqdm.auto import tqdm

from .errors import RagError
from .textnorm import fold
from .types import Answer, Lang

logger = logging.getLogger(__name__)

LANGS: tuple[Lang, ...] = ("en", "ko")
_FIELDS = ("id", "question", "lang", "answerable", "answers", "evidence", "source")
# Metrics where higher is better; only these can carry a minimum.
_MIN_METRICS = (
    "retrieval.hit@1",
    "retrieval.hit@3",
    "retrieval.hit@5",
    "retrieval.mrr",
    "answer.accuracy",
    "answer.partial",
    "citation.precision",
    "citation.recall",
    "refusal.accuracy",
)
VALID_THRESHOLD_KEYS: tuple[str, ...] = _MIN_METRICS + tuple(
    f"by_lang.{lang}.{key}" for lang in LANGS for key in _MIN_METRICS
)


@dataclass(frozen=True)
class GoldItem:
    """One gold question. ``answers`` are alias groups; ``evidence`` source substrings."""

    id: str
    question: str
    lang: Lang
    answerable: bool
    answers: tuple[tuple[str, ...], ...]
    evidence: tuple[str, ...]
    source: str | None


class QuestionResult(TypedDict):
    id: str
    question: str
    lang: str
    answerable: bool
    answer: str
    refused: bool
    hit_rank: int | None
    answer_score: float | None
    cited_ok: bool | None
    n_cited: int
    n_cited_ok: int
    latency_ms: float
    ttft_ms: float | None  # until the first streamed delta; None if ``ask`` did not stream
    mode: str  # "llm": generated text shown; "extractive": extractive or a fallback
    fallback: str | None  # a FALLBACK_KINDS entry when a generated answer was replaced
    fallback_reason: str
    claims: dict[str, int]  # claim-check verdicts per status (empty for extractive)


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
    by_lang: dict[str, dict[str, Any]]
    questions: list[QuestionResult]


CLAIM_STATUSES = ("supported", "unsupported", "unchecked")
# Why a generated answer was replaced by the extractive one, from Answer.fallback_reason
# (texts in rag/llm/generate.py; tests/test_llm.py checks each against the real code).
FALLBACK_KINDS = {
    "no_citation": "no sentence cites a passage",
    "unsupported_fact": "failed the citation check",
    "empty": "the model returned nothing",
    "restates_question": "only restated the question",
    "refusal_overridden": "said the documents do not say",
}


def fallback_kind(reason: str) -> str | None:
    """The FALLBACK_KINDS key for an ``Answer.fallback_reason`` ("other" if unknown)."""
    if not reason:
        return None
    for kind in ("no_citation", "empty", "restates_question", "refusal_overridden",
                 "unsupported_fact"):  # fmt: skip
        if FALLBACK_KINDS[kind] in reason:
            return kind
    return "other"


# --- gold file -------------------------------------------------------------------


def load_gold(path: str | Path) -> list[GoldItem]:
    """Read a gold JSONL file; raises RagError naming the line and the problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8").lstrip("\ufeff")
    except (OSError, UnicodeDecodeError) as exc:
        raise RagError(f"Cannot read gold file {str(path)!r}: {exc}") from exc
    items: list[GoldItem] = []
    seen: set[str] = set()
    # Split on "\n" only: str.splitlines() would also break at U+2028 inside JSON strings.
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            item = _parse_item(line)
        except (ValueError, TypeError) as exc:
            raise RagError(f"{path}:{lineno}: {exc}") from exc
        if item.id in seen:
            raise RagError(f"{path}:{lineno}: duplicate id {item.id!r}; ids must be unique")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise RagError(f"Gold file {str(path)!r} has no questions; expected one JSON object a line")
    return items


def _parse_item(line: str) -> GoldItem:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"expected a JSON object, got {type(raw).__name__}")
    missing = [f for f in _FIELDS if f not in raw]
    if missing:
        raise ValueError(f"missing field(s) {missing}; every line needs {list(_FIELDS)}")
    for key in ("id", "question"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            raise ValueError(f"{key!r} must be a non-empty string, got {raw[key]!r}")
    if raw["lang"] not in LANGS:
        raise ValueError(f"'lang' is {raw['lang']!r}; use one of {list(LANGS)}")
    if not isinstance(raw["answerable"], bool):
        raise ValueError(f"'answerable' must be true or false, got {raw['answerable']!r}")
    answers = _alias_groups(raw["answers"])
    evidence = _strings(raw["evidence"], "evidence")
    source = raw["source"]
    if source is not None and (not isinstance(source, str) or not source.strip()):
        raise ValueError(f"'source' must be a file name or null, got {source!r}")
    if raw["answerable"] and (not answers or source is None):
        raise ValueError("answerable question needs non-empty 'answers' and a 'source'")
    if not raw["answerable"] and (answers or source is not None):
        raise ValueError("unanswerable question must have 'answers': [] and 'source': null")
    return GoldItem(
        raw["id"], raw["question"], raw["lang"], raw["answerable"], answers, evidence, source
    )


def _alias_groups(value: Any) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list):
        raise ValueError(f"'answers' must be a list of alias lists, got {value!r}")
    groups = []
    for group in value:
        if not isinstance(group, list) or not group:
            raise ValueError(f"each alias group must be a non-empty list, got {group!r}")
        groups.append(_strings(group, "answers"))
    return tuple(groups)


def _strings(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(f"{key!r} must be a list of strings, got {value!r}")
    for s in value:
        if not isinstance(s, str) or not fold(s):
            raise ValueError(f"{key!r} holds {s!r}; every entry must be a non-blank string")
    return tuple(value)


# --- per-question scoring --------------------------------------------------------


def score_answer(answer_text: str, alias_groups: Sequence[Sequence[str]]) -> float:
    """Fraction of alias groups with at least one alias in the answer (folded substring)."""
    if not alias_groups:
        raise RagError(
            "alias_groups is empty; unanswerable questions are scored by refusal, "
            "not by score_answer"
        )
    text = fold(answer_text)
    matched = sum(any(fold(a) in text for a in group) for group in alias_groups)
    return matched / len(alias_groups)


def evidence_rank(hits_texts: Sequence[str], evidence: Sequence[str]) -> int | None:
    """1-based rank of the first text containing any evidence string, or None."""
    needles = [fold(e) for e in evidence if fold(e)]
    for rank, text in enumerate(hits_texts, start=1):
        folded = fold(text)
        if any(n in folded for n in needles):
            return rank
    return None


def _contains_evidence(text: str, evidence: Sequence[str]) -> bool:
    return evidence_rank([text], evidence) == 1


def _score(
    item: GoldItem, answer: Answer, latency_ms: float, ttft_ms: float | None, top_k: int
) -> QuestionResult:
    has_evidence = item.answerable and bool(item.evidence)
    hit_rank = cited_ok = None
    n_cited = n_cited_ok = 0
    if has_evidence:
        hit_rank = evidence_rank([h.chunk.text for h in answer.hits[:top_k]], item.evidence)
        n_cited = len(answer.citations)
        n_cited_ok = sum(_contains_evidence(c.quote, item.evidence) for c in answer.citations)
        cited_ok = n_cited_ok > 0
    score = None
    if item.answerable:
        # A refusal is never a correct answer, whatever words it happens to contain.
        score = 0.0 if answer.refused else score_answer(answer.text, item.answers)
    claims = [c.status for c in answer.claims]
    return QuestionResult(
        id=item.id,
        question=item.question,
        lang=item.lang,
        answerable=item.answerable,
        answer=answer.text,
        refused=answer.refused,
        hit_rank=hit_rank,
        answer_score=None if score is None else round(score, 4),
        cited_ok=cited_ok,
        n_cited=n_cited,
        n_cited_ok=n_cited_ok,
        latency_ms=round(latency_ms, 1),
        ttft_ms=None if ttft_ms is None else round(ttft_ms, 1),
        mode=answer.mode,
        fallback=fallback_kind(answer.fallback_reason),
        fallback_reason=answer.fallback_reason,
        claims={status: claims.count(status) for status in CLAIM_STATUSES if status in claims},
    )


# --- running and aggregating -----------------------------------------------------


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
            answer, ttft_ms = _collect(ask(item.question), start)
        except Exception as exc:
            raise RagError(f"ask() failed on gold question {item.id!r}: {exc}") from exc
        latency_ms = (time.perf_counter() - start) * 1000
        if not isinstance(answer, Answer):
            raise RagError(
                f"ask() returned {type(answer).__name__} for {item.id!r}; it must return "
                "rag.types.Answer (or yield str deltas, then the Answer)"
            )
        results.append(_score(item, answer, latency_ms, ttft_ms, top_k))
        logger.debug("%s: %s", item.id, results[-1])
    return summarise(results)


def _collect(result: Any, start: float) -> tuple[Any, float | None]:
    """The Answer (the last item of a stream) and the ms until the first delta."""
    if not isinstance(result, Iterator):
        return result, None
    answer: Any = None
    ttft_ms = None
    for item in result:
        if isinstance(item, str):
            if item and ttft_ms is None:
                ttft_ms = (time.perf_counter() - start) * 1000
        else:
            answer = item
    return answer, ttft_ms


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
        },
        "citation": {
            "precision": _ratio(sum(q["n_cited_ok"] for q in with_evidence), n_cited),
            "recall": _mean([bool(q["cited_ok"]) for q in with_evidence]),
        },
        "refusal": {
            "accuracy": _mean([q["refused"] for q in unanswerable]),
            "false_refusals": _mean([q["refused"] for q in answerable]),
        },
        "latency_ms": {"p50": _percentile(latencies, 50), "p95": _percentile(latencies, 95)},
        "ttft_ms": {"p50": _percentile(ttfts, 50), "p95": _percentile(ttfts, 95)},
        "llm": _llm_counts(questions),
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


# --- presentation and thresholds -------------------------------------------------

_TABLE_ROWS = (
    ("n",)
    + _MIN_METRICS
    + ("refusal.false_refusals", "latency_ms.p50", "latency_ms.p95", "ttft_ms.p50", "ttft_ms.p95")
)
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
    for key in _TABLE_ROWS + (_LLM_ROWS if llm else ()):
        ms = key.startswith(("latency_ms", "ttft_ms"))
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
    for key, minimum in mins.items():
        _validate_threshold(key, minimum)
        value = _lookup(report, key)
        if value is None:
            failures.append(f"{key} is null (no questions to measure it on); minimum is {minimum}")
        elif value < minimum:
            failures.append(f"{key} = {value:.4f} is below the minimum {minimum}")
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
