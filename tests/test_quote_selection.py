"""Which sentences within the margin are quoted: each must add something the others do
not say, and a footnote only comes along when the question asks for its list."""

from __future__ import annotations

import pytest

import rag
from rag.sentence_candidates import Candidate
from rag.sentence_selection import (
    past_the_headline,
    with_footnotes,
    with_lead_ins,
    without_repeats,
)
from rag.types import Document

LEAD = (
    "박진 외교장관은 2월 15부터 16일까지 네덜란드 헤이그에서 개최된 고위급회의를 네덜란드 "
    "웝크 훅스트라(Wopke Hoekstra) 외교 장관·카이사 올롱그렌(Kajsa Ollongren) 국방 장관과 "
    "공동 주최했다."
)
CAPTION = (
    "박진 외교장관이 2월 15부터 16일까지 네덜란드 헤이그에서 개최된 고위급회의에 참석해 "
    "발언하고 있다.(사진=외교부 제공)"
)
OTHER = "이번 회의에는 미국·일본·영국 등 80여개국 정부 대표와 유엔 군축고위대표가 참석했다."
PLEDGE = "국내외 14개 AI 관련 기업*들의 자발적 약속인 「서울 AI 기업 서약」이 발표되었다."
NOTE = "* (국내) 삼성전자, 네이버, 카카오 / (국외) OpenAI, Anthropic"


def _candidates(doc: Document, *texts: str) -> list[Candidate]:
    out = []
    for rank, text in enumerate(texts):
        start = doc.text.index(text)
        score = 0.6 - rank / 100
        out.append(
            Candidate(
                doc.doc_id,
                f"{doc.doc_id}#0",
                start,
                start + len(text),
                text,
                0,
                similarity=score,
                score=score,
            )  # fmt: skip
        )
    return out


def test_a_sentence_that_mostly_repeats_a_better_one_is_dropped():
    doc = Document(doc_id="reaim", text=" ".join([LEAD, CAPTION, OTHER]), title="REAIM")
    kept = without_repeats(_candidates(doc, LEAD, CAPTION, OTHER))
    assert [c.text for c in kept] == [LEAD, OTHER]


def test_the_richer_sentence_is_kept_after_the_one_it_repeats():
    """The lead after its caption still adds the co-hosts' names."""
    doc = Document(doc_id="reaim", text=" ".join([LEAD, CAPTION]), title="REAIM")
    kept = without_repeats(_candidates(doc, CAPTION, LEAD))
    assert [c.text for c in kept] == [CAPTION, LEAD]


def test_the_best_sentence_is_kept_even_when_empty_of_terms():
    doc = Document(doc_id="d", text="… " + OTHER, title="d")
    kept = without_repeats(_candidates(doc, "…", OTHER))
    assert [c.text for c in kept] == ["…", OTHER]


def test_a_footnote_follows_the_sentence_that_points_at_it():
    doc = Document(doc_id="forum", text=f"{PLEDGE}\n{NOTE}\n", title="forum")
    out = with_footnotes(_candidates(doc, PLEDGE), {"forum": doc})
    assert [c.text for c in out] == [PLEDGE, NOTE]
    assert doc.text[out[1].start : out[1].end] == NOTE


@pytest.fixture(scope="module")
def units_qa(built_index):
    return rag.open(built_index, extractive="units")


@pytest.mark.parametrize("answerer", ["sentences", "units"])
def test_the_bundled_corpus_quotes_the_footnote_only_for_the_list(qa, units_qa, answerer):
    ask = (qa if answerer == "sentences" else units_qa).ask
    listed = ask("Which companies signed the Seoul AI Business Pledge?")
    assert any(c.quote.startswith("*") and "삼성전자" in c.quote for c in listed.citations)
    counted = ask("서울 AI 기업 서약에는 몇 개의 기업이 참여했나요?")
    assert not counted.refused and "14개" in counted.text
    assert not any("삼성전자" in c.quote for c in counted.citations)


def test_the_bundled_corpus_does_not_quote_a_caption_under_its_lead(qa):
    answer = qa.ask("REAIM 회의를 박진 장관과 공동 주최한 네덜란드 외교 장관은 누구인가요?")
    assert "훅스트라" in answer.text
    assert not any("사진=" in c.quote for c in answer.citations)


