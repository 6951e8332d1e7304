"""The public benchmark: its metrics on rankings with known answers, and a tiny real run.

The tiny run (``--quick``: 4 questions per language pair and half, over their
passages, their translations and 50 others) uses the real model and the shared
embedding cache; with the cache filled by any earlier run it takes about a minute.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # eval/ is a folder of scripts, not an installed package
    sys.path.insert(0, str(ROOT))

from eval import bench_data  # noqa: E402
from eval.embcache import EmbeddingCache  # noqa: E402
from eval.metrics import (  # noqa: E402
    dedupe,
    gold_rank,
    hit_at,
    ndcg_at,
    paired,
    reciprocal_rank,
    score_rankings,
)

DATA = bench_data.default_data_dir()


def test_hit_at_k_counts_only_the_first_k():
    ranking = ["a", "b", "gold", "c"]
    assert hit_at(ranking, {"gold"}, 1) == 0.0
    assert hit_at(ranking, {"gold"}, 2) == 0.0
    assert hit_at(ranking, {"gold"}, 3) == 1.0
    assert hit_at([], {"gold"}, 5) == 0.0


def test_reciprocal_rank_and_depth():
    assert reciprocal_rank(["gold"], {"gold"}) == 1.0
    assert reciprocal_rank(["a", "b", "gold"], {"gold"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(["x"] * 10 + ["gold"], {"gold"}) == 0.0  # past depth 10
    assert reciprocal_rank(["a", "b"], {"gold"}) == 0.0


def test_ndcg_single_and_multiple_relevant():
    assert ndcg_at(["gold", "a"], {"gold"}) == 1.0
    assert ndcg_at(["a", "gold"], {"gold"}) == pytest.approx(1 / math.log2(3))
    assert ndcg_at(["a"] * 10 + ["gold"], {"gold"}) == 0.0
    # Two relevant passages, found at ranks 1 and 3: (1 + 1/log2 4) / (1 + 1/log2 3).
    expected = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert ndcg_at(["g1", "x", "g2"], {"g1", "g2"}) == pytest.approx(expected)


def test_chunks_of_one_passage_count_once():
    # Three chunks of passage "a" must not push the gold passage down to rank 4.
    assert dedupe(["a", "a", "a", "gold", "b"]) == ["a", "gold", "b"]
    scores = score_rankings([["a", "a", "a", "gold"], ["gold"], ["x", "y"]], ["gold"] * 3)
    assert scores["hit@1"] == pytest.approx(1 / 3)
    assert scores["hit@5"] == pytest.approx(2 / 3)
    assert scores["mrr"] == pytest.approx((1 / 2 + 1) / 3)
    assert scores["ndcg@10"] == pytest.approx((1 / math.log2(3) + 1) / 3)
    assert scores["n"] == 3


def test_gold_rank_and_paired_counts():
    assert gold_rank(["a", "a", "gold"], "gold") == 2
    assert gold_rank(["a"], "gold") is None
    # A finds gold at 1 (B: 3), both at 2, A misses where B has rank 4, both miss.
    assert paired([1, 2, None, None], [3, 2, 4, None]) == {"better": 1, "worse": 1, "same": 2}


def test_score_rankings_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="2 rankings for 1 gold"):
        score_rankings([["a"], ["b"]], ["a"])


def test_embedding_cache_round_trip(tmp_path):
    cache = EmbeddingCache(tmp_path)
    calls = []

    def encode(texts):
        calls.append(list(texts))
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    first = cache.get_or_compute(["가나", "abc", "가나"], encode, progress=False)
    again = cache.get_or_compute(["abc", "가나"], encode, progress=False)
    assert calls == [["abc", "가나"]] or calls == [["가나", "abc"]]  # each text embedded once
    assert first.tolist() == [[2.0, 1.0], [3.0, 1.0], [2.0, 1.0]]
    assert again.tolist() == [[3.0, 1.0], [2.0, 1.0]]
    assert not list(tmp_path.rglob("*.pkl")) and len(list(tmp_path.rglob("*.npy"))) == 2


needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"benchmark data not at {DATA}")


@needs_data
def test_data_loads_unmodified_and_subsets_are_seeded():
    data = bench_data.load(DATA)
    ids = [p.doc_id for p in data.passages + data.english_passages]
    assert len(ids) == len(set(ids)) == 964 + 488 + 488
    assert len(data.questions["korquad"]) == 5774
    for task in ("belebele", "belebele-ko-ko", "belebele-en-en", "belebele-ko-en"):
        assert len(data.questions[task]) == 900
        assert all(q.twin and q.twin != q.gold_doc for q in data.questions[task])
    assert all(q.gold_doc.startswith("belebele-en-") for q in data.questions["belebele-en-en"])
    assert data.questions["belebele"][0].question == data.questions["belebele-en-en"][0].question
    small = bench_data.sample(data.questions["korquad"], 5, seed=0)
    large = bench_data.sample(data.questions["korquad"], 300, seed=0)
    assert large[:5] == small  # smaller subsets nest in larger ones
    assert bench_data.sample(data.questions["korquad"], 5, seed=1) != small


@needs_data
def test_split_is_by_passage_and_the_same_for_every_language_pair():
    data = bench_data.load(DATA)
    tuning, test = bench_data.split(data.questions["korquad"], seed=0)
    assert len(tuning) + len(test) == 5774 and 0.45 < len(tuning) / 5774 < 0.55
    assert not {q.gold_doc for q in tuning} & {q.gold_doc for q in test}
    assert bench_data.split(data.questions["korquad"], seed=0) == (tuning, test)
    halves = {}
    for task in ("belebele", "belebele-ko-ko", "belebele-en-en", "belebele-ko-en"):
        tune, _ = bench_data.split(data.questions[task], seed=0)
        halves[task] = {q.qid.split("-q")[0] for q in tune}  # the Korean passage's id
    assert len({frozenset(h) for h in halves.values()}) == 1


@needs_data
def test_quick_run_writes_tables_plot_and_json(tmp_path):
    from eval.benchmark import TASKS, main

    out, js, res = tmp_path / "quality.md", tmp_path / "bench.json", tmp_path / "quality.json"
    out.write_text(
        "# Kept\n\nprose\n\n<!-- results:start x -->STALE-NUMBERS<!-- results:end -->\ntail\n",
        encoding="utf-8",
    )
    argv = ["--quick", "--out", str(out), "--json", str(js), "--results", str(res)]
    assert main([*argv, "--no-progress"]) == 0
    results = json.loads(js.read_text(encoding="utf-8"))
    assert results["config"]["questions"] == {t: {"tuning": 4, "test": 4} for t in TASKS}
    for task in TASKS:
        hit5 = []
        for split in ("tuning", "test"):
            for method in ("dense", "bm25", "rrf", "hybrid", "langchain"):
                m = results["scores"][split][task][method]
                assert 0.0 <= m["hit@1"] <= m["hit@5"] <= 1.0
                # MRR@10 counts ranks 6-10 too, at most 1/6 each.
                assert m["hit@1"] <= m["mrr"] <= m["hit@5"] + (1 - m["hit@5"]) / 6 + 1e-9
            hit5.append(results["scores"][split][task]["hybrid"]["hit@5"])
        # Every question's gold passage is in the small corpus; the product finds most.
        assert sum(hit5) / 2 >= 0.75, task
    assert results["answers"]["n"] == 4
    summary = json.loads(res.read_text(encoding="utf-8"))
    assert set(summary["test"]) == set(TASKS) and "hybrid" in summary["test"]["korquad"]
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Kept\n\nprose") and text.endswith("tail\n")
    assert "STALE-NUMBERS" not in text and "| Hybrid (product) |" in text
    assert Path(tmp_path / "quality.png").stat().st_size > 1000
