"""Train the answer scorer and report it: ``python -m eval.train_scorer``.

Train on the train split (KorQuAD articles and Belebele passages, with constructed
unanswerable questions), pick the L2 strength and the refusal threshold on the
validation split, and report on the test split, which neither saw. Writes the
weights (``rag/data/answer_scorer.json``), the figures (``bench/results/answer_scorer.json``)
and the generated region of docs/answers.md. ``--check`` retrains and compares with
the committed weights' test figures instead of writing anything.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from rag.answer_features import FEATURES
from rag.answer_scorer import DEFAULT_SCORER, AnswerScorer, fit_logistic
from rag.answer_thresholds import REFUSAL_THRESHOLDS
from rag.config import Settings
from rag.nearby_names import SENTENCES_BACK
from rag.sentence_answerer import QUOTE_MARGIN

from .answer_data import SEED, Dataset, load_belebele, load_korquad
from .legacy_scores import choose_refusal_thresholds, legacy_items, summaries
from .nearby_window import WINDOW_GRID, choose_window, window_metrics
from .quote_margin import choose_quote_margin, quote_metrics
from .scorer_metrics import (
    choose_threshold,
    mismatch_refusals,
    split_metrics,
    unmentioned_refusals,
    unnamed_refusals,
)
from .scorer_report import write_docs
from .scorer_rows import RowBuilder, Rows, constructed
from .scorer_vectors import ScorerVectors

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "benchdata"
RESULTS = ROOT / "bench" / "results" / "answer_scorer.json"
L2_GRID = (0.1, 1.0, 10.0, 100.0)
MAX_FALSE_REFUSALS = 0.05  # the trade-off: refuse as much as this rate on answerable allows


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m eval.train_scorer", description=__doc__)
    p.add_argument("--data", type=Path, default=DATA, help="folder with korquad1/ and belebele/")
    p.add_argument("--out", type=Path, default=DEFAULT_SCORER, help="weights JSON to write")
    p.add_argument("--results", type=Path, default=RESULTS, help="figures JSON to write")
    p.add_argument("--docs", type=Path, default=ROOT / "docs" / "answers.md")
    p.add_argument("--check", action="store_true", help="retrain; compare, write nothing")
    p.add_argument(
        "--no-legacy", dest="legacy", action="store_false",
        help="skip the previous answerer on the test split (it embeds its sentences: minutes)",
    )  # fmt: skip
    return p.parse_args(argv)


def load_data(folder: Path) -> Dataset:
    kq = load_korquad(folder / "korquad1" / "KorQuAD_v1.0_dev.json")
    bb = load_belebele(
        folder / "belebele" / "kor_Hang.jsonl", folder / "belebele" / "eng_Latn.jsonl"
    )
    return Dataset(
        passages={**kq.passages, **bb.passages},
        documents={**kq.documents, **bb.documents},
        examples=kq.examples + bb.examples,
    )


def build_rows(data: Dataset, settings: Settings) -> tuple[list[Rows], dict, ScorerVectors]:
    """Rows for every example, and what the previous answerer needs to read the same ones."""
    vectors = ScorerVectors(settings)
    passage_vectors = vectors.passages(list(data.passages.values()))
    builder = RowBuilder(data, passage_vectors)
    answerable = data.examples
    q_vecs = vectors.questions([ex.question for ex in answerable])
    answerable = [builder.with_negatives(ex, q) for ex, q in zip(answerable, q_vecs, strict=True)]
    unanswerable = constructed(data, answerable, seed=SEED)
    u_vecs = vectors.questions([ex.question for ex in unanswerable])
    unanswerable = [
        builder.with_negatives(replace(ex, passages=ex.passages[:1]), q)
        if ex.kind == "no_passage"
        else ex  # fmt: skip
        for ex, q in zip(unanswerable, u_vecs, strict=True)
    ]
    pairs = list(zip(answerable + unanswerable, np.concatenate([q_vecs, u_vecs]), strict=True))
    rows = [builder.rows(ex, q) for ex, q in tqdm(pairs, desc="feature rows")]
    context = {"passages": passage_vectors, "questions": {ex.qid: q for ex, q in pairs}}
    return rows, context, vectors


def stack(rows: list[Rows]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, labels, and weights that give each source the same total weight: English
    questions over Korean text are half of what people ask, but few in the public data."""
    x = np.concatenate([r.rows[r.weights > 0] for r in rows])
    y = np.concatenate([r.labels[r.weights > 0] for r in rows])
    sources = np.concatenate([[r.example.source] * int((r.weights > 0).sum()) for r in rows])
    w = np.ones(len(y))
    for source in set(sources):
        mask = sources == source
        w[mask] = len(y) / (len(set(sources)) * mask.sum())
    return x, y, w


