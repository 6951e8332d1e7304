"""Hybrid fusion (rag.fusion) on hand-made scores, and the retriever ranking by it.

No model: the retriever test gives query vectors and hand-written chunk terms, so
the dense and keyword sides disagree on purpose and the weights decide.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from rag.config import Settings
from rag.embeddings import ModelInfo
from rag.fusion import Candidates, FusionWeights, fuse, normalise, rrf, top_margin
from rag.retrieval import Retriever, fusion_weights
from rag.store import IndexData
from rag.types import Chunk, Document


def cands(dense, bm25, *, same=None, coverage=None, script="ko") -> Candidates:
    n = len(dense)
    return Candidates(
        dense=np.asarray(dense, np.float32),
        bm25=np.asarray(bm25, np.float32),
        same_script=np.ones(n, bool) if same is None else np.asarray(same, bool),
        coverage=np.ones(n, np.float32) if coverage is None else np.asarray(coverage, np.float32),
        query_script=script,
    )


def test_tmm_maps_the_best_to_one_and_the_floor_to_zero():
    out = normalise(np.array([0.8, 0.5, 0.2]), "tmm", floor=0.2)
    np.testing.assert_allclose(out, [1.0, 0.5, 0.0], atol=1e-6)


def test_tmm_does_not_depend_on_how_many_candidates_were_fetched():
    """A deeper pool adds weaker candidates; the scores of the others must not move."""
    short = normalise(np.array([0.9, 0.7, 0.6]), "tmm", floor=0.3)
    deep = normalise(np.array([0.9, 0.7, 0.6, 0.35, 0.31]), "tmm", floor=0.3)
    np.testing.assert_allclose(deep[:3], short, atol=1e-6)
    # min-max does move: that is why the product does not use it.
    assert normalise(np.array([0.9, 0.7, 0.6, 0.35]), "minmax")[1] != pytest.approx(
        normalise(np.array([0.9, 0.7, 0.6]), "minmax")[1]
    )


@pytest.mark.parametrize("norm", ["tmm", "minmax", "zscore"])
def test_degenerate_inputs_give_zeros(norm):
    assert normalise(np.array([], np.float32), norm).shape == (0,)
    np.testing.assert_array_equal(normalise(np.array([0.0, 0.0]), norm), [0.0, 0.0])
    np.testing.assert_array_equal(normalise(np.array([3.0, 3.0]), norm, floor=3.0), [0.0, 0.0])


def test_zscore_has_mean_zero_and_unit_spread():
    out = normalise(np.array([1.0, 2.0, 3.0, 10.0]), "zscore")
    assert out.mean() == pytest.approx(0.0, abs=1e-6) and out.std() == pytest.approx(1.0)


def test_share_zero_ranks_by_dense_and_share_one_by_bm25():
    c = cands(dense=[0.9, 0.5, 0.7], bm25=[1.0, 8.0, 4.0])
    only_dense = fuse(c, FusionWeights(bm25_ko_same=0.0))
    only_bm25 = fuse(c, FusionWeights(bm25_ko_same=1.0))
    assert list(np.argsort(-only_dense)) == [0, 2, 1]
    assert list(np.argsort(-only_bm25)) == [1, 2, 0]


def test_a_convex_combination_keeps_margins_that_rrf_loses():
    """Dense barely prefers 0, BM25 strongly prefers 1: the weighted sum picks 1, RRF ties."""
    c = cands(dense=[0.80, 0.79], bm25=[1.0, 10.0])
    fused = fuse(c, FusionWeights(bm25_ko_same=0.5, dense_floor=0.0))
    assert fused[1] > fused[0]
    ranks = rrf(c.dense, c.bm25, w_dense=1.0, w_bm25=1.0)
    assert ranks[0] == pytest.approx(ranks[1])


def test_weights_follow_question_and_candidate_script():
    w = FusionWeights(bm25_ko_same=0.6, bm25_ko_cross=0.1, bm25_en_same=0.3, bm25_en_cross=0.0)
    np.testing.assert_allclose(
        w.bm25_share(cands([0.5, 0.5], [1, 1], same=[True, False])), [0.6, 0.1]
    )
    english = cands([0.5, 0.5], [1, 1], same=[True, False], script="en")
    np.testing.assert_allclose(w.bm25_share(english), [0.3, 0.0])


def test_coverage_scales_the_bm25_share():
    c = cands([0.5, 0.5, 0.5], [1, 1, 1], coverage=[1.0, 0.5, 0.0])
    share = FusionWeights(bm25_ko_same=0.8, coverage_power=2.0).bm25_share(c)
    np.testing.assert_allclose(share, [0.8, 0.2, 0.0], atol=1e-6)
    assert FusionWeights(bm25_ko_same=0.8).bm25_share(c).tolist() == pytest.approx([0.8] * 3)


def test_rrf_matches_the_formula_and_ignores_zero_bm25():
    fused = rrf(np.array([0.9, 0.8, 0.1]), np.array([0.0, 5.0, 2.0]), w_dense=1.0, w_bm25=2.0, k=60)
    expected = [1 / 61, 1 / 62 + 2 / 61, 1 / 63 + 2 / 62]
    np.testing.assert_allclose(fused, expected)


# --------------------------------------------------------------- the product uses it

DIM = 4


def tiny_index() -> IndexData:
    """Four chunks: 0 is closest to the query vector, 3 holds the query's rare words."""
    texts = ["서울 날씨 맑음", "부산 항구 도시", "대전 과학 도시", "광주 비엔날레 개최 연도"]
    vectors = np.array(
        [[1, 0.2, 0, 0], [0.6, 0.8, 0, 0], [0.2, 0.2, 0.9, 0.3], [0.7, 0.1, 0.1, 0.7]], np.float32
    )
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    doc = Document(doc_id="d", text=" ".join(texts), title="D", content_hash="h")
    chunks, start = [], 0
    for i, text in enumerate(texts):
        chunks.append(Chunk(f"d#{i}", "d", text, start, start + len(text), "D"))
        start += len(text) + 1
    terms = [["서울", "날씨"], ["부산", "항구"], ["대전", "과학"], ["광주", "비엔날레", "개최"]]
    return IndexData(
        model=ModelInfo(name="fake", fingerprint="x", dim=DIM),
        documents={"d": doc},
        chunks=chunks,
        terms=terms,
        vectors=vectors,
    )


