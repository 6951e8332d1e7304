"""The answer-type rules that let the extractive answerer refuse cheaply."""

from __future__ import annotations

import pytest

from rag.answer_types import required_pattern

CASES = [
    # question, a sentence that can answer it, one that cannot
    (
        "How much money did the government spend on the forum?",
        "예산 30억원을 투입했다",
        "5,000억개를 넘긴 모델",
    ),
    (
        "대한항공의 4분기 매출은 얼마였나요?",
        "매출은 4조5516억원을 기록했다",
        "4분기 실적을 발표했다",
    ),
    ("REAIM 회의에는 몇 개국 정부 대표가 참석했나요?", "80여개국 정부 대표", "14개 AI 관련 기업"),
    ("SK텔레콤 A.X K1의 매개변수는 몇 개인가요?", "매개변수 5,000억개를 넘긴", "519B급 초거대"),
    ("How many people attended the forum?", "관람객 300명이 참석", "2024.5.22(수) 개최"),
    ("How many turbines does the wind farm have?", "It has 48 turbines.", "It is on pier 4."),
    (
        "On what date was the AI Seoul Summit held?",
        "「AI 서울 정상회의(5.21)」에서",
        "서울 선언이 채택",
    ),
    ("AI 글로벌 포럼은 언제 열렸나요?", "일시/장소 : 2024.5.22(수)", "한국과학기술연구원(KIST)"),
    ("When does the Zorbly Parade happen?", "It marches every May.", "It may rain."),
]


@pytest.mark.parametrize("question, good, bad", CASES)
def test_required_pattern_separates_answers_from_non_answers(question, good, bad):
    pattern = required_pattern(question)
    assert pattern is not None
    assert pattern.search(good), good
    assert not pattern.search(bad), bad


@pytest.mark.parametrize(
    "question",
    [
        "Which companies signed the pledge?",
        "Who came on behalf of AI Fund?",
        "REAIM 회의의 목적은?",
    ],
)
def test_open_questions_need_no_particular_answer_type(question):
    assert required_pattern(question) is None
