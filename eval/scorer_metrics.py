"""Figures for the answer scorer on one split: does the top unit hold the answer, and
does the best probability separate answerable from unanswerable questions (AUROC)?"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rag.answer_features import FEATURES
from rag.answer_scorer import AnswerScorer
from rag.constraints import unmentioned
from rag.mismatches import mismatches

from .answer_data import Dataset
from .scorer_rows import Rows


def unmentioned_refusals(data: Dataset, rows: Sequence[Rows]) -> set[str]:
    """Questions both answerers refuse before scoring (rag.refusals): a year, number,
    ordinal, place or name that no offered passage's whole article mentions."""
    out = set()
    for r in rows:
        ex = r.example
        articles = dict.fromkeys(data.passages[k].document for k in ex.passages)
        texts = [data.documents[a] for a in articles if a in data.documents]
        if texts and unmentioned(ex.question, texts):
            out.add(ex.qid)
    return out


def mismatch_refusals(scorer: AnswerScorer, data: Dataset, rows: Sequence[Rows]) -> set[str]:
    """Questions the unit answerer refuses because its top unit's sentence names another
    year or day than the question (rag.mismatches)."""
    out = set()
    for r in rows:
        _, i = best(scorer, r)
        if i is None:
            continue
        key, start, end = r.spans[i]
        passage = data.passages[key]
        unit = next((u for u in passage.units if (u.start, u.end) == (start, end)), None)
        span = (unit.sentence_start, unit.sentence_end) if unit is not None else (start, end)
        if mismatches(r.example.question, passage.text[span[0] : span[1]]):
            out.add(r.example.qid)
    return out


def unnamed_refusals(scorer: AnswerScorer, data: Dataset, rows: Sequence[Rows]) -> set[str]:
    """Questions the unit answerer refuses because its top unit's article never names
    one of the question's specifics (rag.answer; another offered article may)."""
    out = set()
    for r in rows:
        _, i = best(scorer, r)
        if i is None:
            continue
        passage = data.passages[r.spans[i][0]]
        article = data.documents.get(passage.document, passage.text)
        if unmentioned(r.example.question, [article]):
            out.add(r.example.qid)
    return out


def best(scorer: AnswerScorer, r: Rows) -> tuple[float, int | None]:
    """(highest probability, its row) — (0.0, None) when no unit was offered."""
    if len(r.rows) == 0:
        return 0.0, None
    p = scorer.probabilities(r.rows)
    i = int(np.argmax(p))
    return float(p[i]), i


def holds_answer(r: Rows, i: int | None) -> bool:
    if i is None or r.example.answer is None:
        return False
    key, a_start, a_end = r.example.answer
    k, s, e = r.spans[i]
    if r.example.sentence_only:  # the top unit lies in the sentence that carries the answer
        return k == key and s >= a_start and e <= a_end
    return k == key and s <= a_start and e >= a_end


def choose_threshold(
    scorer: AnswerScorer, rows: Sequence[Rows], *, max_false_refusals: float
) -> float:
    """The highest threshold that refuses at most ``max_false_refusals`` of the answerable."""
    scores = [best(scorer, r)[0] for r in rows if r.example.answer is not None]
    return threshold_below(scores, max_false_refusals=max_false_refusals, digits=6)


def threshold_below(scores: Sequence[float], *, max_false_refusals: float, digits: int) -> float:
    """Just under the score that leaves ``max_false_refusals`` of ``scores`` below it,
    rounded to ``digits``; 0.0 when there are no scores."""
    ordered = sorted(scores)
    k = int(np.floor(max_false_refusals * len(ordered)))
    step = 10.0**-digits
    return round(float(ordered[k]) - step, digits) if k < len(ordered) else 0.0


def auroc(positives: Sequence[float], negatives: Sequence[float]) -> float | None:
    """P(a random answerable scores above a random unanswerable); ties count half."""
    if not positives or not negatives:
        return None
    pos = np.asarray(positives)[:, None]
    neg = np.asarray(negatives)[None, :]
    return round(float((pos > neg).mean() + 0.5 * (pos == neg).mean()), 4)


def split_metrics(
    scorer: AnswerScorer,
    rows: Sequence[Rows],
    *,
    refused: set[str] = frozenset(),
    mismatched: set[str] = frozenset(),
    unnamed: set[str] = frozenset(),
) -> dict:
    """``refused``: questions refused before scoring (``unmentioned_refusals``);
    ``mismatched`` and ``unnamed``: refused after it when their top unit clears the
    threshold (``mismatch_refusals``, ``unnamed_refusals``)."""
    out = {"all": _metrics(scorer, rows, refused, mismatched, unnamed)}
    for source in sorted({r.example.source for r in rows}):
        part = [r for r in rows if r.example.source == source]
        out[source] = _metrics(scorer, part, refused, mismatched, unnamed)
    return out


def _metrics(
    scorer: AnswerScorer,
    rows: Sequence[Rows],
    refused: set[str],
    mismatched: set[str],
    unnamed: set[str] = frozenset(),
) -> dict:
    t = scorer.refusal_threshold
    answerable, unanswerable = [], []
    for r in rows:
        p, i = best(scorer, r)
        if r.example.qid in refused:
            p = -1.0  # below any threshold, and below every scored question for the AUROC
        (answerable if r.example.answer is not None else unanswerable).append((r, p, i))
    no = {r.example.qid for r, p, _ in answerable + unanswerable if p < t} | mismatched | unnamed
    answered = [(r, i) for r, p, i in answerable if r.example.qid not in no]
    chars = [r.spans[i][2] - r.spans[i][1] for r, i in answered if i is not None]
    sentence_chars = [_sentence_len(r, i) for r, i in answered if i is not None]
    kinds = sorted({r.example.kind for r, _, _ in unanswerable})
    return {
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "top_unit_holds_answer_when_answered": _mean([holds_answer(r, i) for r, i in answered]),
        "top_unit_holds_answer_all": _mean([holds_answer(r, i) for r, _, i in answerable]),
        "false_refusals": _mean([r.example.qid in no for r, _, _ in answerable]),
        "refusal_accuracy": _mean([r.example.qid in no for r, _, _ in unanswerable]),
        "refusal_accuracy_by_kind": {
            k: _mean([r.example.qid in no for r, _, _ in unanswerable if r.example.kind == k])
            for k in kinds
        },
        "refused_for_a_mismatch": {
            "answerable": _mean([_only_mismatch(r, p, t, mismatched) for r, p, _ in answerable]),
            "unanswerable": _mean(
                [_only_mismatch(r, p, t, mismatched) for r, p, _ in unanswerable]
            ),
        },
        "refused_for_an_unnamed_specific": {
            "answerable": _mean([_only_mismatch(r, p, t, unnamed) for r, p, _ in answerable]),
            "unanswerable": _mean([_only_mismatch(r, p, t, unnamed) for r, p, _ in unanswerable]),
        },
        "auroc": auroc([p for _, p, _ in answerable], [p for _, p, _ in unanswerable]),
        "mean_quote_chars": _mean(chars, digits=1),
        "mean_sentence_chars": _mean(sentence_chars, digits=1),
    }


def _only_mismatch(r: Rows, p: float, t: float, mismatched: set[str]) -> bool:
    return p >= t and r.example.qid in mismatched


def _sentence_len(r: Rows, i: int) -> int:
    share = r.rows[i][FEATURES.index("share_of_sentence")]
    return int(round((r.spans[i][2] - r.spans[i][1]) / max(share, 1e-6)))


def _mean(values: Sequence[float | bool], *, digits: int = 4) -> float | None:
    return round(float(np.mean(values)), digits) if len(values) else None
