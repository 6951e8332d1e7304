"""Conversation logic: follow-up detection, search plans, streaming, on the real index."""

from __future__ import annotations

import pytest

from rag.chat import Reply, Turn, add_turn, follow_up_reason, plan_search, respond, stream_pieces
from rag.types import Answer

PLEDGE = "Which companies signed the pledge?"
KOREAN_PLEDGE_COMPANIES = ["삼성전자", "네이버", "카카오", "SK텔레콤", "LG AI 연구원", "KT"]


def _turn(question: str, history=()) -> Turn:
    plan = plan_search(question, history)
    return Turn(question, Answer(question=question, text="…"), plan)


@pytest.mark.parametrize(
    "question",
    [
        "And which of them are Korean?",
        "What about the foreign ones?",
        "When was it held?",
        "Which of these are Korean?",
        "Why?",
        "그중 한국 기업은?",
        "그럼 누가 공동 주최했나요?",
        "거기 누가 참석했나요?",
        "그 회의의 공동 주최국은 어디인가요?",
        "언제?",
    ],
)
def test_follow_ups_are_recognised(question):
    assert follow_up_reason(question)


@pytest.mark.parametrize(
    "question",
    [
        PLEDGE,
        "REAIM 회의는 어디에서 열렸나요?",
        "Who attended the AI Global Forum?",
        "How many countries attended the REAIM summit?",
        "서울 AI 기업 서약에 참여한 기업은?",
        "AI 글로벌 포럼은 언제 열렸나요?",
        "What did Han Duck-soo say at the forum?",
    ],
)
def test_standalone_questions_are_not_follow_ups(question):
    assert follow_up_reason(question) == ""


def test_first_question_is_searched_as_asked_even_if_it_looks_like_a_follow_up():
    plan = plan_search("And which of them are Korean?", [])
    assert not plan.follow_up and plan.query == "And which of them are Korean?"


def test_follow_up_query_carries_the_previous_question():
    plan = plan_search("And which of them are Korean?", [_turn(PLEDGE)])
    assert plan.follow_up and plan.base == PLEDGE
    assert plan.query == f"{PLEDGE} And which of them are Korean?"
    assert "and" in plan.reason


def test_chain_of_follow_ups_keeps_the_standalone_question_as_base():
    history = [_turn(PLEDGE)]
    history.append(_turn("And which of them are Korean?", history))
    plan = plan_search("And the foreign ones?", history)
    assert plan.base == PLEDGE
    assert plan.query == f"{PLEDGE} And the foreign ones?"


def test_new_topic_after_a_turn_is_not_merged():
    plan = plan_search("REAIM 회의는 어디에서 열렸나요?", [_turn(PLEDGE)])
    assert not plan.follow_up and plan.query == "REAIM 회의는 어디에서 열렸나요?"


def test_history_is_capped():
    history: tuple[Turn, ...] = ()
    for i in range(60):
        history = add_turn(history, _turn(f"question {i}"))
    assert len(history) == 50 and history[-1].question == "question 59"


@pytest.mark.parametrize(
    "text",
    ["", "one", "삼성전자 [1] 네이버 [2]", " ".join(f"w{i}" for i in range(200)) + " [1]"],
)
def test_stream_pieces_grow_to_the_full_text_without_splitting_markers(text):
    pieces = list(stream_pieces(text))
    if not text:
        assert pieces == []
        return
    assert pieces[-1] == text and len(pieces) <= 25
    assert all(b.startswith(a) and len(b) > len(a) for a, b in zip(pieces, pieces[1:]))
    assert not any(p.endswith("[") or p.rstrip().endswith("[1") for p in pieces)


# ------------------------------------------------------------------ real model


@pytest.fixture(scope="module")
def pledge_turn(qa) -> Turn:
    replies = list(respond(qa, PLEDGE))
    assert replies[-1].turn is not None
    return replies[-1].turn


def test_respond_streams_then_finishes_with_a_cited_answer(qa, pledge_turn):
    replies: list[Reply] = list(respond(qa, "REAIM 회의는 어느 도시에서 개최되었나요?"))
    assert replies[0].text == "" and not replies[0].done  # before the search
    assert replies[-1].done and replies[-1].answer is not None
    assert len(replies) >= 3
    answer = replies[-1].answer
    assert "헤이그" in answer.text and answer.citations
    assert pledge_turn.answer.citations  # the fixture's own first question


def test_follow_up_is_answered_from_the_pledge_passage(qa, pledge_turn):
    reply = list(respond(qa, "And which of them are Korean?", [pledge_turn]))[-1]
    answer = reply.answer
    assert reply.plan.follow_up and PLEDGE in answer.search_query
    assert answer.question == "And which of them are Korean?" and answer.lang == "en"
    assert not answer.refused
    assert "(국내)" in answer.text
    for company in KOREAN_PLEDGE_COMPANIES:
        assert company in answer.text, company
    doc = qa.data.documents[answer.citations[0].doc_id]
    assert any("(국내) 삼성전자" in c.quote for c in answer.citations)
    assert doc.date == "2024-05-22"


def test_same_follow_up_without_history_is_refused(qa):
    """The history is what makes the follow-up answerable (so the test above can fail)."""
    answer = list(respond(qa, "And which of them are Korean?"))[-1].answer
    assert answer.refused


def test_refusal_of_a_korean_follow_up_is_in_korean(qa, pledge_turn):
    answer = list(respond(qa, "그럼 그 기업들의 총 예산은 얼마였나요?", [pledge_turn]))[-1].answer
    assert answer.refused and answer.lang == "ko"
    assert answer.text == "문서에서 찾을 수 없습니다."


def test_invalid_question_ends_the_stream_with_an_error_not_an_exception(qa):
    replies = list(respond(qa, "x" * 5000))
    assert replies[-1].done and replies[-1].answer is None
    assert "limit" in replies[-1].error
