"""A "label : value" line that states what the question asks (rag.labelled_lines): which
questions and labels count, the margin, and the answers on the bundled corpus with the
real model."""

from __future__ import annotations

import pytest

from rag.labelled_lines import asked_kinds, labelled_kinds, labelled_line
from rag.sentence_candidates import Candidate


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("Where did the summit take place?", {"place"}),
        ("When does the exhibition open?", {"date"}),
        ("On which date was the agreement signed?", {"date"}),
        ("행사는 언제, 어디에서 열리나요?", {"date", "place"}),
        ("설명회 장소는?", {"place"}),
        # something besides a date or a place: a line would not answer it
        ("Who spoke, and where?", set()),
        ("어느 도시에서 열렸고 누가 참석했나요?", set()),
        ("Which companies signed the pledge?", set()),
        ("What did the minister announce?", set()),
    ],
)
def test_the_kinds_a_question_asks_for(question, kinds):
    assert asked_kinds(question) == kinds


@pytest.mark.parametrize(
    ("line", "kinds"),
    [
        ("- 일시/장소 : 2024.5.22(수), 한국과학기술연구원(KIST)", {"date", "place"}),
        ("○ 일시: 2025. 3. 4.(화) 14:00", {"date"}),
        ("Venue: COEX, Seoul", {"place"}),
        ("- 주요 참석자 : ▲미셸 더넬런 장관", set()),
        ("박 장관은 다음과 같이 말했다: 협력이 중요하다.", set()),  # a colon, no label
    ],
)
def test_the_kinds_a_label_names(line, kinds):
    assert labelled_kinds(line) == kinds


def _cand(text: str, score: float, *, furniture: bool = False) -> Candidate:
    return Candidate("doc", "doc#0", 0, len(text), text, 0, score, score, furniture)


def test_the_line_is_taken_only_within_the_margin_and_never_from_the_furniture():
    lead = _cand("포럼 개회식에 총리가 참석해 축사를 했다.", 0.60)
    line = _cand("- 일시/장소 : 2024.5.22(수), KIST", 0.55)
    assert labelled_line("Where was the forum held?", [lead, line], margin=0.08) == line
    assert labelled_line("Where was the forum held?", [lead, line], margin=0.02) is None
    assert labelled_line("Who attended the forum?", [lead, line], margin=0.08) is None
    sidebar = _cand("- 장소 : 다른 행사장", 0.58, furniture=True)
    assert labelled_line("Where was the forum held?", [lead, sidebar, line], margin=0.08) == line
    # a line with the date only does not answer "when and where"
    date_only = _cand("- 일시 : 2024.5.22(수)", 0.59)
    assert labelled_line("포럼은 언제, 어디에서 열렸나요?", [lead, date_only], margin=0.08) is None


@pytest.mark.parametrize(
    "question", ["Where was the AI Global Forum held?", "AI 글로벌 포럼은 언제, 어디에서 열렸나요?"]
)
def test_the_forum_s_date_and_place_line_is_quoted_alone(qa, question):
    answer = qa.ask(question)
    assert not answer.refused
    assert [c.quote for c in answer.citations] == [
        "- 일시/장소 : 2024.5.22(수), 한국과학기술연구원(KIST)"
    ]


def test_another_event_s_place_is_not_answered_with_the_forum_s_line(qa):
    answer = qa.ask("Where was the AI Seoul Summit held?")
    assert all("일시/장소" not in c.quote for c in answer.citations)
