"""Training and test examples for the answer scorer, from public data only.

KorQuAD 1.0 (Korean questions): the unit that holds the answer span is the positive;
the other units of its paragraph and of two look-alike paragraphs from other articles
are negatives. Belebele (English questions over Korean passages): the parallel English
passage shows which sentence carries the correct option, and the Korean sentence at
the same position is the positive. Unanswerable questions are constructed: the
question with its year, number, ordinal or a name changed, and the question with
only look-alike passages that do not hold the answer.

Articles (KorQuAD) and passages (Belebele) are split by a fixed seed into train,
validation and test, so no question or passage crosses splits.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from rag.constraints import question_constraints
from rag.sentences import sentence_spans
from rag.textnorm import normalize
from rag.units import Unit, answer_units

SPLITS = {"train": 0.5, "val": 0.2, "test": 0.3}
SEED = 20261201


@dataclass
class Passage:
    key: str
    text: str  # normalised, as the product stores documents
    document: str  # key of the whole article, for the constraint check
    split: str
    units: list[Unit] = field(default_factory=list)
    title: str = ""


@dataclass(frozen=True)
class Example:
    """A question with the passages offered to the scorer and where the answer is."""

    qid: str
    question: str
    passages: tuple[str, ...]  # passage keys; the gold one first when answerable
    answer: tuple[str, int, int] | None  # (passage key, start, end) or None: unanswerable
    split: str
    source: str  # "korquad" | "belebele"
    kind: str  # "answerable" | "changed" | "no_passage"
    sentence_only: bool = False  # Belebele: the sentence is known, not the span


@dataclass
class Dataset:
    passages: dict[str, Passage]
    documents: dict[str, str]  # article key -> text
    examples: list[Example]


def split_of(key: str) -> str:
    r = random.Random(f"{SEED}:{key}").random()
    return (
        "train" if r < SPLITS["train"] else "val" if r < SPLITS["train"] + SPLITS["val"] else "test"
    )


def load_korquad(path: Path) -> Dataset:
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    passages: dict[str, Passage] = {}
    documents: dict[str, str] = {}
    examples: list[Example] = []
    for a, article in enumerate(data):
        doc_key = f"kq{a:03d}"
        split = split_of(doc_key)
        texts = []
        title = normalize(article["title"])
        for p, para in enumerate(article["paragraphs"]):
            key = f"{doc_key}-{p:02d}"
            context = normalize(para["context"])
            texts.append(context)
            # Each passage starts with its article's title line, as a chunk of a scraped
            # page starts with the page's headline: the scorer must learn to pass it over.
            text = f"{title}\n{context}"
            passages[key] = Passage(key, text, doc_key, split, answer_units(text), title)
            for qa in para["qas"]:
                answer = qa["answers"][0]
                hint = answer["answer_start"] + len(title) + 1
                span = _locate(text, answer["text"].strip(), hint, min_start=len(title) + 1)
                if span is None:
                    continue
                examples.append(
                    Example(
                        qa["id"],
                        normalize(qa["question"]),
                        (key,),
                        (key, *span),
                        split,
                        "korquad",
                        "answerable",
                    )  # fmt: skip
                )
        documents[doc_key] = normalize(article["title"]) + "\n" + "\n".join(texts)
    return Dataset(passages, documents, examples)


def load_belebele(ko_path: Path, en_path: Path) -> Dataset:
    """English questions whose correct option is found in exactly one English sentence,
    in passages whose Korean and English sentence counts agree."""
    with open(en_path, encoding="utf-8") as fh:
        english = {row["metadata"]["extra"]["url"]: row for row in map(json.loads, fh)}
    rows_by_link: dict[str, list[dict]] = {}
    with open(ko_path, encoding="utf-8") as fh:
        for row in map(json.loads, fh):
            rows_by_link.setdefault(row["link"], []).append(row)
    passages: dict[str, Passage] = {}
    documents: dict[str, str] = {}
    examples: list[Example] = []
    for i, (link, rows) in enumerate(rows_by_link.items()):
        key = f"bb{i:03d}"
        split = split_of(key)
        text = normalize(rows[0]["flores_passage"])
        passages[key] = Passage(key, text, key, split, answer_units(text))
        documents[key] = text
        en = english.get(link)
        if en is None:
            continue
        ko_sents = sentence_spans(text)
        en_text = normalize(en["text"])
        en_sents = [en_text[s:e].casefold() for s, e in sentence_spans(en_text)]
        rows = sorted(rows, key=lambda r: int(r["question_number"]))
        for row, item in zip(rows, en["items"], strict=False):
            if len(en_sents) != len(ko_sents):
                break
            where = _best_sentence(row_answer(item), en_sents)
            if where is None:
                continue
            s, e = ko_sents[where]
            examples.append(
                Example(
                    f"{key}-q{row['question_number']}",
                    normalize(item["question"]),
                    (key,),
                    (key, s, e),
                    split,
                    "belebele",
                    "answerable",
                    sentence_only=True,
                )  # fmt: skip
            )
    return Dataset(passages, documents, examples)


def row_answer(item: dict) -> str:
    """The correct option's text of an English Belebele item."""
    answers = item["answers"]
    correct = [a for a in answers if a.get("correct")] if isinstance(answers[0], dict) else []
    if correct:
        return correct[0]["text"]
    return str(item.get("correct_answer") or "")


def changed_question(
    question: str, rng: random.Random, names: list[str], passage: str
) -> str | None:
    """The question with one constraint changed so that the passage no longer answers it."""
    cons = question_constraints(question)
    rng.shuffle(cons)
    for c in cons:
        form = c.forms[0]
        if c.kind in ("number", "ordinal") and form.isdigit():
            n = int(form)
            new = str(n + rng.choice([-3, -2, -1, 1, 2, 3]) if n > 1900 else n + rng.randint(1, 4))
            if re.search(rf"(?<!\d){new}(?!\d)", passage):
                continue
            changed = re.sub(rf"(?<!\d){n}(?!\d)", new, question, count=1)
            if changed != question:
                return changed
        if c.kind == "name" and names:
            other = rng.choice(names)
            if other not in passage and form in question:
                return question.replace(form, other, 1)
    return None


def _best_sentence(option: str, sentences: list[str]) -> int | None:
    """The one sentence holding most of the option's words (>= 60 %, 20 points clear)."""
    words = set(re.findall(r"[a-z0-9]{3,}", option.casefold()))
    if not words:
        return None
    shares = [len(words & set(re.findall(r"[a-z0-9]{3,}", s))) / len(words) for s in sentences]
    ranked = sorted(range(len(shares)), key=lambda j: -shares[j])
    best = ranked[0] if ranked else None
    second = shares[ranked[1]] if len(ranked) > 1 else 0.0
    if best is None or shares[best] < 0.6 or shares[best] - second < 0.2:
        return None
    return best


def _locate(text: str, answer: str, hint: int, *, min_start: int = 0) -> tuple[int, int] | None:
    answer = normalize(answer)
    found = re.finditer(re.escape(answer), text) if answer else []
    starts = [m.start() for m in found if m.start() >= min_start]
    if not starts:
        return None
    start = min(starts, key=lambda s: abs(s - hint))
    return start, start + len(answer)
