"""Searches on a Milvus store while another thread copies it (the start of an update).

Copying closes the store's client, so without a guard a question asked at that moment
failed with "should create connection first" (seen in the concurrency test on Milvus).
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from rag.milvus_db import ClientGuard


def _started(target) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_a_copy_waits_for_the_readers_and_holds_new_ones_off():
    guard, events = ClientGuard(), []
    reading, release = threading.Event(), threading.Event()

    def reader():
        with guard.reading():
            reading.set()
            release.wait(5)
            events.append("first reader done")

    def copier():
        with guard.closed():
            events.append("copy")
            time.sleep(0.2)
            events.append("copy done")

    def late_reader():
        with guard.reading():
            events.append("late reader")

    first = _started(reader)
    assert reading.wait(5)
    copy = _started(copier)
    time.sleep(0.2)
    assert events == []  # the copy waits for the reader already inside
    release.set()
    while "copy" not in events:
        time.sleep(0.01)
    late = _started(late_reader)
    for thread in (first, copy, late):
        thread.join(5)
    assert events == ["first reader done", "copy", "copy done", "late reader"]


def test_a_thread_already_reading_reads_again_while_a_copy_waits():
    """hybrid_search calls search: the inner read must not wait for a waiting copy."""
    guard, inner_done = ClientGuard(), threading.Event()
    outer_in, copy_waiting = threading.Event(), threading.Event()

    def reader():
        with guard.reading():
            outer_in.set()
            copy_waiting.wait(5)
            time.sleep(0.1)  # the copier is now blocked in closed()
            with guard.reading():
                inner_done.set()

    def copier():
        copy_waiting.set()
        with guard.closed():
            pass

    first = _started(reader)
    assert outer_in.wait(5)
    copy = _started(copier)
    first.join(5)
    copy.join(5)
    assert inner_done.is_set() and not first.is_alive() and not copy.is_alive()


def test_searches_keep_answering_while_the_store_is_copied():
    pytest.importorskip("pymilvus", reason="the Milvus tests need: pip install -e '.[milvus]'")
    pytest.importorskip("milvus_lite", reason="the Milvus tests need: pip install -e '.[milvus]'")
    from rag.milvus_store import MilvusStore

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((500, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store = MilvusStore.build(vectors)
    errors, searches, stop = [], [], threading.Event()

    def reader():
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                _, rows = store.search(vectors[:4], 5)
                searches.append(bool((rows[:, 0] == np.arange(4)).all()))
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(f"{type(exc).__name__}: {exc}")
                return

    readers = [_started(reader) for _ in range(2)]
    try:
        for _ in range(3):
            store.copy().close()
    finally:
        stop.set()
        for thread in readers:
            thread.join(60)
        store.close()
    assert errors == []
    assert searches and all(searches)
