"""The app's HTML renderers: document text is always escaped (no model needed)."""

from __future__ import annotations

import re

import pytest

from rag.chat import SearchPlan, Turn
from rag.types import Answer, Chunk, Citation, Document, Hit, Rendering
from rag.ui import panels, render

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


def test_answer_escapes_document_text_and_links_only_known_markers():
    doc, answer = _fixture()
    html = render.answer_html(answer, {doc.doc_id: doc}, turn=3)
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
    html = render.answer_html(answer, {doc.doc_id: doc}, turn=1)
    assert "<a href=" not in html.replace('<a class="rag-fn" href=', "")
    web = Citation(**{**answer.citations[0].__dict__, "source": "https://example.org/a?b=1&c=2"})
    html = render.answer_html(
        Answer(**{**answer.__dict__, "citations": [web]}), {doc.doc_id: doc}, turn=1
    )
    assert 'href="https://example.org/a?b=1&amp;c=2"' in html and 'rel="noopener' in html


def _with_citation(answer: Answer, **changes) -> Answer:
    citation = Citation(**{**answer.citations[0].__dict__, **changes})
    return Answer(**{**answer.__dict__, "citations": [citation]})


@pytest.mark.parametrize("location", ["p. 3", "slide 2", "'Sheet1'!A1:D20", "§ 2 › 2.1"])
def test_source_names_the_location_next_to_its_title(location):
    doc, answer = _fixture()
    html = render.answer_html(_with_citation(answer, location=location), {doc.doc_id: doc}, turn=1)
    summary = re.search(r"<summary>(.*?)</summary>", html, re.S).group(1)
    assert f'</cite> · <span class="rag-loc">{render.esc(location)}</span>' in summary
    plain = render.answer_html(answer, {doc.doc_id: doc}, turn=1)  # plain text: no location
    assert "rag-loc" not in plain


def test_location_from_the_document_is_escaped():
    doc, answer = _fixture()
    html = render.answer_html(_with_citation(answer, location=f"§ {EVIL}"), {}, turn=1)
    _assert_no_markup_from_document(html)
    loc = re.search(r'<span class="rag-loc">(.*?)</span>', html, re.S).group(1)
    assert loc == render.esc(f"§ {EVIL}") and "&lt;script&gt;" in loc


@pytest.mark.parametrize(
    "source",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        'http://x" onmouseover="alert(1)',
        "file:///etc/passwd",
        "notes/report.pdf",
    ],
)
def test_a_source_that_is_not_a_web_address_is_text_not_a_link(source):
    doc, answer = _fixture()
    html = render.answer_html(_with_citation(answer, source=source), {doc.doc_id: doc}, turn=1)
    assert "<a href=" not in html.replace('<a class="rag-fn" href=', "")
    assert "onmouseover=" not in html.replace("onmouseover=&quot;", "")
    assert f'<span class="rag-src">{render.esc(source)}</span>' in html


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/news", "HTTPS://example.org/a?b=1&c=2"])
def test_a_web_source_is_a_link_that_opens_in_a_new_tab(url):
    doc, answer = _fixture()
    html = render.answer_html(_with_citation(answer, source=url), {doc.doc_id: doc}, turn=1)
    links = re.findall(r'<a href="([^"]*)" target="_blank" rel="noopener noreferrer[^"]*">', html)
    assert links == [url.replace("&", "&amp;")]


def test_citation_of_a_changed_document_shows_only_the_stored_quote():
    doc, answer = _fixture()
    changed = Document(doc_id=doc.doc_id, text="something else entirely " * 20)
    html = render.answer_html(answer, {doc.doc_id: changed}, turn=1)
    assert "something else" not in html and "<mark>The Moonfish" in html


def test_refusal_is_a_notice_in_the_question_language():
    answer = Answer(question="예산은?", text="문서에서 찾을 수 없습니다.", refused=True, lang="ko")
    html = render.answer_html(answer, {}, turn=1)
    assert 'class="rag-refusal"' in html and "문서에서 찾을 수 없습니다." in html
    assert "관련 문서를 올려" in html and "rag-sources" not in html
    english = render.answer_html(Answer("Budget?", "Not found.", refused=True), {}, turn=1)
    assert "upload a document" in english


