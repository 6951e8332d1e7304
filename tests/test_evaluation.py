"""Tests for rag.evaluation: scoring, aggregation, thresholds, and the gold file itself.

The answers scored here are hand-made ``Answer`` objects returned by a tiny ``ask``
function: the unit under test is the evaluator, not an answerer.
"""

from __future__ import annotations

import json
import time
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from rag.errors import RagError
from rag.eval_scoring import citation_ok
from rag.evaluation import (
    VALID_THRESHOLD_KEYS,
    GoldItem,
    auroc,
    check_thresholds,
    evidence_rank,
    fallback_kind,
    format_table,
    load_gold,
    load_report,
    load_thresholds,
    merge_reports,
    parse_min_args,
    report_dict,
    run_eval,
    score_answer,
    token_f1,
)
from rag.types import Answer, Chunk, Citation, Claim, Hit, Rendering, RenderingDelta

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "eval" / "gold.jsonl"
THRESHOLDS = ROOT / "eval" / "thresholds.json"
CORPUS = ROOT / "data" / "corpus"

QUESTION_KEYS = {
    "id",
    "question",
    "lang",
    "answerable",
    "answer",
    "refused",
    "hit_rank",
    "answer_score",
    "cited_ok",
    "n_cited",
    "n_cited_ok",
    "latency_ms",
    "ttft_ms",
    "mode",
    "fallback",
    "fallback_reason",
    "claims",
    "token_f1",
    "answer_chars",
    "confidence",
    "rendering_status",
    "rendering",
    "rendering_score",
    "rendering_unsupported",
    "rendering_first_ms",
}


def _pick(block: dict, *keys: str) -> dict:
    return {k: block[k] for k in keys}


def _hit(text: str, rank: int) -> Hit:
    chunk = Chunk(chunk_id=f"c{rank}", doc_id="doc", text=text, start=0, end=len(text))
    return Hit(chunk=chunk, score=1.0 / rank)


def _citation(n: int, quote: str) -> Citation:
    return Citation(n=n, doc_id="doc", title="t", quote=quote, start=0, end=len(quote), score=0.5)


def _item(id_: str, lang: str, answers=(), evidence=(), source=None) -> GoldItem:
    groups = tuple(tuple(g) for g in answers)
    return GoldItem(id_, f"question {id_}", lang, bool(groups), groups, tuple(evidence), source)


# --- score_answer ----------------------------------------------------------------

SAMSUNG_NAVER = [["Samsung", "삼성"], ["Naver", "네이버"]]


@pytest.mark.parametrize(
    ("text", "groups", "expected"),
    [
        ("삼성전자, 네이버가 참여했다.", SAMSUNG_NAVER, 1.0),
        ("SAMSUNG signed it.", SAMSUNG_NAVER, 0.5),  # casefold
        ("naver and samsung", SAMSUNG_NAVER, 1.0),
        ("카카오만 참여했다.", SAMSUNG_NAVER, 0.0),
        ("", SAMSUNG_NAVER, 0.0),
        ("８０여개국 정부 대표", [["80"]], 1.0),  # fullwidth digits: NFKC
        ("ＫＩＳＴ에서 열렸다", [["KIST"]], 1.0),
        ("held on\n  May\t22", [["May 22", "5월 22일"]], 1.0),  # whitespace folding
        ("5월 22일", [["5월   22일"]], 1.0),  # whitespace in the alias too
        (unicodedata.normalize("NFD", "네덜란드 헤이그"), [["헤이그"]], 1.0),  # decomposed
        ("the Hague", [["헤이그", "Hague"], ["네덜란드", "Netherlands"]], 0.5),
    ],
)
def test_score_answer(text: str, groups: list[list[str]], expected: float) -> None:
    assert score_answer(text, groups) == pytest.approx(expected)


def test_score_answer_rejects_empty_groups() -> None:
    with pytest.raises(RagError, match="alias_groups is empty"):
        score_answer("anything", [])


# --- evidence_rank ---------------------------------------------------------------


