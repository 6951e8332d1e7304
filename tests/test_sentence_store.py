"""The sentence answerer's vectors stored with the index (rag.sentence_store).

Real model, real index of the bundled corpus: a warm answer embeds no sentence (only,
once, a best sentence under the threshold together with its page's title), the
stored vectors give the answers that embedding at question time gives, an update
embeds only new text, and damaged sentence files are reported, not read.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from conftest import gold_items, live_version, set_format_version

import rag
from rag import indexing, sentence_candidates
from rag.errors import IndexCorruptedError, IndexMismatchError
from rag.indexing import update_index
from rag.sentence_answerer import SentenceAnswerer
from rag.sentence_candidates import embedded_texts
from rag.sentence_store import KEYS_FILE, VECTORS_FILE, text_key
from rag.sentences import sentence_spans
from rag.store import load_index
from rag.textnorm import detect_lang
from rag.types import Document

PLEDGE_Q = "Which companies signed the pledge?"


class CountingEmbedder:
    """The real embedder, counting the document texts sent through the model."""

    def __init__(self, embedder):
        self._embedder = embedder
        self.texts_embedded = 0
        self.texts: list[str] = []

    def __getattr__(self, name):
        return getattr(self._embedder, name)

    def encode_documents(self, texts, **kwargs):
        self.texts_embedded += len(texts)
        self.texts.extend(texts)
        return self._embedder.encode_documents(texts, **kwargs)


def _answer(qa, answerer: SentenceAnswerer, question: str, data):
    vector = qa.embedder.encode_queries([question])[0]
    hits = qa.search(question, top_k=qa.settings.top_k)
    return answerer.answer(
        question, hits, query_vector=vector, data=data, lang=detect_lang(question)
    )


def test_every_sentence_an_answer_can_quote_is_stored(qa):
    data = qa.data
    texts = set(embedded_texts(data.chunks, data.documents))
    assert texts, "the bundled corpus has sentences"
    assert {text_key(t) for t in texts} == set(data.sentences.rows)
    assert data.sentences.vectors.shape == (len(texts), qa.embedder.dim)


def test_a_warm_answer_embeds_no_sentence(qa):
    """Every candidate's vector is stored. The one text a question may embed is its best
    sentence after its page's title, when that sentence alone is under the threshold
    (``SentenceAnswerer.with_title``); it is embedded once per process."""
    counting = CountingEmbedder(qa.embedder)
    answerer = SentenceAnswerer(counting, qa.settings)
    answer = _answer(qa, answerer, PLEDGE_Q, qa.data)
    assert "삼성전자" in answer.text
    assert counting.texts_embedded == 0
    questions = [item["question"] for item in gold_items()[:40]]
    for question in questions:
        _answer(qa, answerer, question, qa.data)
    titles = {d.title for d in qa.data.documents.values() if d.title}
    assert counting.texts, "some best sentence of these questions is under the threshold"
    assert all(text.split("\n", 1)[0] in titles for text in counting.texts)
    assert len(counting.texts) < len(questions) / 4
    before = counting.texts_embedded
    for question in questions:
        _answer(qa, answerer, question, qa.data)
    assert counting.texts_embedded == before


def test_without_stored_vectors_the_same_sentences_are_embedded_at_question_time(qa):
    counting = CountingEmbedder(qa.embedder)
    answerer = SentenceAnswerer(counting, qa.settings)
    _answer(qa, answerer, PLEDGE_Q, replace(qa.data, sentences=None))
    assert counting.texts_embedded > 0


def test_stored_vectors_give_the_answers_question_time_embedding_gives(qa):
    stored = SentenceAnswerer(qa.embedder, qa.settings)
    fresh = SentenceAnswerer(qa.embedder, qa.settings)
    bare = replace(qa.data, sentences=None)
    items = gold_items()[::4]  # 25 questions in both languages
    for item in items:
        a = _answer(qa, stored, item["question"], qa.data)
        b = _answer(qa, fresh, item["question"], bare)
        assert a.text == b.text, item["question"]
        assert a.confidence == pytest.approx(b.confidence, abs=2e-3)


def test_an_update_embeds_only_the_new_document_and_drops_removed_text(qa):
    counting = CountingEmbedder(qa.embedder)
    old = qa.data
    text = (
        "The Busan AI charter was signed by nine cities in March 2025.\n"
        "Each city names one officer for AI safety.\n"
    )
    doc = Document(doc_id="busan.txt", text=text, title="Busan charter", content_hash="b1")
    data, report = update_index(old, add=[doc], embedder=counting, settings=qa.settings)
    new_texts = set(embedded_texts([c for c in data.chunks if c.doc_id == "busan.txt"], {}))
    assert report.sentences_embedded == len(
        {text_key(t) for t in new_texts} - set(old.sentences.rows)
    )
    assert 0 < report.sentences_embedded < len(old.sentences)
    row = data.sentences.rows[text_key("Each city names one officer for AI safety.")]
    expected = qa.embedder.encode_documents(["Each city names one officer for AI safety."])[0]
    assert float(data.sentences.vectors[row].astype(np.float32) @ expected) > 0.999

    removed, report = update_index(
        data, remove=["busan.txt"], embedder=counting, settings=qa.settings
    )
    assert report.sentences_embedded == 0
    assert set(removed.sentences.rows) == set(old.sentences.rows)


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        (KEYS_FILE, lambda p: p.write_text('["not a key"]', encoding="utf-8")),
        (KEYS_FILE, lambda p: p.write_text("{", encoding="utf-8")),
        (VECTORS_FILE, lambda p: np.save(p, np.zeros((3, 5), np.float16))),
    ],
)
def test_damaged_sentence_files_are_reported(index_copy, name, damage):
    damage(live_version(index_copy) / name)
    with pytest.raises(IndexCorruptedError, match="sentence vectors|inconsistent|SHA-256"):
        load_index(index_copy)
    with pytest.raises(IndexCorruptedError, match="rag index"):
        load_index(index_copy, verify=False)


def test_the_manifest_checks_the_sentence_files(index_copy):
    manifest = json.loads((live_version(index_copy) / "manifest.json").read_text(encoding="utf-8"))
    assert {KEYS_FILE, VECTORS_FILE} <= set(manifest["files"])


def test_an_index_without_sentence_vectors_is_refused_then_rebuilt(index_copy, corpus_dir):
    set_format_version(index_copy, 3)
    with pytest.raises(IndexMismatchError, match="sentence vectors since format 4.*rag index"):
        rag.open(index_copy)
    rag.build([corpus_dir], index_dir=index_copy)
    assert len(rag.open(index_copy, load_model=False).data.sentences) > 0


def test_without_store_sentence_vectors_the_build_skips_them_and_answers_still_come(qa):
    counting = CountingEmbedder(qa.embedder)
    settings = replace(qa.settings, store_sentence_vectors=False)
    data, report = update_index(qa.data, embedder=counting, settings=settings)
    assert len(data.sentences) == 0 and report.sentences_embedded == 0
    assert counting.texts_embedded == 0
    answer = _answer(qa, SentenceAnswerer(counting, settings), PLEDGE_Q, data)
    assert "삼성전자" in answer.text
    assert counting.texts_embedded > 0


def test_stored_sentences_spare_an_update_and_an_answer_the_splitting(qa, monkeypatch):
    data = qa.data
    assert data.sentence_spans == [sentence_spans(c.text) for c in data.chunks]

    def no_split(text):
        raise AssertionError("a stored chunk was split into sentences again")

    monkeypatch.setattr(sentence_candidates, "sentence_spans", no_split)
    monkeypatch.setattr(indexing, "sentence_spans", no_split)
    updated, report = update_index(data, embedder=qa.embedder, settings=qa.settings)
    assert report.sentences_embedded == 0
    assert set(updated.sentences.rows) == set(data.sentences.rows)
    answer = _answer(qa, SentenceAnswerer(qa.embedder, qa.settings), PLEDGE_Q, updated)
    assert "삼성전자" in answer.text
