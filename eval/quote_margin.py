"""How far below the best sentence a sentence is still quoted, chosen on validation.

The sentence answerer quotes its best sentence and those within a margin of its score
(``rag.sentence_answerer.QUOTE_MARGIN``). A wider margin finds the answer more often
(recall) but pads it with sentences that do not hold it (citation precision). The margin
kept is the one with the highest harmonic mean of the two on the validation split's
answered questions; the test split reports it next to the margin before (0.08).
"""

from __future__ import annotations

from .legacy_scores import Item

MARGIN_GRID = (0.0, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1)
MAX_QUOTED = 3  # the answerer's default cap (Settings.answer_max_sentences)


def quote_metrics(items: list[Item], thresholds: dict[str, float], margin: float) -> dict:
    """Citation precision (quoted sentences that hold the answer, over all quoted), recall
    (answers with at least one such sentence) and sentences per answer, over the answered
    answerable questions of ``items``."""
    quoted = holding = found = answered = 0
    for item in items:
        if item.example.answer is None or item.refused(thresholds) or not item.ranked:
            continue
        best = item.ranked[0][0]
        chosen = [holds for score, holds in item.ranked if score >= best - margin][:MAX_QUOTED]
        answered += 1
        quoted += len(chosen)
        holding += sum(chosen)
        found += any(chosen)
    precision = holding / quoted if quoted else 0.0
    recall = found / answered if answered else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "answered": answered,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "sentences_per_answer": round(quoted / answered, 3) if answered else None,
    }


def choose_quote_margin(items: list[Item], thresholds: dict[str, float]) -> tuple[float, dict]:
    """The margin of ``MARGIN_GRID`` with the highest F1 on ``items`` (the smaller on a
    tie), and every margin's figures."""
    sweep = {m: quote_metrics(items, thresholds, m) for m in MARGIN_GRID}
    best = max(MARGIN_GRID, key=lambda m: (sweep[m]["f1"], -m))
    return best, {str(m): v for m, v in sweep.items()}
