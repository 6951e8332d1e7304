"""The LLM answerer end to end, with LangChain's fake chat model standing in for the LLM.

Everything else is real: the embedding model, the index of data/corpus, the
retrieval, the claim check and the extractive fallback. One test at the end runs
the real local GGUF model (markers slow + llm; skipped when it is not installed).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk

from rag import Answer, RagError, Settings
from rag.eval_scoring import in_language
from rag.evaluation import fallback_kind, score_answer
from rag.llm import GENERATION_LOCK, is_available, unavailable_reason
from rag.llm.chat_models import make_chat_model, parse_llm
from rag.refusals import REFUSAL

PLEDGE_Q = "Which companies signed the Seoul AI Business Pledge?"
THE_14 = (
    "Samsung Electronics, Naver, Kakao, SK Telecom, LG AI Research, KT, OpenAI, "
    "Anthropic, Microsoft, Google, Salesforce, IBM, Cohere and Adobe"
)
COMPANY_ALIASES = [
    ["Samsung", "삼성"], ["Naver", "네이버"], ["Kakao", "카카오"],
    ["SK Telecom", "SK Telekom", "SK텔레콤", "SKT"],  # the 1.5B model writes "Telekom"
    ["LG"], ["KT"], ["OpenAI"], ["Anthropic"],
    ["Microsoft", "마이크로소프트"], ["Google", "구글"], ["Salesforce"], ["IBM"],
    ["Cohere"], ["Adobe"],
]  # fmt: skip


class RecordingFake(GenericFakeChatModel):
    """GenericFakeChatModel that keeps the messages it was sent and counts overlaps."""

    seen: list = []
    active: int = 0
    max_active: int = 0
    delay: float = 0.0

    def _stream(
        self, messages: list[BaseMessage], *a: Any, **kw: Any
    ) -> Iterator[ChatGenerationChunk]:
        self.seen.append(messages)
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            for chunk in super()._stream(messages, *a, **kw):
                time.sleep(self.delay)
                yield chunk
        finally:
            self.active -= 1


def fake(*replies: str, delay: float = 0.0) -> RecordingFake:
    return RecordingFake(messages=iter(replies), seen=[], delay=delay)


@pytest.fixture()
def llm_qa(qa):
    """The session's real QA, the model reading whole passages, with a fake chat model
    plugged in; restored afterwards. (tests/test_llm_render.py: the model reading quotes.)"""
    before, settings = qa.chat_model, qa.settings
    qa.settings = replace(settings, llm_reads="passages")
    yield qa
    qa.chat_model, qa.settings = before, settings


def which_passage(qa, text: str) -> int:
    """The prompt number of the first passage containing ``text``."""
    hits = qa.search(PLEDGE_Q, top_k=qa.settings.top_k)[: qa.settings.llm_passages]
    return next(n for n, h in enumerate(hits, 1) if text in h.chunk.text)


# --- prompt assembly -------------------------------------------------------------------


def test_the_model_sees_the_top_passages_numbered_then_the_question(llm_qa):
    llm_qa.chat_model = model = fake("The documents do not say.")
    llm_qa.ask(PLEDGE_Q, answerer="llm")
    (messages,) = model.seen
    user = messages[-1].content
    hits = llm_qa.search(PLEDGE_Q)[: llm_qa.settings.llm_passages]
    for n, hit in enumerate(hits, 1):
        assert f"[{n}] " in user and hit.chunk.text.strip() in user
    assert f"[{len(hits) + 1}]" not in user
    assert user.index(hits[-1].chunk.text.strip()) < user.index(f"Question: {PLEDGE_Q}")
    assert "Write the answer in English" in user


def test_a_korean_question_asks_for_a_korean_answer(llm_qa):
    llm_qa.chat_model = model = fake(REFUSAL["ko"])
    answer = llm_qa.ask("서울 AI 기업 서약에 참여한 기업은?", answerer="llm")
    assert "Write the answer in Korean" in model.seen[0][-1].content
    assert answer.lang == "ko"


# --- a correct answer: claims, citations, renumbering ------------------------------------


def test_a_correct_list_passes_and_cites_the_exact_source_sentence(llm_qa):
    n = which_passage(llm_qa, "삼성전자")
    llm_qa.chat_model = fake(f"The pledge was signed by {THE_14} [{n}].")
    answer = llm_qa.ask(PLEDGE_Q, answerer="llm")
    assert answer.mode == "llm" and not answer.fallback_reason
    assert score_answer(answer.text, COMPANY_ALIASES) == 1.0
    assert [c.status for c in answer.claims] == ["supported"]
    assert answer.text.endswith("[1].")  # renumbered: the first citation is [1]
    (citation,) = answer.citations
    assert "삼성전자" in citation.quote and "Adobe" in citation.quote
    doc = llm_qa.data.documents[citation.doc_id]
    assert doc.text[citation.start : citation.end] == citation.quote  # the UI highlight
    assert answer.claims[0].citations == (1,)


def test_citations_are_renumbered_in_order_of_appearance(llm_qa):
    n = which_passage(llm_qa, "삼성전자")
    other = next(i for i in range(1, llm_qa.settings.llm_passages + 1) if i != n)
    llm_qa.chat_model = fake(f"Naver signed it [{n}]. It was a pledge [{other}][{n}].")
    answer = llm_qa.ask(PLEDGE_Q, answerer="llm")
    assert answer.mode == "llm", answer.fallback_reason
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert answer.text.startswith("Naver signed it [1].")
    assert answer.claims[0].citations == (1,)


# --- the claim check catches fabrications -> extractive fallback ---------------------


def test_a_fabricated_number_falls_back_to_the_extractive_answer(llm_qa):
    n = which_passage(llm_qa, "삼성전자")
    llm_qa.chat_model = fake(f"The pledge was signed by 15 companies, including Samsung [{n}].")
    answer = llm_qa.ask(PLEDGE_Q, answerer="llm")
    assert answer.mode == "extractive"
    assert "15" in answer.fallback_reason and "citation check" in answer.fallback_reason
    assert fallback_kind(answer.fallback_reason) == "unsupported_fact"
    # The verdict on the rejected sentence stays, without the prompt's passage numbers.
    assert [(c.status, c.citations) for c in answer.claims] == [("unsupported", ())]
    assert "15" in answer.claims[0].reason
    extractive = llm_qa.ask(PLEDGE_Q, answerer="extractive")
    assert answer.text == extractive.text and answer.citations == extractive.citations


def test_a_fabricated_company_falls_back(llm_qa):
    n = which_passage(llm_qa, "삼성전자")
    llm_qa.chat_model = fake(f"Samsung Electronics, Naver and Apple signed it [{n}].")
    answer = llm_qa.ask(PLEDGE_Q, answerer="llm")
    assert answer.mode == "extractive" and "Apple" in answer.fallback_reason


def test_an_answer_without_citations_falls_back(llm_qa):
    llm_qa.chat_model = fake("Samsung Electronics and Naver signed it.")
    answer = llm_qa.ask(PLEDGE_Q, answerer="llm")
    assert answer.mode == "extractive" and "[n]" in answer.fallback_reason
    assert fallback_kind(answer.fallback_reason) == "no_citation"
    assert [c.status for c in answer.claims] == ["unsupported"]


def test_an_empty_reply_falls_back(llm_qa):
    llm_qa.chat_model = fake("\n\n")  # an empty stream is LangChain's error, not a reply
    answer = llm_qa.ask(PLEDGE_Q, answerer="llm")
    assert answer.mode == "extractive" and fallback_kind(answer.fallback_reason) == "empty"


def test_an_answer_that_only_restates_the_question_falls_back(llm_qa):
    n = which_passage(llm_qa, "삼성전자")
    llm_qa.chat_model = fake(f"The companies that signed the Seoul AI Business Pledge are [{n}].")
    answer = llm_qa.ask(PLEDGE_Q, answerer="llm")
    assert answer.mode == "extractive"
    assert fallback_kind(answer.fallback_reason) == "restates_question"
    assert answer.text == llm_qa.ask(PLEDGE_Q, answerer="extractive").text


def test_an_uncited_sentence_is_reported_unsupported_but_kept(llm_qa):
    n = which_passage(llm_qa, "삼성전자")
    llm_qa.chat_model = fake(f"Naver signed it [{n}]. Kakao signed it too.")
    answer = llm_qa.ask(PLEDGE_Q, answerer="llm")
    assert answer.mode == "llm"
    assert [c.status for c in answer.claims] == ["supported", "unsupported"]
    assert answer.claims[1].reason == "no [n] citation"


# --- refusals ------------------------------------------------------------------------


def test_a_refusal_on_an_unanswerable_question_is_a_refusal(llm_qa):
    llm_qa.chat_model = fake(REFUSAL["en"])
    answer = llm_qa.ask("What is the boiling point of mercury?", answerer="llm")
    assert answer.refused and answer.text == REFUSAL["en"] and answer.mode == "llm"
    assert fallback_kind(answer.fallback_reason) is None


def test_a_paraphrased_refusal_counts_as_a_refusal(llm_qa):
    llm_qa.chat_model = fake("The amount is not mentioned in the given passages.")
    answer = llm_qa.ask("How much money did the government spend on the forum?", answerer="llm")
    assert answer.refused and answer.text == REFUSAL["en"]


def test_a_refusal_the_extractive_answerer_contradicts_falls_back_to_it(llm_qa):
    llm_qa.chat_model = fake(REFUSAL["en"])
    answer = llm_qa.ask(PLEDGE_Q, answerer="llm")
    assert not answer.refused and answer.mode == "extractive"
    assert "said the documents do not say" in answer.fallback_reason
    assert fallback_kind(answer.fallback_reason) == "refusal_overridden"


# --- streaming -------------------------------------------------------------------------


def test_ask_stream_yields_deltas_then_the_answer(llm_qa):
    n = which_passage(llm_qa, "삼성전자")
    reply = f"The pledge was signed by {THE_14} [{n}]."
    llm_qa.chat_model = fake(reply)
    items = list(llm_qa.ask_stream(PLEDGE_Q, answerer="llm"))
    *deltas, answer = items
    assert len(deltas) > 10 and all(isinstance(d, str) for d in deltas)
    assert "".join(deltas) == reply
    assert isinstance(answer, Answer) and answer.mode == "llm"


def test_ask_stream_in_extractive_mode(qa):
    *pieces, answer = list(qa.ask_stream(PLEDGE_Q, answerer="extractive"))
    assert pieces and all(isinstance(p, str) for p in pieces)
    assert "".join(pieces).split() == answer.text.split()
    assert answer == qa.ask(PLEDGE_Q, answerer="extractive")


def test_one_generation_at_a_time(llm_qa):
    n = which_passage(llm_qa, "삼성전자")
    reply = f"Samsung Electronics, Naver and Kakao signed it [{n}]."
    llm_qa.chat_model = model = fake(reply, reply, delay=0.02)
    answers: list[Answer] = []
    threads = [
        threading.Thread(target=lambda: answers.append(llm_qa.ask(PLEDGE_Q, answerer="llm")))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(model.seen) == 2 and model.max_active == 1
    assert [a.mode for a in answers] == ["llm", "llm"]
    assert not GENERATION_LOCK.locked()


def test_an_abandoned_stream_releases_the_lock(llm_qa):
    llm_qa.chat_model = fake("Samsung signed it [1].")
    stream = llm_qa.ask_stream(PLEDGE_Q, answerer="llm")
    next(stream)
    assert GENERATION_LOCK.locked()
    stream.close()
    assert not GENERATION_LOCK.locked()


# --- configuration -----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["gpt4", "openai:", "ollama", "hf:x"])
def test_bad_llm_settings_are_rejected_with_the_choices(value):
    with pytest.raises(RagError, match="RAG_LLM"):
        parse_llm(value)


def test_llm_setting_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("RAG_LLM", "ollama:qwen2.5:7b")
    monkeypatch.setenv("RAG_LLM_BASE_URL", "http://127.0.0.1:11434")
    settings = Settings.from_env()
    assert parse_llm(settings.llm).model == "qwen2.5:7b"
    assert settings.llm_base_url == "http://127.0.0.1:11434"


@pytest.mark.parametrize(("value", "module"), [("openai:m", "langchain_openai"),
                                               ("ollama:m", "langchain_ollama")])  # fmt: skip
def test_server_models_need_their_extra(value, module):
    """No network: building the client object sends nothing."""
    settings = Settings(llm=value, llm_base_url="http://127.0.0.1:9")
    try:
        __import__(module)
    except ImportError:
        with pytest.raises(RagError, match=r"pip install -e '\.\[(openai|ollama)\]'"):
            make_chat_model(settings)
    else:
        assert make_chat_model(settings).__class__.__name__ in ("ChatOpenAI", "ChatOllama")


def test_missing_local_model_says_how_to_fetch_it(tmp_path):
    settings = Settings(cache_dir=tmp_path)
    reason = unavailable_reason(settings)
    assert reason and ("rag models fetch --llm" in reason or ".[llm]" in reason)
    assert not is_available(settings)


# --- the real local model ---------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.llm
def test_real_local_model_renders_the_pledge_quote_in_english(qa):
    """The default mode: the quote, and beside it an English list of all 14 companies."""
    reason = unavailable_reason(qa.settings)
    if reason:
        pytest.skip(f"local LLM not available: {reason}")
    qa.chat_model = None  # the default: Qwen2.5-Coder-1.5B GGUF through ChatLlamaCpp
    answer = qa.ask(PLEDGE_Q, answerer="llm")
    assert answer == replace(qa.ask(PLEDGE_Q, answerer="extractive"),
                             rendering=answer.rendering, mode=answer.mode,
                             claims=answer.claims)  # fmt: skip
    assert any("삼성전자" in c.quote for c in answer.citations)
    r = answer.rendering
    assert r is not None and r.shown, r and r.reason
    assert score_answer(r.text, in_language(COMPANY_ALIASES, "en")) == 1.0, r.text  # "Samsung"
    assert r.first_token_ms is not None
