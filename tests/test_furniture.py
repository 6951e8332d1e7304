"""Page furniture (rag.furniture): the classifier on small pages and on the bundled ones,
the marks the index keeps, and both answerers on questions inside and outside them."""

from __future__ import annotations

import pytest
from conftest import set_format_version

import rag
from rag.answer import Scored, UnitAnswerer
from rag.answer_features import UnitCandidate, question_info
from rag.answer_thresholds import REFUSAL_THRESHOLD
from rag.config import Settings
from rag.errors import IndexMismatchError
from rag.furniture import classify, furniture_spans, is_furniture, share
from rag.loaders import load_documents
from rag.sentence_answerer import Candidate, _prefer_body
from rag.textnorm import normalize

NEWS_PAGE = normalize(
    """Skip to content
Home
World
Business

Scientists find water ice near the lunar south pole

By Jane Doe, 3 May 2024

Scientists said on Tuesday that a probe had found water ice in a crater near the south pole.
The finding could make a crewed base easier to supply, the agency said in a statement.
"This changes the plans for the next decade," said the mission's chief scientist.
The probe will keep mapping the crater until its fuel runs out next year.

Share this article
Related stories
Moon base plans delayed again...
Mars rover finds ancient lake bed...
Copyright 2024 Example News. All rights reserved.
"""
)
NEWS_TITLE = "Scientists find water ice near the lunar south pole - Example News"

# A press release whose "most read" box repeats the release's own lead, cut off.
LIBRARY_PAGE = """본문 바로가기 전체메뉴 바로가기
뉴스
[보도자료] 시립도서관 강남분관 개관
2024.03.02 문화체육과
목록
□ 시는 3월 2일 시립도서관 강남분관을 개관했다고 밝혔다.
□ 강남분관은 장서 5만 권을 갖추고 평일에는 오후 9시까지 문을 연다.
□ 열람실 120석과 어린이 자료실을 갖췄으며, 주민 누구나 무료로 이용할 수 있다.
□ 시 관계자는 "주민들이 가까운 곳에서 책을 빌릴 수 있게 되었다"고 말했다.
□ 시는 내년까지 북부와 서부에도 분관을 열어 모든 구에 도서관을 갖출 계획이다.
□ 개관 첫 주에는 도서 대출 한도를 1인 10권으로 늘리는 행사도 연다.
이전기사
다음기사
많이 본 뉴스
1. 시립도서관 강남분관 개관... 강남분관은 장서 5만 권을 갖추고 평일에는 오후 9시까지 문을 연다. \
열람실 120석과...
2. 시민공원 야간 개장 시작... 시는 4월부터 시민공원을 밤 11시까지 개방한다고 밝혔다. 공원에는...
"""


def _marked(text: str, spans, needle: str) -> bool:
    at = text.index(needle)
    return is_furniture(spans, at, at + len(needle))


def test_menu_lines_teasers_and_sentences_are_told_apart() -> None:
    text = normalize(
        "본문 바로가기\n목록\n□ 시는 3월 2일 도서관을 개관했다고 밝혔다.\n"
        "The probe found water ice in a crater near the south pole.\n"
        "1. 대한항공 4분기 매출 4조5516억... 여객·화물 동반 성장 대한항공이 ...\n"
        "- 주요 참석자 : ▲미셸 더넬런 장관 ▲앤드류 응 AI Fund 대표 등\n"
        "박진 외교장관이 발언하고 있다.(사진=외교부 제공)\n"
    )
    kinds = [b.kind for b in classify(text)]
    assert kinds == ["short", "short", "sentence", "sentence", "teaser", "text", "sentence"]


def test_menus_and_related_stories_are_marked_but_not_the_article() -> None:
    spans = furniture_spans(NEWS_PAGE, title=NEWS_TITLE)
    for line in ("Skip to content", "Business", "Related stories", "Mars rover finds"):
        assert _marked(NEWS_PAGE, spans, line), line
    assert _marked(NEWS_PAGE, spans, "Copyright 2024 Example News.")  # a sentence, after the end
    for line in ("Scientists find water ice near", "By Jane Doe", "The finding could make"):
        assert not _marked(NEWS_PAGE, spans, line), line
    assert spans == tuple(sorted(spans))


