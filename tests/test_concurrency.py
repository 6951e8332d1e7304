"""Questions answered while documents are added and removed; writers in several processes.

Real model, a copy of the index of data/corpus plus three small extra documents that
the questions retrieve. The invariants:

- no exception in any thread;
- every answer is computed from one snapshot: the documents its hits and citations
  name all existed together in one index state that was live while it was asked;
- every citation quotes its document exactly (``text[start:end]``);
- when the writer stops, the index on disk equals the one in memory, and no
  document that should be there is missing;
- two writers (two ``QA`` objects, or two processes) on one folder lose no update.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import rag
from rag.loaders import load_bytes

ROOT = Path(__file__).resolve().parents[1]
READERS = 3
CHANGES = 6  # index changes by the writer; readers ask until it is done
SECONDS = 150  # hard cap on the writer (a change waits for the embedder behind readers)
MAX_ASKS = 200  # per reader, a hard cap

EXTRA = {
    "extra-pledge-2025.txt": (
        "Seoul AI Business Pledge follow-up, 2025.\n\nIn March 2025 the companies that signed "
        "the Seoul AI Business Pledge met again in Busan. Hanbit Robotics and Daeyang Systems "
        "joined the pledge at that meeting, bringing the number of signatories to sixteen."
    ),
    "extra-reaim-2024.txt": (
        "REAIM 2024 summit note.\n\nThe second REAIM summit on responsible military use of AI "
        "was held in Seoul in September 2024. About 90 countries sent delegations, and 61 of "
        "them endorsed the Blueprint for Action."
    ),
    "extra-forum-ko.txt": (
        "AI 글로벌 포럼 후속 회의.\n\n2025년 6월 부산에서 열린 AI 글로벌 포럼 후속 회의에는 "
        "30여 개국 대표가 참석했다. 회의는 AI 안전연구소 간 협력 방안을 논의했다."
    ),
}
QUESTIONS = [
    "Which companies signed the Seoul AI Business Pledge?",
    "Who joined the pledge in 2025?",
    "Where was the second REAIM summit held?",
    "How many countries endorsed the Blueprint for Action?",
    "REAIM 회의는 어느 도시에서 개최되었나요?",
    "AI 글로벌 포럼 후속 회의는 어디에서 열렸나요?",
    "Who attended the AI Global Forum?",
]


def _extra_docs() -> dict[str, rag.Document]:
    return {name: load_bytes(text.encode("utf-8"), filename=name) for name, text in EXTRA.items()}


def _signature(data) -> dict[str, str]:
    return {d.doc_id: d.content_hash for d in data.documents.values()}


# --- one process: readers and one writer ------------------------------------------------


class _Log:
    """Index states with the interval in which each was live, and what readers saw."""

    def __init__(self, initial: frozenset[str]):
        self.states: list[tuple[float, float, frozenset[str]]] = []  # (from, until, doc ids)
        self._current = (0.0, initial)
        self.answers: list[tuple[float, float, rag.Answer]] = []
        self.errors: list[str] = []
        self.ops = 0
        self.write_seconds: list[float] = []
        self.lock = threading.Lock()

    def change(self, began: float, ended: float, docs: frozenset[str]) -> None:
        """The state before ``began`` stays possibly live until ``ended`` (the swap is inside)."""
        since, before = self._current
        self.states.append((since, ended, before))
        self._current = (began, docs)
        self.ops += 1

    def close(self) -> None:
        since, docs = self._current
        self.states.append((since, float("inf"), docs))

    def live_during(self, a: float, b: float) -> list[frozenset[str]]:
        return [docs for since, until, docs in self.states if since <= b and until >= a]


def _writer(qa, extras: dict[str, rag.Document], log: _Log, stop: threading.Event) -> None:
    names = sorted(extras)
    deadline = time.monotonic() + SECONDS
    i = 0
    try:
        while i < CHANGES and time.monotonic() < deadline:
            name = names[i % len(names)]
            began = time.monotonic()
            if name in qa.data.documents:
                qa.remove([name])
            else:
                qa.add_documents([extras[name]])
            log.change(began, time.monotonic(), frozenset(qa.data.documents))
            log.write_seconds.append(time.monotonic() - began)
            i += 1
            seen = len(log.answers)  # let the readers answer from this state before the next
            while len(log.answers) < seen + READERS and time.monotonic() < deadline:
                time.sleep(0.05)
    except Exception as exc:  # reported by the test, not lost in the thread
        log.errors.append(f"writer: {type(exc).__name__}: {exc}")
    finally:
        log.close()
        stop.set()


def _reader(qa, k: int, log: _Log, stop: threading.Event) -> None:
    for n in range(MAX_ASKS):
        if stop.is_set():
            return
        question = QUESTIONS[(k + n) % len(QUESTIONS)]
        a = time.monotonic()
        try:
            answer = qa.ask(question)
        except Exception as exc:
            log.errors.append(f"reader {k}: {question!r}: {type(exc).__name__}: {exc}")
            return
        with log.lock:
            log.answers.append((a, time.monotonic(), answer))


def test_questions_while_documents_are_added_and_removed(index_copy):
    qa = rag.open(index_copy)
    base = dict(qa.data.documents)
    extras = _extra_docs()
    texts = {**{d: doc.text for d, doc in base.items()}, **{d: e.text for d, e in extras.items()}}
    log = _Log(frozenset(base))
    stop = threading.Event()
    threads = [threading.Thread(target=_writer, args=(qa, extras, log, stop))]
    threads += [threading.Thread(target=_reader, args=(qa, k, log, stop)) for k in range(READERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=SECONDS + 120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not log.errors, log.errors

    mixed, cited_extra, hit_removed = [], 0, 0
    for a, b, answer in log.answers:
        named = {h.chunk.doc_id for h in answer.hits} | {c.doc_id for c in answer.citations}
        live = log.live_during(a, b)
        if not any(named <= docs for docs in live):
            mixed.append((answer.question, sorted(named)))
        for c in answer.citations:
            assert texts[c.doc_id][c.start : c.end] == c.quote, (answer.question, c)
        cited_extra += any(c.doc_id in extras for c in answer.citations)
        hit_removed += any(d in extras and d not in live[-1] for d in named)
    assert not mixed, f"answers mixing documents of different snapshots: {mixed[:3]}"

    # The race was exercised: the writer changed the index many times, answers used extras.
    assert log.ops == CHANGES, f"only {log.ops} of {CHANGES} index changes in {SECONDS}s"
    assert len(log.answers) >= CHANGES * READERS
    assert cited_extra, "no answer cited an extra document; the questions miss them"

    # Disk equals memory; the base documents are all there, the extras as the writer left them.
    on_disk = rag.open(index_copy)
    assert _signature(on_disk.data) == _signature(qa.data)
    assert [c.chunk_id for c in on_disk.data.chunks] == [c.chunk_id for c in qa.data.chunks]
    assert set(base) <= set(qa.data.documents)
    assert set(qa.data.documents) == set(log.states[-1][2])
    waits = sorted(log.write_seconds)
    print(
        f"{log.ops} index changes (each {waits[0]:.1f}-{waits[-1]:.1f}s under load), "
        f"{len(log.answers)} answers by {READERS} readers; {cited_extra} cited an extra "
        f"document, {hit_removed} used a document already removed when they returned"
    )


# --- several writers --------------------------------------------------------------------


def test_two_qa_objects_on_one_folder_lose_no_update(index_copy):
    """Each QA holds its own snapshot; the second writer must start from the first's save."""
    extras = list(_extra_docs().values())
    first, second = rag.open(index_copy), rag.open(index_copy)
    errors: list[str] = []

    def add(qa, docs):
        try:
            for doc in docs:
                qa.add_documents([doc])
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [
        threading.Thread(target=add, args=(first, extras[:2])),
        threading.Thread(target=add, args=(second, extras[2:])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    final = set(rag.open(index_copy).data.documents)
    assert {d.doc_id for d in extras} <= final
    # A remove through the stale QA object sees the other's documents too.
    first.remove([extras[2].doc_id])
    assert set(rag.open(index_copy).data.documents) == final - {extras[2].doc_id}


_CHILD = """
import sys, rag
from rag.loaders import load_bytes
qa = rag.open(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()  # start together
for name in sys.argv[2:]:
    text = f"{name}: a note about the Seoul pledge.".encode()
    qa.add_documents([load_bytes(text, filename=name)])
print("done", flush=True)
"""


def test_two_processes_adding_documents_lose_none(index_copy):
    names = [[f"proc{p}-doc{i}.txt" for i in range(3)] for p in range(2)]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(index_copy), *ns],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for ns in names
    ]
    try:
        for child in children:
            assert child.stdout.readline().strip() == "ready"
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        for child in children:
            assert child.stdout.readline().strip() == "done"
            assert child.wait(timeout=120) == 0
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    final = set(rag.open(index_copy).data.documents)
    missing = [n for ns in names for n in ns if n not in final]
    assert not missing, f"lost updates: {missing}"


@pytest.mark.parametrize("bad", [["no-such-doc.txt"]])
def test_removing_an_unknown_document_changes_nothing(index_copy, bad):
    qa = rag.open(index_copy)
    before = _signature(qa.data)
    with pytest.raises(KeyError, match="no-such-doc"):
        qa.remove(bad)
    assert _signature(rag.open(index_copy).data) == before
