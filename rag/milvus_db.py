"""A private working copy of a Milvus Lite database, served in this process.

Opening a Milvus Lite database writes to it (a lock file, the WAL, compaction), so the
product never opens a saved version in place: each store works on a copy in a temporary
folder, deleted when the store is closed or collected. Copying out (a save, or the start of
an update) closes the client so the files are quiescent, then reopens it; searches on other
threads wait for that instead of meeting a closed client (``ClientGuard``). Milvus Lite
serves pymilvus over gRPC on 127.0.0.1.
"""

from __future__ import annotations

import functools
import importlib
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from .errors import RagError

DB = "milvus.db"
EXTRA = "pip install -e '.[milvus]'"


def import_milvus() -> tuple[Any, Any]:
    """``(pymilvus, milvus_lite.server_manager)``, or the error naming the extra."""
    try:
        pymilvus = importlib.import_module("pymilvus")
        servers = importlib.import_module("milvus_lite.server_manager")
    except ImportError as exc:
        raise RagError(
            "The Milvus index (index kind 'milvus', RAG_INDEX_KIND=milvus) needs the optional "
            f"'milvus' extra (pymilvus + milvus-lite): {EXTRA} (or pip install 'rag[milvus]'); "
            "or use the default FAISS index (unset RAG_INDEX_KIND and run rag index --rebuild)."
        ) from exc
    return pymilvus, servers.server_manager_instance


class ClientGuard:
    """Many readers of the client at once, or one copier with the client closed.

    An update copies the live database while other threads answer questions from it; the
    copy must close the client, so readers wait for the copy (seconds at 100k chunks)
    rather than fail with "should create connection first". A thread already reading may
    read again (a hybrid search calls ``search``) without waiting.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._closing = False
        self._mine = threading.local()

    @contextmanager
    def reading(self) -> Iterator[None]:
        depth = getattr(self._mine, "depth", 0)
        if not depth:
            with self._cond:
                self._cond.wait_for(lambda: not self._closing)
                self._readers += 1
        self._mine.depth = depth + 1
        try:
            yield
        finally:
            self._mine.depth = depth
            if not depth:
                with self._cond:
                    self._readers -= 1
                    self._cond.notify_all()

    @contextmanager
    def closed(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._closing)  # one copier at a time
            self._closing = True
            self._cond.wait_for(lambda: self._readers == 0)
        try:
            yield
        finally:
            with self._cond:
                self._closing = False
                self._cond.notify_all()


Method = TypeVar("Method", bound=Callable[..., Any])


def reading(method: Method) -> Method:
    """Run a ``WorkingCopy`` method that uses the client as a reader of its guard."""

    @functools.wraps(method)
    def guarded(self: WorkingCopy, *args: Any, **kwargs: Any) -> Any:
        with self.guard.reading():
            return method(self, *args, **kwargs)

    return guarded  # type: ignore[return-value]


def new_workdir(source: Path | None = None) -> Path:
    """A temporary folder for a working copy, holding a copy of ``source`` when given."""
    workdir = Path(tempfile.mkdtemp(prefix="rag-milvus-"))
    if source is not None:
        shutil.copytree(source, workdir / DB)
        (workdir / DB / "LOCK").unlink(missing_ok=True)
    return workdir


class WorkingCopy:
    """``client`` on ``workdir/milvus.db``; subclasses say which collections to load."""

    def __init__(self, workdir: Path):
        self._pymilvus, self._servers = import_milvus()
        self.workdir = Path(workdir)
        self.path = str(self.workdir / DB)
        self.guard = ClientGuard()
        self.client = self._pymilvus.MilvusClient(uri=self.path)
        self._finalizer = weakref.finalize(
            self, _shutdown, self.client, self._servers, self.path, self.workdir
        )

    def load_collections(self) -> None:
        """Load what searches need after (re)opening; nothing here."""

    def copy_to(self, target: Path) -> None:
        """Copy the database to ``target`` with the client closed; a copy that fails (a
        full disk) still reopens it, so the store keeps answering."""
        with self.guard.closed():
            self.close_client()
            try:
                shutil.copytree(self.path, target)
            finally:
                self._reopen()

    def _reopen(self) -> None:
        """A new client on the working copy (after ``close_client``), collections loaded."""
        self.client = self._pymilvus.MilvusClient(uri=self.path)
        self.load_collections()
        self._finalizer.detach()
        self._finalizer = weakref.finalize(
            self, _shutdown, self.client, self._servers, self.path, self.workdir
        )

    def close_client(self) -> None:
        """Close the client and stop this database's in-process server (files quiescent)."""
        self.client.close()
        self._servers.release_server(self.path)

    def close(self) -> None:
        """Close everything and delete the working copy; the store is unusable after."""
        self._finalizer()


def _shutdown(client: Any, servers: Any, path: str, workdir: Path) -> None:
    try:
        client.close()
        servers.release_server(path)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
