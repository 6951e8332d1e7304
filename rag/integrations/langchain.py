"""``qa.as_retriever()``: the index as a LangChain ``BaseRetriever``."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict


class RagRetriever(BaseRetriever):
    """Returns LangChain Documents with the chunk's id, offsets, title and scores."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    qa: Any
    top_k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        docs = self.qa.data.documents
        out = []
        for hit in self.qa.search(query, top_k=self.top_k):
            chunk = hit.chunk
            doc = docs.get(chunk.doc_id)
            out.append(
                LCDocument(
                    page_content=chunk.text,
                    metadata={
                        "doc_id": chunk.doc_id,
                        "chunk_id": chunk.chunk_id,
                        "start": chunk.start,
                        "end": chunk.end,
                        "title": chunk.title,
                        "date": doc.date if doc else "",
                        "source": doc.source if doc else "",
                        "score": hit.score,
                        "dense_score": hit.dense_score,
                        "bm25_score": hit.bm25_score,
                    },
                )
            )
        return out
