"""One list entry instead of the whole list, when the question singles it out.

"Who represented the United Kingdom at the forum?" is answered by one bullet of the
attendee line, "▲미셸 더넬런 (영)과학혁신기술부 장관", not by the six-person line and the
sentences around it. When exactly one bullet entry of the sentences about to be quoted
mentions every specific of the question (its places, names, numbers and ordinals, as
rag.constraints finds them), that entry is quoted alone, with its sentence as context.
An entry is a bullet item that is a phrase, not a clause that ends the sentence (Kiwi
finds no final ending in it), since the last bullet of a line often carries the
sentence's verb. A question that asks for the list keeps the whole list.
"""

from __future__ import annotations

from dataclasses import replace

from .answer_types import asks_for_list
from .constraints import coverage, question_constraints, without_topic
from .index_data import IndexData
from .sentence_candidates import Candidate
from .sentences import kiwi, kiwi_lock
from .types import Hit


def single_entry(
    question: str, chosen: list[Candidate], hits: list[Hit], data: IndexData
) -> Candidate | None:
    """The one entry of ``chosen`` that the question singles out, or None."""
    if asks_for_list(question):
        return None
    documents = data.documents
    doc_ids = dict.fromkeys(c.doc_id for c in chosen if c.doc_id in documents)
    joined = "\n".join(documents[d].text for d in doc_ids)
    constraints = without_topic(question_constraints(question, doc_text=joined), joined)
    if not constraints:
        return None
    found: dict[tuple[str, int, int], Candidate] = {}
    for hit in hits:
        chunk = hit.chunk
        row = data.chunk_row(chunk.chunk_id)
        if row is None or chunk.doc_id not in documents:
            continue
        units, _ = data.chunk_units(row)
        for unit in units:
            if unit.kind != "item":
                continue
            start, end = chunk.start + unit.start, chunk.start + unit.end
            around = _containing(chosen, chunk.doc_id, start, end)
            if around is None:
                continue
            text = documents[chunk.doc_id].text[start:end]
            if coverage(constraints, text) == 1.0 and _is_phrase(text):
                found[(chunk.doc_id, start, end)] = replace(
                    around, start=start, end=end, text=text, sentence=(around.start, around.end)
                )
    minimal = [k for k in found if not any(o != k and _inside(o, k) for o in found)]
    return found[minimal[0]] if len(minimal) == 1 else None


def _containing(chosen: list[Candidate], doc_id: str, start: int, end: int) -> Candidate | None:
    for c in chosen:
        if c.doc_id == doc_id and c.start <= start and end <= c.end:
            return c
    return None


def _inside(inner: tuple[str, int, int], outer: tuple[str, int, int]) -> bool:
    return inner[0] == outer[0] and outer[1] <= inner[1] and inner[2] <= outer[2]


def _is_phrase(text: str) -> bool:
    """No sentence-final ending: a list entry, not the clause that closes the sentence."""
    with kiwi_lock:
        tokens = kiwi().tokenize(text)
    return not any(t.tag == "EF" for t in tokens)
