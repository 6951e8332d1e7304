"""The one prompt of the LLM answerer, versioned: change the text, bump the version.

Passages come first and the instructions after them, next to where the model
starts writing: with Qwen2.5-Coder-1.5B that order is what made it list all
fourteen pledge companies (see docs/models.md). The refusal sentence is the same
fixed text the extractive answerer uses, so callers can recognise it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from ..refusals import REFUSAL
from ..types import Lang

PROMPT_VERSION = "v1"

SYSTEM = "You are a careful assistant. You answer only from the passages you are given."
_LANGUAGE = {"en": "English", "ko": "Korean (한국어)"}


@dataclass(frozen=True)
class Passage:
    """One retrieved chunk as the model sees it: ``[n] title`` then the text.

    No date in the header: with "(2024-05-22)" after the title, the 1.5B model listed
    only 9 of the 14 pledge companies; without it, all 14.
    """

    n: int
    text: str
    title: str = ""


def format_passage(passage: Passage) -> str:
    head = f"[{passage.n}]"
    if passage.title:
        head += f" {passage.title}"
    return f"{head}\n{passage.text.strip()}"


def instructions(lang: Lang) -> str:
    """The rules, in English (small models follow English rules best), for ``lang`` answers.

    Kept short: a 1.5B model follows a few plain rules better than many.
    """
    return (
        "Answer the question from the passages above. The passages may be in another "
        f"language: translate what you use. Write the answer in {_LANGUAGE[lang]}, in one to "
        "three sentences, and end each sentence with the number of the passage it comes "
        "from in square brackets, like [1]. "
        f"Only if no passage contains the answer, reply exactly: {REFUSAL[lang]}"
    )


def build_messages(question: str, passages: Sequence[Passage], lang: Lang) -> list[BaseMessage]:
    """System rule, then one user turn: the numbered passages, the instructions, the question."""
    body = "\n\n".join(format_passage(p) for p in passages)
    user = f"Passages:\n\n{body}\n\n{instructions(lang)}\n\nQuestion: {question.strip()}"
    return [SystemMessage(content=SYSTEM), HumanMessage(content=user)]


# ------------------------------------------------------------------ rendering the quotes

RENDER_PROMPT_VERSION = "r1"


def rendering_instructions(lang: Lang) -> str:
    """Rules for retelling the quotes: only what they say, names and digits kept exactly."""
    return (
        f"Answer the question in {_LANGUAGE[lang]} using only the quotes above, in one or two "
        "short sentences (a list may be one sentence). Translate what you use. Copy every "
        "number and date exactly as written. Write names as the quote gives them; where a "
        "quote gives a Latin spelling in parentheses, use that spelling. End each sentence "
        "with the number of the quote it comes from in square brackets, like [1]. "
        f"Only if no quote answers the question, reply exactly: {REFUSAL[lang]}"
    )


def build_rendering_messages(
    question: str, quotes: Sequence[Passage], lang: Lang
) -> list[BaseMessage]:
    """System rule, then one user turn: the numbered quotes, the rules, the question.

    The model reads the quoted answer units only, never whole passages: a few dozen
    tokens instead of about 1,100, so the first token comes within seconds on a CPU.
    """
    body = "\n".join(f"[{q.n}] {q.text.strip()}" for q in quotes)
    user = f"Quotes:\n{body}\n\n{rendering_instructions(lang)}\n\nQuestion: {question.strip()}"
    return [SystemMessage(content=SYSTEM), HumanMessage(content=user)]
