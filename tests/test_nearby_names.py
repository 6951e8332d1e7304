"""Quoting a sentence only when it, its paragraph so far or the sentence before it names
whom the question is about: "What did the French president say?" must not be answered
with the Prime Minister's speech because France is named elsewhere on the page."""

from __future__ import annotations

import pytest

from rag.nearby_names import sentences_naming_nearby
from rag.refusals import refusal_reason
from rag.sentence_answerer import SELECT_MARGIN
from rag.sentence_candidates import Candidate
from rag.types import Document

FORUM = (
    "□ 한덕수 국무총리는 개회식에 참석하고, 축사를 통해 AI 안전성을 강조하였다.\n"
    "ㅇ 참석자는 다음과 같다.\n"
    "▲미셸 더넬런 (영)과학혁신기술부 장관 ▲장 노엘 바로 (프)디지털경제부 장관\n"
    "□ 카이사 올롱그렌 장관은 개회사를 했다. 그는 AI 규범의 필요성을 강조했다. "
    "이어서 참석자들은 오찬을 함께했다. 오찬 뒤에는 토론이 이어졌다.\n"
    "ㅇ 한 총리는 AI 기업들의 참여를 당부했다.\n"
    "ㅇ 한 총리는 디지털 권리장전을 소개했다.\n"
    "ㅇ 한 총리는 국제 협력을 강조했다.\n"
)
DOCS = {"forum": Document(doc_id="forum", text=FORUM, title="AI 글로벌 포럼 개최")}


def _cand(text: str, score: float) -> Candidate:
    start = FORUM.index(text)
    return Candidate("forum", "forum#0", start, start + len(text), text, 0,
                     similarity=score, score=score)  # fmt: skip


SPEECH = "한덕수 국무총리는 개회식에 참석하고, 축사를 통해 AI 안전성을 강조하였다."
ATTENDEES = "▲미셸 더넬런 (영)과학혁신기술부 장관 ▲장 노엘 바로 (프)디지털경제부 장관"


def test_a_question_about_someone_the_best_sentence_does_not_name_is_refused():
    kept, absent = sentences_naming_nearby(
        "What did the French president say at the forum?",
        [_cand(SPEECH, 0.50), _cand(ATTENDEES, 0.30)],
        DOCS,
        margin=SELECT_MARGIN,
    )
    assert kept == [] and absent == ["French"]


def test_a_sentence_naming_them_is_quoted_instead_when_nearly_as_good():
    ranked = [_cand(SPEECH, 0.50), _cand(ATTENDEES, 0.50 - SELECT_MARGIN / 2)]
    kept, absent = sentences_naming_nearby(
        "What did the French minister say at the forum?", ranked, DOCS, margin=SELECT_MARGIN
    )
    assert absent == [] and [c.text for c in kept] == [ATTENDEES]


def test_its_paragraph_so_far_counts_and_the_sentence_before_it():
    question = "카이사 올롱그렌 장관은 무엇을 강조했나요?"
    for text in ("그는 AI 규범의 필요성을 강조했다.", "오찬 뒤에는 토론이 이어졌다."):
        same_paragraph = _cand(text, 0.6)
        kept, absent = sentences_naming_nearby(
            question, [same_paragraph], DOCS, margin=SELECT_MARGIN
        )
        assert kept == [same_paragraph] and absent == []
    # the next paragraph: its sentence before ("오찬 뒤에는 …") does not name her
    next_paragraph = _cand("ㅇ 한 총리는 AI 기업들의 참여를 당부했다.", 0.6)
    kept, absent = sentences_naming_nearby(question, [next_paragraph], DOCS, margin=SELECT_MARGIN)
    assert kept == [] and set(absent) == {"카이사", "올롱그렌"}
    # ...unless the reach goes back further
    kept, absent = sentences_naming_nearby(
        question, [next_paragraph], DOCS, margin=SELECT_MARGIN, sentences_back=4
    )
    assert kept == [next_paragraph]


def test_the_rule_can_be_off():
    ranked = [_cand(SPEECH, 0.50)]
    assert sentences_naming_nearby(
        "What did the French president say?", ranked, DOCS, margin=0.0, sentences_back=None
    ) == (ranked, [])


def test_the_line_before_counts_as_the_sentence_before():
    line = _cand("ㅇ 참석자는 다음과 같다.", 0.6)
    kept, absent = sentences_naming_nearby(
        "한덕수 국무총리는 무엇을 강조했나요?", [line], DOCS, margin=SELECT_MARGIN
    )
    assert kept == [line] and absent == []


def test_the_page_topic_need_not_be_repeated():
    """ "포럼" is in the headline, 한 총리 on most lines: neither singles out a passage."""
    last = _cand("ㅇ 한 총리는 국제 협력을 강조했다.", 0.6)
    kept, absent = sentences_naming_nearby(
        "포럼에서 한 총리는 무엇을 강조했나요?", [last], DOCS, margin=SELECT_MARGIN
    )
    assert kept == [last] and absent == []


@pytest.mark.parametrize(
    "question",
    ["What did the Prime Minister of Korea stress?", "대한민국 국무총리는 무엇을 강조했나요?"],
)
def test_korea_need_not_be_named_in_korean_text(question):
    """A Korean release says "국무총리", not "한국 국무총리"; France still has to be named."""
    speech = _cand(SPEECH, 0.5)
    assert sentences_naming_nearby(question, [speech], DOCS, margin=0.0) == ([speech], [])
    french = question.replace("Korea", "France").replace("대한민국", "프랑스")
    assert sentences_naming_nearby(french, [speech], DOCS, margin=0.0)[0] == []


def test_a_question_with_no_names_keeps_every_sentence():
    ranked = [_cand(SPEECH, 0.5), _cand(ATTENDEES, 0.1)]
    assert sentences_naming_nearby("What was stressed?", ranked, DOCS, margin=0.0) == (ranked, [])


def test_the_refusal_says_what_the_best_passage_leaves_out():
    assert refusal_reason([], "en", missing_near_best=["French"]) == (
        "The passage that matches best does not mention “French”."
    )
    assert refusal_reason([], "ko", missing_near_best=["앤드류"]) == (
        "가장 가까운 대목에는 ‘앤드류’가 나오지 않습니다."
    )


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("What did the French president say at the AI Global Forum?", "French"),
        ("앤드류 응은 AI 글로벌 포럼에서 어떤 주제로 연설했나요?", "앤드류"),
    ],
)
def test_the_bundled_corpus_refuses_a_question_about_someone_only_listed(qa, question, missing):
    """Both are named once, in the attendee list; nothing says what they said."""
    answer = qa.ask(question)
    assert answer.refused and answer.citations == []
    assert missing in answer.missing_near_best


def test_the_bundled_corpus_answers_about_korea_without_it_being_named(qa):
    answer = qa.ask("What did the Prime Minister of Korea say at the AI Global Forum?")
    assert not answer.refused and answer.missing_near_best == []
    assert any("총리는" in c.quote for c in answer.citations)  # the Prime Minister speaks


@pytest.mark.parametrize(
    "question",
    [
        "Who represented the United Kingdom at the AI Global Forum?",
        "박진 장관은 폐회사에서 무엇을 발표했나요?",  # "박 장관은 폐회사를 통해 …"
        "카이사 올롱그렌 장관은 어느 나라의 국방 장관인가요?",
    ],
)
def test_the_bundled_corpus_answers_when_the_name_is_near(qa, question):
    answer = qa.ask(question)
    assert not answer.refused and answer.missing_near_best == []
