"""The public entry points: ``build``, ``open`` and the ``QA`` object they return.

A ``QA`` holds an immutable snapshot (index data + retriever). Updates build a
new snapshot, save it atomically, then swap the reference under a lock, so a
question being answered while a document is added sees either the old index or
the new one, never a half-built one. Writers (threads, other ``QA`` objects, other
processes) take a lock file in the index folder and start from the latest saved
version, so no update is lost; readers see another process's changes after reopening.
"""

from __future__ import annotations

import builtins
import contextlib
import fcntl
import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .answer import ExtractiveAnswerer, refusal
from .config import Settings
from .embeddings import Embedder
from .errors import IndexMismatchError, IndexNotFoundError, InvalidQuestionError
from .indexing import UpdateReport, empty_index, update_index
from .loaders import load_bytes, load_documents
from .retrieval import Mode, Retriever
from .store import IndexData, load_index, read_manifest, rebuild_hint, save_index
from .textnorm import detect_lang, normalize
from .types import Answer, Document, Hit, Lang

log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def get_embedder(name: str, cache_dir: Path, precision: str) -> Embedder:
    """One model per process: loading costs seconds and 1.4 GB."""
    return Embedder(name, cache_dir=cache_dir, precision=precision)


def _embedder_for(settings: Settings) -> Embedder:
    return get_embedder(settings.model, Path(settings.cache_dir), settings.precision)


@dataclass(frozen=True)
class _Snapshot:
    data: IndexData
    retriever: Retriever


@dataclass(frozen=True)
class _Asked:
    """A checked question and what retrieval found for it."""

    question: str
    query: str
    lang: Lang
    hits: list[Hit]
    query_vector: np.ndarray
    data: IndexData

    def llm_args(self) -> dict[str, Any]:
        return dict(question=self.question, hits=self.hits, lang=self.lang,
                    search_query=self.query, data=self.data)  # fmt: skip


