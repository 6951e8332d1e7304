"""Kiwi terms (rag.terms): cached per text, and a caller's list is its own."""

from __future__ import annotations

from rag.terms import clear_terms_cache, terms


def test_terms_are_content_morphemes_with_numbers_joined():
    assert terms("박진 외교장관은 2월 15부터 16일까지 the REAIM 2023, 1,000명") == [
        "박진", "외교", "장관", "2", "15", "16", "reaim", "2023", "1000",
    ]  # fmt: skip
    assert terms("   ") == []


def test_a_callers_changes_do_not_reach_the_cache():
    text = "서울 AI 기업 서약에는 14개 기업이 참여했다."
    first = terms(text)
    first.append("변경")
    first[0] = "바뀜"
    again = terms(text)
    assert again[0] == "서울" and "변경" not in again


def test_clearing_the_cache_gives_the_same_terms():
    text = "우리은행은 강남 BIZ프라임센터를 개점했다."
    before = terms(text)
    clear_terms_cache()
    assert terms(text) == before
