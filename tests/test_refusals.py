"""Refusing a question whose year, ordinal, place or name the documents never mention,
saying what was missing, and showing the nearest passages as what they are."""

from __future__ import annotations

import pytest

from rag.constraints import unmentioned
from rag.refusals import refusal_reason, subject_particle
from rag.types import Answer, Chunk, Document, Hit
from rag.ui import render

REAIM = (
    "REAIM 2023 고위급 회의가 2월 15일부터 16일까지 네덜란드 헤이그에서 열렸다. "
    "박진 장관은 제2차 회의를 한국에서 개최하겠다고 밝혔다. 대한항공의 4분기 매출은 4조원이다."
)


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("Where was the REAIM 2025 meeting held?", ["2025"]),
        ("REAIM 제3차 회의는 어느 나라에서 열리나요?", ["제3차"]),
        ("How many countries attended the third REAIM meeting?", ["third"]),
        ("Who represented Germany at the REAIM meeting?", ["Germany"]),
        ("REAIM 회의에 참석한 일본 장관은 누구인가요?", ["일본"]),
        ("What was Korean Air's revenue in the third quarter?", ["third"]),
    ],
)
def test_a_changed_specific_is_reported_missing(question, missing):
    assert [c.surface for c in unmentioned(question, [REAIM])] == missing


@pytest.mark.parametrize(
    "question",
    [
        "Where was the REAIM 2023 meeting held?",
        "When will the second REAIM meeting be held?",
        "REAIM 제2차 회의는 어디에서 열리나요?",
        "What was Korean Air's revenue in the fourth quarter?",  # 4분기
        "대한항공의 4분기 매출은 얼마인가요?",
        "Which Dutch city hosted REAIM?",  # Dutch -> 네덜란드
        "박진 장관은 무엇을 밝혔나요?",
        "박진장관은 1개 회의를 열었나요?",  # a single-digit number is often spelled out
        "대한항공읜 매출은?",  # a typo in a name of three syllables or more
    ],
)
def test_what_the_text_mentions_is_not_missing(question):
    assert unmentioned(question, [REAIM]) == []


def test_a_changed_name_of_three_syllables_is_still_missing():
    assert [c.surface for c in unmentioned("아시아나항공의 매출은?", [REAIM])] == ["아시아나항공"]


def test_refusal_reason_names_what_is_missing_in_the_answer_language():
    assert refusal_reason(["2025"], "en") == "None of the documents found mentions “2025”."
    assert "‘제3차’" in refusal_reason(["제3차"], "ko")


@pytest.mark.parametrize(
    ("word", "particle"),
    [("2022", "가"), ("2020", "이"), ("제3차", "가"), ("17일", "이"), ("일본", "이"),
     ("사우디아라비아", "가"), ("Germany", "이(가)")],
)  # fmt: skip
def test_korean_reasons_pick_the_subject_particle_by_the_final_sound(word, particle):
    assert subject_particle(word) == particle
    assert refusal_reason([word], "ko") == f"찾은 문서 어디에도 ‘{word}’{particle} 나오지 않습니다."


def test_refusal_shows_its_reason_and_the_closest_passages_escaped():
    doc = Document(doc_id="d", text="<script>alert(1)</script> REAIM 2023 took place.", title="T&C")
    hit = Hit(Chunk("d#0", "d", doc.text, 0, len(doc.text)), 0.9)
    answer = Answer(
        "Where was REAIM 2025?", "The documents do not say.", refused=True, hits=[hit],
        unmentioned=["2025"],
    )  # fmt: skip
    html = render.answer_html(answer, {"d": doc}, turn=1)
    assert "None of the documents found mentions “2025”." in html
    assert "Closest passages (not an answer)" in html and "<details" in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "T&amp;C" in html


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("Who represented Germany at the AI Global Forum?", ["Germany"]),
        ("REAIM 제3차 회의는 어느 나라에서 열리나요?", ["제3차"]),
        ("2022년 AI 글로벌 포럼은 어디에서 열렸나요?", ["2022"]),
    ],
)
def test_the_bundled_corpus_refuses_a_changed_specific(qa, question, missing):
    answer = qa.ask(question)
    assert answer.refused and answer.citations == []
    assert answer.unmentioned == missing
    assert answer.hits  # the nearest passages stay, for the refusal to show


@pytest.mark.parametrize(
    "question",
    [
        "Who represented the United Kingdom at the AI Global Forum?",
        "사우디아라비아에서는 누가 포럼에 참석했나요?",  # the text says 사우디
        "What was Korean Air's operating profit in the fourth quarter of 2025?",  # 4분기
    ],
)
def test_the_bundled_corpus_answers_when_the_specifics_are_there(qa, question):
    answer = qa.ask(question)
    assert not answer.refused and answer.unmentioned == []


def test_the_similarity_threshold_depends_on_the_language_pair():
    """An English question scores lower against a Korean sentence than a Korean one does,
    so it is refused below a lower threshold, not the same one."""
    from rag.answer_thresholds import REFUSAL_THRESHOLDS, refusal_threshold

    korean = "박진 장관은 제2차 회의를 한국에서 개최하겠다고 밝혔다."
    english = "Park Jin said the second meeting would be held in Korea."
    assert refusal_threshold("ko", korean) == REFUSAL_THRESHOLDS["same"]
    assert refusal_threshold("en", english) == REFUSAL_THRESHOLDS["same"]
    assert refusal_threshold("en", korean) == REFUSAL_THRESHOLDS["cross"]
    assert refusal_threshold("ko", english) == REFUSAL_THRESHOLDS["cross"]
    assert REFUSAL_THRESHOLDS["cross"] < REFUSAL_THRESHOLDS["same"]
