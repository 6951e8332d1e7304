"""How far before the quoted sentence the question's names may be, chosen on validation.

The sentence answerer quotes a sentence only when it, or one of the ``SENTENCES_BACK``
sentences before it, names the question's names and places (rag.nearby_names). A longer
reach refuses fewer answerable questions, a shorter one more of the unanswerable; the
rule may also be off. A narrower reach is the stricter test of whether the quoted passage
is about whom the question names, so the reach kept is the narrowest that adds at most
``MAX_ADDED_FALSE_REFUSALS`` to the false refusals of the rule off, on the validation
split, each reach with its own similarity thresholds chosen there by the usual rule; the
test split reports it next to the rule off.
"""

from __future__ import annotations

from .legacy_scores import Item, choose_refusal_thresholds

# The sentence before is always near (a pronoun's antecedent, a bullet's heading), so the
# narrowest reach tried is one sentence; None is the rule off.
WINDOW_GRID: tuple[int | None, ...] = (None, 1, 2, 3)
# Set before the sweep, like the similarity threshold's 5% budget: one point.
MAX_ADDED_FALSE_REFUSALS = 0.01


def window_metrics(items: list[Item], thresholds: dict[str, float]) -> dict:
    answerable = [i for i in items if i.example.answer is not None]
    unanswerable = [i for i in items if i.example.answer is None]
    false_refusals = sum(i.refused(thresholds) for i in answerable) / max(len(answerable), 1)
    refusals = sum(i.refused(thresholds) for i in unanswerable) / max(len(unanswerable), 1)
    return {
        "thresholds": thresholds,
        "false_refusals": round(false_refusals, 4),
        "refusal_accuracy": round(refusals, 4),
        "balanced_accuracy": round((refusals + 1 - false_refusals) / 2, 4),
    }


def choose_window(
    by_window: dict[int | None, list[Item]], *, max_false_refusals: float
) -> tuple[int | None, dict]:
    """The narrowest window of ``by_window`` (validation items; None is the rule off)
    within the false-refusal budget, and every window's figures."""
    sweep = {}
    for window, items in by_window.items():
        thresholds = choose_refusal_thresholds(items, max_false_refusals=max_false_refusals)
        sweep[window] = window_metrics(items, thresholds)
    budget = sweep[None]["false_refusals"] + MAX_ADDED_FALSE_REFUSALS
    within = [w for w in by_window if w is not None and sweep[w]["false_refusals"] <= budget]
    return (min(within) if within else None), {str(w): v for w, v in sweep.items()}