QUERY = "광주 비엔날레는 언제 개최되나"
QUERY_VECTOR = np.array([1.0, 0.0, 0.0, 0.0], np.float32)


@pytest.mark.parametrize(("share", "first"), [(0.0, "d#0"), (0.6, "d#3"), (1.0, "d#3")])
def test_product_ranks_by_the_fusion_of_its_settings(share, first):
    settings = replace(Settings(), bm25_ko_same=share, bm25_coverage_power=0.0)
    retriever = Retriever(tiny_index(), embedder=None, settings=settings)
    hits = retriever.search(QUERY, top_k=4, query_vector=QUERY_VECTOR)
    assert hits[0].chunk.chunk_id == first
    # The hits' scores are exactly rag.fusion's, in order, for the settings' weights.
    rows, cand = retriever.candidates(QUERY, QUERY_VECTOR, pool=4)
    expected = fuse(cand, fusion_weights(settings))
    order = np.argsort(-expected, kind="stable")
    assert [h.chunk.chunk_id for h in hits] == [f"d#{rows[i]}" for i in order]
    assert [h.score for h in hits] == pytest.approx([float(expected[i]) for i in order])


def test_candidates_carry_both_scores_script_and_coverage():
    retriever = Retriever(tiny_index(), embedder=None, settings=Settings())
    rows, cand = retriever.candidates(QUERY, QUERY_VECTOR, pool=2, coverage=True)
    assert set(rows[:2]) == {0, 3}  # the dense pool of two: chunks 0 and 3
    assert 3 in rows and cand.query_script == "ko" and cand.same_script.all()
    at = {int(r): i for i, r in enumerate(rows)}
    assert cand.bm25[at[0]] == 0.0 and cand.bm25[at[3]] > 0
    assert cand.coverage[at[3]] > 0.5 and cand.coverage[at[0]] == 0.0
    np.testing.assert_allclose(cand.dense, retriever.data.vectors[rows] @ QUERY_VECTOR, rtol=1e-6)


def test_an_english_question_over_korean_chunks_uses_the_other_script_share():
    settings = replace(Settings(), bm25_en_same=1.0, bm25_en_cross=0.0)
    retriever = Retriever(tiny_index(), embedder=None, settings=settings)
    _, cand = retriever.candidates("When is the Gwangju Biennale held", QUERY_VECTOR, pool=4)
    assert cand.query_script == "en" and not cand.same_script.any()
    hits = retriever.search("When is the Gwangju Biennale", top_k=1, query_vector=QUERY_VECTOR)
    assert hits[0].chunk.chunk_id == "d#0"  # dense alone decides


def test_top_margin_scales_the_share_only_when_asked():
    clear = cands([0.5, 0.5, 0.5], [10.0, 2.0, 0.0])  # margin 0.8
    flat = cands([0.5, 0.5, 0.5], [10.0, 10.0, 0.0])  # margin 0
    w = FusionWeights(bm25_ko_same=0.5, margin_floor=0.5)
    assert top_margin(clear) == pytest.approx(0.8) and top_margin(flat) == 0.0
    np.testing.assert_allclose(w.bm25_share(clear), [0.45] * 3, atol=1e-6)
    np.testing.assert_allclose(w.bm25_share(flat), [0.25] * 3, atol=1e-6)
    off = FusionWeights(bm25_ko_same=0.5)  # margin_floor 1
    np.testing.assert_allclose(off.bm25_share(flat), [0.5] * 3)