def test_text_without_an_article_body_is_not_marked() -> None:
    table = "Name | Age | City\nKim | 34 | Seoul\nLee | 29 | Busan\n" * 5
    short_note = "# Install\n\nRun the installer and follow the prompts.\n\n## License\n\nMIT\n"
    assert furniture_spans(table) == ()
    assert furniture_spans(short_note, title="Install") == ()


def test_a_running_header_is_marked_inside_the_article() -> None:
    body = "Revenue grew by twelve percent in the year, driven by exports to Asia.\n"
    text = ("Annual report 2023\n" + body * 3) * 3
    spans = furniture_spans(text, title="Annual report")
    headers = [i for i in range(len(text)) if text.startswith("Annual report 2023", i)]
    assert [is_furniture(spans, i, i + 18) for i in headers] == [False, True, True]
    assert share(spans, 0, len(text)) < 0.2


@pytest.mark.parametrize(
    "text",
    ["", " \n\t\n", "한국어 🙂😀 문장입니다.\n" * 30, "가나다 라마바.\n" * 20_000, NEWS_PAGE * 40],
    ids=["empty", "whitespace", "emoji", "100k", "repeated-page"],
)
def test_awkward_text_gives_sorted_disjoint_spans_inside_it(text: str) -> None:
    spans = furniture_spans(text, title="가나다")
    assert all(0 <= s < e <= len(text) for s, e in spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_share_is_the_covered_fraction() -> None:
    spans = ((0, 10), (20, 30))
    assert share(spans, 0, 10) == 1.0
    assert share(spans, 5, 25) == 0.5
    assert share(spans, 10, 20) == 0.0
    assert share((), 0, 10) == 0.0 and share(spans, 7, 7) == 0.0


def test_the_bundled_pages_mark_their_menus_sidebars_and_rules(corpus_dir) -> None:
    docs = {d.doc_id: d for d in load_documents([corpus_dir])}
    forum, reaim = docs["ai-global-forum-2024.txt"], docs["reaim-2023.txt"]
    spans = furniture_spans(forum.text, title=forum.title)
    menus = ("본문 바로가기 메인메뉴 바로가기", "브리핑룸", "다음기사한-인도네시아", "추천 뉴스")
    rules = ("정책브리핑 게시물 운영원칙에 따라", "타인의 메일주소, 전화번호")
    for line in menus + rules:
        assert _marked(forum.text, spans, line), line
    article = ("[보도자료] AI 글로벌 포럼 개회식", "「서울 AI 기업 서약」이 발표되었다")
    for line in article + ("(국내) 삼성전자, 네이버", "국무조정실의 보도자료를 전재하여"):
        assert not _marked(forum.text, spans, line), line
    spans = furniture_spans(reaim.text, title=reaim.title)
    sidebar = ("SK텔레콤(CEO 정재헌)", "우리은행(은행장 정진완)")
    for line in ("기사 메일전송", "목록 바로가기", *sidebar):
        assert _marked(reaim.text, spans, line), line
    for line in ("장민주 기자", "제2차 회의를 내년에 한국에서 개최하겠다", "글로벌 중추국가로서"):
        assert not _marked(reaim.text, spans, line), line


def test_the_index_keeps_the_marks(qa, built_index) -> None:
    for doc in qa.data.documents.values():
        assert qa.data.furniture[doc.doc_id] == furniture_spans(doc.text, title=doc.title)
    reopened = rag.open(built_index, load_model=False)
    assert reopened.data.furniture == qa.data.furniture
    assert all(qa.data.furniture.values())


def test_an_index_without_marks_is_refused_with_the_fix(index_copy) -> None:
    set_format_version(index_copy, 2)
    with pytest.raises(IndexMismatchError, match="page furniture since format 3.*rag index"):
        rag.open(index_copy)


def _sentence(text: str, similarity: float, furniture: bool) -> Candidate:
    return Candidate("page", "page#0-99", 0, len(text), text, 0, similarity, similarity,
                     furniture=furniture)  # fmt: skip


@pytest.mark.parametrize(
    ("sidebar", "article", "first"),
    [(0.60, 0.55, "article"), (0.70, 0.55, "sidebar"), (0.35, 0.28, "sidebar")],
    ids=["close", "sidebar-clearly-better", "article-would-be-refused"],
)
def test_the_sentence_answerer_keeps_the_article_when_it_is_close(sidebar, article, first):
    ranked = [_sentence("sidebar", sidebar, True), _sentence("article", article, False)]
    kept = _prefer_body(ranked, REFUSAL_THRESHOLD)
    assert kept[0].text == first
    assert all(not c.furniture for c in kept) == (first == "article")


def _unit(text: str, start: int, probability: float, furniture: bool) -> Scored:
    c = UnitCandidate(text, text, "sentence", 1, frozenset(), frozenset(), 0.0, 0.0, 0.0, 0, "p")
    end = start + len(text)
    return Scored(c, "p", "p#0-99", start, end, start, end, probability, furniture=furniture)


@pytest.mark.parametrize(
    ("prefer_body", "article", "quoted"),
    [(True, 0.2, "article"), (True, 0.1, "sidebar"), (False, 0.2, "sidebar")],
    ids=["within-a-factor-of-two", "sidebar-clearly-better", "marks-ignored"],
)
def test_the_unit_answerer_quotes_the_article_when_it_is_close(prefer_body, article, quoted):
    answerer = UnitAnswerer(None, Settings(prefer_body=prefer_body))  # scores are given
    scored = [_unit("sidebar", 0, 0.3, True), _unit("article", 50, article, False)]
    chosen = answerer._select(question_info("When did it open?"), scored, {})
    assert [s.candidate.text for s in chosen] == [quoted]


@pytest.mark.parametrize("extractive", ["sentences", "units"])
def test_a_question_about_the_sidebar_is_answered_from_it(built_index, extractive) -> None:
    qa = rag.open(built_index, extractive=extractive)
    answer = qa.ask("Who is the CEO of SK Telecom according to the news sidebar?")
    assert not answer.refused
    assert "정재헌" in " ".join(c.quote for c in answer.citations)
    assert all(qa.data.is_furniture(c.doc_id, c.start, c.end) for c in answer.citations)


def test_a_question_about_the_comment_rules_is_answered_from_them(built_index) -> None:
    qa = rag.open(built_index)
    answer = qa.ask(
        "What can happen to a comment that reveals someone else's phone number on the briefing "
        "site?"
    )
    assert "삭제 또는 계정이 차단" in " ".join(c.quote for c in answer.citations)


@pytest.fixture(scope="module")
def library_index(tmp_path_factory):
    folder = tmp_path_factory.mktemp("library")
    (folder / "library.txt").write_text(LIBRARY_PAGE, encoding="utf-8")
    index_dir = folder / "index"
    rag.build([folder], index_dir=index_dir)
    return index_dir


def test_the_article_is_quoted_rather_than_its_copy_in_the_sidebar(library_index) -> None:
    question = "Until what time is the Gangnam branch library open on weekdays?"
    quoted = {}
    for prefer_body in (False, True):
        qa = rag.open(library_index, prefer_body=prefer_body)
        answer = qa.ask(question)
        assert "오후 9시까지" in answer.text
        quoted[prefer_body] = [qa.data.is_furniture(c.doc_id, c.start, c.end)
                               for c in answer.citations]  # fmt: skip
    assert any(quoted[False])  # without the marks, the sidebar's copy is quoted too...
    assert not any(quoted[True])  # ...with them, only the article


def test_the_sidebar_still_answers_what_only_it_says(library_index) -> None:
    qa = rag.open(library_index)
    answer = qa.ask("What does the most-read news list say about the city park?")
    assert not answer.refused
    assert any("시민공원" in c.quote for c in answer.citations)
