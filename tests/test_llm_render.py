"""Extract, then write: the LLM reads only the quoted units and retells them.

LangChain's fake chat model stands in for the LLM; the embedding model, the index of
data/corpus, retrieval, the extractive answer and the claim check are real. The real
local GGUF model is tested in tests/test_llm.py (markers slow + llm).
"""

from __future__ import annotations

import pytest
from test_llm import PLEDGE_Q, THE_14, fake  # tests/ is on sys.path under pytest

from rag import Answer, Rendering, RenderingDelta
from rag.chat import respond
from rag.llm.render import REFUSED
from rag.refusals import REFUSAL

COUNT_Q = "How many AI companies made the Seoul AI Business Pledge?"


@pytest.fixture()
def quotes_qa(qa):
    """The session's real QA (the model reads quotes, the default); model restored after."""
    before = qa.chat_model
    assert qa.settings.llm_reads == "quotes"
    yield qa
    qa.chat_model = before


def cited(answer: Answer, text: str) -> int:
    """The citation number of the quote holding ``text``."""
    return next(c.n for c in answer.citations if text in c.quote)


def test_the_model_reads_only_the_quotes(quotes_qa):
    quote = quotes_qa.ask(PLEDGE_Q, answerer="extractive")
    n = cited(quote, "삼성전자")
    quotes_qa.chat_model = model = fake(f"The pledge was signed by {THE_14} [{n}].")
    answer = quotes_qa.ask(PLEDGE_Q, answerer="llm")
    prompt = model.seen[0][-1].content
    for c in quote.citations:
        assert f"[{c.n}] {c.quote}" in prompt
    # Passage text that was not quoted never reaches the model.
    passage = quote.hits[0].chunk.text
    unquoted = [line for line in passage.splitlines() if len(line) > 20 and line not in prompt]
    assert unquoted and not any(line in prompt for line in unquoted)
    assert len(prompt) < len(passage) + 900  # the rules and the quotes, not three passages
    assert answer.text == quote.text  # the quote stays the answer of record
    assert answer.citations == quote.citations


def test_a_supported_rendering_is_shown_beside_the_quote(quotes_qa):
    quote = quotes_qa.ask(PLEDGE_Q, answerer="extractive")
    n = cited(quote, "삼성전자")
    reply = f"The pledge was signed by {THE_14} [{n}]."
    quotes_qa.chat_model = fake(reply)
    answer = quotes_qa.ask(PLEDGE_Q, answerer="llm")
    r = answer.rendering
    assert isinstance(r, Rendering) and r.status == "shown", r.reason
    assert r.text == reply and r.lang == "en"
    assert r.sources == tuple(c.n for c in quote.citations)
    assert answer.mode == "llm" and not answer.fallback_reason
    assert all(c.status in ("supported", "unchecked") for c in r.claims)
    assert r.first_token_ms is not None and r.total_ms >= r.first_token_ms


def test_a_changed_number_withholds_the_rendering(quotes_qa):
    quote = quotes_qa.ask(COUNT_Q, answerer="extractive")
    assert "14" in quote.text
    n = cited(quote, "14")
    quotes_qa.chat_model = fake(f"Fifteen AI companies, 15 in all, made the pledge [{n}].")
    answer = quotes_qa.ask(COUNT_Q, answerer="llm")
    assert answer.rendering.status == "rejected"
    assert "15" in answer.rendering.reason and "withheld" in answer.fallback_reason
    assert answer.mode == "extractive" and answer.text == quote.text


@pytest.mark.parametrize(
    ("reply", "status"),
    [("Samsung Electronics and Naver signed it.", "shown"),
     ("Samsung Electronics and Apple signed it.", "rejected")],
)  # fmt: skip
def test_a_rendering_without_markers_is_checked_against_all_its_quotes(quotes_qa, reply, status):
    quotes_qa.chat_model = fake(reply)
    answer = quotes_qa.ask(PLEDGE_Q, answerer="llm")
    assert answer.rendering.status == status, answer.rendering.reason
    assert answer.rendering.text == reply  # shown as written; its label names the quotes
    if status == "rejected":
        assert "Apple" in answer.rendering.reason and answer.mode == "extractive"