def test_evidence_rank_finds_first_matching_text() -> None:
    texts = ["무관한 문장.", "이번 회의에는 80여개국\n정부 대표가 참석했다.", "80여개국 정부 대표"]
    assert evidence_rank(texts, ["80여개국 정부 대표"]) == 2


def test_evidence_rank_any_evidence_string_counts() -> None:
    texts = ["a", "b", "(국외) OpenAI, Anthropic"]
    assert evidence_rank(texts, ["(국내) 삼성전자", "(국외) openai"]) == 3


@pytest.mark.parametrize(("texts", "evidence"), [(["a", "b"], ["c"]), ([], ["a"]), (["a"], [])])
def test_evidence_rank_none(texts: list[str], evidence: list[str]) -> None:
    assert evidence_rank(texts, evidence) is None


# --- run_eval and aggregation ----------------------------------------------------

ITEMS = [
    _item("q1", "en", SAMSUNG_NAVER, ["삼성전자, 네이버"], "a.txt"),
    _item("q2", "ko", [["80"]], ["80여개국"], "b.txt"),
    _item("q3", "ko"),
    _item("q4", "en"),
    _item("q5", "en", [["Korea", "한국"]], ["한국에서 개최"], "b.txt"),
]

ANSWERS = {
    # Fully correct; evidence at rank 2; one of two citations on target.
    "q1": Answer(
        question="question q1",
        text="삼성전자, 네이버 등이 서약했다. [1]",
        citations=[_citation(1, "(국외) OpenAI"), _citation(2, "(국내) 삼성전자, 네이버, 카카오")],
        hits=[_hit("관련 없는 청크", 1), _hit("* (국내) 삼성전자,  네이버, 카카오", 2)],
    ),
    # Wrong answer; evidence at rank 1; its only citation off target.
    "q2": Answer(
        question="question q2",
        text="여러 나라가 참석했다.",
        citations=[_citation(1, "여러 나라가 참석했다.")],
        hits=[_hit("미국·일본·영국 등 80여개국 정부 대표", 1)],
        lang="ko",
    ),
    # Unanswerable, correctly refused.
    "q3": Answer(
        question="question q3", text="문서에서 찾을 수 없습니다.", refused=True, lang="ko"
    ),
    # Unanswerable, answered anyway.
    "q4": Answer(question="question q4", text="It cost 10 billion won.", hits=[_hit("x", 1)]),
    # Answerable but refused: the alias "Korea" in the refusal text must not score.
    "q5": Answer(question="question q5", text="Korea: the documents do not say.", refused=True),
}


def _ask(question: str) -> Answer:
    if question.endswith("q3"):
        time.sleep(0.03)
    return ANSWERS[question.split()[-1]]


@pytest.fixture(scope="module")
def report():
    return run_eval(_ask, ITEMS, progress=False)


def test_overall_metrics(report) -> None:
    assert report["n"] == 5
    assert report["retrieval"] == pytest.approx(
        {"hit@1": 1 / 3, "hit@3": 2 / 3, "hit@5": 2 / 3, "mrr": 0.5}, abs=1e-4
    )
    assert _pick(report["answer"], "accuracy", "partial") == pytest.approx(
        {"accuracy": 1 / 3, "partial": 1 / 3}, abs=1e-4
    )
    assert report["citation"] == pytest.approx({"precision": 1 / 3, "recall": 1 / 3}, abs=1e-4)
    assert _pick(report["refusal"], "accuracy", "false_refusals") == pytest.approx(
        {"accuracy": 0.5, "false_refusals": 1 / 3}, abs=1e-4
    )


