"""The fusion sweep, on the tuning half only: which weights the product ships.

Questions are grouped by script, since a Korean question's ranking depends only
on the Korean weights and an English one's only on the English weights. A
setting is judged by the mean over the script's language pairs of
(hit@1 + nDCG@10) / 2, so each pair counts the same however many questions it
has; beside it the worst gain over the best single method (dense or BM25,
whichever is higher on that pair and metric) shows whether the product falls
behind either of its parts anywhere. Choosing by that worst gain instead traded
several points of Korean quality for a tenth of a point on one English metric,
so it is reported, not optimised. The search is staged: normalisation (with the
best same-script share of each; only theoretical min-max is eligible), then the
coverage exponent, the top-margin floor, the other-script share and the
same-script share again around the best; RRF weights for comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, replace

from rag.fusion import FusionWeights, fuse, rrf

from .bench_candidates import Pool, rankings
from .metrics import score_rankings

SCRIPT_TASKS = {
    "ko": ("korquad", "belebele-ko-ko", "belebele-ko-en"),
    "en": ("belebele", "belebele-en-en"),
}
SHARES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
CROSS = (0.0, 0.05, 0.1, 0.2, 0.4)
POWERS = (0.0, 0.5, 1.0, 2.0)
MARGIN_FLOORS = (1.0, 0.6, 0.3, 0.0)
FLOORS = (0.0, 0.2, 0.3, 0.4)
RRF_BM25 = (0.0, 0.2, 0.4, 0.6, 1.0, 1.5, 2.0, 3.0)


Objective = list  # [mean of (hit@1 + nDCG@10) / 2, worst gain over the best single method]
METRICS = ("hit@1", "ndcg@10")


def objective(scores: dict[str, dict], reference: dict[str, dict]) -> Objective:
    """``reference``: per task, the best single method's score for each of ``METRICS``."""
    gains = [scores[t][m] - reference[t][m] for t in scores for m in METRICS]
    mean = sum((s["hit@1"] + s["ndcg@10"]) / 2 for s in scores.values()) / len(scores)
    return [mean, min(gains)]


def best_single(single: dict[str, dict[str, dict]]) -> dict[str, dict]:
    """Per task and metric, the higher of dense and BM25 (``single[task][method]``)."""
    return {t: {m: max(s["dense"][m], s["bm25"][m]) for m in METRICS} for t, s in single.items()}


def evaluate(pools: dict[str, Sequence[Pool]], golds: dict[str, list[str]], score) -> dict:
    """Metrics per task for one fusion ``score(cand) -> (n,)``."""
    return {t: score_rankings(rankings(pools[t], score), golds[t]) for t in pools}


def _set(w: FusionWeights, script: str, *, same: float, cross: float) -> FusionWeights:
    return replace(w, **{f"bm25_{script}_same": same, f"bm25_{script}_cross": cross})


class Sweep:
    """Records every setting tried, per script, on the tuning pools."""

    def __init__(self, pools: dict[str, Sequence[Pool]], golds: dict[str, list[str]], reference):
        self.pools, self.golds, self.reference = pools, golds, reference
        self.rows: dict[str, list[dict]] = {s: [] for s in SCRIPT_TASKS}

    def trial(self, script: str, w: FusionWeights, stage: str) -> Objective:
        tasks = [t for t in SCRIPT_TASKS[script] if t in self.pools]
        scores = evaluate({t: self.pools[t] for t in tasks}, self.golds, lambda c: fuse(c, w))
        obj = objective(scores, self.reference)
        self.rows[script].append(
            {"stage": stage, "weights": _script_view(w, script), "scores": scores, "obj": obj}
        )
        return obj

    def best_share(self, script: str, w: FusionWeights, stage: str, *, cross: float = 0.0):
        """The same-script share that scores best with everything else in ``w`` fixed."""
        trials = [(self.trial(script, _set(w, script, same=s, cross=cross), stage), s)
                  for s in SHARES]  # fmt: skip
        obj, share = max(trials)
        return _set(w, script, same=share, cross=cross), obj

    def rrf(self, script: str) -> list[dict]:
        tasks = [t for t in SCRIPT_TASKS[script] if t in self.pools]
        out = []
        for wb in RRF_BM25:
            scores = evaluate(
                {t: self.pools[t] for t in tasks},
                self.golds,
                lambda c, wb=wb: rrf(c.dense, c.bm25, w_dense=1.0, w_bm25=wb),
            )
            out.append({"stage": "rrf", "weights": {"rrf_bm25": wb}, "scores": scores,
                        "obj": objective(scores, self.reference)})  # fmt: skip
        return out


def _script_view(w: FusionWeights, script: str) -> dict:
    return {
        "norm": w.norm,
        "dense_floor": w.dense_floor,
        "coverage_power": w.coverage_power,
        "margin_floor": w.margin_floor,
        "same": getattr(w, f"bm25_{script}_same"),
        "cross": getattr(w, f"bm25_{script}_cross"),
    }


def _both(sw: Sweep, w: FusionWeights, stage: str) -> tuple[FusionWeights, Objective]:
    """Best same-script share for each script under ``w``'s shared settings, and the
    objective of both: the sum of means (then the worse script's worst gain)."""
    objs = []
    for script in SCRIPT_TASKS:
        w, obj = sw.best_share(script, w, stage)
        objs.append(obj)
    return w, [sum(o[0] for o in objs), min(o[1] for o in objs)]


def sweep(
    pools: dict[str, Sequence[Pool]], golds: dict[str, list[str]], single: dict[str, dict]
) -> dict:
    """The staged search. Shared settings (normalisation, dense floor, coverage exponent)
    are picked by the sum of both scripts' objectives; shares per script."""
    sw = Sweep(pools, golds, best_single(single))
    base = FusionWeights(bm25_ko_cross=0.0, bm25_en_cross=0.0, coverage_power=0.0)
    options = [("tmm", f) for f in FLOORS] + [("minmax", 0.0), ("zscore", 0.0)]
    best, best_total = base, [-1.0, -1.0]
    for norm, floor in options:
        w, total = _both(sw, replace(base, norm=norm, dense_floor=floor), "normalisation")
        # min-max and z-scores are measured, not chosen: they depend on how many
        # candidates were fetched, so a top-5 search would rank unlike a top-50 one.
        if norm == "tmm" and total > best_total:
            best, best_total = w, total
    for power in POWERS:
        w, total = _both(sw, replace(best, coverage_power=power), "coverage")
        if total > best_total:
            best, best_total = w, total
    for floor in MARGIN_FLOORS:
        w, total = _both(sw, replace(best, margin_floor=floor), "margin")
        if total > best_total:
            best, best_total = w, total
    for script in SCRIPT_TASKS:
        same = getattr(best, f"bm25_{script}_same")
        trials = [(sw.trial(script, _set(best, script, same=same, cross=c), "cross"), c)
                  for c in CROSS]  # fmt: skip
        _, cross = max(trials)
        best, _ = sw.best_share(script, best, "refit", cross=cross)
    return {
        "weights": asdict(best),
        "rows": sw.rows,
        "rrf": {script: sw.rrf(script) for script in SCRIPT_TASKS},
    }
