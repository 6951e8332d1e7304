"""The claim check: is every sentence of a generated answer backed by what it cites?

A generated answer is split into sentences (a bulleted list counts as one;
``answer_sentences``). Each sentence must carry at least one valid ``[n]``
(``markers``), and every number, date and proper name in it (``facts``) must appear
in a passage it cites, after normalisation (``evidence``):

numbers as digits, names as Latin words, Korean proper nouns, romanisations and
exonyms.

Shortcuts: words that name a kind of thing rather than which one (``Minister``,
``Electronics``, ``Pledge``) are not checked, and a capitalised word the question
itself used is accepted if another word of the same name is found. The check can
call a correct sentence unsupported (a translated name it cannot match); that is
the safe direction, since the caller then falls back to the extractive answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..types import Claim
from .answer_sentences import Sentence, split_sentences
from .evidence import Romanisations, missing_facts, romanisations
from .facts import extract_facts
from .markers import strip_markers


@dataclass(frozen=True)
class CheckedAnswer:
    """The claims, and whether the answer as a whole fails (then ``reason`` says why)."""

    claims: list[Claim]
    sentences: list[Sentence]
    failed: bool
    reason: str = ""


def check_answer(text: str, passages: Mapping[int, str], *, question: str = "") -> CheckedAnswer:
    """Check every sentence of ``text`` against the ``passages`` (numbered as in the prompt).

    A sentence is "supported" (valid citation, every fact found in what it cites),
    "unchecked" (valid citation, nothing checkable in it) or "unsupported". The
    answer fails when no sentence cites a valid passage, or when a sentence states
    a number, date or name found in none of the passages it cites (a sentence
    without a citation: in none of the passages at all).
    """
    roman = romanisations(list(passages.values()))
    sentences = [s for s in split_sentences(text) if strip_markers(s.text)]
    claims: list[Claim] = []
    fabricated: list[str] = []
    for number, sentence in enumerate(sentences, start=1):
        claim = check_sentence(sentence, passages, roman=roman, question=question)
        claims.append(claim)
        if claim.status == "unsupported" and claim.citations:
            fabricated.append(f"sentence {number}: {claim.reason}")
        elif claim.status == "unsupported":
            facts = extract_facts(sentence.text)
            gone = missing_facts(facts, list(passages.values()), roman=roman, question=question)
            if gone:
                fabricated.append(f"sentence {number}: {', '.join(gone)} in no passage")
    if not any(c.citations for c in claims):
        return CheckedAnswer(claims, sentences, True, "no sentence cites a passage with [n]")
    if fabricated:
        return CheckedAnswer(claims, sentences, True, "; ".join(fabricated))
    return CheckedAnswer(claims, sentences, False)


def check_sentence(
    sentence: Sentence,
    passages: Mapping[int, str],
    *,
    roman: Romanisations | None = None,
    question: str = "",
) -> Claim:
    text = strip_markers(sentence.text)
    valid = tuple(dict.fromkeys(n for n in sentence.markers if n in passages))
    invalid = [n for n in sentence.markers if n not in passages]
    if not sentence.markers:
        return Claim(text, "unsupported", (), "no [n] citation")
    if not valid:
        given = f"[{min(passages)}]-[{max(passages)}]" if passages else "none"
        return Claim(text, "unsupported", (), f"cites {invalid}, but the passages are {given}")
    facts = extract_facts(sentence.text)
    if not facts:
        return Claim(text, "unchecked", valid, "no number, date or name to check")
    roman = roman or romanisations(list(passages.values()))
    gone = missing_facts(facts, [passages[n] for n in valid], roman=roman, question=question)
    if gone:
        cited = "".join(f"[{n}]" for n in valid)
        return Claim(text, "unsupported", valid, f"{', '.join(gone)} not in {cited}")
    return Claim(text, "supported", valid)
