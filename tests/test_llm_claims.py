"""The claim check and the prompt: pure functions, no model needed.

Passages are the real corpus text, so the names, numbers and romanisations the
check must handle are the ones users will see.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.llm.answer_sentences import split_sentences
from rag.llm.claims import check_answer
from rag.llm.evidence import romanisations
from rag.llm.facts import extract_facts
from rag.llm.markers import parse_markers, strip_markers
from rag.llm.prompt import PROMPT_VERSION, Passage, build_messages, instructions
from rag.llm.restate import new_words, restates_question
from rag.llm.translit import hangul_key, latin_key
from rag.refusals import REFUSAL

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
FORUM = (CORPUS / "ai-global-forum-2024.txt").read_text(encoding="utf-8")
REAIM = (CORPUS / "reaim-2023.txt").read_text(encoding="utf-8")
PLEDGE = FORUM[FORUM.index("□ 이어서") : FORUM.index("□ 한편")]  # the pledge + its footnote
OVERVIEW = FORUM[FORUM.index("※ AI 글로벌 포럼 개요") : FORUM.index("□ 한 총리는 축사")]
HOSTS = REAIM[REAIM.index("[일간환경연합") : REAIM.index("박진 외교장관이 2월")]
ATTENDANCE = REAIM[REAIM.index("이번 회의에는") : REAIM.index("박 장관은 16일")]
PASSAGES = {1: PLEDGE, 2: HOSTS, 3: OVERVIEW, 4: ATTENDANCE}

THE_14 = (
    "Samsung Electronics, Naver, Kakao, SK Telecom, LG AI Research, KT, OpenAI, "
    "Anthropic, Microsoft, Google, Salesforce, IBM, Cohere and Adobe"
)


def statuses(text: str, question: str = "") -> list[str]:
    return [c.status for c in check_answer(text, PASSAGES, question=question).claims]


# --- markers and sentences -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A [1].", [1]),
        ("A [1][3].", [1, 3]),
        ("A [1, 2].", [1, 2]),
        ("A [2-4].", [2, 3, 4]),
        ("A 【2】.", [2]),
        ("A [Passage 3].", [3]),
        ("A [문서 2].", [2]),
        ("A (1).", []),
        ("no markers", []),
    ],
)
def test_parse_markers(text, expected):
    assert parse_markers(text) == expected


def test_markers_after_the_full_stop_belong_to_the_sentence_before():
    sentences = split_sentences("Naver signed it. [1] Hoekstra co-hosted. [2]")
    assert [s.markers for s in sentences] == [(1,), (2,)]
    assert [strip_markers(s.text) for s in sentences] == ["Naver signed it.", "Hoekstra co-hosted."]


def test_a_bulleted_list_is_one_claim_with_its_introduction():
    sentences = split_sentences("The companies are:\n- Samsung [1]\n- Naver\n- Kakao")
    assert len(sentences) == 1
    assert sentences[0].markers == (1,)


def test_a_closing_source_sentence_cites_the_uncited_list_before_it():
    # What Qwen2.5-Coder-1.5B actually wrote for the pledge question (prompt v1).
    items = "\n".join(
        f"{i}. {name}" for i, name in enumerate(THE_14.replace(" and ", ", ").split(", "), start=1)
    )
    text = f"The companies that signed it are:\n\n{items}\n\nThese are listed in passage [1]."
    checked = check_answer(text, PASSAGES)
    assert [c.status for c in checked.claims] == ["supported", "unchecked"]
    assert checked.claims[0].citations == (1,) and not checked.failed


def test_a_citation_covers_the_uncited_sentences_of_its_paragraph():
    sentences = split_sentences("Samsung Electronics signed the pledge. Naver did too [1].")
    assert [s.markers for s in sentences] == [(1,), (1,)]


def test_korean_sentences_split():
    sentences = split_sentences("회의는 헤이그에서 열렸습니다 [2]. 80여개국이 참석했습니다 [4].")
    assert [s.markers for s in sentences] == [(2,), (4,)]


# --- facts ----------------------------------------------------------------------------


def test_facts_numbers_dates_and_names():
    facts = extract_facts("On May 22, 2024, fourteen firms incl. OpenAI signed 5,000 pages [1].")
    assert set(facts.numbers) >= {"5", "22", "2024", "14", "5000"}
    assert ("OpenAI",) in facts.names
    assert "1" not in facts.numbers  # the marker is not a claim


def test_list_numbering_and_sentence_initial_plurals_are_not_facts():
    facts = extract_facts("1. Representatives attended [2].")
    assert facts.numbers == () and facts.names == ()


def test_may_is_a_month_only_next_to_a_number():
    assert "5" not in extract_facts("It may rain [1].").numbers
    assert "5" in extract_facts("It opened on May 22 [1].").numbers


# --- the check ------------------------------------------------------------------------


def test_the_correct_pledge_list_passes_in_english():
    text = f"The Seoul AI Business Pledge was signed by {THE_14} [1]."
    checked = check_answer(text, PASSAGES, question="Which companies signed the pledge?")
    assert not checked.failed, checked.reason
    assert [c.status for c in checked.claims] == ["supported"]


def test_the_correct_pledge_list_passes_in_korean():
    text = (
        "서울 AI 기업 서약에는 삼성전자, 네이버, 카카오, SK텔레콤, LG AI 연구원, KT, OpenAI, "
        "Anthropic, 마이크로소프트, 구글, Salesforce, IBM, Cohere, Adobe 등 "
        "14개 기업이 참여했습니다 [1]."
    )
    assert statuses(text) == ["supported"]


def test_a_fabricated_number_is_caught():
    checked = check_answer("The forum's budget was 3.5 billion won [3].", PASSAGES)
    assert checked.failed
    assert checked.claims[0].status == "unsupported"
    assert "3.5" in checked.claims[0].reason


def test_a_number_from_another_passage_than_the_cited_one_is_caught():
    # 80 is in passage 4, not in passage 1.
    assert statuses("Representatives of 80 countries attended [1].") == ["unsupported"]
    assert statuses("Representatives of 80 countries attended [4].") == ["supported"]


def test_a_fabricated_name_in_a_list_is_caught():
    checked = check_answer(f"{THE_14} and Apple signed it [1].", PASSAGES)
    assert checked.failed and "Apple" in checked.claims[0].reason


def test_a_wrong_date_is_caught_and_the_right_one_passes():
    assert statuses("The forum was held on May 23, 2024 [3].") == ["unsupported"]
    assert statuses("The forum was held on May 22, 2024, a Wednesday [3].") == ["supported"]


def test_romanisations_in_parentheses_map_names_between_scripts():
    roman = romanisations([HOSTS])
    assert "훅스트라" in roman.latin_to_hangul["hoekstra"]
    # A Korean answer naming him in Latin script, citing a passage written in Hangul only:
    passages = {1: "웝크 훅스트라 장관이 참석했다.", 2: HOSTS}
    checked = check_answer("Hoekstra 장관이 참석했습니다 [1].", passages)
    assert checked.claims[0].status == "supported", checked.claims[0].reason


@pytest.mark.parametrize(
    ("latin", "hangul"),
    [("Samsung", "삼성"), ("Naver", "네이버"), ("Kakao", "카카오"), ("Telecom", "텔레콤"),
     ("Microsoft", "마이크로소프트"), ("Google", "구글"), ("Hoekstra", "훅스트라"),
     ("Park Jin", "박진"), ("Han Duck-soo", "한덕수"), ("Seoul", "서울")],
)  # fmt: skip
def test_transliteration_keys_match(latin, hangul):
    assert latin_key(latin.replace(" ", "")) == hangul_key(hangul)


@pytest.mark.parametrize(("latin", "hangul"), [("Apple", "삼성"), ("Amazon", "네이버")])
def test_transliteration_keys_differ(latin, hangul):
    assert latin_key(latin) != hangul_key(hangul)


def test_translated_country_names_pass():
    text = "Korea co-hosted the meeting with the Netherlands in The Hague [2][4]."
    assert statuses(text) == ["supported"]
    assert statuses("Korea co-hosted the meeting with China [2][4].") == ["unsupported"]


def test_a_demonym_matches_the_press_release_abbreviation_but_a_wrong_name_does_not():
    # Seen with the real model: "(영)과학혁신기술부 장관" is the British minister.
    assert statuses("The British minister Michelle Donelan attended [3].") == ["supported"]
    assert statuses("The British minister Martin attended [3].") == ["unsupported"]


def test_sentence_without_citation_is_unsupported_but_not_fatal():
    checked = check_answer("Samsung signed it [1]. Naver did too.", PASSAGES)
    assert [c.status for c in checked.claims] == ["supported", "unsupported"]
    assert checked.claims[1].reason == "no [n] citation"
    assert not checked.failed  # Naver is in the passages: not a fabrication


def test_invalid_citation_number():
    checked = check_answer("Samsung signed it [9].", PASSAGES)
    assert checked.claims[0].status == "unsupported" and "9" in checked.claims[0].reason
    assert checked.failed  # nothing cites a valid passage


def test_a_sentence_with_nothing_to_check_is_unchecked():
    assert statuses("It promotes responsible development [1].") == ["unchecked"]


def test_an_answer_without_any_citation_fails():
    assert check_answer("Samsung and Naver signed it.", PASSAGES).failed


# --- the prompt -----------------------------------------------------------------------


def test_prompt_numbers_passages_and_puts_instructions_after_them():
    passages = [Passage(1, PLEDGE, "AI 글로벌 포럼"), Passage(2, HOSTS, "REAIM")]
    system, user = build_messages("Which companies signed?", passages, "en")
    body = user.content
    assert PROMPT_VERSION == "v1"
    assert "[1] AI 글로벌 포럼\n□ 이어서" in body
    assert "\n\n[2] REAIM\n" in body
    rules = instructions("en")
    assert body.index("[2] REAIM") < body.index(rules) < body.index("Question: Which companies")
    assert body.rstrip().endswith("Question: Which companies signed?")
    assert REFUSAL["en"] in rules
    assert system.content and "passages" in system.content


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_instructions_name_the_language_and_the_fixed_refusal(lang):
    text = instructions(lang)
    assert ("Korean" in text) == (lang == "ko")
    assert REFUSAL[lang] in text
    assert "[1]" in text


# --- answers that only restate the question (seen in the v1 gold run) -----------------

HOLLOW = [
    ("Which French minister of state was listed among the attendees of the AI Global Forum?",
     "The French minister of state who was listed among the attendees of the AI Global "
     "Forum was [1].", FORUM),
    ("Which reporter wrote the article about Park Jin at REAIM 2023?",
     "The reporter who wrote the article about Park Jin at REAIM 2023 is [1].", REAIM),
    ("박진 장관은 16일 라운드테이블에서 AI의 개발과 사용에 무엇이 모두 존재한다고 말했나요?",
     "네, 박진 장관은 16일 라운드테이블에서 AI의 개발과 사용에 모두 존재한다고 말했나요. [1]",
     REAIM),
]  # fmt: skip
ANSWERED = [
    ("REAIM 2023 회의는 언제 열렸나요?",
     "REAIM 2023 회의는 2월 15일부터 16일까지 열렸습니다. [1]"),
    ("대한항공의 2025년 4분기 매출은 얼마인가요?",
     "대한항공의 2025년 4분기 매출은 4조5516억원입니다. [1]"),
    ("2023년 REAIM 회의의 네덜란드 측 공동 주최자는 누구인가요?",
     "공동 주최자는 훅스트라입니다 [1]."),
    ("Which French minister of state attended?", "Zacharopoulou [1]."),
    ("Did Korea attend?", "Yes [1]."),
]  # fmt: skip


@pytest.mark.parametrize(("question", "answer", "doc"), HOLLOW)
def test_an_answer_that_only_restates_the_question_is_caught(question, answer, doc):
    assert restates_question(answer, question)
    # Why it is needed: every fact in it is in the passage, so the claim check passes it.
    assert not check_answer(answer, {1: doc}, question=question).failed


@pytest.mark.parametrize(("question", "answer"), ANSWERED)
def test_an_answer_with_a_new_word_is_not_a_restatement(question, answer):
    assert new_words(answer, question)
    assert not restates_question(answer, question)


def test_an_empty_answer_is_not_called_a_restatement():
    assert not restates_question(" [1]. ", "Who?")