def test_a_model_refusal_is_not_shown_and_the_quote_stands(quotes_qa):
    quotes_qa.chat_model = fake(REFUSAL["en"])
    answer = quotes_qa.ask(PLEDGE_Q, answerer="llm")
    assert answer.rendering.status == "refused" and answer.fallback_reason == REFUSED
    assert not answer.refused and answer.citations


def test_no_quote_no_model_call(quotes_qa):
    quotes_qa.chat_model = model = fake("It cost 3 billion won [1].")
    answer = quotes_qa.ask("What is the boiling point of mercury in kelvin?", answerer="llm")
    assert answer.refused and answer.rendering is None
    assert model.seen == []


def test_a_korean_question_gets_a_korean_rendering_prompt(quotes_qa):
    quotes_qa.chat_model = model = fake("삼성전자 등 14개 기업이 참여했습니다 [1].")
    answer = quotes_qa.ask("서울 AI 기업 서약에는 몇 개의 기업이 참여했나요?", answerer="llm")
    assert "Korean" in model.seen[0][-1].content
    assert answer.rendering is not None and answer.rendering.lang == "ko"


def test_the_quote_streams_before_the_model_starts(quotes_qa):
    quote = quotes_qa.ask(PLEDGE_Q, answerer="extractive")
    n = cited(quote, "삼성전자")
    order: list[str] = []
    quotes_qa.chat_model = model = fake(f"Samsung Electronics signed it [{n}].")
    for item in quotes_qa.ask_stream(PLEDGE_Q, answerer="llm"):
        if isinstance(item, RenderingDelta):
            order.append("rendering")
        elif isinstance(item, str):
            order.append("quote" if not model.seen else "quote-late")
        else:
            order.append("answer")
    first_rendering = order.index("rendering")
    assert set(order[:first_rendering]) == {"quote"}
    assert order[-1] == "answer" and "quote-late" not in order


def test_chat_replies_carry_the_quote_then_the_growing_rendering(quotes_qa):
    quote = quotes_qa.ask(PLEDGE_Q, answerer="extractive")
    n = cited(quote, "삼성전자")
    quotes_qa.chat_model = fake(f"Samsung Electronics and Naver signed it [{n}].")
    replies = list(respond(quotes_qa, PLEDGE_Q, answerer="llm"))
    growing = [r.rendering for r in replies if r.rendering and not r.done]
    assert len(growing) > 3 and growing[-1].startswith("Samsung")
    assert all(a in b for a, b in zip(growing, growing[1:], strict=False))
    during = next(r for r in replies if r.rendering)
    assert during.text.split() == quote.text.split()  # the whole quote is there already
    assert replies[-1].done and replies[-1].answer.rendering.shown


def test_a_name_or_number_only_the_question_gives_withholds_the_rendering(quotes_qa):
    """On-topic questions the documents do not answer differ by a name or a number.

    An English name has no Korean spelling the refusal rules could look for, so the
    extractive answer quotes the Prime Minister's speech; the rendering must not say
    whom the question named."""
    question = "What did Elon Musk say at the AI Global Forum?"
    quotes_qa.chat_model = fake("Elon Musk said AI governance matters.")
    answer = quotes_qa.ask(question, answerer="llm")
    assert not answer.refused
    assert answer.rendering.status == "rejected" and "Musk" in answer.rendering.reason
    # The release is dated 2024, so the quote answers, but the quoted sentences name no year
    question = "Which companies signed the Seoul AI Business Pledge in 2024?"
    quotes_qa.chat_model = fake("In 2024, Samsung Electronics signed the pledge.")
    answer = quotes_qa.ask(question, answerer="llm")
    assert not answer.refused and all("2024" not in c.quote for c in answer.citations)
    assert answer.rendering.status == "rejected" and "2024" in answer.rendering.reason
