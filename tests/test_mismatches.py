"""Refusing when the sentence that matches best names another year, day or kind of period
than the question: "2024년 4분기" over a report on 2025's fourth quarter, "연간" over a
quarter's figure."""

from __future__ import annotations

import pytest

import rag
from rag.mismatches import mismatches
from rag.refusals import refusal_reason
from rag.types import Answer, Chunk, Document, Hit, Mismatch
from rag.ui import render

KOREAN_AIR = "대한항공이 2025년 4분기 잠정 실적을 발표한 가운데 영업이익은 4131억원으로 감소했다."
REAIM = (
    "박 장관은 2월 15부터 16일까지 헤이그에서 열린 회의의 16일 고위급 라운드테이블에서 발언했다."
)


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("대한항공의 2024년 4분기 영업이익은?", KOREAN_AIR, [Mismatch("2024", ("2025",))]),
        ("What was the operating profit in 2024?", KOREAN_AIR, [Mismatch("2024", ("2025",))]),
        ("박진 장관은 2월 17일 무엇을 말했나요?", REAIM, [Mismatch("17일", ("16일",))]),
        ("3분기 매출은?", "4분기 매출은 4조원이다.", [Mismatch("3분기", ("4분기",))]),
        ("1월에 무엇이 발표됐나요?", "11월에 발표됐다.", [Mismatch("1월", ("11월",))]),
    ],
)
def test_a_sentence_about_another_year_or_day_is_a_mismatch(question, sentence, expected):
    assert mismatches(question, sentence) == expected


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        ("대한항공의 2025년 4분기 영업이익은?", KOREAN_AIR),  # the same year and quarter
        ("박진 장관은 2월 16일 무엇을 말했나요?", REAIM),
        ("What did the 2023 report announce?", "보고서는 새 기준을 발표했다."),  # names no year
        ("1999년 11월 파티는 어디에서 열렸나요?", "그 후 99년 11월 딸의 아파트에서 파티를 하였다."),
        ("11월에 무엇이 발표됐나요?", "11월에 발표됐다."),
        ("How many people came?", KOREAN_AIR),  # the question names no year or day
    ],
)
def test_the_same_or_no_year_is_not_a_mismatch(question, sentence):
    assert mismatches(question, sentence) == []


@pytest.mark.parametrize(
    ("question", "sentence", "asked", "found"),
    [
        (
            "대한항공의 2025년 연간 영업이익은?",
            "2025년 4분기 영업이익은 4131억원이다.",
            "연간",
            ("4분기",),
        ),
        ("What was the annual profit?", "상반기 영업이익은 1조원이다.", "annual", ("상반기",)),
        ("1분기 매출은?", "연간 매출은 4조원이다.", "1분기", ("연간",)),
    ],
)
def test_a_figure_for_another_kind_of_period_is_a_mismatch(question, sentence, asked, found):
    [m] = mismatches(question, sentence)
    assert (m.asked, m.found) == (asked, found)


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        ("2025년 연간 영업이익은?", "연간 영업이익은 1조원으로 4분기 부진을 만회했다."),
        ("2025년 연간 영업이익은?", "영업이익은 1조원이다."),  # names no period: may answer
        ("영업이익은?", "4분기 영업이익은 4131억원이다."),  # the question names none
    ],
)
def test_the_same_or_an_unnamed_period_is_not_a_mismatch(question, sentence):
    assert mismatches(question, sentence) == []


def test_the_reason_says_what_the_passage_is_about_instead_in_the_answer_language():
    found = [Mismatch("2024", ("2025",))]
    assert refusal_reason([], "en", mismatched=found) == (
        "The passage that matches best is about “2025”, not “2024”."
    )
    assert refusal_reason([], "ko", mismatched=found) == (
        "가장 가까운 대목은 ‘2024’가 아니라 ‘2025’에 관한 것입니다."
    )


def test_the_refusal_card_shows_the_mismatch_escaped():
    doc = Document(doc_id="d", text="<b>2025</b> 4분기 영업이익은 4131억원이다.", title="T")
    hit = Hit(Chunk("d#0", "d", doc.text, 0, len(doc.text)), 0.9)
    answer = Answer(
        "What was the profit in Q4 2024?", "The documents do not say.", refused=True,
        hits=[hit], mismatched=[Mismatch("2024", ("2025",))],
    )  # fmt: skip
    html = render.answer_html(answer, {"d": doc}, turn=1)
    assert "is about “2025”, not “2024”." in html
    assert "<b>2025</b>" not in html and "&lt;b&gt;2025&lt;/b&gt;" in html


@pytest.fixture(scope="module", params=["sentences", "units"])
def either_qa(request, qa, built_index):
    """Both extractive answerers apply the rule: the default one and ``extractive="units"``."""
    return qa if request.param == "sentences" else rag.open(built_index, extractive="units")


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("대한항공의 2024년 4분기 영업이익은 얼마인가요?", [Mismatch("2024", ("2025",))]),
        ("What was Korean Air's operating profit in the fourth quarter of 2024?",
         [Mismatch("2024", ("2025",))]),
        ("박진 장관은 2월 17일 고위급 라운드테이블에서 무엇을 말했나요?",
         [Mismatch("17일", ("16일",))]),
        ("대한항공의 2025년 연간 영업이익은 얼마인가요?", [Mismatch("연간", ("4분기",))]),
    ],
)  # fmt: skip
def test_the_bundled_corpus_refuses_a_question_about_another_year_or_day(
    either_qa, question, expected
):
    answer = either_qa.ask(question)
    assert answer.refused and answer.citations == [] and answer.unmentioned == []
    assert answer.mismatched == expected
    assert answer.hits  # the nearest passages stay, for the refusal to show


@pytest.mark.parametrize(
    "question",
    [
        "대한항공의 2025년 4분기 영업이익은 얼마인가요?",
        "박진 장관은 2월 16일 고위급 라운드테이블에서 무엇을 말했나요?",
    ],
)
def test_the_bundled_corpus_answers_the_same_question_about_the_right_year_or_day(
    either_qa, question
):
    answer = either_qa.ask(question)
    assert not answer.refused and answer.mismatched == []