def test_retrieval_panel_shows_query_scores_and_escapes():
    doc, answer = _fixture()
    plan = SearchPlan(
        question="and?", query=f"base {EVIL} and?", follow_up=True, reason="x", base=f"b{EVIL}"
    )
    html = panels.retrieval_panel(plan, answer)
    _assert_no_markup_from_document(html)
    assert "Searched for:" in html and "Follow-up" in html
    assert "0.0160" in html and "0.500" in html and "—" in html  # fused, dense, no BM25
    assert "cited" in html
    korean = panels.retrieval_panel(plan, answer, "ko")
    assert "검색어:" in korean and "인용됨" in korean and "Searched for" not in korean


def test_transcript_shows_each_answer_once_with_its_sources():
    doc, answer = _fixture()
    turns = [Turn(answer.question, answer, SearchPlan("q", "q"))] * 2
    messages = render.chat_messages(turns, {doc.doc_id: doc})
    assert [m["role"] for m in messages] == ["user", "assistant"] * 2
    first, second = messages[1]["content"], messages[3]["content"]
    _assert_no_markup_from_document(first + messages[0]["content"])
    assert first.count("The Moonfish Festival is held in Qelvar.") == 2  # the text and its passage
    assert first.count('class="rag-source"') == 1 and 'id="cite-1-1"' in first
    assert 'href="#cite-1-1"' in first and 'href="#cite-2-1"' in second  # unique per turn
    assert "&lt;script&gt;" in messages[0]["content"]
    assert render.plain("Samsung & LG [1]") == "Samsung &amp; LG [1]"
    assert "<" not in render.chat_partial("a <b>", SearchPlan("q", "<i>"), "en")
    assert "검색 중" in render.chat_partial("", SearchPlan("q", "q"), "ko")


def _cited(quote: str, context: str, context_start: int, text: str) -> tuple[Citation, Document]:
    doc = Document(doc_id="pledge.txt", text=text, title="Pledge", date="2024-05-22")
    start = text.index(quote)
    citation = Citation(
        n=1, doc_id=doc.doc_id, title=doc.title, quote=quote, start=start,
        end=start + len(quote), score=1.0, date=doc.date,
        context=context, context_start=context_start,
    )  # fmt: skip
    return citation, doc


LIST = "Intro.\nThe signatories: (국내) 삼성전자, 네이버; (해외) OpenAI, Adobe. More text."


def test_quote_is_highlighted_inside_its_context_sentence():
    sentence = "The signatories: (국내) 삼성전자, 네이버; (해외) OpenAI, Adobe."
    citation, doc = _cited("(국내) 삼성전자, 네이버", sentence, LIST.index(sentence), LIST)
    html = render.answer_html(
        Answer("Who?", "(국내) 삼성전자, 네이버 [1]", citations=[citation]),
        {doc.doc_id: doc},
        turn=1,
    )
    context = re.search(r'<span class="rag-context">(.*?)</span>', html, re.S).group(1)
    assert context == (
        "The signatories: <mark>(국내) 삼성전자, 네이버</mark>; (해외) OpenAI, Adobe."
    )
    assert "Intro." in html and "More text." in html  # the document around the sentence
    # the document is gone: the sentence is still shown around the quote
    gone = render.answer_html(Answer("Who?", "x [1]", citations=[citation]), {}, turn=1)
    assert "The signatories: <mark>(국내) 삼성전자, 네이버</mark>; (해외)" in gone
    # a wrong context_start still finds the quote inside the sentence
    off, _ = _cited("(국내) 삼성전자, 네이버", sentence, 0, LIST)
    assert render.passage_parts(off, {doc.doc_id: doc})[1] == "The signatories: "


