"""The public benchmark data, read unmodified: passages become documents, questions tasks.

KorQuAD 1.0 dev gives Korean questions over Korean Wikipedia paragraphs.
Belebele gives parallel Korean and English FLORES passages with parallel
questions, hence four language pairs (question → passage): ko → ko, en → ko,
en → en and ko → en. Subsets and the tuning/test split are cut here, in code,
with a fixed seed, so the files stay as published.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from rag.textnorm import normalize
from rag.types import Document

KORQUAD = Path("korquad1") / "KorQuAD_v1.0_dev.json"
BELEBELE_KO = Path("belebele") / "kor_Hang.jsonl"
BELEBELE_EN = Path("belebele") / "eng_Latn.jsonl"
# (question language, passage language) -> task name; "belebele" keeps its old meaning.
BELEBELE_TASKS = {
    ("ko", "ko"): "belebele-ko-ko",
    ("en", "ko"): "belebele",
    ("en", "en"): "belebele-en-en",
    ("ko", "en"): "belebele-ko-en",
}


@dataclass(frozen=True)
class Passage:
    doc_id: str
    text: str  # as published; the product normalises it, the LangChain baseline does not
    title: str = ""


@dataclass(frozen=True)
class Question:
    qid: str
    task: str  # a key of BenchData.questions, e.g. "korquad" or "belebele-en-en"
    question: str
    gold_doc: str
    answers: tuple[str, ...] = ()  # KorQuAD answer spans; Belebele is multiple choice
    # The gold passage's translation (Belebele), if any. It answers the question as well
    # as the gold passage does, so rankings drop it rather than count it right or wrong.
    twin: str = ""


@dataclass(frozen=True)
class BenchData:
    passages: list[Passage]  # KorQuAD paragraphs and Belebele's Korean passages
    # task -> all its questions, in file order. "belebele" is en → ko; the other
    # Belebele pairs are "belebele-ko-ko", "belebele-en-en" and "belebele-ko-en".
    questions: dict[str, list[Question]]
    english_passages: list[Passage] = field(default_factory=list)  # Belebele's English ones


def default_data_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "data" / "benchdata"


def load(data_dir: Path) -> BenchData:
    """Raise ``FileNotFoundError`` naming the missing file and the ``--data`` fix."""
    data_dir = Path(data_dir)
    for rel in (KORQUAD, BELEBELE_KO, BELEBELE_EN):
        if not (data_dir / rel).is_file():
            raise FileNotFoundError(
                f"Benchmark file {data_dir / rel} not found; pass --data DIR pointing at the "
                "folder that holds korquad1/ and belebele/ (see data/benchdata/README.md)."
            )
    kq_passages, kq_questions = _korquad(data_dir / KORQUAD)
    bb_passages, bb_english, bb_questions = _belebele(
        data_dir / BELEBELE_KO, data_dir / BELEBELE_EN
    )
    return BenchData(
        passages=kq_passages + bb_passages,
        questions={"korquad": kq_questions, **bb_questions},
        english_passages=bb_english,
    )


def _korquad(path: Path) -> tuple[list[Passage], list[Question]]:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)["data"]
    passages, questions = [], []
    for a, article in enumerate(data):
        for p, para in enumerate(article["paragraphs"]):
            doc_id = f"korquad-{a:03d}-{p:02d}"
            passages.append(Passage(doc_id, para["context"], article["title"]))
            for qa in para["qas"]:
                answers = tuple(dict.fromkeys(x["text"].strip() for x in qa["answers"]))
                questions.append(Question(qa["id"], "korquad", qa["question"], doc_id, answers))
    return passages, questions


def _belebele(
    ko_path: Path, en_path: Path
) -> tuple[list[Passage], list[Passage], dict[str, list[Question]]]:
    """English rows match Korean ones by URL, and questions by order of ``question_number``
    (a passage whose only Korean question is number 2 has one English item)."""
    with open(en_path, encoding="utf-8") as fh:
        english = {row["metadata"]["extra"]["url"]: row for row in map(json.loads, fh)}
    korean: dict[str, list[dict]] = {}
    with open(ko_path, encoding="utf-8") as fh:
        for row in map(json.loads, fh):
            korean.setdefault(row["link"], []).append(row)
    passages: list[Passage] = []
    english_passages: list[Passage] = []
    questions: dict[str, list[Question]] = {task: [] for task in BELEBELE_TASKS.values()}
    for link, rows in korean.items():
        ko_doc = f"belebele-{len(passages):03d}"
        en_doc = f"belebele-en-{len(passages):03d}"
        en_row = english.get(link, {"text": "", "items": []})
        passages.append(Passage(ko_doc, rows[0]["flores_passage"]))
        english_passages.append(Passage(en_doc, en_row["text"]))
        items = en_row["items"]
        if len(items) != len(rows):
            raise ValueError(f"Belebele passage {link}: {len(rows)} Korean, {len(items)} English")
        rows = sorted(rows, key=lambda r: int(r["question_number"]))
        docs = {"ko": ko_doc, "en": en_doc}
        for row, item in zip(rows, items, strict=True):
            qid = f"{ko_doc}-q{row['question_number']}"
            text = {"ko": row["question"], "en": item["question"]}
            for (q_lang, p_lang), task in BELEBELE_TASKS.items():
                twin = docs["en" if p_lang == "ko" else "ko"]
                suffix = "" if task == "belebele" else f"-{q_lang}-{p_lang}"
                questions[task].append(
                    Question(qid + suffix, task, text[q_lang], docs[p_lang], twin=twin)
                )
    return passages, english_passages, questions


def sample(questions: list[Question], n: int, *, seed: int) -> list[Question]:
    """A fixed subset: a seeded shuffle cut at ``n``, so smaller subsets nest in larger ones."""
    order = list(questions)
    random.Random(f"{seed}:{questions[0].task if questions else ''}").shuffle(order)
    return order[: max(0, n)]


def split(questions: list[Question], *, seed: int) -> tuple[list[Question], list[Question]]:
    """A tuning half and a test half, by gold passage: a passage's questions stay together.

    A Belebele passage and its translation count as one passage, so all four language
    pairs split the same way, and tuning never sees a test passage in either language.
    """
    groups = sorted({_group(q) for q in questions})
    random.Random(f"{seed}:split").shuffle(groups)
    tuning = set(groups[: len(groups) // 2])
    return (
        [q for q in questions if _group(q) in tuning],
        [q for q in questions if _group(q) not in tuning],
    )


def _group(q: Question) -> str:
    return q.gold_doc.replace("belebele-en-", "belebele-")


def passage_subset(passages: list[Passage], questions: list[Question], n_extra: int, *, seed: int):
    """The gold passages of ``questions`` and their translations, plus ``n_extra`` seeded
    distractors (for --quick)."""
    order = list(passages)
    random.Random(f"{seed}:passages").shuffle(order)
    keep = {d for q in questions for d in (q.gold_doc, q.twin) if d}
    keep |= {p.doc_id for p in order[:n_extra]}
    return [p for p in passages if p.doc_id in keep]


def to_documents(passages: list[Passage]) -> list[Document]:
    """Documents as the product's loaders make them: normalised text and its hash."""
    docs = []
    for p in passages:
        text = normalize(p.text)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        docs.append(Document(doc_id=p.doc_id, text=text, title=p.title, content_hash=digest))
    return docs
