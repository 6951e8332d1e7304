"""What counts as a question: text, not empty once normalised, not too long.

Control characters (other than newline and tab) are dropped after NFKC
normalisation; what remains is what gets searched.
"""

from __future__ import annotations

import unicodedata

from .errors import InvalidQuestionError
from .textnorm import normalize


def check_question(question: object, *, max_chars: int) -> str:
    """Return the cleaned question.

    Raises:
        InvalidQuestionError: not text, empty, whitespace-only or over ``max_chars``.
    """
    if not isinstance(question, str):
        raise InvalidQuestionError(f"The question must be text, not {type(question).__name__}.")
    cleaned = "".join(
        ch for ch in normalize(question) if unicodedata.category(ch)[0] != "C" or ch in "\n\t"
    ).strip()
    if not cleaned:
        raise InvalidQuestionError("The question is empty; type a question about the documents.")
    if len(cleaned) > max_chars:
        raise InvalidQuestionError(
            f"The question is {len(cleaned):,} characters long; the limit is {max_chars:,}. "
            "Shorten it to the question itself."
        )
    return cleaned
