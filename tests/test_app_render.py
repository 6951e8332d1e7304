"""The app's HTML/Markdown renderers: document text is always escaped (no model needed)."""

from __future__ import annotations

import re

import pytest

from rag.chat import SearchPlan, Turn
from rag.types import Answer, Chunk, Citation, Document, Hit
from rag.ui import render

EVIL = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> ${alert(1)} `x`'
TEXT = f"Intro line.\n\nThe Moonfish Festival is held in Qelvar. {EVIL}\nLast line."


def _fixture():
    quote = f"The Moonfish Festival is held in Qelvar. {EVIL}"
    start = TEXT.index(quote)
    doc = Document(
        doc_id="evil.txt",
        text=TEXT,
        title=f"Title {EVIL}",
        date="2025-01-02",
        source="javascript:alert(1)",
    )
    chunk = Chunk("evil.txt#0-10", "evil.txt", TEXT, 0, len(TEXT), title=doc.title)
    citation = Citation(
        n=1,
        doc_id="evil.txt",
        title=doc.title,
        quote=quote,
        start=start,
        end=start + len(quote),
        score=0.9,
        date=doc.date,
        source=doc.source,
    )
    answer = Answer(
        question=f"What is {EVIL}?",
        text=f"{quote} [1] and a stray [7]",
        citations=[citation],
        hits=[Hit(chunk, 0.016, 0.5, None)],
        search_query=f"q {EVIL}",
    )
    return doc, answer


def _assert_no_markup_from_document(html: str) -> None:
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "javascript:" not in re.findall(r'href="([^"]*)"', html.lower()).__str__()


def test_answer_card_escapes_document_text_and_links_only_known_markers():
    doc, answer = _fixture()
    html = render.answer_card(answer, {doc.doc_id: doc}, turn=3)
    _assert_no_markup_from_document(html)
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert html.count('class="rag-fn"') == 1 and 'href="#cite-3-1"' in html
    assert 'id="cite-3-1"' in html
    assert "[7]" in html and "#cite-3-7" not in html  # unknown marker stays text
    marked = re.search(r"<mark>(.*?)</mark>", html, re.S).group(1)
    assert marked.startswith("The Moonfish Festival is held in Qelvar.")
    assert "2025-01-02" in html and "Intro line." in html  # date and context


def test_source_links_only_for_http_urls():
    doc, answer = _fixture()
    html = render.answer_card(answer, {doc.doc_id: doc}, turn=1)
    assert "<a href=" not in html.replace('<a class="rag-fn" href=', "")
    web = Citation(**{**answer.citations[0].__dict__, "source": "https://example.org/a?b=1&c=2"})
    html = render.answer_card(
        Answer(**{**answer.__dict__, "citations": [web]}), {doc.doc_id: doc}, turn=1
    )
    assert 'href="https://example.org/a?b=1&amp;c=2"' in html and 'rel="noopener' in html


def test_citation_of_a_changed_document_shows_only_the_stored_quote():
    doc, answer = _fixture()
    changed = Document(doc_id=doc.doc_id, text="something else entirely " * 20)
    html = render.answer_card(answer, {doc.doc_id: changed}, turn=1)
    assert "something else" not in html and "<mark>The Moonfish" in html


def test_refusal_card_is_a_notice_in_the_question_language():
    answer = Answer(question="예산은?", text="문서에서 찾을 수 없습니다.", refused=True, lang="ko")
    html = render.answer_card(answer, {}, turn=1)
    assert 'class="rag-refusal"' in html and "문서에서 찾을 수 없습니다." in html
    assert "관련 문서를 올려" in html
    assert "⚠️" in render.chat_answer(answer)


def test_retrieval_panel_shows_query_scores_and_escapes():
    doc, answer = _fixture()
    plan = SearchPlan(
        question="and?", query=f"base {EVIL} and?", follow_up=True, reason="x", base=f"b{EVIL}"
    )
    html = render.retrieval_panel(plan, answer)
    _assert_no_markup_from_document(html)
    assert "Searched for:" in html and "Follow-up" in html
    assert "0.0160" in html and "0.500" in html and "—" in html  # fused, dense, no BM25
    assert "cited" in html


def test_chat_bubbles_cannot_inject_html():
    doc, answer = _fixture()
    text = render.chat_answer(answer)
    assert "<script" not in text and "<img" not in text and "<" not in text
    assert "&lt;script&gt;" in text and "Sources: [1] Title" in text
    assert render.plain("Samsung & LG [1]") == "Samsung &amp; LG [1]"
    assert render.plain("The pledge, 14 companies [2]") == "The pledge, 14 companies [2]"
    messages = render.chat_messages([Turn(answer.question, answer, SearchPlan("q", "q"))])
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert "<" not in messages[0]["content"]
    assert "<" not in render.chat_partial("a <b>", SearchPlan("q", "<i>"))


@pytest.mark.parametrize("name", [EVIL, "ok.txt"])
def test_documents_table_and_status_escape(name):
    doc = Document(doc_id=name, text="x", title=name, source=name)
    html = render.documents_table([doc], {name: 2}) + render.status([(False, name)])
    _assert_no_markup_from_document(html)
    assert "<td>2</td>" in html