# Features that carry nothing when an English question meets Korean text (no shared words).
CROSS_LINGUAL_BLANK = ("terms_unit", "terms_unit_gap", "terms_sentence")


def cross_lingual_copies(rows: list[Rows]) -> list[Rows]:
    """Korean questions again, as if asked in English: shared-word features blanked and the
    question-language features set. Belebele alone has few English questions; this teaches
    the scorer to rank by meaning when words cannot match."""
    blank = [FEATURES.index(f) for f in CROSS_LINGUAL_BLANK]
    en, en_sim, sim = (FEATURES.index(f) for f in ("question_en", "question_en_x_sim", "sim"))
    out = []
    for r in rows:
        if r.example.source != "korquad":
            continue
        x = r.rows.copy()
        x[:, blank] = 0.0
        x[:, en] = 1.0
        x[:, en_sim] = x[:, sim]
        out.append(replace(r, rows=x, example=replace(r.example, source="korquad-as-en")))
    return out


def train(rows: list[Rows]) -> tuple[AnswerScorer, dict]:
    train_rows = [r for r in rows if r.example.split == "train"]
    train_rows += cross_lingual_copies(train_rows)
    val_rows = [r for r in rows if r.example.split == "val"]
    x, y, sw = stack(train_rows)
    xv, yv, swv = stack(val_rows)
    losses = {}
    for l2 in L2_GRID:
        mean, scale, w, b = fit_logistic(x, y, l2=l2, sample_weight=sw)
        p = AnswerScorer(mean, scale, w, b, refusal_threshold=0.0).probabilities(xv)
        p = np.clip(p, 1e-9, 1 - 1e-9)
        loss = -(yv * np.log(p) + (1 - yv) * np.log(1 - p))
        losses[l2] = float(np.average(loss, weights=swv))
    l2 = min(losses, key=losses.get)
    mean, scale, w, b = fit_logistic(x, y, l2=l2, sample_weight=sw)
    scorer = AnswerScorer(mean, scale, w, b, refusal_threshold=0.0)
    threshold = choose_threshold(scorer, val_rows, max_false_refusals=MAX_FALSE_REFUSALS)
    scorer = replace(scorer, refusal_threshold=threshold)
    chosen = {"l2": l2, "val_log_loss": losses, "threshold": threshold,
              "max_false_refusals": MAX_FALSE_REFUSALS, "train_rows": int(len(y)),
              "train_positives": int(y.sum())}  # fmt: skip
    return scorer, chosen


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    started = time.perf_counter()
    data = load_data(args.data)
    settings = Settings.from_env()
    rows, context, vectors = build_rows(data, settings)
    scorer, chosen = train(rows)
    test_rows = [r for r in rows if r.example.split == "test"]
    val_rows = [r for r in rows if r.example.split == "val"]
    refused = unmentioned_refusals(data, [r for r in rows if r.example.split != "train"])
    mismatched = mismatch_refusals(scorer, data, val_rows + test_rows)
    unnamed = unnamed_refusals(scorer, data, val_rows + test_rows)
    results = {
        "features": list(FEATURES),
        "weights": dict(zip(FEATURES, (round(float(v), 4) for v in scorer.weights), strict=True)),
        "chosen_on_validation": chosen,
        "counts": _counts(rows),
        "val": split_metrics(
            scorer, val_rows, refused=refused, mismatched=mismatched, unnamed=unnamed
        ),
        "test": split_metrics(
            scorer, test_rows, refused=refused, mismatched=mismatched, unnamed=unnamed
        ),
        "unmentioned_refusals_test": _rule_shares(test_rows, refused),
        "seconds": round(time.perf_counter() - started, 1),
        "model": settings.model,
        "precision": settings.precision,
    }
    if args.legacy:
        common = (data, context["passages"], context["questions"], vectors.cached, settings)
        val_by = legacy_items(val_rows, *common, refused=refused, windows=WINDOW_GRID)
        window, window_sweep = choose_window(val_by, max_false_refusals=MAX_FALSE_REFUSALS)
        val_items = val_by[window]
        thresholds = choose_refusal_thresholds(val_items, max_false_refusals=MAX_FALSE_REFUSALS)
        results["previous_answerer_thresholds"] = thresholds
        test_by = legacy_items(test_rows, *common, refused=refused, windows=(None, window))
        test_items = test_by[window]
        results["previous_answerer_test"] = summaries(test_items, thresholds=thresholds)
        off = choose_refusal_thresholds(val_by[None], max_false_refusals=MAX_FALSE_REFUSALS)
        results["previous_answerer_nearby"] = {
            "chosen_on_validation": window,
            "val": window_sweep,
            "test": {
                str(window): window_metrics(test_items, thresholds),
                "None": window_metrics(test_by[None], off),
            },
        }
        if window != SENTENCES_BACK:
            log.warning(
                "the nearby-names window chosen on validation, %s, differs from "
                "rag.nearby_names.SENTENCES_BACK %s",
                window,
                SENTENCES_BACK,
            )
        margin, val_sweep = choose_quote_margin(val_items, thresholds)
        results["previous_answerer_quote_margin"] = {
            "chosen_on_validation": margin,
            "val": val_sweep,
            "test": {str(m): quote_metrics(test_items, thresholds, m) for m in (margin, 0.08)},
        }
        if margin != QUOTE_MARGIN:
            log.warning(
                "the quote margin chosen on validation, %s, differs from "
                "rag.sentence_answerer.QUOTE_MARGIN %s",
                margin,
                QUOTE_MARGIN,
            )
        if thresholds != REFUSAL_THRESHOLDS:
            log.warning(
                "the sentence answerer's thresholds chosen on validation, %s, differ from "
                "rag.answer_thresholds.REFUSAL_THRESHOLDS %s",
                thresholds,
                REFUSAL_THRESHOLDS,
            )
    print(json.dumps({k: results[k] for k in ("chosen_on_validation", "test")}, indent=1))
    if args.check:
        committed = json.loads(args.results.read_text(encoding="utf-8"))["test"]
        same = json.dumps(committed, sort_keys=True) == json.dumps(results["test"], sort_keys=True)
        print("test figures match the committed ones" if same else "test figures DIFFER")
        return 0 if same else 1
    scorer = replace(scorer, meta={"trained_on": "KorQuAD 1.0 dev (train articles), Belebele "
                                   "ko/en (train passages)", "l2": chosen["l2"],
                                   "test": results["test"]["all"]})  # fmt: skip
    scorer.save(args.out)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", "utf-8")
    write_docs(args.docs, results)
    return 0


def _rule_shares(rows: list[Rows], refused: set[str]) -> dict:
    """Share of each kind of question the unmentioned-specifics rule refuses on its own."""
    kinds: dict[str, list[bool]] = {}
    for r in rows:
        kinds.setdefault(r.example.kind, []).append(r.example.qid in refused)
    return {k: round(sum(v) / len(v), 4) for k, v in sorted(kinds.items())}


def _counts(rows: list[Rows]) -> dict:
    out: dict = {}
    for r in rows:
        key = f"{r.example.split}.{r.example.source}.{r.example.kind}"
        out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items()))


if __name__ == "__main__":
    sys.exit(main())
