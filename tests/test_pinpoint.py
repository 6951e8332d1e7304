"""Quoting the one list entry a question singles out, on the bundled corpus with the real
model (rag.pinpoint)."""

from __future__ import annotations

import pytest

from rag.pinpoint import _is_phrase


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        (
            "Who represented the United Kingdom at the AI Global Forum?",
            "미셸 더넬런 (영)과학혁신기술부 장관",
        ),
        (
            "사우디아라비아에서는 누가 포럼에 참석했나요?",
            "압둘라 빈 샤라프 알감디 (사우디)데이터·AI 청장",
        ),
        # "AI" is on a quarter of the page's lines: the topic, not a specific of the entry
        (
            "AI 글로벌 포럼에 온 필리핀 인사는 누구인가요?",
            "아이반 존 우이 (필리핀)정보통신기술부 장관",
        ),
        # a Korean place name matches the abbreviation an attendee list uses, (프)
        (
            "AI 글로벌 포럼에 참석한 프랑스 장관은 누구인가요?",
            "크리소울라 자카로풀루 (프)개발·불어권·국제협력 담당 국무장관",
        ),
    ],
)
def test_the_entry_the_question_names_is_quoted_alone_with_its_line_as_context(qa, question, entry):
    answer = qa.ask(question)
    assert not answer.refused and len(answer.citations) == 1
    c = answer.citations[0]
    assert c.quote == entry
    assert qa.data.documents[c.doc_id].text[c.start : c.end] == entry
    # the whole attendee line is the context the UI shows around the entry
    assert entry in c.context and "▲" in c.context and len(c.context) > 3 * len(entry)
    assert c.context_start <= c.start and c.end <= c.context_start + len(c.context)


def test_a_question_for_the_whole_list_keeps_the_list(qa):
    answer = qa.ask("Which companies signed the Seoul AI Business Pledge?")
    quoted = " ".join(c.quote for c in answer.citations)
    for name in ("삼성전자", "네이버", "OpenAI", "Adobe"):
        assert name in quoted


def test_a_bullet_that_closes_the_sentence_is_not_an_entry():
    assert _is_phrase("미셸 더넬런 (영)과학혁신기술부 장관")
    assert not _is_phrase("공평한 AI 혜택 확산 등을 담은 「서울 AI 기업 서약」이 발표되었다.")
