"""The unit answerer (``extractive="units"``) and index format 2, on the real model and corpus.

The default sentence answerer is covered by test_core.py and the eval gate.
"""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import live_version, set_format_version

import rag
from rag.errors import IndexMismatchError
from rag.store import FORMAT_VERSION, MANIFEST


@pytest.fixture(scope="module")
def qa(built_index):
    return rag.open(built_index, extractive="units")


def _check_offsets(qa, answer) -> None:
    for c in answer.citations:
        text = qa.data.documents[c.doc_id].text
        assert text[c.start : c.end] == c.quote
        assert text[c.context_start : c.context_start + len(c.context)] == c.context
        assert c.context_start <= c.start and c.end <= c.context_start + len(c.context)


def test_one_list_item_answers_a_question_about_one_person(qa):
    answer = qa.ask("Which Saudi official attended the AI Global Forum?")
    assert not answer.refused
    first = answer.citations[0]
    assert first.quote.startswith("압둘라 빈 샤라프 알감디")
    assert "미셸 더넬런" not in first.quote  # not the whole attendee line...
    assert "미셸 더넬런" in first.context  # ...which is shown as its context
    _check_offsets(qa, answer)


def test_a_list_question_gets_the_whole_list(qa):
    answer = qa.ask("Which companies signed the pledge?")
    quotes = " ".join(c.quote for c in answer.citations)
    for company in ("삼성전자", "KT", "OpenAI", "Adobe"):
        assert company in quotes
    _check_offsets(qa, answer)


@pytest.mark.parametrize(
    "question",
    [
        "REAIM 제3차 회의는 어느 나라에서 열리나요?",
        "Where was the REAIM 2025 meeting held?",
        "Who represented Germany at the AI Global Forum?",
    ],
)
def test_questions_the_documents_do_not_answer_are_refused(qa, question):
    answer = qa.ask(question)
    assert answer.refused and answer.citations == []
    assert 0.0 <= answer.confidence < qa._extractive.scorer.refusal_threshold


def test_confidence_is_higher_for_an_answer_than_for_a_refusal(qa):
    answered = qa.ask("REAIM 회의는 어느 도시에서 개최되었나요?")
    refused = qa.ask("REAIM 제3차 회의는 어느 나라에서 열리나요?")
    assert answered.confidence > refused.confidence


def test_units_are_stored_with_the_index_and_cover_every_chunk(qa):
    data = qa.data
    assert len(data.units) == len(data.chunks)
    assert data.unit_vectors.shape == (sum(len(u) for u in data.units), data.model.dim)
    for row, chunk in enumerate(data.chunks):
        units, vectors = data.chunk_units(row)
        assert len(units) == len(vectors) > 0
        assert all(0 <= u.start < u.end <= len(chunk.text) for u in units)


def test_an_old_format_index_is_refused_then_rebuilt_by_rag_index(index_copy, corpus_dir):
    set_format_version(index_copy, 1)
    with pytest.raises(IndexMismatchError, match="rebuilds an older index in place"):
        rag.open(index_copy)
    qa = rag.build([corpus_dir], index_dir=index_copy)
    assert qa.data.units and rag.open(index_copy).data.chunks == qa.data.chunks
    new_manifest = json.loads((live_version(index_copy) / MANIFEST).read_text(encoding="utf-8"))
    assert new_manifest["format_version"] == FORMAT_VERSION


def test_a_missing_unit_vector_file_is_reported_as_damage(index_copy):
    from rag.errors import IndexCorruptedError

    (live_version(index_copy) / "unit_vectors.npy").unlink()
    with pytest.raises(IndexCorruptedError):
        rag.open(index_copy)
    shutil.rmtree(index_copy)
