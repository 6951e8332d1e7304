"""The tuning-half fusion sweep as Markdown: what was tried and why the product has its weights.

One table per question script. Each row is a setting with the sweep's objective
(the mean over the script's pairs of (hit@1 + nDCG@10) / 2), its worst gain over
the best single method across those pairs and both metrics, and the hit@1 and
nDCG@10 of each pair; for the normalisation and coverage stages, only
the best same-script share of each option is shown.
"""

from __future__ import annotations

SCRIPT_NAMES = {"ko": "Korean questions", "en": "English questions"}
SHORT = {
    "korquad": "KorQuAD",
    "belebele-ko-ko": "ko→ko",
    "belebele": "en→ko",
    "belebele-en-en": "en→en",
    "belebele-ko-en": "ko→en",
}


def _label(row: dict) -> str:
    w = row["weights"]
    if "rrf_bm25" in w:
        return f"RRF, BM25 weight {w['rrf_bm25']:g}"
    floor = f" floor {w['dense_floor']:g}" if w["norm"] == "tmm" else ""
    cov = f", coverage^{w['coverage_power']:g}" if w["coverage_power"] else ""
    margin = w.get("margin_floor", 1.0)
    cov += f", margin floor {margin:g}" if margin < 1 else ""
    return f"{w['norm']}{floor}, same {w['same']:g}, other {w['cross']:g}{cov}"


def _best_per(rows: list[dict], key) -> list[dict]:
    best: dict = {}
    for row in rows:
        k = key(row["weights"])
        if k not in best or row["obj"] > best[k]["obj"]:
            best[k] = row
    return list(best.values())


def _table(rows: list[dict]) -> str:
    tasks = list(rows[0]["scores"])
    head = ["Setting", "objective", "worst gain"] + [
        f"{SHORT.get(t, t)} hit@1 / nDCG" for t in tasks
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    top = max(r["obj"] for r in rows)
    for r in rows:
        mark = "**" if r["obj"] == top else ""
        obj = f"{mark}{r['obj'][0]:.4f}{mark} | {r['obj'][1]:+.3f}"
        cells = [f"{r['scores'][t]['hit@1']:.3f} / {r['scores'][t]['ndcg@10']:.3f}" for t in tasks]
        lines.append(f"| {_label(r)} | {obj} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def sweep_tables(sweep: dict) -> str:
    parts = []
    for script, rows in sweep["rows"].items():
        name = SCRIPT_NAMES.get(script, script)
        by_stage: dict[str, list[dict]] = {}
        for row in rows:
            by_stage.setdefault(row["stage"], []).append(row)
        norm = _best_per(by_stage.get("normalisation", []), lambda w: (w["norm"], w["dense_floor"]))
        cov = _best_per(by_stage.get("coverage", []), lambda w: w["coverage_power"])
        margin = _best_per(by_stage.get("margin", []), lambda w: w["margin_floor"])
        sections = [
            ("normalisation (best share of each)", norm),
            ("coverage exponent (best share of each)", cov),
            ("top-margin floor (best share of each)", margin),
            ("share for the other script", by_stage.get("cross", [])),
            ("same-script share, final settings", by_stage.get("refit", [])),
            ("reciprocal-rank fusion, dense weight 1, k 60", sweep["rrf"].get(script, [])),
        ]
        for title, section in sections:
            if section:
                parts += [f"**{name}: {title}.**", "", _table(section), ""]
    return "\n".join(parts).rstrip()
