"""``QA``: questions, searches and updates over one index folder (``rag.open`` returns one).

A ``QA`` holds an immutable snapshot (index data + retriever). Updates build a
new snapshot, save it atomically, then swap the reference under a lock, so a
question being answered while a document is added sees either the old index or
the new one, never a half-built one. Writers (threads, other ``QA`` objects, other
processes) take a lock file in the index folder and start from the latest saved
version, so no update is lost; readers see another process's changes after reopening.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .answer import UnitAnswerer
from .atomic_files import locked
from .config import Answerer, Settings
from .embeddings import Embedder
from .errors import DocumentNotFoundError, IndexNotFoundError
from .index_model import DeferredEmbedder, check_model, check_model_name
from .indexing import UpdateReport, update_index
from .loaders import MAX_BYTES, load_bytes, load_documents
from .questions import check_question
from .refusals import refusal
from .retrieval import Mode, Retriever
from .sentence_answerer import SentenceAnswerer
from .store import IndexData, load_index, read_manifest, save_index
from .textnorm import detect_lang
from .types import Answer, Document, Hit, Lang

log = logging.getLogger(__name__)


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
                    search_query=self.query, data=self.data,
                    query_vector=self.query_vector)  # fmt: skip


def quote_pieces(text: str) -> list[str]:
    """An extractive answer's text as streamed: one piece per cited quote."""
    return re.findall(r"\S.*?(?:\]\s*|$)", text) or [text]


def extractive_answerer(embedder: Embedder, settings: Settings) -> UnitAnswerer | SentenceAnswerer:
    """The extractive answerer ``settings.extractive`` names."""
    if settings.extractive == "units":
        return UnitAnswerer(embedder, settings)
    return SentenceAnswerer(embedder, settings)


class QA:
    """Question answering over one index folder. Thread-safe."""

    def __init__(
        self,
        index_dir: Path,
        data: IndexData,
        embedder: Embedder | DeferredEmbedder,
        settings: Settings,
    ):
        self.index_dir = Path(index_dir)
        self.settings = settings
        self.embedder = embedder
        self._snapshot = _Snapshot(data, Retriever(data, embedder, settings))
        self._extractive = extractive_answerer(embedder, settings)
        self._write_lock = threading.Lock()
        self.chat_model: Any = None  # a LangChain BaseChatModel for answerer="llm"; None: RAG_LLM

    # ------------------------------------------------------------ reading

    @property
    def data(self) -> IndexData:
        return self._snapshot.data

    def documents(self) -> list[Document]:
        return sorted(self._snapshot.data.documents.values(), key=lambda d: d.doc_id)

    def search(self, query: str, *, top_k: int | None = None, mode: Mode = "hybrid") -> list[Hit]:
        """Return the ``top_k`` (default ``settings.top_k``) best chunks for ``query``."""
        query = self._check_question(query)
        top_k = self.settings.top_k if top_k is None else top_k
        return self._snapshot.retriever.search(query, top_k=top_k, mode=mode)

    def ask(
        self,
        question: str,
        *,
        top_k: int | None = None,
        search_query: str | None = None,
        answerer: Answerer | None = None,
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
        answerer: Answerer | None = None,
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
        yield from quote_pieces(answer.text)
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
            data=asked.data,
            lang=asked.lang,
            search_query=asked.query,
        )

    def as_retriever(self, *, top_k: int | None = None) -> Any:
        """A LangChain ``BaseRetriever`` over this index (``top_k``: ``settings.top_k``)."""
        from .integrations.langchain import RagRetriever

        return RagRetriever(qa=self, top_k=self.settings.top_k if top_k is None else top_k)

    # ------------------------------------------------------------ writing

    def add(self, paths: Iterable[str | Path], *, progress: bool = False) -> UpdateReport:
        """Add or update the documents at ``paths`` (files or folders)."""
        return self.add_documents(load_documents(paths), progress=progress)

    def add_bytes(self, data: bytes, *, filename: str, max_bytes: int = MAX_BYTES) -> UpdateReport:
        """Add an uploaded file; the name is sanitised, the bytes checked (``max_bytes``)."""
        return self.add_documents([load_bytes(data, filename=filename, max_bytes=max_bytes)])

    def add_documents(self, docs: Sequence[Document], *, progress: bool = False) -> UpdateReport:
        return self._update(add=docs, progress=progress)

    def remove(self, doc_ids: Iterable[str]) -> UpdateReport:
        """Remove documents by ``doc_id``; embeds nothing, so a deferred model stays unloaded.

        Raises:
            DocumentNotFoundError: an id is not in the index; nothing was removed.
        """
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
                raise DocumentNotFoundError(
                    f"No document(s) {unknown} in the index at {self.index_dir}; "
                    f"known: {sorted(base.documents)}. See them with `rag docs`."
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
        check_model_name(data.model, self.settings, self.index_dir)
        check_model(data.model, self.embedder.info, self.index_dir)
        return data

    def _check_question(self, question: str) -> str:
        return check_question(question, max_chars=self.settings.max_question_chars)


def _update_lock(index_dir: Path):
    """An exclusive ``flock`` on ``index_dir/.update.lock`` (not ``store``'s ``.lock``,
    which ``save_index`` takes itself: a second flock on it from this process would block)."""
    return locked(index_dir / ".update.lock")
