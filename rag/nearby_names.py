"""Quote a sentence only when the text just before it names whom the question is about.

"What did the French president say at the forum?" over the forum's press release finds
the Prime Minister's speech. The release names France (one line of its attendee list),
so the document-level check (``sentences_naming_the_specifics``) lets it through; but
neither the sentence that would be quoted nor the one before it says anything of
France, so quoting it answers another question. The question's names and places must
therefore be mentioned near the quoted sentence: earlier in its paragraph, or in the
sentence or line just before it (``SENTENCES_BACK``), where a pronoun ("그는", "박 장관은")
usually finds its antecedent and a bullet ("ㅇ …") its heading. A name in the
document's headline or on a quarter of its lines is the page's topic and need not be
repeated (rag.constraints.without_topic), and nor need Korea in Korean text, where
"정부" and "국무총리" mean Korea's unless they say otherwise. Numbers, years and ordinals
are left to rag.mismatches: a dateline or an earlier sentence often carries them.

When a sentence that names them all scores within the selection margin of the best,
it is quoted instead; otherwise the question is refused, naming what the best passage
leaves out. The margin is the selection margin, set a priori; how far back "near"
reaches (or whether the rule applies at all) was chosen on the validation split of the
public data, and its cost and gain on the test split are in docs/answers.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .constraints import Constraint, mentions_leniently, question_constraints, without_topic
from .sentence_candidates import Candidate
from .textnorm import detect_lang
from .types import Document

# The end of a sentence or of a line: what "the sentence before" is counted from.
_BOUNDARY = re.compile(r"[.!?。][\"'”’)\]]*\s+|\n+")
_KINDS = ("name", "place")
_HOME_FORMS = frozenset({"한국", "대한민국", "우리나라"})
_LANG_SAMPLE_CHARS = 2000
LOOK_BACK_CHARS = 1500  # far longer than a sentence; bounds the work on a long document
# How many sentences before the quoted one count as near: chosen on the validation split
# of the public data (eval/nearby_window.py, run by `python -m eval.train_scorer`).
SENTENCES_BACK: int | None = 1


def sentences_naming_nearby(
    question: str,
    ranked: list[Candidate],
    documents: Mapping[str, Document],
    *,
    margin: float,
    topic_of: Mapping[str, Document] | None = None,
    sentences_back: int | None = SENTENCES_BACK,
) -> tuple[list[Candidate], list[str]]:
    """The sentences of ``ranked`` near which every name and place of the question is
    mentioned, when the best of them scores within ``margin`` of the best overall;
    otherwise no sentences, and what the best sentence's neighbourhood leaves out.

    ``topic_of``: the document whose headline and lines decide what a page's topic is,
    when it is not the one the candidates are cut from (a passage of a longer article).
    """
    if not ranked or sentences_back is None:  # None: the rule is off
        return ranked, []
    specifics: dict[str, list[Constraint]] = {}

    def missing(cand: Candidate) -> list[str]:
        doc = documents.get(cand.doc_id)
        if doc is None:
            return []
        if cand.doc_id not in specifics:
            whole = (topic_of or {}).get(cand.doc_id, doc)
            asked = [
                c for c in question_constraints(question, doc_text=whole.text) if c.kind in _KINDS
            ]
            asked = without_topic(asked, whole.text, title=whole.title or "")
            specifics[cand.doc_id] = _without_home_country(asked, whole.text)
        if not specifics[cand.doc_id]:
            return []
        window = doc.text[_window_start(doc.text, cand.start, sentences_back) : cand.end]
        return [c.surface for c in specifics[cand.doc_id] if not mentions_leniently(c, window)]

    kept = [c for c in ranked if not missing(c)]
    if kept and kept[0].score >= ranked[0].score - margin:
        return kept, []
    return [], missing(ranked[0])


def _without_home_country(constraints: list[Constraint], text: str) -> list[Constraint]:
    """``constraints`` without Korea when ``text`` is Korean: a Korean article says
    "정부", not "한국 정부", so "What did Korea's Prime Minister say?" must not need it."""
    if detect_lang(text[:_LANG_SAMPLE_CHARS]) != "ko":
        return constraints
    return [c for c in constraints if not _HOME_FORMS.intersection(c.forms)]


def _window_start(text: str, start: int, back: int) -> int:
    """Where the near text of the sentence at ``start`` begins: its paragraph's start, or
    ``back`` sentences (or lines) before it, whichever is earlier."""
    low = max(0, start - LOOK_BACK_CHARS)
    paragraph = text.rfind("\n", low, start) + 1 or low
    ends = [low + m.end() for m in _BOUNDARY.finditer(text[low:start])]
    if not ends or text[ends[-1] : start].strip():  # ``start`` is inside a sentence
        ends.append(start)
    back_start = ends[-(back + 1)] if len(ends) > back else low
    return min(paragraph, back_start)
