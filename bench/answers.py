"""Answer speed and index build cost: the unit answerer against the sentence answerer.

``python -m bench.answers`` embeds the bundled corpus's chunks three ways (chunk vectors
only; chunk and answer-unit vectors from one pass; that plus the sentence answerer's
texts embedded on their own, as indexing does now), then asks every gold question once
and times the answer step of the extractive answerers on the same retrieved hits: the
unit answerer (rag.answer, arithmetic on stored unit vectors), the sentence answerer
reading the index's stored sentence vectors (the default), and the sentence answerer
without them (embedding candidate sentences at question time, cached by text, as
before they were stored). The model is loaded and one question asked before timing
starts ("warm"). Writes ``bench/results/answers.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

import rag
from rag.answer import UnitAnswerer
from rag.chunking import chunk_document
from rag.eval_gold import load_gold
from rag.loaders import load_documents
from rag.sentence_answerer import SentenceAnswerer
from rag.sentence_candidates import embedded_texts
from rag.sentence_store import build_store
from rag.terms import clear_terms_cache, terms
from rag.textnorm import detect_lang
from rag.units import answer_units

ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger(__name__)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.answers", description=__doc__)
    p.add_argument("--index-dir", type=Path, default=ROOT / "index")
    p.add_argument("--corpus", type=Path, default=ROOT / "data" / "corpus")
    p.add_argument("--gold", type=Path, default=ROOT / "eval" / "gold.jsonl")
    p.add_argument("--repeats", type=int, default=3, help="index builds of each kind")
    p.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "answers.json")
    return p.parse_args(argv)


def build_cost(qa: rag.QA, corpus: Path, repeats: int) -> dict:
    """Seconds to embed the corpus's chunks: vectors only, plus answer units, plus sentences."""
    documents = {d.doc_id: d for d in load_documents([corpus])}
    chunk_rows = [c for d in documents.values() for c in chunk_document(d)]
    chunks = [c.text for c in chunk_rows]
    embedder = qa.embedder
    before, after, with_sentences = [], [], []
    stored = 0
    for _ in range(repeats):
        start = time.perf_counter()
        embedder.encode_documents(chunks)
        [terms(c) for c in chunks]
        before.append(time.perf_counter() - start)
        start = time.perf_counter()
        units = [answer_units(c) for c in chunks]
        embedder.encode_documents_with_spans(
            chunks, [[(u.start, u.end) for u in us] for us in units]
        )
        [terms(c) for c in chunks]
        [terms(c[u.start : u.end]) for c, us in zip(chunks, units, strict=True) for u in us]
        after.append(time.perf_counter() - start)
        start = time.perf_counter()
        _, stored = build_store(embedded_texts(chunk_rows, documents), old=None, embedder=embedder)
        with_sentences.append(after[-1] + time.perf_counter() - start)
    base = statistics.median(before)
    return {
        "chunks": len(chunks),
        "units": sum(len(answer_units(c)) for c in chunks),
        "sentence_texts": stored,
        "seconds_before": round(base, 2),
        "seconds_after": round(statistics.median(after), 2),
        "slowdown": round(statistics.median(after) / base, 3),
        "seconds_with_sentences": round(statistics.median(with_sentences), 2),
        "slowdown_with_sentences": round(statistics.median(with_sentences) / base, 3),
    }


def answer_times(qa: rag.QA, questions: list[str]) -> dict:
    """Milliseconds of the answer step alone, each answerer on the same retrieved hits.

    Each answerer gets its own pass over the questions, starting with an empty cache of
    Kiwi terms (rag.terms), as a fresh process would: the cache fills as questions about
    the same passages come in. ``sentence_cold_answer_ms`` empties it before every
    question, the cost of a question about passages no earlier question touched.
    """
    units = UnitAnswerer(qa.embedder, qa.settings)
    sentences = SentenceAnswerer(qa.embedder, qa.settings)
    unstored = SentenceAnswerer(qa.embedder, qa.settings)
    data = qa.data
    bare = replace(data, sentences=None)  # as an index without stored sentence vectors
    asked, retrieval_ms = [], []
    for question in questions:
        start = time.perf_counter()
        vector = qa.embedder.encode_queries([question])[0]
        hits = qa._snapshot.retriever.search(question, top_k=qa.settings.top_k, query_vector=vector)
        retrieval_ms.append((time.perf_counter() - start) * 1000)
        asked.append((question, hits, vector, detect_lang(question)))
    unit_ms, _ = _timed_pass(units, asked, data)
    sentence_ms, stored_answers = _timed_pass(sentences, asked, data)
    cold_ms, _ = _timed_pass(sentences, asked, data, cold=True)
    unstored_ms, bare_answers = _timed_pass(unstored, asked, bare)
    same = sum(a.text == b.text for a, b in zip(stored_answers, bare_answers, strict=True))
    return {
        "questions": len(questions),
        "answer_ms": _stats(unit_ms),
        "sentence_answer_ms": _stats(sentence_ms),
        "sentence_cold_answer_ms": _stats(cold_ms),
        "sentence_unstored_answer_ms": _stats(unstored_ms),
        "stored_p50_speedup": round(_pct(unstored_ms, 50) / max(_pct(sentence_ms, 50), 1e-9), 1),
        "stored_p95_speedup": round(_pct(unstored_ms, 95) / max(_pct(sentence_ms, 95), 1e-9), 1),
        "same_answer_stored_and_unstored": same,
        "retrieval_ms": _stats(retrieval_ms),
        "p50_speedup": round(_pct(sentence_ms, 50) / max(_pct(unit_ms, 50), 1e-9), 1),
        "p95_speedup": round(_pct(sentence_ms, 95) / max(_pct(unit_ms, 95), 1e-9), 1),
        "end_to_end_ms": _stats([r + a for r, a in zip(retrieval_ms, unit_ms, strict=True)]),
        "sentence_end_to_end_ms": _stats(
            [r + a for r, a in zip(retrieval_ms, sentence_ms, strict=True)]
        ),
    }


def _timed_pass(answerer, asked: list, data, *, cold: bool = False) -> tuple[list[float], list]:
    """The answer step's milliseconds and answers over ``asked``, from an empty term cache."""
    clear_terms_cache()
    times, answers = [], []
    for question, hits, vector, lang in asked:
        if cold:
            clear_terms_cache()
        start = time.perf_counter()
        answers.append(answerer.answer(question, hits, query_vector=vector, data=data, lang=lang))
        times.append((time.perf_counter() - start) * 1000)
    return times, answers


def _stats(values: list[float]) -> dict:
    return {"p50": round(_pct(values, 50), 1), "p95": round(_pct(values, 95), 1),
            "max": round(max(values), 1)}  # fmt: skip


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    qa = rag.open(args.index_dir)
    questions = [item.question for item in load_gold(args.gold)]
    qa.ask(questions[0])  # warm: model loaded, first forward pass done
    results = {
        "build": build_cost(qa, args.corpus, args.repeats),
        "answers": answer_times(qa, questions),
        "precision": qa.embedder.precision,
    }
    print(json.dumps(results, indent=1))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
