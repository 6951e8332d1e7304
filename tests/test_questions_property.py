"""Hostile questions (mixed scripts, RTL marks, controls, emoji, surrogates) never crash ask().

Uses the real model and index of the bundled corpus (the shared ``qa`` fixture).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rag

_PIECES = st.sampled_from(
    [
        "Which companies signed the pledge?",
        "서울 AI 기업 서약",
        "삼성전자",
        "\u202e",
        "\u200f",
        "\u200b",
        "\x00",
        "\x07",
        "\x1b[31m",
        "\ud800",
        "\udc00",
        "👍🏽",
        "🤖",
        "مرحبا",
        "שלום",
        "中文",
        "ㄱㅇ",
        "<script>alert(1)</script>",
        "\n",
        " ",
        "?",
    ]
)
QUESTIONS = st.lists(st.one_of(_PIECES, st.text(max_size=15)), min_size=0, max_size=12).map("".join)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(question=QUESTIONS)
def test_ask_answers_with_exact_quotes_or_rejects_the_question(qa, question):
    try:
        answer = qa.ask(question)
    except rag.InvalidQuestionError:
        return
    assert isinstance(answer, rag.Answer)
    if answer.refused:
        return
    assert answer.citations
    documents = {doc.doc_id: doc for doc in qa.documents()}
    for citation in answer.citations:
        text = documents[citation.doc_id].text
        assert citation.quote == text[citation.start : citation.end]
        assert citation.quote.strip()
