"""Generated answers through LangChain (``answerer="llm"``), checked against their sources.

    qa = rag.open("index", answerer="llm")          # or RAG_ANSWERER=llm
    qa.chat_model = ChatOpenAI(...)                 # optional: any BaseChatModel
    for item in qa.ask_stream("Which companies signed the pledge?"):
        print(item if isinstance(item, str) else item.claims)

Modules: ``prompt`` (the versioned prompt), ``chat_models`` (``RAG_LLM`` -> a chat
model), ``claims`` (the claim check: ``markers``,
``answer_sentences``, ``facts``, ``evidence``), ``citations`` (``[n]`` -> source spans),
``generate`` (streaming, the one-at-a-time lock, the extractive fallback).
"""

from __future__ import annotations

from typing import Any

from ..config import Settings
from .chat_models import make_chat_model, unavailable_reason
from .generate import GENERATION_LOCK, answer_with_llm, stream_with_llm
from .prompt import PROMPT_VERSION, build_messages

__all__ = [
    "GENERATION_LOCK",
    "PROMPT_VERSION",
    "answer_with_llm",
    "build_messages",
    "get_chat_model",
    "is_available",
    "stream_with_llm",
    "unavailable_reason",
]


def get_chat_model(settings: Settings | None = None) -> Any:
    """The LangChain chat model ``settings.llm`` (``RAG_LLM``) names; the local one is cached."""
    return make_chat_model(settings or Settings.from_env())


def is_available(settings: Settings | None = None) -> bool:
    """True if ``get_chat_model`` should work: packages installed, model fetched."""
    return unavailable_reason(settings or Settings.from_env()) is None