class QA:
    """Question answering over one index folder. Thread-safe."""

    def __init__(self, index_dir: Path, data: IndexData, embedder: Embedder, settings: Settings):
        self.index_dir = Path(index_dir)
        self.settings = settings
        self.embedder = embedder
        self._snapshot = _Snapshot(data, Retriever(data, embedder, settings))
        self._extractive = ExtractiveAnswerer(embedder, settings)
        self._write_lock = threading.Lock()
        self.chat_model: Any = None  # a LangChain BaseChatModel for answerer="llm"; None: RAG_LLM

    # ------------------------------------------------------------ reading

    @property
    def data(self) -> IndexData:
        return self._snapshot.data

    def documents(self) -> list[Document]:
        return sorted(self._snapshot.data.documents.values(), key=lambda d: d.doc_id)

    def search(self, query: str, *, top_k: int = 5, mode: Mode = "hybrid") -> list[Hit]:
        """Return the ``top_k`` best chunks for ``query``, best first."""
        query = self._check_question(query)
        return self._snapshot.retriever.search(query, top_k=top_k, mode=mode)

    def ask(
        self,
        question: str,
        *,
        top_k: int | None = None,
        search_query: str | None = None,
        answerer: str | None = None,
    ) -> Answer:
        """Answer ``question`` from the documents, with citations, or refuse.

        Args:
            question: what the user asked, Korean or English.
            top_k: passages to read (default ``settings.top_k``).
            search_query: what to search for, when it differs from the question
                (a follow-up carries the previous turn, see ``rag.chat``).
            answerer: "extractive" or "llm" (default ``settings.answerer``).
        Raises:
            InvalidQuestionError: empty, whitespace-only or too long.
        """
        asked = self._retrieve(question, top_k=top_k, search_query=search_query)
        if isinstance(asked, Answer):
            return asked
        if (answerer or self.settings.answerer) == "llm":
            from .llm import answer_with_llm  # optional extra

            return answer_with_llm(self, **asked.llm_args())
        return self._answer_extractive(asked)

    def ask_stream(
        self,
        question: str,
        *,
        top_k: int | None = None,
        search_query: str | None = None,
        answerer: str | None = None,
    ) -> Iterator[str | Answer]:
        """Like ``ask``, but yield ``str`` deltas as the answer is written, then the Answer.

        The last item is always the ``Answer``; its ``text`` replaces the streamed text
        (generated markers are renumbered, or a failed check falls back to the
        extractive answer). Extractive answers stream in a few pieces.
        """
        asked = self._retrieve(question, top_k=top_k, search_query=search_query)
        if isinstance(asked, Answer):
            yield asked.text
            yield asked
            return
        if (answerer or self.settings.answerer) == "llm":
            from .llm import stream_with_llm  # optional extra

            yield from stream_with_llm(self, **asked.llm_args())
            return
        answer = self._answer_extractive(asked)
        yield from re.findall(r"\S.*?(?:\]\s*|$)", answer.text) or [answer.text]
        yield answer

    def _retrieve(
        self, question: str, *, top_k: int | None, search_query: str | None
    ) -> _Asked | Answer:
        """Check the question and search; an empty index is answered here (a refusal)."""
        question = self._check_question(question)
        query = self._check_question(search_query) if search_query else question
        snapshot = self._snapshot
        lang = detect_lang(question)
        if not snapshot.data.chunks:
            return refusal(question, lang=lang, hits=[], search_query=query)
        query_vector = self.embedder.encode_queries([query])[0]
        hits = snapshot.retriever.search(
            query, top_k=top_k or self.settings.top_k, query_vector=query_vector
        )
        return _Asked(question, query, lang, hits, query_vector, snapshot.data)

    def _answer_extractive(self, asked: _Asked) -> Answer:
        return self._extractive.answer(
            asked.question,
            asked.hits,
            query_vector=asked.query_vector,
            documents=asked.data.documents,
            lang=asked.lang,
            search_query=asked.query,
        )

    def as_retriever(self, *, top_k: int = 5) -> Any:
        """A LangChain ``BaseRetriever`` over this index."""
        from .integrations.langchain import RagRetriever

        return RagRetriever(qa=self, top_k=top_k)

    # ------------------------------------------------------------ writing

    def add(self, paths: Iterable[str | Path], *, progress: bool = False) -> UpdateReport:
        """Add or update the documents at ``paths`` (files or folders)."""
        return self.add_documents(load_documents(paths), progress=progress)

    def add_bytes(self, data: bytes, *, filename: str) -> UpdateReport:
        """Add an uploaded file; the name is sanitised, the bytes checked."""
        return self.add_documents([load_bytes(data, filename=filename)])

    def add_documents(self, docs: Sequence[Document], *, progress: bool = False) -> UpdateReport:
        return self._update(add=docs, progress=progress)

    def remove(self, doc_ids: Iterable[str]) -> UpdateReport:
        """Remove documents by ``doc_id``; unknown ids raise ``KeyError`` and change nothing."""
        return self._update(remove=list(doc_ids), strict_remove=True)

    def _update(
        self,
        *,
        add=(),
        remove=(),
        progress: bool = False,
        strict_remove: bool = False,
        fresh: bool = False,
    ) -> UpdateReport:
        # The folder lock serialises writers across processes (and across QA objects on one
        # folder); each starts from the latest saved version, so no writer's update is lost.
        with self._write_lock, _update_lock(self.index_dir):
            base = self.data if fresh else self._latest_saved()
            unknown = [d for d in remove if d not in base.documents] if strict_remove else []
            if unknown:
                raise KeyError(
                    f"No document(s) {unknown} in the index; known: {sorted(base.documents)}"
                )
            data, report = update_index(
                base,
                add=add,
                remove=remove,
                embedder=self.embedder,
                settings=self.settings,
                progress=progress,
            )
            if report.added or report.updated or report.removed or data.chunking != base.chunking:
                save_index(data, self.index_dir)
            if data is not self.data:
                self._snapshot = _Snapshot(data, Retriever(data, self.embedder, self.settings))
        log.info("index updated: %s", report)
        return report

    def _latest_saved(self) -> IndexData:
        """This QA's data, or the saved version if another writer changed the folder since."""
        try:
            _, manifest = read_manifest(self.index_dir)
        except IndexNotFoundError:
            return self.data
        ours = {d.doc_id: d.content_hash for d in self.data.documents.values()}
        if manifest.get("documents") == ours and manifest.get("chunking") == self.data.chunking:
            return self.data
        log.info("the index at %s was changed by another writer; reloading it", self.index_dir)
        data = load_index(self.index_dir)
        _check_model_name(data, self.settings, self.index_dir)
        _check_model(data, self.embedder, self.index_dir)
        return data

    def _check_question(self, question: str) -> str:
        if not isinstance(question, str):
            raise InvalidQuestionError(f"The question must be text, not {type(question).__name__}.")
        cleaned = "".join(
            ch for ch in normalize(question) if unicodedata.category(ch)[0] != "C" or ch in "\n\t"
        ).strip()
        if not cleaned:
            raise InvalidQuestionError(
                "The question is empty; type a question about the documents."
            )
        limit = self.settings.max_question_chars
        if len(cleaned) > limit:
            raise InvalidQuestionError(
                f"The question is {len(cleaned):,} characters long; the limit is {limit:,}. "
                "Shorten it to the question itself."
            )
        return cleaned