def test_by_language_metrics(report) -> None:
    en, ko = report["by_lang"]["en"], report["by_lang"]["ko"]
    assert (en["n"], ko["n"]) == (3, 2)
    assert en["retrieval"] == pytest.approx({"hit@1": 0, "hit@3": 0.5, "hit@5": 0.5, "mrr": 0.25})
    assert _pick(en["answer"], "accuracy", "partial") == pytest.approx(
        {"accuracy": 0.5, "partial": 0.5}
    )
    assert en["citation"] == pytest.approx({"precision": 0.5, "recall": 0.5})
    assert _pick(en["refusal"], "accuracy", "false_refusals") == pytest.approx(
        {"accuracy": 0.0, "false_refusals": 0.5}
    )
    assert ko["retrieval"] == pytest.approx({"hit@1": 1, "hit@3": 1, "hit@5": 1, "mrr": 1})
    assert _pick(ko["answer"], "accuracy", "partial") == pytest.approx(
        {"accuracy": 0.0, "partial": 0.0}
    )
    assert ko["citation"] == pytest.approx({"precision": 0.0, "recall": 0.0})
    assert _pick(ko["refusal"], "accuracy", "false_refusals") == pytest.approx(
        {"accuracy": 1.0, "false_refusals": 0.0}
    )


def test_per_question_records(report) -> None:
    by_id = {q["id"]: q for q in report["questions"]}
    assert [q["id"] for q in report["questions"]] == ["q1", "q2", "q3", "q4", "q5"]
    assert all(set(q) == QUESTION_KEYS for q in report["questions"])
    assert (by_id["q1"]["hit_rank"], by_id["q1"]["answer_score"], by_id["q1"]["cited_ok"]) == (
        2,
        1.0,
        True,
    )
    assert (by_id["q2"]["hit_rank"], by_id["q2"]["answer_score"], by_id["q2"]["cited_ok"]) == (
        1,
        0.0,
        False,
    )
    assert by_id["q5"]["answer_score"] == 0.0 and by_id["q5"]["refused"] is True
    for unanswerable in ("q3", "q4"):
        q = by_id[unanswerable]
        assert (q["hit_rank"], q["answer_score"], q["cited_ok"]) == (None, None, None)
    assert by_id["q3"]["latency_ms"] >= 30
    lat = report["latency_ms"]
    assert 0 <= lat["p50"] <= lat["p95"] <= max(q["latency_ms"] for q in report["questions"])


def test_report_serialises_with_korean_intact(report) -> None:
    text = json.dumps(report, ensure_ascii=False)
    assert "문서에서 찾을 수 없습니다" in text
    assert json.loads(text) == report == report_dict(report)
    assert set(report) == {
        "n",
        "retrieval",
        "answer",
        "citation",
        "refusal",
        "latency_ms",
        "ttft_ms",
        "llm",
        "rendering",
        "by_lang",
        "questions",
    }


def test_metrics_without_questions_are_null() -> None:
    report = run_eval(_ask, [ITEMS[2]], progress=False)  # one Korean unanswerable
    assert report["retrieval"] == {"hit@1": None, "hit@3": None, "hit@5": None, "mrr": None}
    assert report["answer"] == {
        "accuracy": None,
        "partial": None,
        "token_f1": None,
        "mean_chars": None,
    }
    assert report["citation"] == {"precision": None, "recall": None}
    assert report["refusal"] == {"accuracy": 1.0, "false_refusals": None, "auroc": None}
    en = report["by_lang"]["en"]
    assert en["n"] == 0 and en["latency_ms"] == {"p50": None, "p95": None}
    assert report["ttft_ms"] == {"p50": None, "p95": None}  # _ask does not stream
    assert en["refusal"]["accuracy"] is None


def test_top_k_limits_retrieval() -> None:
    item = _item("deep", "en", [["x"]], ["needle"], "a.txt")
    answer = Answer(question="q", text="x", hits=[_hit(t, i) for i, t in enumerate("abcd", 1)])
    answer.hits.append(_hit("a needle", 5))
    assert run_eval(lambda q: answer, [item], progress=False)["questions"][0]["hit_rank"] == 5
    report = run_eval(lambda q: answer, [item], top_k=3, progress=False)
    assert report["questions"][0]["hit_rank"] is None
    assert report["retrieval"]["mrr"] == 0.0


