"""Answer units, question constraints and the scorer's model file: no embedding model needed."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.answer_features import FEATURES
from rag.answer_scorer import DEFAULT_SCORER, AnswerScorer, fit_logistic
from rag.constraints import coverage, question_constraints
from rag.errors import RagError
from rag.units import StoredUnit, answer_units

ATTENDEES = (
    "- 주요 참석자 : ▲미셸 더넬런 (영)과학혁신기술부 장관 ▲크리소울라 자카로풀루 (프)개발·불어권 "
    "국무장관 ▲앤드류 응 AI Fund 대표 등"
)
PLEDGE = (
    "* (국내) 삼성전자, 네이버, 카카오, SK텔레콤, LG AI 연구원, KT / (국외) OpenAI, Anthropic, 구글"
)


def _texts(text: str, kind: str | None = None) -> list[str]:
    return [text[u.start : u.end] for u in answer_units(text) if kind in (None, u.kind)]


def test_bullet_items_are_units_with_exact_offsets() -> None:
    items = _texts(ATTENDEES, "item")
    assert items[0] == "미셸 더넬런 (영)과학혁신기술부 장관"
    assert len(items) == 3
    sentence = [u for u in answer_units(ATTENDEES) if u.kind == "sentence"][0]
    assert sentence.n_items == 3
    assert ATTENDEES[sentence.start : sentence.end] == ATTENDEES


def test_grouped_lists_split_by_group_not_by_name() -> None:
    groups = _texts(PLEDGE, "group")
    assert groups == [
        "삼성전자, 네이버, 카카오, SK텔레콤, LG AI 연구원, KT",
        "OpenAI, Anthropic, 구글",
    ]
    assert not _texts(PLEDGE, "clause")  # a list of names is never cut into clauses


def test_label_value_lines_and_long_clauses() -> None:
    line = "- 일시/장소 : 2024.5.22(수), 한국과학기술연구원(KIST)"
    assert "2024.5.22(수), 한국과학기술연구원(KIST)" in _texts(line, "group")
    assert _texts(line, "clause") == ["2024.5.22(수)", "한국과학기술연구원(KIST)"]


def test_paragraph_marks_and_middle_dots_are_not_lists() -> None:
    text = "□ 한 총리는 AI 기술의 안전성·혁신·포용성 증진을 위한 의지를 표명하였다."
    assert _texts(text) == [text]


@pytest.mark.parametrize("text", ["", "   \n ", "a", "▲", "▲ ▲ ▲", ", , ,", "가" * 3000])
def test_awkward_text_gives_units_inside_the_text(text: str) -> None:
    for u in answer_units(text):
        assert 0 <= u.sentence_start <= u.start < u.end <= u.sentence_end <= len(text)
        assert text[u.start : u.end].strip() == text[u.start : u.end]


def test_stored_unit_round_trips_and_rejects_unknown_kinds() -> None:
    unit = StoredUnit(3, 9, 0, 20, "item", 1, ("미셸", "장관"))
    assert StoredUnit.from_row(json.loads(json.dumps(unit.to_row()))) == unit
    with pytest.raises(ValueError, match="unknown unit kind"):
        StoredUnit.from_row([0, 1, 0, 1, "paragraph", 1, []])


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        ("Where was the REAIM 2025 meeting held?", "REAIM 2023 회의는 헤이그에서 열렸다", 0.5),
        ("Where was the REAIM 2023 meeting held?", "REAIM 2023 회의는 헤이그에서 열렸다", 1.0),
        ("How many countries attended the third meeting?", "제2차 회의를 내년에 개최", 0.0),
        ("Who will host the second meeting?", "제2차 회의를 내년에 한국에서 개최", 1.0),
        ("Who represented the United Kingdom?", "▲미셸 더넬런 (영)과학혁신기술부 장관", 1.0),
        ("Who represented Germany?", "▲미셸 더넬런 (영)과학혁신기술부 장관", 0.0),
        ("박진 장관은 2월 17일에 무엇을 말했나요?", "박진 장관은 2월 16일 라운드테이블에서", 2 / 3),
        ("What did the minister say?", "장관은 말했다", 1.0),  # no constraints at all
    ],
)
def test_constraint_coverage(question: str, text: str, expected: float) -> None:
    cons = question_constraints(question, doc_text=text)
    assert coverage(cons, text) == pytest.approx(expected)


def test_english_names_count_only_when_the_document_spells_them() -> None:
    korean_doc = "박진 외교장관은 웝크 훅스트라(Wopke Hoekstra) 외교 장관과 회의를 주최했다"
    cons = question_constraints("Did Park Jin meet Hoekstra?", doc_text=korean_doc)
    names = [c.forms[0] for c in cons if c.kind == "name"]
    assert names == ["Hoekstra"]  # "Park" and "Jin" are in Hangul there: not counted


def test_logistic_fit_separates_and_is_calibrated() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 2))
    p = 1 / (1 + np.exp(-(2.0 * x[:, 0] - 1.0)))
    y = (rng.random(4000) < p).astype(float)
    mean, scale, w, b = fit_logistic(x, y, l2=1.0)
    scorer = AnswerScorer(mean, scale, w, b, refusal_threshold=0.5)
    predicted = scorer.probabilities(x)
    assert abs(predicted.mean() - y.mean()) < 0.01  # calibrated on average
    assert w[0] / scale[0] == pytest.approx(2.0, abs=0.2)  # the true slope
    assert abs(w[1] / scale[1]) < 0.15  # the noise feature gets little weight


def test_scorer_file_round_trips(tmp_path) -> None:
    n = len(FEATURES)
    scorer = AnswerScorer(np.zeros(n), np.ones(n), np.arange(n) / n, -1.0, 0.25, 0.5, {"v": 1})
    scorer.save(tmp_path / "s.json")
    loaded = AnswerScorer.load(tmp_path / "s.json")
    rows = np.random.default_rng(1).normal(size=(5, n))
    assert np.allclose(loaded.probabilities(rows), scorer.probabilities(rows))
    assert loaded.refusal_threshold == 0.25


def test_scorer_file_for_other_features_is_refused(tmp_path) -> None:
    raw = json.loads(DEFAULT_SCORER.read_text(encoding="utf-8"))
    raw["features"] = raw["features"][:-1]
    (tmp_path / "old.json").write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(RagError, match="Retrain it with `python -m eval.train_scorer`"):
        AnswerScorer.load(tmp_path / "old.json")
    with pytest.raises(RagError, match="Cannot read the answer scorer"):
        AnswerScorer.load(tmp_path / "missing.json")


def test_the_shipped_scorer_loads() -> None:
    scorer = AnswerScorer.load()
    assert 0.0 < scorer.refusal_threshold < 1.0
    assert scorer.weights.shape == (len(FEATURES),)
