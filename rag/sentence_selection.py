"""Which of the ranked sentences within the margin are quoted (rag.sentence_answerer).

Each quoted sentence should tell the reader something the others do not: one that
mostly repeats a better one is dropped, and a footnote comes along only when the
question asks for the list it spells out. A list item comes with the line that
introduces its list when that line says what the items are ("다음과 같은 게시물은 삭제
또는 계정이 차단 될 수 있습니다." above "• 1. 타인의 … 개인정보 … 게재하는 경우").
A page's headline that ranks first but falls under the refusal threshold gives way to a
sentence of its article that scores nearly as well (``past_the_headline``).
"""

from __future__ import annotations

import re
from dataclasses import replace

from .answer import FOOTNOTE_REF
from .sentence_candidates import Candidate
from .sentences import sentence_spans
from .terms import terms
from .types import Document

# A sentence is a repeat when this share of its terms is already quoted: two thirds, so
# a third or more of it must be new (set a priori, not fitted; the gold set is the check).
REPEAT_SHARE = 2 / 3


def is_headline(cand: Candidate, documents: dict[str, Document]) -> bool:
    """Whether ``cand`` is its document's headline."""
    doc = documents.get(cand.doc_id)
    return bool(doc is not None and doc.title and cand.text.strip() == doc.title.strip())


def past_the_headline(
    ranked: list[Candidate], documents: dict[str, Document], *, margin: float, threshold: float
) -> list[Candidate]:
    """``ranked`` without a headline at its top whose similarity is under ``threshold``,
    when a sentence of the same article scores within ``margin`` of it: that sentence is
    judged instead. "Where was the REAIM 2023 meeting held?" shares "REAIM 2023" with
    the headline only (which ranks it first, yet it says nothing of where), and the
    sentence that says where comes close. A headline that reaches the threshold stays.

    The sentence takes the headline's score as well as its place, so the list stays
    sorted and another page's sentence that scored between the two is not quoted with it
    (the quote takes the sentences tied with the first)."""
    if not ranked or not is_headline(ranked[0], documents) or ranked[0].similarity >= threshold:
        return ranked
    top = ranked[0]
    for i, cand in enumerate(ranked[1:], start=1):
        if cand.score < top.score - margin:
            break
        if cand.doc_id == top.doc_id and not is_headline(cand, documents):
            return [replace(cand, score=top.score), *ranked[1:i], *ranked[i + 1 :]]
    return ranked


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


# A line that is a list item: a bullet, or a number with a dot or bracket. "□" and "ㅇ"
# open paragraphs in Korean releases, not items, so they do not count.
_ITEM = re.compile(r"^[ \t]*(?:[-–•·*▪◦●▶▷►]|\d{1,2}[.)])[ \t]")
# A lead-in that points forward at the list: "다음과 같은 …", "the following …", or a colon.
_LEAD_IN = re.compile(r"다음과\s*같|아래와\s*같|\bthe following\b|[:：]\s*$", re.I)
LEAD_IN_LINES = 20  # how far above an item its list's lead-in is looked for


def with_lead_ins(chosen: list[Candidate], documents: dict[str, Document]) -> list[Candidate]:
    """``chosen`` and, before each list item in it, the line that introduces its list when
    that line points forward at it; an item alone does not say what the list is of."""
    out: list[Candidate] = []
    for cand in chosen:
        doc = documents.get(cand.doc_id)
        is_item = doc is not None and _ITEM.match(cand.text) is not None
        lead = _lead_in(doc.text, cand.start) if is_item else None
        if lead is not None and all((o.doc_id, o.start) != (cand.doc_id, lead[0]) for o in out):
            start, end = lead
            out.append(replace(cand, start=start, end=end, text=doc.text[start:end], sentence=None))
        out.append(cand)
    return out


def _lead_in(text: str, item_start: int) -> tuple[int, int] | None:
    """The span of the first line above ``item_start`` that is neither blank nor an item,
    when it points forward; None otherwise."""
    end = text.rfind("\n", 0, item_start)
    for _ in range(LEAD_IN_LINES):
        if end < 0:
            return None
        start = text.rfind("\n", 0, end) + 1
        line = text[start:end]
        if line.strip() and not _ITEM.match(line):
            if not _LEAD_IN.search(line.strip()):
                return None
            offset = len(line) - len(line.lstrip())
            return start + offset, start + len(line.rstrip())
        end = start - 1
    return None
