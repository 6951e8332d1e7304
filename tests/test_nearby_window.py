"""Choosing how far before the quoted sentence the question's names may be
(eval.nearby_window): the narrowest reach within one point of added false refusals."""

from __future__ import annotations

from eval.answer_data import Example
from eval.legacy_scores import Item
from eval.nearby_window import MAX_ADDED_FALSE_REFUSALS, choose_window, window_metrics

THRESHOLDS = {"same": 0.35, "cross": 0.3}


def _items(answerable_refused: int, unanswerable_refused: int, n: int = 100) -> list[Item]:
    """``n`` answerable and ``n`` unanswerable questions, the given numbers refused by the
    rule (all score well above any threshold)."""
    out = []
    for i in range(n):
        ex = Example(f"a{i}", "q", ("p",), ("p", 0, 5), "val", "korquad", "answerable")
        out.append(Item(ex, 0.9, True, None, "same", not_nearby=i < answerable_refused))
    for i in range(n):
        ex = Example(f"u{i}", "q", ("p",), None, "val", "korquad", "changed")
        out.append(Item(ex, 0.9, False, None, "same", not_nearby=i < unanswerable_refused))
    return out


def test_the_figures_count_the_rules_refusals():
    m = window_metrics(_items(3, 40), THRESHOLDS)
    assert (m["false_refusals"], m["refusal_accuracy"]) == (0.03, 0.4)
    assert m["balanced_accuracy"] == round((0.4 + 0.97) / 2, 4)


def test_the_narrowest_reach_within_the_budget_is_chosen():
    assert MAX_ADDED_FALSE_REFUSALS == 0.01
    by_window = {
        None: _items(0, 0),
        0: _items(3, 50),  # three points more false refusals: over the budget
        1: _items(1, 48),  # one point: within
        2: _items(0, 45),
    }
    window, sweep = choose_window(by_window, max_false_refusals=0.05)
    assert window == 1
    assert set(sweep) == {"None", "0", "1", "2"} and sweep["0"]["false_refusals"] == 0.03


def test_the_rule_stays_off_when_every_reach_costs_too_much():
    by_window = {None: _items(0, 0), 0: _items(5, 60), 1: _items(4, 60)}
    assert choose_window(by_window, max_false_refusals=0.05)[0] is None