RULES = (
    "게시물 운영원칙에 따라 다음과 같은 게시물은 삭제 또는 계정이 차단 될 수 있습니다.\n\n"
    "  • 1. 타인의 전화번호 등의 개인정보를 게재하는 경우\n"
    "  • 2. 타인의 명예를 훼손시키는 경우\n"
)


def test_a_list_item_comes_with_the_line_that_introduces_its_list():
    doc = Document(doc_id="rules", text=RULES, title="rules")
    item = "• 2. 타인의 명예를 훼손시키는 경우"
    out = with_lead_ins(_candidates(doc, item), {"rules": doc})
    assert [c.text for c in out] == [RULES.splitlines()[0], item]
    assert doc.text[out[0].start : out[0].end] == RULES.splitlines()[0]


def test_an_item_under_a_line_that_does_not_point_at_it_stays_alone():
    text = "포럼에는 여러 나라 장관이 참석했다.\n- 일시/장소 : 2024.5.22(수), KIST\n"
    doc = Document(doc_id="forum", text=text, title="forum")
    line = "- 일시/장소 : 2024.5.22(수), KIST"
    assert [c.text for c in with_lead_ins(_candidates(doc, line), {"forum": doc})] == [line]
    # and a sentence that is not an item never brings the line above it
    doc = Document(doc_id="r", text=RULES + "그 밖의 게시물은 유지됩니다.\n", title="r")
    sentence = "그 밖의 게시물은 유지됩니다."
    assert [c.text for c in with_lead_ins(_candidates(doc, sentence), {"r": doc})] == [sentence]


HEADLINE = "박진, 인공지능의 책임 있는 군사적 이용에 관한 고위급회의(REAIM 2023) 참석"


def _scored(doc_id: str, text: str, *, similarity: float, score: float) -> Candidate:
    return Candidate(doc_id, f"{doc_id}#0", 0, len(text), text, 0, similarity, score)


def _headline_docs() -> dict[str, Document]:
    reaim = Document(doc_id="reaim", text=f"{HEADLINE}\n{LEAD}\n", title=HEADLINE)
    forum = Document(doc_id="forum", text=f"{PLEDGE}\n", title="AI 글로벌 포럼")
    return {"reaim": reaim, "forum": forum}


def test_a_headline_under_the_threshold_gives_way_to_its_article():
    ranked = [
        _scored("reaim", HEADLINE, similarity=0.31, score=0.39),
        _scored("forum", PLEDGE, similarity=0.37, score=0.38),
        _scored("reaim", LEAD, similarity=0.37, score=0.37),
    ]
    out = past_the_headline(ranked, _headline_docs(), margin=0.08, threshold=0.35)
    assert [c.text for c in out] == [LEAD, PLEDGE]  # its own article, not another page
    assert out[0].similarity == 0.37  # judged by its own similarity
    assert out[0].score > out[1].score  # still sorted: the other page is not quoted with it


@pytest.mark.parametrize(
    ("headline_similarity", "article_score"),
    [(0.40, 0.37), (0.31, 0.20)],  # it reaches the threshold; its article is not close
)
def test_a_headline_stays_first_otherwise(headline_similarity, article_score):
    ranked = [
        _scored("reaim", HEADLINE, similarity=headline_similarity, score=0.39),
        _scored("reaim", LEAD, similarity=article_score, score=article_score),
    ]
    assert past_the_headline(ranked, _headline_docs(), margin=0.08, threshold=0.35) == ranked


def test_the_bundled_corpus_answers_where_a_meeting_was_held_past_its_headline(qa):
    """The headline shares "REAIM 2023" with the question and ranks first, but says
    nothing of where; the lead sentence says 네덜란드 헤이그."""
    questions = ("Where was the REAIM 2023 meeting held?", "REAIM 2023 회의는 어디에서 열렸나요?")
    for question in questions:
        answer = qa.ask(question)
        assert not answer.refused
        assert any("헤이그" in c.quote for c in answer.citations)
