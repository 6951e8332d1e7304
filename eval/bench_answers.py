"""Extractive answers on KorQuAD questions, as ``QA.ask`` makes them.

An answer counts when its text contains a gold span after folding (the rule of
``rag eval``); the mean answer length and what the whole top chunk would score
are given beside it, because that rule rewards long answers.
"""

from __future__ import annotations

from tqdm.auto import tqdm

from rag.config import Settings
from rag.evaluation import score_answer
from rag.qa import extractive_answerer
from rag.retrieval import Retriever
from rag.store import IndexData
from rag.textnorm import detect_lang, normalize

from .bench_data import Question


def _query(q: Question) -> str:
    """What ``QA.search`` would search for: the normalised, stripped question."""
    return normalize(q.question).strip()


def answer_quality(
    questions: list[Question], data: IndexData, embedder, settings: Settings, progress: bool
) -> dict:
    """Extractive answers as ``QA.ask`` makes them; does the text contain the gold span?"""
    retriever = Retriever(data, embedder, settings)
    answerer = extractive_answerer(embedder, settings)
    contains = refused = gold_in_hits = top_chunk_contains = 0
    answer_chars = chunk_chars = 0
    examples = []
    qvecs = embedder.encode_queries([_query(q) for q in questions]) if questions else []
    for q, qv in tqdm(
        list(zip(questions, qvecs, strict=True)), desc="extractive answers", disable=not progress
    ):
        query = _query(q)
        hits = retriever.search(query, top_k=settings.top_k, query_vector=qv)
        answer = answerer.answer(
            query,
            hits,
            query_vector=qv,
            data=data,
            lang=detect_lang(query),
            search_query=query,
        )
        gold_in_hits += any(h.chunk.doc_id == q.gold_doc for h in hits)
        if hits:
            top_chunk_contains += score_answer(hits[0].chunk.text, [q.answers]) == 1.0
            chunk_chars += len(hits[0].chunk.text)
        if answer.refused:
            refused += 1
        else:
            ok = score_answer(answer.text, [q.answers]) == 1.0
            contains += ok
            answer_chars += len(answer.text)
            if len(examples) < 3:
                examples.append(
                    {
                        "question": q.question,
                        "gold": q.answers[0],
                        "answer": answer.text,
                        "contains_gold": ok,
                    }
                )
    n = len(questions) or 1
    answered = max(1, len(questions) - refused)
    return {
        "n": len(questions),
        "contains_gold": contains / n,
        "refused": refused / n,
        "contains_gold_when_answered": contains / answered,
        "mean_answer_chars": answer_chars / answered,
        "gold_passage_in_hits": gold_in_hits / n,
        "top_chunk_contains_gold": top_chunk_contains / n,
        "mean_top_chunk_chars": chunk_chars / n,
        "examples": examples,
    }
