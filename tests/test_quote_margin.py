"""Choosing how far below the best sentence the sentence answerer still quotes one
(eval.quote_margin): the figures per margin and the choice by their harmonic mean."""

from __future__ import annotations

import pytest

from eval.answer_data import Example
from eval.legacy_scores import Item
from eval.quote_margin import MARGIN_GRID, choose_quote_margin, quote_metrics
from rag.sentence_answerer import QUOTE_MARGIN

THRESHOLDS = {"same": 0.35, "cross": 0.3}


def _item(qid: str, ranked: list[tuple[float, bool]], *, best: float = 0.6, answerable=True):
    answer = ("p", 0, 5) if answerable else None
    example = Example(qid, "q", ("p",), answer, "val", "korquad", "answerable")
    holds = bool(ranked) and ranked[0][1]
    return Item(example, best, holds, None, "same", ranked=tuple(ranked))


def test_the_figures_count_quoted_sentences_and_answers():
    items = [
        _item("a", [(0.70, True), (0.69, False), (0.50, False)]),  # a tie: two quoted
        _item("b", [(0.70, False), (0.66, True)]),  # the answer is second, 0.04 below
        _item("refused", [(0.70, True)], best=0.2),  # under the threshold: not counted
        _item("unanswerable", [(0.70, False)], answerable=False),
    ]
    m0 = quote_metrics(items, THRESHOLDS, 0.0)
    assert m0["answered"] == 2 and m0["sentences_per_answer"] == 1.0
    assert m0["precision"] == 0.5 and m0["recall"] == 0.5
    m = quote_metrics(items, THRESHOLDS, 0.05)
    assert m["sentences_per_answer"] == 2.0  # a: 0.70, 0.69; b: 0.70, 0.66
    assert m["precision"] == 0.5 and m["recall"] == 1.0


def test_the_margin_with_the_best_harmonic_mean_is_chosen():
    # Mostly the best sentence holds the answer and the next one pads it: margin 0 wins.
    padded = [_item(str(i), [(0.7, True), (0.68, False)]) for i in range(8)]
    second = [_item(f"s{i}", [(0.7, False), (0.68, True)]) for i in range(2)]
    margin, sweep = choose_quote_margin(padded + second, THRESHOLDS)
    assert margin == 0.0 and set(sweep) == {str(m) for m in MARGIN_GRID}
    # When the answer is usually the second sentence, within 0.02, a margin that takes it wins.
    margin, _ = choose_quote_margin(padded[:2] + second * 4, THRESHOLDS)
    assert margin == pytest.approx(0.02)


def test_the_shipped_margin_is_in_the_grid_the_choice_is_made_from():
    assert QUOTE_MARGIN in MARGIN_GRID
