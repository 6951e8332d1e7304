"""A question that asks who, which organisation, which country, which city or where is answered only
by a sentence naming one the question does not already name: "Which country co-hosted
the forum with Korea?" must not be answered with a sentence that names no country."""

from __future__ import annotations

import pytest

from rag.answer_entities import KINDS, asked_kind, names_one, sentences_naming_the_kind
from rag.refusals import reason_of, refusal_reason
from rag.sentence_candidates import Candidate

CLOSING = (
    "□ 우리 정부는 이번「AI 글로벌 포럼」을 통해 수렴한 국제사회 이해관계자들의 다층적 "
    "논의를 바탕으로 AI 글로벌 거버넌스 형성에 선도적으로 기여해 나가기 위한 노력을 지속할 "
    "계획이다."
)
SPEECH = "□ 한덕수 국무총리는 5.22.(수) 오전 「AI 글로벌 포럼」 개회식에 참석하였다."
ATTENDEES = "▲미셸 더넬런 (영)과학혁신기술부 장관 ▲아이반 존 우이 (필리핀)정보통신기술부 장관"


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who moderated the roundtable?", "person"),
        ("서울 AI 기업 서약은 누구의 임석하에 발표되었나요?", "person"),
        ("AI 글로벌 포럼에서 혁신상을 받은 기업은 어디인가요?", "organisation"),
        ("Which company won the award?", "organisation"),
        ("Which country co-hosted the forum with Korea?", "country"),
        ("REAIM 회의는 어느 나라에서 열렸나요?", "country"),
        ("REAIM 회의는 어느 도시에서 개최되었나요?", "city"),
        ("In which city was REAIM 2023 held?", "city"),
        ("Where was the AI Global Forum held?", "place"),
        ("When was the forum held?", None),
        ("What did the Prime Minister stress?", None),
    ],
)
def test_the_kind_asked_for(question, kind):
    assert asked_kind(question, checked=frozenset(KINDS)) == kind


def test_who_and_where_are_not_checked():
    """Validation chose to leave them out: their answers are often common nouns."""
    ranked = [_cand(CLOSING, 0.50)]
    for question in ("Who moderated the roundtable?", "Where was the forum held?"):
        assert sentences_naming_the_kind(question, ranked, margin=0.05) == (ranked, None)


@pytest.mark.parametrize(
    ("question", "sentence", "kind", "expected"),
    [
        ("Who moderated the roundtable?", CLOSING, "person", False),
        ("Who moderated the roundtable?", SPEECH, "person", True),
        ("Who chaired it?", "□ 이어서, 한 총리의 임석하 서약이 발표되었다.", "person", True),
        ("Who heads SK Telecom?", "SK텔레콤(CEO 정재헌) 정예팀은 진출했다.", "person", True),
        ("Which company won?", SPEECH, "organisation", False),  # a person is no company
        ("Which company won?", "「AI 서울 정상회의」가 열렸다.", "organisation", False),  # an event
        ("Which company won?", "(국외) OpenAI, Anthropic, 마이크로소프트", "organisation", True),
        ("Which country co-hosted it with Korea?", CLOSING, "country", False),
        ("Which country co-hosted it with Korea?", "한국에서 열렸다.", "country", False),
        ("Which country's minister attended?", ATTENDEES, "country", True),
        ("Which city hosted it?", "네덜란드 헤이그에서 개최된 회의", "city", True),
        ("Which city hosted it?", "제2차 회의를 내년에 한국에서 개최하겠다", "city", False),
        ("Which city hosted it?", "박 장관은 폐회사를 통해 발표했다.", "city", False),  # a speech
        ("Which city hosted it?", "(영)과학혁신기술부 장관", "city", False),  # a country
        ("Which city is exempt?", "홍콩과 마카오는 제외된다.", "city", True),  # city-states
        ("Where was it held?", "장소 : 한국과학기술연구원(KIST)", "place", True),
        ("Where in Seoul was it held?", "서울에서 열렸다.", "place", False),  # asked already
        # English documents: country names and adjectives, not cities
        ("Which country hosted it?", "It was hosted by France.", "country", True),
        ("Which country hosted it?", "It was hosted in London.", "country", False),
        ("Which country sent a minister?", "The Dutch minister came.", "country", True),
        ("Which company built it?", "It was built by Samsung Electronics.", "organisation", True),
        ("Which company built it?", "It was built by the company.", "organisation", False),
    ],
)
def test_whether_a_sentence_names_one(question, sentence, kind, expected):
    assert names_one(question, sentence, kind) is expected


def _cand(text: str, score: float) -> Candidate:
    return Candidate("d", "d#0", 0, len(text), text, 0, similarity=score, score=score)


def test_a_sentence_naming_one_within_the_margin_is_quoted_instead():
    ranked = [_cand(CLOSING, 0.50), _cand(ATTENDEES, 0.48)]
    kept, kind = sentences_naming_the_kind("Which country's minister came?", ranked, margin=0.05)
    assert [c.text for c in kept] == [ATTENDEES] and kind is None


def test_none_within_the_margin_refuses_with_the_kind():
    ranked = [_cand(CLOSING, 0.50), _cand(ATTENDEES, 0.30)]
    kept, kind = sentences_naming_the_kind("Which country's minister came?", ranked, margin=0.05)
    assert kept == [] and kind == "country"


def test_a_list_question_is_left_to_the_list():
    """ "Which companies signed…" is answered by a sentence whose footnote lists them."""
    ranked = [_cand(CLOSING, 0.50)]
    assert sentences_naming_the_kind("Which companies signed the pledge?", ranked, margin=0.05) == (
        ranked,
        None,
    )


def test_the_refusal_says_what_the_best_passage_does_not_name():
    assert refusal_reason([], "en", names_no="country") == (
        "The passage that matches best names no country."
    )
    assert refusal_reason([], "ko", names_no="person") == (
        "가장 가까운 대목에는 사람 이름이 나오지 않습니다."
    )


def test_the_bundled_corpus_refuses_a_country_it_never_names(qa):
    answer = qa.ask("Which country co-hosted the AI Global Forum with Korea?")
    assert answer.refused and answer.citations == [] and answer.names_no == "country"


def test_the_bundled_corpus_refuses_a_city_it_never_names(qa):
    """The page says the second meeting will be held "in Korea", never in which city."""
    answer = qa.ask("REAIM 제2차 회의는 한국의 어느 도시에서 열렸나요?")
    assert answer.refused and answer.citations == [] and answer.names_no == "city"
    assert reason_of(answer) == "가장 가까운 대목에는 도시 이름이 나오지 않습니다."


def test_the_bundled_corpus_answers_the_city_it_names(qa):
    answer = qa.ask("REAIM 회의는 어느 도시에서 개최되었나요?")
    assert not answer.refused
    assert any("헤이그" in c.quote for c in answer.citations)


def test_the_bundled_corpus_answers_a_country_from_the_attendee_list(qa):
    answer = qa.ask("Which country's ICT minister attended the AI Global Forum?")
    assert not answer.refused
    assert any("필리핀" in c.quote for c in answer.citations)