def test_citation_without_context_is_shown_as_before():
    citation, doc = _cited("(국내) 삼성전자, 네이버", "", 0, LIST)
    html = render.answer_html(
        Answer("Who?", "x [1]", citations=[citation]), {"pledge.txt": doc}, turn=1
    )
    assert "rag-context" not in html and "<mark>(국내) 삼성전자, 네이버</mark>" in html
    assert "The signatories: <mark>" in html  # document text around it, unhighlighted


def test_translation_hint_once_per_session_for_english_questions_with_korean_quotes():
    citation, doc = _cited("(국내) 삼성전자, 네이버", "", 0, LIST)
    english = Answer("Who signed?", "(국내) 삼성전자, 네이버 [1]", citations=[citation], lang="en")
    korean = Answer("누가?", "(국내) 삼성전자, 네이버 [1]", citations=[citation], lang="ko")
    turns = [
        Turn(a.question, a, SearchPlan(a.question, a.question)) for a in (korean, english, english)
    ]
    bubbles = [m["content"] for m in render.chat_messages(turns, {}) if m["role"] == "assistant"]
    assert ["rag-hint" in b for b in bubbles] == [False, True, False]
    assert "pip install -e &#x27;.[llm]&#x27;" in bubbles[1] and "RAG_ANSWERER=llm" in bubbles[1]
    assert "rag models fetch --llm" in bubbles[1]
    offered = render.chat_messages(turns[1:2], {}, llm_ok=True)[1]["content"]
    assert "Quotes + translation" in offered and "pip install" not in offered
    llm = Answer("Who signed?", "Samsung [1]", citations=[citation], lang="en", mode="llm")
    assert not render.needs_translation_hint(llm)
    fell_back = Answer(**{**english.__dict__, "fallback_reason": "The generated answer failed"})
    assert not render.needs_translation_hint(fell_back)


def _rendered(status: str, text: str) -> Answer:
    citation, _ = _cited("(국내) 삼성전자, 네이버", "", 0, LIST)
    rendering = Rendering(text=text, lang="en", status=status, sources=(1,), reason="why")
    return Answer("Who signed?", "(국내) 삼성전자, 네이버 [1]", citations=[citation], lang="en",
                  mode="llm" if status == "shown" else "extractive", rendering=rendering,
                  fallback_reason="" if status == "shown" else "withheld: why")  # fmt: skip


def test_a_shown_rendering_sits_under_the_quote_labelled_and_escaped():
    html = render.answer_html(_rendered("shown", f"Samsung and Naver {EVIL} [1]"), {}, turn=3)
    _assert_no_markup_from_document(html)
    quote_at, rendering_at = html.index("<mark>(국내) 삼성전자"), html.index("rag-rendering")
    assert html.index('class="rag-text"') < rendering_at < quote_at  # under the answer text
    label = re.search(r'<div class="rag-rendering-label">(.*?)</div>', html).group(1)
    assert label.startswith("Machine rendering of [1]")
    assert "Samsung and Naver &lt;script&gt;" in html and 'href="#cite-3-1"' in html


@pytest.mark.parametrize("status", ["rejected", "refused", "restated"])
def test_a_withheld_rendering_is_not_shown_but_its_reason_is(status):
    html = render.answer_html(_rendered(status, "Samsung and Apple [1]"), {}, turn=1)
    assert "Apple" not in html and "rag-rendering" not in html
    assert "withheld: why" in html


def test_a_rendering_streams_under_the_finished_quote():
    html = render.chat_partial("삼성전자 [1]", SearchPlan("q", "q"), "en", "Samsung <b>and")
    assert html.index("삼성전자 [1]") < html.index("Machine rendering")
    assert "&lt;b&gt;and ▌" in html and "<b>" not in html


@pytest.mark.parametrize("name", [EVIL, "ok.txt"])
def test_documents_table_and_status_escape(name):
    doc = Document(doc_id=name, text="x", title=name, source=name)
    html = panels.documents_table([doc], {name: 2}) + panels.status([(False, name)])
    _assert_no_markup_from_document(html)
    assert "<td>2</td>" in html
    assert "<th>제목</th>" in panels.documents_table([doc], {name: 2}, "ko")
