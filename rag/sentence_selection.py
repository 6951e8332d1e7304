"""Which of the ranked sentences within the margin are quoted (rag.sentence_answerer).

Each quoted sentence should tell the reader something the others do not: one that
mostly repeats a better one is dropped, and a footnote comes along only when the
question asks for the list it spells out.
"""

from __future__ import annotations

from dataclasses import replace

from .answer import FOOTNOTE_REF
from .sentence_candidates import Candidate
from .sentences import sentence_spans
from .terms import terms
from .types import Document

# A sentence is a repeat when this share of its terms is already quoted: two thirds, so
# a third or more of it must be new (set a priori, not fitted; the gold set is the check).
REPEAT_SHARE = 2 / 3


def without_repeats(chosen: list[Candidate]) -> list[Candidate]:
    """``chosen`` without the sentences that mostly repeat better ones: those of which at
    least ``REPEAT_SHARE`` of the terms are already quoted.

    A news photo's caption restates the lead ("박진 외교장관이 2월 15부터 16일까지 … 참석해
    발언하고 있다.(사진=외교부 제공)" under the lead that says the same and more), and
    quoting both tells the reader nothing new; the place it took goes to the next
    sentence within the margin.
    """
    kept: list[Candidate] = []
    quoted: set[str] = set()
    for cand in chosen:
        own = set(terms(cand.text))
        if kept and own and len(own & quoted) >= REPEAT_SHARE * len(own):
            continue
        kept.append(cand)
        quoted |= own
    return kept


def with_footnotes(chosen: list[Candidate], documents: dict[str, Document]) -> list[Candidate]:
    """``chosen`` and the footnotes (``* …`` lines) its sentences point at (``기업*``).

    For questions that ask for the list a footnote spells out ("Which companies
    signed…"); "How many companies signed?" is answered by the sentence alone."""
    out = list(chosen)
    for cand in chosen:
        doc = documents.get(cand.doc_id)
        if doc is None or not FOOTNOTE_REF.search(cand.text):
            continue
        tail = doc.text[cand.end : cand.end + 2000]
        for start, end in sentence_spans(tail):
            if tail[start:end].startswith("*"):
                s, e = cand.end + start, cand.end + end
                if all((o.doc_id, o.start) != (cand.doc_id, s) for o in out):
                    out.append(replace(cand, start=s, end=e, text=doc.text[s:e]))
                break
    return out
