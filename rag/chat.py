"""A conversation over a ``QA``: history, follow-up questions, streamed replies.

UI-independent: the web app keeps one session's turns in ``gr.State`` and renders
what ``respond`` yields. A follow-up ("And which of them are Korean?", "그중 한국
기업은?") is spotted by cheap rules (a continuation word, an anaphor, or no
content words of its own) and asked as the previous standalone question plus the
new one: that text is what is searched *and* what the extractive answerer matches
sentences against; the follow-up alone matches nothing. No LLM rewrites it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from .errors import RagError
from .refusals import REFUSAL
from .terms import terms
from .textnorm import detect_lang
from .types import Answer, RenderingDelta

MAX_BASE_CHARS = 500  # the earlier question carried into a follow-up's query
MAX_TURNS = 50  # per session; only the last one matters for follow-ups

_EN_STARTS = ("and", "but", "also", "so", "then", "or", "plus")
_EN_START_PHRASES = ("what about", "how about", "what of", "and what", "what else", "tell me more")
_EN_ANAPHORS = frozenset(
    "them they their theirs it its those these ones he she him his her hers".split()
)
_EN_WEAK_ANAPHORS = frozenset("this that there same".split())  # only in short questions
_KO_STARTS = (
    "그럼", "그러면", "그렇다면", "그리고", "그런데", "근데", "그래서", "또", "그중", "그 중",
)  # fmt: skip
_KO_ANAPHORS = (
    "그중", "그 중", "이 중", "그들", "이들", "저들", "그것", "그거", "그게", "그건",
    "거기", "그곳", "그때", "당시", "그 회사", "그 기업", "그분", "그 사람", "해당",
)  # fmt: skip
_QUESTION_WORDS = frozenset(
    "why how who when where what which many much more else about tell me please exactly "
    "누구 언제 어디 왜 어떻게 무엇 뭐 얼마 몇 알리 주 말하 설명 하 되 있 그렇".split()
)
_KO_DETERMINER = re.compile(r"(?:^|\s)그\s(?=[\uac00-\ud7a3])")  # "그 회의" = that meeting
_WORD = re.compile(r"[A-Za-z]+|[\uac00-\ud7a3]+|\d+")


@dataclass(frozen=True)
class SearchPlan:
    """What to search for. ``query`` is the follow-up resolved against ``base``."""

    question: str
    query: str
    follow_up: bool = False
    reason: str = ""
    base: str = ""


@dataclass(frozen=True)
class Turn:
    """One answered question of a session."""

    question: str
    answer: Answer
    plan: SearchPlan


@dataclass(frozen=True)
class Reply:
    """One step of a streamed reply; the last one has ``done=True``."""

    plan: SearchPlan
    text: str = ""
    rendering: str = ""  # the LLM's rendering of the quote so far (``RenderingDelta``s)
    done: bool = False
    answer: Answer | None = None
    error: str = ""

    @property
    def turn(self) -> Turn | None:
        if not self.done or self.answer is None:
            return None
        return Turn(self.plan.question, self.answer, self.plan)


def follow_up_reason(question: str) -> str:
    """Why ``question`` reads as a follow-up, or "" when it stands on its own."""
    q = " ".join(question.split())
    low = q.lower()
    words = [w.lower() for w in _WORD.findall(q)]
    if not words:
        return "no words of its own"
    phrase = next((p for p in _EN_START_PHRASES if low.startswith(p)), None)
    if phrase or words[0] in _EN_STARTS:
        return f"starts with {phrase or words[0]!r}"
    if q.startswith(_KO_STARTS):
        return f"starts with {next(s for s in _KO_STARTS if q.startswith(s))!r}"
    own = [t for t in terms(q) if t not in _QUESTION_WORDS and t not in _EN_ANAPHORS]
    if not own:
        return "no content words of its own"
    if len(own) <= 4:
        found = next((w for w in words if w in _EN_ANAPHORS), None)
        if found is None and len(words) <= 6:
            found = next((w for w in words if w in _EN_WEAK_ANAPHORS), None)
        if found is None:
            found = next((a for a in _KO_ANAPHORS if a in q), None)
        if found is None and _KO_DETERMINER.search(q):
            found = _KO_DETERMINER.search(q).group().strip()
        if found:
            return f"refers back ({found!r})"
    return "very short" if len(words) <= 2 else ""


def plan_search(question: str, history: Sequence[Turn]) -> SearchPlan:
    """Resolve ``question`` against the session's last turn, if it is a follow-up.

    The base is the last *standalone* question, so a chain of follow-ups does not
    grow the query: "Which companies signed the pledge?" → "And which of them are
    Korean?" → "And the foreign ones?" all search with the pledge question.
    """
    question = question.strip()
    previous = history[-1] if history else None
    if previous is None:
        return SearchPlan(question=question, query=question)
    reason = follow_up_reason(question)
    if not reason:
        return SearchPlan(question=question, query=question)
    base = previous.plan.base if previous.plan.follow_up else previous.question
    base = base[:MAX_BASE_CHARS]
    return SearchPlan(
        question=question, query=f"{base} {question}", follow_up=True, reason=reason, base=base
    )


def ask_stream(qa, plan: SearchPlan, *, answerer: str | None = None) -> Iterator[str | Answer]:
    """``qa.ask_stream`` for a plan: text deltas, then the ``Answer`` (always last).

    A follow-up is asked as the resolved text, so the answer's question, language
    and (for a refusal) its text are put back to the follow-up's own.
    """
    if not plan.follow_up:
        yield from qa.ask_stream(plan.question, answerer=answerer)
        return
    for item in qa.ask_stream(plan.query, search_query=plan.query, answerer=answerer):
        if not isinstance(item, Answer):
            yield item
            continue
        lang = detect_lang(plan.question)
        text = REFUSAL[lang] if item.refused else item.text
        yield replace(item, question=plan.question, lang=lang, text=text)


def ask(qa, plan: SearchPlan, *, answerer: str | None = None) -> Answer:
    """The final ``Answer`` of ``ask_stream``."""
    *_, answer = ask_stream(qa, plan, answerer=answerer)
    return answer


def respond(
    qa,
    question: str,
    history: Sequence[Turn] = (),
    *,
    answerer: str | None = None,
    pace: float = 0.0,
) -> Iterator[Reply]:
    """Answer ``question`` in the context of ``history``, yielding the text as it grows.

    The first reply (empty text) comes before the search, so a UI can show what is
    being searched for; errors the user can fix (``RagError``) end the stream with
    ``error`` set instead of raising. An extractive answer (already complete) is cut
    into word groups, ``pace`` seconds apart; with an LLM rendering the quote, the
    rendering then grows in ``Reply.rendering``; a model that writes the answer from
    whole passages streams in ``Reply.text``. The last reply's text is the final
    ``Answer.text``.
    """
    plan = plan_search(question, history)
    yield Reply(plan=plan)
    text = rendering = ""
    try:
        for item in ask_stream(qa, plan, answerer=answerer):
            if isinstance(item, Answer):
                yield Reply(plan=plan, text=item.text, done=True, answer=item)
                return
            if isinstance(item, RenderingDelta):
                rendering += item
                yield Reply(plan=plan, text=text, rendering=rendering)
                continue
            if item.strip() in REFUSAL.values():
                continue  # maybe in the wrong language for a follow-up; the Answer has it
            if answerer == "llm" and _generated_tokens(qa):
                text += item
                yield Reply(plan=plan, text=text)
                continue
            for piece in stream_pieces(item, max_pieces=8):
                yield Reply(plan=plan, text=text + piece)
                if pace:
                    time.sleep(pace)
            text += item
    except RagError as exc:
        yield Reply(plan=plan, done=True, error=str(exc))


def _generated_tokens(qa) -> bool:
    """Does the LLM mode stream the model's own answer (``llm_reads="passages"``)?"""
    return getattr(getattr(qa, "settings", None), "llm_reads", "quotes") == "passages"


def stream_pieces(text: str, *, max_pieces: int = 24) -> Iterator[str]:
    """Growing prefixes of ``text``, cut after whole words, ``[n]`` kept with its word.

    At most ``max_pieces`` prefixes, so a long quote streams in a second, not ten.
    """
    cuts = [m.end() for m in re.finditer(r"\S+(?:\s*\[\d+\])*", text)]
    if not cuts:
        return
    step = max(1, -(-len(cuts) // max_pieces))
    chosen = cuts[step - 1 :: step]
    if chosen[-1] != cuts[-1]:
        chosen.append(cuts[-1])
    for end in chosen:
        yield text[:end]


def add_turn(history: Sequence[Turn], turn: Turn) -> tuple[Turn, ...]:
    """The session's history with ``turn`` appended, capped at ``MAX_TURNS``."""
    return (*history, turn)[-MAX_TURNS:]