def open(  # noqa: A001 - the API the issue asks for: rag.open("index")
    index_dir: str | Path = "index", *, settings: Settings | None = None, **overrides: Any
) -> QA:
    """Load the index at ``index_dir``.

    Raises:
        IndexNotFoundError: nothing there; the message says how to build one.
        IndexCorruptedError: checksums or files do not match the manifest.
        IndexMismatchError: built with another model, dimension or format.
    """
    settings = (settings or Settings.from_env()).with_overrides(**overrides)
    index_dir = Path(index_dir)
    data = load_index(index_dir)
    _check_model_name(data, settings, index_dir)
    embedder = _embedder_for(settings)
    _check_model(data, embedder, index_dir)
    return QA(index_dir, data, embedder, settings)


def build(
    paths: Iterable[str | Path],
    *,
    index_dir: str | Path = "index",
    rebuild: bool = False,
    prune: bool = False,
    progress: bool = False,
    settings: Settings | None = None,
    **overrides: Any,
) -> QA:
    """Build the index at ``index_dir`` from ``paths``, or update it in place.

    Only new or changed documents are embedded. ``prune`` also removes indexed
    documents that are not among ``paths``; ``rebuild`` starts from empty.
    """
    settings = (settings or Settings.from_env()).with_overrides(**overrides)
    index_dir = Path(index_dir)
    docs = load_documents(paths)
    embedder = _embedder_for(settings)
    old = None if rebuild else _existing(index_dir, embedder, settings)
    qa = QA(index_dir, old or empty_index(embedder, settings), embedder, settings)
    removed = set(qa.data.documents) - {d.doc_id for d in docs} if prune else set()
    report = qa._update(add=docs, remove=removed, progress=progress, fresh=rebuild)
    if old is None and not (report.added or report.updated):
        save_index(qa.data, index_dir)
    return qa


def _existing(index_dir: Path, embedder: Embedder, settings: Settings) -> IndexData | None:
    try:
        data = load_index(index_dir)
    except IndexNotFoundError:
        return None
    _check_model_name(data, settings, index_dir)
    _check_model(data, embedder, index_dir)
    return data


def _check_model_name(data: IndexData, settings: Settings, index_dir: Path) -> None:
    if data.model.name != settings.model:
        raise IndexMismatchError(
            f"The index at {index_dir} was built with model {data.model.name!r}, but the "
            f"configured model is {settings.model!r}. Use RAG_MODEL={data.model.name} or "
            + rebuild_hint(index_dir)[0].lower()
            + rebuild_hint(index_dir)[1:]
        )


def _check_model(data: IndexData, embedder: Embedder, index_dir: Path) -> None:
    if data.model.dim != embedder.dim or data.model.fingerprint != embedder.info.fingerprint:
        raise IndexMismatchError(
            f"The index at {index_dir} was built with {data.model.name!r} (dimension "
            f"{data.model.dim}, fingerprint {data.model.fingerprint}); the loaded model has "
            f"dimension {embedder.dim}, fingerprint {embedder.info.fingerprint}. "
            + rebuild_hint(index_dir)
        )


@contextlib.contextmanager
def _update_lock(index_dir: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``index_dir/.update.lock`` (not ``store``'s ``.lock``,
    which ``save_index`` takes itself: a second flock on it from this process would block)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with builtins.open(index_dir / ".update.lock", "a", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


_ = builtins  # keep a reference to the real open() for readers of this module
