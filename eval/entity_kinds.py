"""Which answer kinds the sentence answerer checks (rag.answer_entities), chosen on validation.

The sentence answerer quotes a sentence for "Which company…", "Which country…" only
when it names one the question does not. The same check can be made for "who" and
"where". Each kind is tried on its own over the validation split of the scorer's data
(KorQuAD and Belebele, with the constructed unanswerable questions), with the
answerer's own thresholds and every other rule as shipped; a kind is kept when its
check does not lower balanced accuracy there and adds at most ``MAX_ADDED_FALSE_REFUSALS``
to the false refusals. The test split reports the kept kinds next to no check.

    python -m eval.entity_kinds    # about 7 min with the embeddings cached, 2 h without

Writes ``bench/results/entity_kinds.json``; warns when the kinds chosen differ from
``rag.answer_entities.CHECKED_KINDS``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from rag.answer_entities import CHECKED_KINDS, KINDS, asked_kind, sentences_naming_the_kind
from rag.answer_thresholds import REFUSAL_THRESHOLDS
from rag.config import Settings
from rag.mismatches import mismatches
from rag.sentence_answerer import SELECT_MARGIN
from rag.sentence_candidates import Candidate
from rag.textnorm import detect_lang

from . import legacy_scores as legacy
from .scorer_metrics import unmentioned_refusals
from .train_scorer import DATA, build_rows, load_data

log = logging.getLogger(__name__)
RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results" / "entity_kinds.json"
# Set before the sweep, like the nearby-names reach's budget: one point.
MAX_ADDED_FALSE_REFUSALS = 0.01


@dataclass(frozen=True)
class Ranked:
    """One question as the sentence answerer sees it just before the kind check."""

    question: str
    split: str
    source: str
    answerable: bool
    refused: bool  # by a rule before the check (specifics, nearby names)
    pair: str
    ranked: tuple[Candidate, ...]
    holds: tuple[bool, ...]  # whether each ranked sentence holds the answer
    # each ranked sentence's similarity as the threshold sees it (with its page's title:
    # ``SentenceAnswerer.with_title``), for those the kind check may leave on top
    judged: tuple[float, ...] = ()


def outcome(item: Ranked, kinds: frozenset[str]) -> tuple[bool, bool]:
    """(refused, the quoted sentence holds the answer) with ``kinds`` checked."""
    if item.refused or not item.ranked:
        return True, False
    ranked = list(item.ranked)
    kept, kind = sentences_naming_the_kind(
        item.question, ranked, margin=SELECT_MARGIN, checked=kinds
    )
    if kind is not None:
        return True, False
    top = kept[0]  # then, as in the answerer, the threshold and the period or date check
    similarity = item.judged[ranked.index(top)] if item.judged else top.similarity
    refused = similarity < REFUSAL_THRESHOLDS[item.pair] or bool(
        mismatches(item.question, top.text)
    )
    return refused, (not refused) and item.holds[ranked.index(top)]


def metrics(items: Sequence[Ranked], kinds: frozenset[str]) -> dict:
    answerable = [i for i in items if i.answerable]
    unanswerable = [i for i in items if not i.answerable]
    on_answerable = [outcome(i, kinds) for i in answerable]
    false_refusals = sum(r for r, _ in on_answerable) / max(len(answerable), 1)
    refusals = sum(outcome(i, kinds)[0] for i in unanswerable) / max(len(unanswerable), 1)
    answered = [h for r, h in on_answerable if not r]
    checked = sum(asked_kind(i.question, checked=kinds) is not None for i in items)
    return {
        "questions_checked": checked,
        "false_refusals": round(false_refusals, 4),
        "refusal_accuracy": round(refusals, 4),
        "balanced_accuracy": round((refusals + 1 - false_refusals) / 2, 4),
        "top_holds_answer_when_answered": round(sum(answered) / max(len(answered), 1), 4),
    }


def choose_kinds(items: Sequence[Ranked]) -> tuple[frozenset[str], dict]:
    """The kinds whose check, each on its own, keeps balanced accuracy and the false
    refusal budget on ``items``; and every kind's figures."""
    off = metrics(items, frozenset())
    sweep = {"none": off}
    chosen = set()
    for kind in KINDS:
        m = sweep[kind] = metrics(items, frozenset({kind}))
        added = m["false_refusals"] - off["false_refusals"]
        if m["balanced_accuracy"] >= off["balanced_accuracy"] and added <= MAX_ADDED_FALSE_REFUSALS:
            chosen.add(kind)
    return frozenset(chosen), sweep


