"""``python -m bench.speed --quick``: a real run on a few passages, checked for shape and sense.

No timing is asserted (timings come from the bench itself, under the CPU
lock). What is checked holds whatever the machine: every rate is positive,
percentiles are ordered, quality is computed on the questions asked, an
unchanged re-index embeds nothing, bf16 vectors stay close to fp32 ones, and
rewriting docs/performance.md keeps the scale block and the prose around it.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench import report
from bench.speed import BEFORE, QUICK
from eval.bench_data import default_data_dir
from rag.config import Settings
from rag.embeddings import _pick_precision

ROOT = Path(__file__).resolve().parents[1]
DATA = default_data_dir()

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DATA.is_dir(), reason=f"benchmark data not at {DATA}"),
]


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "speed.json"
    cmd = [sys.executable, "-m", "bench.speed", "--quick", "--no-docs", "--json", str(out)]
    subprocess.run(cmd, check=True, cwd=ROOT, timeout=900)
    return json.loads(out.read_text(encoding="utf-8"))


def test_options_have_speed_and_quality(results):
    opt = results["options"]
    n_questions = QUICK["n_korquad"] + QUICK["n_belebele"]
    assert opt["task"]["chunks"] > 0 and opt["task"]["tokens"] >= opt["task"]["chunks"]
    assert "fp32" in opt["speed"]
    for name, speed in opt["speed"].items():
        assert speed["chunks_per_s"] > 0 and speed["tokens_per_s"] > speed["chunks_per_s"], name
        for mode in ("dense", "hybrid"):
            q = opt["quality"][name][mode]
            assert q["n"] == n_questions
            assert 0.0 <= q["hit@1"] <= q["hit@5"] <= 1.0
    # The reference compared with itself: no question moves.
    assert opt["quality"]["fp32"]["vs_fp32"]["hybrid"]["better"] == 0
    assert opt["quality"]["fp32"]["vs_fp32"]["hybrid"]["worse"] == 0


def test_bf16_vectors_stay_close_to_fp32(results):
    opt = results["options"]
    if "bf16" not in opt["speed"]:
        pytest.skip("this CPU has no native bf16")
    assert opt["cosine_to_fp32"]["bf16"]["min"] > 0.95
    assert "fp32 index, bf16 queries" in opt["quality"]


def test_sweep_covers_sorting_and_batches(results):
    rows = results["options"]["sweep"]
    assert {r["sorted"] for r in rows} == {True, False}
    assert len({r["batch_size"] for r in rows}) >= 3
    assert all(r["chunks_per_s"] > 0 and r["ratio_to_fp32"] > 0 for r in rows)


def test_systems_build_and_answer(results):
    systems = results["systems"]
    assert systems["before"]["precision"] == BEFORE["precision"]
    assert systems["after"]["precision"] == _pick_precision(Settings.from_env().precision)
    for name, s in systems.items():
        assert s["rss_peak_mb"] >= s["rss_after_load_mb"] > 0, name
        for corpus in ("bundled", "bench"):
            b = s[corpus]
            assert b["chunks"] > 0 and b["chunks_per_s"] > 0 and b["tokens"] > b["chunks"]
        lat = s["bench"]["retrieval"]
        assert lat["n"] == QUICK["n_korquad"] + QUICK["n_belebele"]
        assert 0 < lat["p50_ms"] <= lat["p95_ms"] <= lat["p99_ms"]
    for name in ("before", "after"):
        # Re-indexing an unchanged corpus reuses every vector by content hash.
        assert systems[name]["bench"]["unchanged_update_embedded"] == 0
        assert "answer" in systems[name]["bench"]
    assert all(v > 0 for v in results["cold_start"].values())


def test_ratios_positive_and_finite(results):
    for ref, ratios in results["ratios"].items():
        assert ratios, ref
        for name, value in ratios.items():
            assert value > 0 and math.isfinite(value), (ref, name)


def test_report_keeps_scale_block_and_prose(results, tmp_path):
    doc = tmp_path / "performance.md"
    scale = "<!-- scale:start -->\nscale table\n<!-- scale:end -->"
    doc.write_text(f"# Performance\n\nintro\n\n{scale}\n\noutro\n", encoding="utf-8")
    report.write_markdown(results, doc, plot=None)
    report.write_markdown(results, doc, plot=None)  # a rerun replaces, never appends
    text = doc.read_text(encoding="utf-8")
    assert scale in text and "intro" in text and "outro" in text
    assert text.count(report.END) == 1
    for option in results["options"]["quality"]:
        assert f"| {option} |" in text
    report.plot(results, tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 1000
