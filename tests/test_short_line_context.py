"""A short line is scored with its neighbours (rag.sentence_candidates): by the mean of
vectors already stored, or, for a "label : value" line, by one more embedded text. Checked
on made-up lines and on the bundled corpus with the real model."""

from __future__ import annotations

import numpy as np
import pytest

from rag.sentence_answerer import CONTEXT_DISCOUNT, SentenceAnswerer
from rag.sentence_candidates import SHORT_LINE, candidates, embedded_texts, pooled
from rag.sentence_store import text_key
from rag.types import Chunk, Document

PAGE = (
    "포럼 개최 결과 발표\n"
    "각국 참석자 의견 수렴\n"
    "정부는 오늘 서울에서 열린 국제 포럼의 결과를 정리하여 발표하였으며 참석자들의 의견을 모았다.\n"
    "※ 포럼 개요\n"
    "- 일시/장소 : 2024.5.22(수), 서울\n"
    "- 주요 참석자 : 각국 장관과 기업 대표, 대학과 연구소의 연구자들이 함께 참석하여 "
    "의견을 나누었다.\n"
)


def _page_candidates(title: str = "포럼 개최 결과 발표"):
    doc = Document(doc_id="p", text=PAGE, title=title)
    chunk = Chunk("p#0", "p", PAGE, 0, len(PAGE))
    return {c.text: c for c in candidates([chunk], {"p": doc})}, doc, chunk


def test_the_mean_of_unit_vectors_is_a_unit_vector_between_them():
    own, other = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    mean = pooled(own, [other])
    assert np.linalg.norm(mean) == pytest.approx(1.0)
    assert mean @ own == pytest.approx(mean @ other)
    assert np.array_equal(pooled(own, []), own)


def test_a_short_line_knows_its_neighbours_but_not_the_headline():
    cands, _, _ = _page_candidates()
    heading = cands["※ 포럼 개요"]
    assert len(heading.text) < SHORT_LINE
    assert heading.neighbours[0].startswith("정부는 오늘")
    assert heading.neighbours[1].startswith("- 일시/장소")
    assert heading.context == ""  # not a labelled line: its vectors are pooled
    lead = cands[PAGE.splitlines()[2]]
    assert len(lead.text) >= SHORT_LINE and lead.neighbours == () and lead.context == ""
    subtitle = cands["각국 참석자 의견 수렴"]
    assert subtitle.neighbours == (lead.text,)  # the headline above it is left out
    untitled, _, _ = _page_candidates(title="")
    assert untitled["각국 참석자 의견 수렴"].neighbours == ("포럼 개최 결과 발표", lead.text)


def test_a_labelled_line_is_embedded_with_its_heading_and_the_next_line():
    cands, _, _ = _page_candidates()
    line = cands["- 일시/장소 : 2024.5.22(수), 서울"]
    assert line.context.startswith("※ 포럼 개요 - 일시/장소 : 2024.5.22(수), 서울 - 주요 참석자")


def test_only_sentences_and_labelled_lines_contexts_are_embedded():
    """What a build embeds besides the chunks: every sentence once, and one joined text
    per labelled short line, not one per short line."""
    cands, doc, chunk = _page_candidates()
    texts = list(embedded_texts([chunk], {"p": doc}))
    joined = [t for t in texts if t not in PAGE]
    assert joined == [cands["- 일시/장소 : 2024.5.22(수), 서울"].context]


def test_the_stored_vectors_hold_one_joined_text_per_labelled_short_line(qa):
    data = qa.data
    cands = [c for c in candidates(data.chunks, data.documents) if c.neighbours]
    assert len(cands) > 10, "the bundled pages have many short lines"
    joined = {c.context for c in cands if c.context}
    assert 0 < len(joined) < len(cands) / 4
    assert {text_key(t) for t in joined} <= set(data.sentences.rows)
    for c in cands:
        if not c.context:  # no text joining the line and its neighbours was embedded
            parts = [" ".join(t.split()) for t in (c.neighbours[0], c.text)]
            assert text_key(" ".join(parts)) not in data.sentences.rows


def test_a_heading_is_lifted_by_the_mean_of_its_and_its_neighbours_vectors(qa):
    """The heading "※ AI 글로벌 포럼 개요" alone says little of where the forum was held;
    with the lead and the date/place line around it, it reads as the forum's details."""
    question = "AI 글로벌 포럼은 언제, 어디에서 열렸나요?"
    q = qa.embedder.encode_queries([question])[0]
    hits = qa.search(question, top_k=qa.settings.top_k)
    data = qa.data
    cands = candidates([h.chunk for h in hits], data.documents, spans_of=data.chunk_sentence_spans)
    heading = next(c for c in cands if c.text == "※ AI 글로벌 포럼 개요")
    answerer = SentenceAnswerer(qa.embedder, qa.settings)
    scored = answerer._score(question, [heading], q, data.documents, stored=data.sentences)[0]
    fresh = qa.embedder.encode_documents([heading.text, *heading.neighbours])
    alone = float(fresh[0] @ q)
    assert scored.similarity > alone + 0.01
    expected = float(pooled(fresh[0], list(fresh[1:])) @ q) - CONTEXT_DISCOUNT
    assert scored.similarity == pytest.approx(expected, abs=3e-3)