def ranked_items(data, rows, context, vectors, settings) -> list[Ranked]:
    """The validation and test questions, scored by the sentence answerer's rules up to
    the kind check (as ``eval.legacy_scores.legacy_items`` does)."""
    refused_before = unmentioned_refusals(data, rows)
    answerer = legacy.LegacyAnswerer(vectors.cached, settings)
    out = []
    for r in tqdm(rows, desc="sentence answerer"):
        ex = r.example
        docs, articles, scored, absent = legacy.scored_sentences(
            answerer, ex, data, context["passages"], context["questions"][ex.qid]
        )
        ranked, far = scored, []
        if not absent:
            ranked, far = legacy.sentences_naming_nearby(
                ex.question, scored, docs, margin=SELECT_MARGIN, topic_of=articles
            )
        q, lang = context["questions"][ex.qid], detect_lang(ex.question)
        judged = _judged(answerer, ex.question, ranked, docs, q, lang)
        titled = judged[0] if judged else None
        item = legacy._item(ex, ranked or scored, docs, absent, bool(far), refused_before, titled)
        refused = item.best == -2 or item.unnamed or item.not_nearby or not ranked
        out.append(
            Ranked(
                ex.question,
                ex.split,
                ex.source,
                ex.answer is not None,
                refused,
                item.pair,
                tuple(ranked),
                tuple(legacy._holds(ex, c) for c in ranked),
                judged,
            )  # fmt: skip
        )
    return out


def _judged(answerer, question, ranked, docs, query, lang) -> tuple[float, ...]:
    """The similarity the threshold sees for the top sentence and, when the question asks
    for a kind, for each sentence within the margin that the check may put on top; the
    others' own (the kind check never reaches them)."""
    if not ranked:
        return ()
    kinded = asked_kind(question, checked=frozenset(KINDS)) is not None
    floor = ranked[0].score - SELECT_MARGIN
    return tuple(
        answerer.with_title(c, docs, query, lang=lang)
        if i == 0 or (kinded and c.score >= floor)
        else c.similarity
        for i, c in enumerate(ranked)
    )


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(prog="python -m eval.entity_kinds", description=__doc__)
    p.add_argument("--data", type=Path, default=DATA, help="folder with korquad1/ and belebele/")
    p.add_argument("--results", type=Path, default=RESULTS, help="figures JSON to write")
    args = p.parse_args(argv)
    data = load_data(args.data)
    settings = Settings.from_env()
    rows, context, vectors = build_rows(data, settings)
    rows = [r for r in rows if r.example.split in ("val", "test")]
    items = ranked_items(data, rows, context, vectors, settings)
    val = [i for i in items if i.split == "val"]
    test = [i for i in items if i.split == "test"]
    chosen, sweep = choose_kinds(val)
    results = {
        "chosen_on_validation": sorted(chosen),
        "max_added_false_refusals": MAX_ADDED_FALSE_REFUSALS,
        "val": sweep,
        "test": {
            "none": metrics(test, frozenset()),
            "chosen": metrics(test, chosen),
            **{
                s: {
                    "none": metrics([i for i in test if i.source == s], frozenset()),
                    "chosen": metrics([i for i in test if i.source == s], chosen),
                }
                for s in ("korquad", "belebele")
            },
        },  # fmt: skip
        "model": settings.model,
        "precision": settings.precision,
    }
    print(json.dumps(results, indent=1))
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", "utf-8")
    if chosen != CHECKED_KINDS:
        log.warning(
            "the kinds chosen on validation, %s, differ from rag.answer_entities.CHECKED_KINDS %s",
            sorted(chosen),
            sorted(CHECKED_KINDS),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