def test_ask_failures_name_the_question() -> None:
    def broken(question: str) -> Answer:
        raise ValueError("model exploded")

    with pytest.raises(RagError, match="'q1'.*model exploded"):
        run_eval(broken, ITEMS[:1], progress=False)
    with pytest.raises(RagError, match="must return rag.types.Answer"):
        run_eval(lambda q: "text", ITEMS[:1], progress=False)
    with pytest.raises(RagError, match="returned NoneType.*yield str deltas"):
        run_eval(lambda q: iter(["only", "deltas"]), ITEMS[:1], progress=False)

    def dies_mid_stream(question: str):
        yield "The answer"
        raise ValueError("server went away")

    with pytest.raises(RagError, match="'q1'.*server went away"):
        run_eval(dies_mid_stream, ITEMS[:1], progress=False)
    with pytest.raises(RagError, match="top_k=0"):
        run_eval(_ask, ITEMS, top_k=0, progress=False)


def test_format_table(report) -> None:
    table = format_table(report)
    lines = table.splitlines()
    assert lines[0].split() == ["metric", "all", "en", "ko"]
    row = next(line for line in lines if line.startswith("answer.accuracy"))
    assert row.split()[1:] == ["0.333", "0.500", "0.000"]
    hit1 = next(line for line in lines if line.startswith("retrieval.hit@1"))
    assert hit1.split()[1:] == ["0.333", "0.000", "1.000"]
    empty = format_table(run_eval(_ask, [ITEMS[2]], progress=False)).splitlines()
    partial = next(line for line in empty if line.startswith("answer.partial"))
    assert partial.split()[1:] == ["-", "-", "-"]


# --- streaming (time to first token) and what the LLM path did ---------------------


def _streamed(answer: Answer, *, first_after: float, rest_after: float):
    """An ``ask`` that streams like ``qa.ask_stream``: deltas, then the Answer."""

    def ask(question: str):
        time.sleep(first_after)
        yield ""  # an empty delta is not a token
        yield "first "
        time.sleep(rest_after)
        yield "rest"
        yield answer

    return ask


def _rendered(answer: Answer, text: str, status: str = "shown") -> Callable:
    """An ``ask`` streaming the quote, then an LLM rendering of it, then the Answer."""
    claims = (Claim(text, "supported", (1,)),) if status == "shown" else ()
    final = replace(answer, rendering=Rendering(text, "en", status, (1,), claims))

    def ask(question: str):
        yield "quote [1]"
        time.sleep(0.03)
        yield RenderingDelta(text[:4])
        yield RenderingDelta(text[4:])
        yield final

    return ask


def test_renderings_are_scored_in_the_askers_language() -> None:
    answer = ANSWERS["q1"]  # its quote holds 삼성전자, 네이버: right as a quote
    english = run_eval(_rendered(answer, "Samsung and Naver signed [1]."), ITEMS[:1],
                       progress=False)  # fmt: skip
    (q,) = english["questions"]
    assert q["rendering_status"] == "shown" and q["rendering_score"] == 1.0
    assert q["ttft_ms"] < 30 <= q["rendering_first_ms"] <= q["latency_ms"]
    r = english["rendering"]
    assert (r["tried"], r["shown"], r["shown_rate"], r["accuracy"]) == (1, 1, 1.0, 1.0)
    assert r["first_token_ms"]["p50"] == q["rendering_first_ms"]
    # Korean names copied into an English rendering do not count as translated.
    copied = run_eval(_rendered(answer, "삼성전자 and 네이버 signed [1]."), ITEMS[:1],
                      progress=False)  # fmt: skip
    assert copied["rendering"]["accuracy"] == 0.0
    assert copied["rendering"]["quote_accuracy"] == 1.0
    withheld = run_eval(_rendered(answer, "Apple signed [1].", "rejected"), ITEMS[:1],
                        progress=False)  # fmt: skip
    assert withheld["rendering"]["shown"] == 0 and withheld["rendering"]["rejected"] == 1
    assert withheld["questions"][0]["rendering_score"] is None
    assert "rendering.shown_rate" in format_table(english)
    assert "rendering.shown_rate" not in format_table(run_eval(_ask, ITEMS, progress=False))


