"""Questions about a document itself (rag.document_facts): the wording that asks for a
byline, an outlet, a registration date or an issuing office; the lines of a page that
state them; and the answers on the bundled corpus with the real model."""

from __future__ import annotations

import pytest

from rag.document_facts import HEADER_CHARS, asked_fact, fact_span


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who wrote this article?", "reporter"),
        ("What is the name of the journalist who wrote the story?", "reporter"),
        ("이 기사를 작성한 기자는 누구인가요?", "reporter"),
        ("Which newspaper ran the story?", "outlet"),
        ("이 기사는 어느 신문에 실렸나요?", "outlet"),
        ("When was the article posted?", "published"),
        ("What is the publication date of this report?", "published"),
        ("이 기사는 언제 등록되었나요?", "published"),
        ("When was the press release issued?", "published"),  # the date, not the office
        ("Which ministry put out the press release?", "issuer"),
        ("이 보도자료를 배포한 부처는 어디인가요?", "issuer"),
    ],
)
def test_questions_about_the_document_itself_are_recognised(question, kind):
    assert asked_fact(question) == kind


@pytest.mark.parametrize(
    "question",
    [
        "2015년 드라마에서 혁명동지 역을 맡은 연기자는 누구인가?",  # 연기자 is not 기자
        "이 논문의 작성자는 누구인가?",  # a paper's author, not the page's
        "박진 장관이 기자들에게 한 말은?",
        "기자회견은 언제 열렸나요?",
        "Who issued the Seoul Declaration?",
        "When was the AI Global Forum held?",
        "Which companies signed the Seoul AI Business Pledge?",
    ],
)
def test_questions_about_the_story_are_not_taken_for_questions_about_the_page(question):
    assert asked_fact(question) is None


AGENCY_PAGE = (
    "정부, AI 안전연구소 출범\n"
    "입력 2024.11.27 09:30\n"
    "(서울=연합뉴스) 홍길동 기자 = 과학기술정보통신부는 27일 AI 안전연구소를 출범했다고 밝혔다.\n"
)
ENGLISH_PAGE = (
    "Seoul opens an AI safety institute\n"
    "By Jane Q. Doe\n"
    "Published: 2024-11-27 09:30\n\n"
    "The science ministry opened the institute on Wednesday.\n"
)
RELEASE_PAGE = (
    "[보도자료] AI 안전연구소 출범\n\n"
    "2024.11.27 과학기술정보통신부\n"
    "목록\n\n"
    "□ 과학기술정보통신부는 27일 AI 안전연구소를 출범했다.\n"
)


@pytest.mark.parametrize(
    ("page", "kind", "line"),
    [
        (AGENCY_PAGE, "reporter", "(서울=연합뉴스) 홍길동 기자"),
        (AGENCY_PAGE, "outlet", "(서울=연합뉴스) 홍길동 기자"),
        (AGENCY_PAGE, "published", "입력 2024.11.27 09:30"),
        (ENGLISH_PAGE, "reporter", "By Jane Q. Doe"),
        (ENGLISH_PAGE, "published", "Published: 2024-11-27 09:30"),
        (RELEASE_PAGE, "issuer", "2024.11.27 과학기술정보통신부"),
        (RELEASE_PAGE, "published", "2024.11.27 과학기술정보통신부"),
    ],
)
def test_the_line_that_states_the_fact_is_found(page, kind, line):
    span = fact_span(page, kind)
    assert span is not None and page[span[0] : span[1]] == line


def test_a_page_without_the_fact_gives_none_and_a_later_story_s_byline_is_not_taken():
    assert fact_span(RELEASE_PAGE, "reporter") is None
    assert fact_span(ENGLISH_PAGE, "issuer") is None
    later = "기사 본문. " * (HEADER_CHARS // 7) + "\n[다른신문 김철수 기자] 다른 이야기.\n"
    assert fact_span(later, "outlet") is None


@pytest.mark.parametrize(
    ("question", "quote"),
    [
        ("Who is the author of the REAIM 2023 article?", "장민주 기자"),
        ("Which newspaper ran the story on Park Jin at REAIM?", "[일간환경연합 장민주 기자]"),
        ("박진 장관 REAIM 참석 기사의 등록 일시는?", "등록 2023-02-17 17:50:59"),
        (
            "Which office released the press release about the AI Global Forum?",
            "2024.05.22 국무조정실",
        ),  # fmt: skip
    ],
)
def test_the_fact_is_quoted_alone_from_the_article_the_question_is_about(qa, question, quote):
    answer = qa.ask(question)
    assert not answer.refused and [c.quote for c in answer.citations] == [quote]
    c = answer.citations[0]
    assert qa.data.documents[c.doc_id].text[c.start : c.end] == quote
    assert quote in c.context  # its whole line is the context the UI shows


@pytest.mark.parametrize(
    "question",
    [
        "Who wrote the article about the Mars rover landing?",
        "화성 탐사선 착륙 기사를 쓴 기자는 누구인가요?",
        "Which ministry issued the press release on the fisheries subsidy?",
    ],
)
def test_a_question_about_an_article_the_index_does_not_hold_is_refused(qa, question):
    assert qa.ask(question).refused
