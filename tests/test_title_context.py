"""A sentence under the refusal threshold is judged once more with its document's title
(``SentenceAnswerer.with_title``), on the real model and the bundled corpus."""

from __future__ import annotations

from rag.sentence_answerer import TITLE_CONTEXT_DISCOUNT, SentenceAnswerer, _candidates
from rag.sentence_selection import is_headline

DATES = "REAIM 2023 회의는 며칠부터 며칠까지 열렸나요?"


def _ranked(qa, question: str):
    found = qa._retrieve(question, top_k=None, search_query=None)
    data = found.data
    answerer = qa._extractive
    assert isinstance(answerer, SentenceAnswerer)
    cands = _candidates(found.hits, data.documents, data.furniture, data.chunk_sentence_spans)
    ranked = answerer._score(
        question, cands, found.query_vector, data.documents, stored=data.sentences
    )
    return answerer, ranked, data.documents, found.query_vector


def test_the_title_lifts_a_lead_that_does_not_name_the_meeting(qa):
    """The lead gives the dates of "고위급회의(이하 'AI 회의')"; only the headline says REAIM
    2023, so the lead alone scores under the threshold and with its title above it."""
    answerer, ranked, docs, query = _ranked(qa, DATES)
    lead = next(c for c in ranked if "기자]" in c.text and "2월 15부터 16일까지" in c.text)
    titled = answerer.with_title(lead, docs, query, lang="ko")
    assert titled > lead.similarity + 0.05
    assert titled <= 1.0 - TITLE_CONTEXT_DISCOUNT


def test_the_title_is_not_added_across_languages_or_to_a_headline(qa):
    answerer, ranked, docs, query = _ranked(qa, DATES)
    lead = next(c for c in ranked if "기자]" in c.text and "2월 15부터 16일까지" in c.text)
    # Belebele, the public English-over-Korean data, has no titles to choose it on
    assert answerer.with_title(lead, docs, query, lang="en") == lead.similarity
    headline = next(c for c in ranked if is_headline(c, docs))
    assert answerer.with_title(headline, docs, query, lang="ko") == headline.similarity


def test_the_bundled_corpus_gives_the_meeting_dates_from_the_lead(qa):
    answer = qa.ask(DATES)
    assert not answer.refused
    assert any("2월 15부터 16일까지" in c.quote for c in answer.citations)


def test_a_question_the_titled_page_does_not_answer_is_still_refused(qa):
    """The title lifts every sentence of its page, so a question about the page that it
    does not answer must still be refused: the Seoul Declaration's signatories are never
    counted."""
    answer = qa.ask("서울 선언에는 몇 개국 정상이 서명했나요?")
    assert answer.refused