def test_time_to_first_token_is_measured_on_streams() -> None:
    answer = ANSWERS["q1"]
    report = run_eval(
        _streamed(answer, first_after=0.02, rest_after=0.1), ITEMS[:1], progress=False
    )
    (q,) = report["questions"]
    assert 20 <= q["ttft_ms"] < 100 <= q["latency_ms"]
    assert q["answer_score"] == 1.0  # the Answer at the end of the stream is what is scored
    assert report["ttft_ms"] == {"p50": q["ttft_ms"], "p95": q["ttft_ms"]}
    assert report["by_lang"]["en"]["ttft_ms"]["p50"] == q["ttft_ms"]
    assert report["by_lang"]["ko"]["ttft_ms"] == {"p50": None, "p95": None}


# What rag.llm.generate returns, built by hand (tests/test_llm.py checks the real texts).
CHECK_FAILED = "The generated answer failed the citation check ({}); this is the extractive one."
LLM_ANSWERS = {
    # Generated and shown: two supported sentences, one unchecked.
    "q1": Answer(
        question="question q1",
        text="삼성전자 [1]. 네이버 [1]. 그렇다 [1].",
        citations=[_citation(1, "(국내) 삼성전자, 네이버, 카카오")],
        hits=[_hit("(국내) 삼성전자, 네이버", 1)],
        mode="llm",
        claims=[
            Claim("a", "supported", (1,)),
            Claim("b", "supported", (1,)),
            Claim("c", "unchecked", (1,)),
        ],
    ),  # fmt: skip
    # A fabricated number: fell back, the rejected sentence kept as unsupported.
    "q2": Answer(
        question="question q2",
        text="80여개국 정부 대표가 참석했다. [1]",
        citations=[_citation(1, "미국·일본·영국 등 80여개국 정부 대표")],
        hits=[_hit("미국·일본·영국 등 80여개국 정부 대표", 1)],
        lang="ko",
        fallback_reason=CHECK_FAILED.format("sentence 1: 90 not in [1]"),
        claims=[Claim("90개국", "unsupported", (), "90 not in [1]")],
    ),
    # No citation at all: fell back, then the extractive answer refused.
    "q3": Answer(
        question="question q3",
        text="문서에서 찾을 수 없습니다.",
        refused=True,
        lang="ko",
        fallback_reason=CHECK_FAILED.format("no sentence cites a passage with [n]"),
        claims=[Claim("x", "unsupported", (), "no [n] citation")],
    ),
    # The model refused and the extractive answerer agreed: a generated refusal.
    "q4": Answer(question="question q4", text="Not in the documents.", refused=True, mode="llm"),
    # The model refused, the extractive answerer did not.
    "q5": Answer(
        question="question q5",
        text="Korea.",
        fallback_reason="The model said the documents do not say, but they do: extractive.",
    ),
}


@pytest.fixture(scope="module")
def llm_report():
    return run_eval(lambda q: LLM_ANSWERS[q.split()[-1]], ITEMS, progress=False)


def test_llm_counts_fallbacks_by_kind_and_claim_verdicts(llm_report) -> None:
    llm = llm_report["llm"]
    assert (llm["shown"], llm["fallbacks"]) == (2, 3)
    assert llm["fallback_kinds"] == {
        "no_citation": 1,
        "unsupported_fact": 1,
        "empty": 0,
        "restates_question": 0,
        "refusal_overridden": 1,
        "other": 0,
    }
    assert llm["claims"] == {"supported": 2, "unsupported": 2, "unchecked": 1}
    ko = llm_report["by_lang"]["ko"]["llm"]
    assert (ko["shown"], ko["fallbacks"], ko["claims"]["unsupported"]) == (0, 2, 2)
    by_id = {q["id"]: q for q in llm_report["questions"]}
    assert (by_id["q1"]["mode"], by_id["q1"]["fallback"]) == ("llm", None)
    assert by_id["q1"]["claims"] == {"supported": 2, "unchecked": 1}
    assert by_id["q2"]["fallback"] == "unsupported_fact" and "90" in by_id["q2"]["fallback_reason"]
    # Answer quality is scored on what the user saw, whichever path produced it.
    assert _pick(llm_report["answer"], "accuracy", "partial") == pytest.approx(
        {"accuracy": 1.0, "partial": 1.0}
    )
    assert _pick(llm_report["refusal"], "accuracy", "false_refusals") == pytest.approx(
        {"accuracy": 1.0, "false_refusals": 0.0}
    )


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("", None),
        ("The generated answer failed the citation check (the model returned nothing); x", "empty"),
        ("The generated answer only restated the question: x", "restates_question"),
        ("something new", "other"),
    ],
)
def test_fallback_kind(reason: str, kind: str | None) -> None:
    assert fallback_kind(reason) == kind


