"""The sentence answerer's refusal thresholds, one per language pair.

A question and a sentence in one language score higher than across languages, so one
threshold would refuse English questions over Korean text far more often. Each is the
highest that refuses at most 5% of the answerable questions scored on the validation
split of the public data (KorQuAD: Korean over Korean; Belebele: English over Korean),
the unit scorer's trade-off; `python -m eval.train_scorer` reproduces them. Within a
language the similarity compared may count the document's title
(``SentenceAnswerer.with_title``).
"""

from __future__ import annotations

from .textnorm import detect_lang

REFUSAL_THRESHOLDS = {"same": 0.3915, "cross": 0.3132}
REFUSAL_THRESHOLD = REFUSAL_THRESHOLDS["same"]
LANG_SAMPLE_CHARS = 2000

__all__ = [
    "LANG_SAMPLE_CHARS",
    "REFUSAL_THRESHOLD",
    "REFUSAL_THRESHOLDS",
    "language_pair",
    "refusal_threshold",
]


def language_pair(question_lang: str, document_text: str) -> str:
    """ "same" or "cross": the document's language (read from its first
    ``LANG_SAMPLE_CHARS``; a sentence alone is often a name or a number in Latin letters
    inside Korean text) against the question's."""
    return "same" if detect_lang(document_text[:LANG_SAMPLE_CHARS]) == question_lang else "cross"


def refusal_threshold(question_lang: str, document_text: str) -> float:
    """The threshold for a question in ``question_lang`` over a document."""
    return REFUSAL_THRESHOLDS[language_pair(question_lang, document_text)]
