"""Does a generated answer only restate the question?

The claim check passes a sentence whose names and numbers are all in the passages it
cites. "The French minister of state who was listed among the attendees of the AI
Global Forum was [1]." passes that test and answers nothing: the 1.5B model wrote 6
such sentences in the v1 gold run (out of 18 answers it was allowed to show). An
answer none of whose words is new, next to the question's words, is treated like a
failed check: the caller falls back to the extractive answer.

Words are folded Latin/digit/Hangul runs; Korean words match a question word that
is a prefix of them or that they are a prefix of (particles and endings change:
``주최자는`` / ``주최자는입니다``). Single characters and a few English filler words
(``the``, ``who``, ``was``) never count as new.
"""

from __future__ import annotations

import re

from ..textnorm import fold
from .markers import strip_markers

_WORD = re.compile(r"[0-9a-z\uac00-\ud7a3]+")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
FILLER = frozenset(
    """the a an is was were are be been being who whom whose which what that this these
    those of in on at by to for and or as with from it its there here listed named
    mentioned called following answer passage passages document documents""".split()
)


def new_words(answer: str, question: str) -> list[str]:
    """Words of ``answer`` (markers aside) that the question does not already contain."""
    asked = set(_WORD.findall(fold(question)))
    out = []
    for word in _WORD.findall(fold(strip_markers(answer))):
        if len(word) < 2 or word in FILLER or word in asked:
            continue
        if _HANGUL.match(word) and any(_same_stem(word, q) for q in asked):
            continue
        out.append(word)
    return out


def restates_question(answer: str, question: str) -> bool:
    """True when the answer has text but no word the question did not already have."""
    return bool(_WORD.search(fold(strip_markers(answer)))) and not new_words(answer, question)


def _same_stem(word: str, asked: str) -> bool:
    short, long = sorted((word, asked), key=len)
    return len(short) >= 2 and _HANGUL.match(asked) is not None and long.startswith(short)