def test_format_table_shows_llm_rows_only_when_the_llm_ran(report, llm_report) -> None:
    assert "llm." not in format_table(report)
    lines = format_table(llm_report).splitlines()
    row = next(line for line in lines if line.startswith("llm.fallback_kinds.no_citation"))
    assert row.split()[1:] == ["1", "0", "1"]
    assert any(line.startswith("ttft_ms.p95") for line in lines)


def test_reports_of_disjoint_runs_merge_into_the_full_report(tmp_path: Path, report) -> None:
    parts = []
    for lang in ("en", "ko"):
        part = run_eval(_ask, [i for i in ITEMS if i.lang == lang], progress=False)
        path = tmp_path / f"{lang}.json"
        path.write_text(json.dumps(part, ensure_ascii=False), encoding="utf-8")
        parts.append(load_report(path))
    merged = merge_reports(parts)
    timed = ("questions", "latency_ms", "by_lang")  # timings differ from run to run
    assert {k: v for k, v in merged.items() if k not in timed} == {
        k: v for k, v in report.items() if k not in timed
    }
    assert merged["by_lang"]["ko"]["answer"] == report["by_lang"]["ko"]["answer"]
    with pytest.raises(RagError, match=r"\['q2', 'q3'\] appear in more than one"):
        merge_reports([report, parts[1]])


def test_load_report_rejects_files_that_are_not_reports(tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"n": 1, "questions": [{"id": "q1"}]}), encoding="utf-8")
    with pytest.raises(RagError, match="old.json.*lacks.*re-run"):
        load_report(old)
    with pytest.raises(RagError, match="nope.json"):
        load_report(tmp_path / "nope.json")


# --- thresholds ------------------------------------------------------------------


def test_thresholds_pass_and_fail(report) -> None:
    assert check_thresholds(report, {"answer.accuracy": 0.3, "retrieval.hit@3": 0.6}) == []
    failures = check_thresholds(
        report, {"answer.accuracy": 0.5, "by_lang.ko.answer.accuracy": 0.1, "retrieval.mrr": 0.5}
    )
    assert len(failures) == 2
    assert "answer.accuracy = 0.3333" in failures[0] and "0.5" in failures[0]
    assert failures[1].startswith("by_lang.ko.answer.accuracy")


def test_null_metric_fails_its_minimum() -> None:
    report = run_eval(_ask, [ITEMS[2]], progress=False)
    (failure,) = check_thresholds(report, {"answer.accuracy": 0.0})
    assert "null" in failure


def test_unknown_threshold_key_lists_valid_keys(report) -> None:
    with pytest.raises(RagError, match="Unknown threshold key 'answer.acc'.*answer.accuracy"):
        check_thresholds(report, {"answer.acc": 0.5})
    with pytest.raises(RagError, match="latency_ms.p95"):
        check_thresholds(report, {"latency_ms.p95": 0.5})  # lower is better: no minimum


def test_parse_min_args() -> None:
    assert parse_min_args(["answer.accuracy=0.8", "by_lang.en.retrieval.hit@3 = 1"]) == {
        "answer.accuracy": 0.8,
        "by_lang.en.retrieval.hit@3": 1.0,
    }
    for bad in ("answer.accuracy", "answer.accuracy=high", "answer.accuracy=1.5", "x.y=0.1"):
        with pytest.raises(RagError):
            parse_min_args([bad])


def test_committed_thresholds_file_is_valid(report) -> None:
    mins = load_thresholds(THRESHOLDS)
    assert mins and set(mins) <= set(VALID_THRESHOLD_KEYS)
    assert all(0.0 < v <= 1.0 for v in mins.values())
    assert isinstance(check_thresholds(report, mins), list)  # every key is checkable


