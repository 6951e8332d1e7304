"""Quoting only from a document that names the question's specifics: "Where was the
REAIM 2025 meeting held?" must not be answered from an article about 2023 because
another retrieved article (an airline's 2025 results) names 2025."""

from __future__ import annotations

import pytest

import rag
from rag.document_specifics import sentences_naming_the_specifics
from rag.refusals import refusal_reason, unmentioned_in
from rag.sentence_answerer import SELECT_MARGIN
from rag.sentence_candidates import Candidate
from rag.types import Answer, Chunk, Document, Hit
from rag.ui import render

ARTICLE_2023 = "2023년 회의는 헤이그에서 열렸다. 다음 회의는 내년에 열린다."
SIDEBAR = "\n[다른 기사] 대한항공 2025년 실적 발표"
AIRLINE_2025 = "대한항공은 2025년 4분기 영업이익이 4131억원이라고 발표했다."


def _documents() -> dict[str, Document]:
    return {
        "reaim": Document(doc_id="reaim", text=ARTICLE_2023 + SIDEBAR, title="REAIM 2023"),
        "air": Document(doc_id="air", text=AIRLINE_2025, title="대한항공 실적"),
    }


def _candidate(doc_id: str, text: str, score: float, *, furniture: bool = False) -> Candidate:
    doc = _documents()[doc_id]
    start = doc.text.index(text)
    return Candidate(
        doc_id, f"{doc_id}#0", start, start + len(text), text, 0,
        similarity=score, score=score, furniture=furniture,
    )  # fmt: skip


FURNITURE = {"reaim": ((len(ARTICLE_2023), len(ARTICLE_2023) + len(SIDEBAR)),)}


def test_page_furniture_does_not_count_as_the_article_naming_a_specific():
    docs = _documents()
    question = "Where was the 2025 meeting held?"
    assert unmentioned_in(question, ["reaim"], docs) == []  # the sidebar names 2025
    assert unmentioned_in(question, ["reaim"], docs, skip=FURNITURE) == ["2025"]
    assert unmentioned_in(question, ["air"], docs, skip=FURNITURE) == []


def test_a_sentence_from_a_document_naming_the_specifics_is_quoted_when_nearly_as_good():
    best = _candidate("reaim", "2023년 회의는 헤이그에서 열렸다.", 0.70)
    near = _candidate("air", AIRLINE_2025, 0.70 - SELECT_MARGIN / 2)
    kept, absent = sentences_naming_the_specifics(
        "2025년 회의는 어디에서 열렸나요?",
        [best, near],
        _documents(),
        FURNITURE,
        margin=SELECT_MARGIN,
    )
    assert kept == [near] and absent == []


def test_the_question_is_refused_when_only_a_far_worse_sentence_names_the_specifics():
    best = _candidate("reaim", "2023년 회의는 헤이그에서 열렸다.", 0.70)
    far = _candidate("air", AIRLINE_2025, 0.70 - 2 * SELECT_MARGIN)
    kept, absent = sentences_naming_the_specifics(
        "2025년 회의는 어디에서 열렸나요?",
        [best, far],
        _documents(),
        FURNITURE,
        margin=SELECT_MARGIN,
    )
    assert kept == [] and absent == ["2025"]


def test_sentences_of_documents_that_name_everything_keep_their_order():
    first = _candidate("reaim", "2023년 회의는 헤이그에서 열렸다.", 0.70)
    second = _candidate("reaim", "다음 회의는 내년에 열린다.", 0.60)
    other = _candidate("air", AIRLINE_2025, 0.65)
    kept, absent = sentences_naming_the_specifics(
        "2023년 회의는 어디에서 열렸나요?",
        [first, other, second],
        _documents(),
        FURNITURE,
        margin=SELECT_MARGIN,
    )
    assert kept == [first, second] and absent == []


def test_a_furniture_sentence_is_checked_against_the_whole_page():
    sidebar = _candidate("reaim", "[다른 기사] 대한항공 2025년 실적 발표", 0.70, furniture=True)
    kept, absent = sentences_naming_the_specifics(
        "대한항공의 2025년 실적은?", [sidebar], _documents(), FURNITURE, margin=SELECT_MARGIN
    )
    assert kept == [sidebar] and absent == []


def test_the_reason_names_what_the_best_passages_document_lacks_in_the_answer_language():
    assert refusal_reason([], "en", missing_from_best=["2025"]) == (
        "The document of the passage that matches best does not mention “2025”."
    )
    assert refusal_reason([], "ko", missing_from_best=["2025"]) == (
        "가장 가까운 대목이 나온 문서에는 ‘2025’가 나오지 않습니다."
    )
    assert refusal_reason([], "en") == ""


def test_the_refusal_card_shows_the_reason_escaped():
    doc = Document(doc_id="d", text="<b>회의</b>는 2023년에 열렸다.", title="T")
    hit = Hit(Chunk("d#0", "d", doc.text, 0, len(doc.text)), 0.9)
    answer = Answer(
        "Where was the <i>2025</i> meeting?", "The documents do not say.", refused=True,
        hits=[hit], missing_from_best=["<i>2025</i>"],
    )  # fmt: skip
    html = render.answer_html(answer, {"d": doc}, turn=1)
    assert "does not mention “&lt;i&gt;2025&lt;/i&gt;”." in html
    assert "<b>회의</b>" not in html and "<i>2025</i>" not in html


@pytest.fixture(scope="module")
def units_qa(built_index):
    return rag.open(built_index, extractive="units")


PLEDGE_2023 = "Which companies signed the Seoul AI Business Pledge in 2023?"  # a 2024 release


@pytest.mark.parametrize(
    ("answerer", "question"),
    [
        ("sentences", "Where was the REAIM 2025 meeting held?"),  # 2025: the sidebar's only
        ("sentences", PLEDGE_2023),
        ("units", PLEDGE_2023),  # the scorer refuses the REAIM one under its threshold
    ],
)
def test_the_bundled_corpus_refuses_a_specific_the_quoted_document_never_names(
    qa, units_qa, answerer, question
):
    answer = (qa if answerer == "sentences" else units_qa).ask(question)
    assert answer.refused and answer.citations == []
    assert answer.unmentioned == []  # another retrieved document does name it
    assert answer.missing_from_best and all(s in question for s in answer.missing_from_best)
    assert answer.confidence > 0  # how close the best passage came, as for other refusals


def test_the_bundled_corpus_quotes_the_document_that_names_the_year(qa):
    """The best-matching sentence is the 2024 forum's attendee list; the REAIM 2023
    article's list of governments is nearly as good and names 2023."""
    answer = qa.ask(
        "Apart from the two co-hosts, which countries are named among the governments "
        "represented at REAIM 2023?"
    )
    assert not answer.refused
    assert {c.doc_id for c in answer.citations} == {"reaim-2023.txt"}
    assert "미국" in answer.text and "일본" in answer.text
