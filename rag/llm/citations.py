"""From the model's ``[n]`` (a passage number) to exact source spans, numbered 1..m.

For each sentence and each passage it cites, the cited span is the sentence of
that chunk which holds most of the claim's facts (numbers, dates, names), then
shares most words with it; with neither, the one closest in embedding space.
Citations are renumbered in order of first appearance and the markers in the
answer text rewritten, so ``[1]`` in the text is ``answer.citations[0]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from ..sentences import sentence_spans
from ..terms import terms
from ..types import Citation, Claim, Document, Hit
from .claims import CheckedAnswer
from .evidence import Romanisations, missing_facts
from .facts import extract_facts
from .markers import MARKER, parse_markers

SimilarityFn = Callable[[str, list[str]], np.ndarray]
"""(claim text, candidate sentences) -> (n,) cosine similarities."""


def best_span(
    claim: str,
    hit: Hit,
    *,
    roman: Romanisations,
    question: str = "",
    similarity: SimilarityFn | None = None,
) -> tuple[int, int]:
    """``(start, end)`` within the chunk text of the sentence that best backs ``claim``."""
    text = hit.chunk.text
    spans = sentence_spans(text) or [(0, len(text))]
    facts = extract_facts(claim)
    total = (
        len(facts.numbers) + len(facts.dates) + len(facts.weekdays)
        + sum(len(r) for r in facts.names) + len(facts.korean_names)
    )  # fmt: skip
    claim_terms = set(terms(claim))
    scored = []
    for i, (start, end) in enumerate(spans):
        sentence = text[start:end]
        found = total - len(missing_facts(facts, [sentence], roman=roman, question=question))
        overlap = len(claim_terms & set(terms(sentence)))
        scored.append((found, overlap, -i))
    best = max(range(len(spans)), key=lambda i: scored[i])
    if scored[best][:2] == (0, 0) and similarity is not None and len(spans) > 1:
        sims = similarity(claim, [text[s:e] for s, e in spans])
        best = int(np.argmax(sims))
    return spans[best]


def attach_citations(
    text: str,
    checked: CheckedAnswer,
    hits: Sequence[Hit],
    documents: dict[str, Document],
    *,
    roman: Romanisations,
    question: str = "",
    similarity: SimilarityFn | None = None,
) -> tuple[str, list[Citation], list[Claim]]:
    """Rewrite the markers of ``text``; return it with its citations and claims."""
    numbers: dict[tuple[str, int, int], int] = {}
    citations: list[Citation] = []
    per_sentence: list[dict[int, int]] = []  # model's n -> new number, per sentence
    claims: list[Claim] = []
    for sentence, claim in zip(checked.sentences, checked.claims, strict=True):
        mapping: dict[int, int] = {}
        for n in claim.citations:
            hit = hits[n - 1]
            start, end = best_span(
                claim.text, hit, roman=roman, question=question, similarity=similarity
            )
            key = (hit.chunk.doc_id, hit.chunk.start + start, hit.chunk.start + end)
            if key not in numbers:
                numbers[key] = len(numbers) + 1
                citations.append(_citation(numbers[key], key, hit, documents))
            mapping[n] = numbers[key]
        per_sentence.append(mapping)
        claims.append(replace(claim, citations=tuple(dict.fromkeys(mapping.values()))))
    return _rewrite(text, checked, per_sentence), citations, claims


def _rewrite(text: str, checked: CheckedAnswer, per_sentence: list[dict[int, int]]) -> str:
    def sub(match: re.Match[str]) -> str:
        mapping = next(
            (m for s, m in zip(checked.sentences, per_sentence, strict=True)
             if s.start <= match.start() < s.end),
            {},
        )  # fmt: skip
        new = {mapping.get(n) for n in parse_markers(match.group())}
        return "".join(f"[{n}]" for n in sorted(n for n in new if n)) + "[?]" * (None in new)

    return MARKER.sub(sub, text).strip()


def _citation(
    n: int, key: tuple[str, int, int], hit: Hit, documents: dict[str, Document]
) -> Citation:
    doc_id, start, end = key
    doc = documents.get(doc_id)
    offset = hit.chunk.start
    quote = doc.text[start:end] if doc else hit.chunk.text[start - offset : end - offset]
    return Citation(
        n=n,
        doc_id=doc_id,
        title=doc.title if doc else hit.chunk.title,
        quote=quote,
        start=start,
        end=end,
        score=round(float(hit.score), 4),
        chunk_id=hit.chunk.chunk_id,
        date=doc.date if doc else "",
        source=doc.source if doc else "",
    )