def test_load_thresholds_rejects_bad_files(tmp_path: Path) -> None:
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{not json", encoding="utf-8")
    with pytest.raises(RagError, match="bad.json"):
        load_thresholds(bad_json)
    bad_key = tmp_path / "key.json"
    bad_key.write_text('{"accuracy": 0.5}', encoding="utf-8")
    with pytest.raises(RagError, match="Unknown threshold key 'accuracy'"):
        load_thresholds(bad_key)
    with pytest.raises(RagError, match="missing.json"):
        load_thresholds(tmp_path / "missing.json")


# --- load_gold -------------------------------------------------------------------

VALID = {
    "id": "ok-1",
    "question": "누가?",
    "lang": "ko",
    "answerable": True,
    "answers": [["a"]],
    "evidence": ["a"],
    "source": "x.txt",
}
UNANSWERABLE = {**VALID, "answerable": False, "answers": [], "evidence": [], "source": None}


def _line(**changes) -> str:
    return json.dumps({**VALID, "id": "bad", **changes}, ensure_ascii=False)


@pytest.mark.parametrize(
    ("bad_line", "problem"),
    [
        ('{"id": "x", ', "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (json.dumps({k: v for k, v in VALID.items() if k != "evidence"}), "missing field"),
        (_line(lang="jp"), "'lang' is 'jp'"),
        (_line(answerable="yes"), "'answerable' must be true or false"),
        (_line(question="  "), "'question' must be a non-empty string"),
        (_line(answers=[]), "needs non-empty 'answers'"),
        (_line(source=None), "needs non-empty 'answers' and a 'source'"),
        (_line(answerable=False), "must have 'answers': \\[\\]"),
        (_line(answers=[[]]), "alias group must be a non-empty list"),
        (_line(answers=[["a", " "]]), "non-blank string"),
        (_line(answers=["a"]), "alias group"),
        (_line(evidence="a"), "'evidence' must be a list"),
        (_line(id="ok-1"), "duplicate id 'ok-1'"),
    ],
)
def test_malformed_gold_line_names_line_number(tmp_path: Path, bad_line: str, problem: str):
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps(VALID) + "\n\n" + bad_line + "\n", encoding="utf-8")
    with pytest.raises(RagError, match=rf"gold.jsonl:3: .*{problem}"):
        load_gold(path)


def test_load_gold_accepts_any_file_in_the_format(tmp_path: Path) -> None:
    path = tmp_path / "other.jsonl"
    extra = {**UNANSWERABLE, "id": "u-1", "lang": "en", "note": "extra fields are ignored"}
    path.write_text(
        "\ufeff" + json.dumps(VALID, ensure_ascii=False) + "\n" + json.dumps(extra) + "\n",
        encoding="utf-8",
    )
    items = load_gold(path)
    assert items == [
        GoldItem("ok-1", "누가?", "ko", True, (("a",),), ("a",), "x.txt"),
        GoldItem("u-1", "누가?", "en", False, (), (), None),
    ]


def test_load_gold_keeps_line_separators_inside_strings(tmp_path: Path) -> None:
    path = tmp_path / "sep.jsonl"
    odd = {**VALID, "question": "줄\u2028바꿈\x85?"}
    path.write_text(json.dumps(odd, ensure_ascii=False) + "\r\n", encoding="utf-8", newline="")
    assert load_gold(path)[0].question == "줄\u2028바꿈\x85?"


def test_load_gold_rejects_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "euckr.jsonl"
    path.write_bytes(json.dumps(VALID, ensure_ascii=False).encode("euc-kr"))
    with pytest.raises(RagError, match="euckr.jsonl"):
        load_gold(path)


def test_load_gold_rejects_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(RagError, match="no questions"):
        load_gold(empty)
    with pytest.raises(RagError, match="nope.jsonl"):
        load_gold(tmp_path / "nope.jsonl")


# --- the committed gold set ------------------------------------------------------


@pytest.fixture(scope="module")
def gold() -> list[GoldItem]:
    return load_gold(GOLD)


def test_gold_set_size_and_mix(gold: list[GoldItem]) -> None:
    assert len(gold) >= 40
    assert sum(not item.answerable for item in gold) >= 8
    langs = [item.lang for item in gold]
    assert min(langs.count("en"), langs.count("ko")) >= len(gold) // 3
    assert {item.source for item in gold if item.answerable} == {p.name for p in CORPUS.iterdir()}


def test_gold_evidence_and_answers_are_in_their_source(gold: list[GoldItem]) -> None:
    docs = {p.name: p.read_text(encoding="utf-8") for p in CORPUS.iterdir()}
    problems = []
    for item in gold:
        if not item.answerable:
            continue
        doc = docs[item.source]
        problems += [(item.id, e) for e in item.evidence if evidence_rank([doc], [e]) != 1]
        # Each alias group must be satisfiable by quoting the (Korean) source.
        problems += [(item.id, g) for g in item.answers if score_answer(doc, [g]) != 1.0]
    assert problems == []


# --- rag eval --merge (no model: it only reads reports) ------------------------------


def test_cli_merges_reports_and_checks_minimums(tmp_path: Path, capsys) -> None:
    from rag.cli import main

    paths = []
    for lang in ("en", "ko"):
        part = run_eval(_ask, [i for i in ITEMS if i.lang == lang], progress=False)
        paths.append(tmp_path / f"{lang}.json")
        paths[-1].write_text(json.dumps(part, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "sub" / "all.json"
    args = ["eval", "--merge", *map(str, paths), "--json", str(out)]
    assert main(args + ["--min", "answer.accuracy=0.3"]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["n"] == 5
    assert "answer.accuracy" in capsys.readouterr().out
    assert main(args + ["--min", "answer.accuracy=0.5"]) == 1
    assert main(["eval", "--merge", str(paths[0]), str(paths[0])]) == 2
    assert "more than one report" in capsys.readouterr().err


# --- token F1, answerability AUROC, citations by position -------------------------


@pytest.mark.parametrize(
    ("quoted", "groups", "expected"),
    [
        ("삼성전자, 네이버", [["Samsung", "삼성전자"], ["Naver", "네이버"]], 1.0),
        # Padding costs precision: 7 gold characters among 17 quoted.
        ("삼성전자, 네이버 그리고 카카오와 케이티", [["삼성전자"], ["네이버"]], 14 / 24),
        ("The Netherlands co-hosted it", [["Netherlands", "네덜란드"]], 2 * 0.2 / 1.2),
        ("전혀 다른 말", [["80"]], 0.0),
    ],
)
def test_token_f1(quoted: str, groups, expected: float) -> None:
    assert token_f1(quoted, groups) == pytest.approx(expected, abs=1e-4)


def test_token_f1_is_lower_for_a_padded_answer() -> None:
    groups = [["미셸 더넬런"]]
    precise = token_f1("미셸 더넬런 (영)과학혁신기술부 장관", groups)
    padded = token_f1(
        "주요 참석자 : ▲미셸 더넬런 (영)과학혁신기술부 장관 ▲크리소울라 자카로풀루 (프)개발 장관",
        groups,
    )
    assert 0 < padded < precise


def test_auroc() -> None:
    assert auroc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert auroc([0.1], [0.9]) == 0.0
    assert auroc([0.5], [0.5]) == 0.5
    assert auroc([], [0.5]) is None


def test_citation_inside_the_evidence_counts_and_the_same_words_elsewhere_do_not() -> None:
    text = "AI 글로벌 포럼 개회식\n- 일시/장소 : 2024.5.22(수), 한국과학기술연구원(KIST)"
    hit = Hit(chunk=Chunk("c1", "doc", text, 0, len(text)), score=1.0)
    evidence = ["2024.5.22(수), 한국과학기술연구원(KIST)"]
    start = text.index("2024")
    inside = Citation(1, "doc", "t", "2024.5.22(수)", start, start + 12, 0.9)
    headline = Citation(2, "doc", "t", "AI 글로벌 포럼", 0, 9, 0.9)
    assert citation_ok(inside, evidence, [hit])
    assert not citation_ok(headline, evidence, [hit])
