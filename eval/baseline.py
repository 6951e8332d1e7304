"""The baseline most LangChain tutorials build, reproduced faithfully.

``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)``,
``HuggingFaceEmbeddings`` with the same model and normalised vectors but no
query/document prompts (tutorials do not set them), and LangChain's ``FAISS``
store queried with ``similarity_search_with_score``. Passages go in as
published, without the product's normalisation. Only the embedding step is
wrapped, to read and fill the disk cache; the vectors are the ones
``HuggingFaceEmbeddings`` returns.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.embeddings import Embeddings

from .bench_data import Passage, Question
from .embcache import EmbeddingCache

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200


class CachedHuggingFaceEmbeddings(Embeddings):
    """``HuggingFaceEmbeddings`` behind the cache; the model loads only on a cache miss."""

    def __init__(self, model_path: str, cache: EmbeddingCache):
        self.model_path = model_path
        self.cache = cache
        self._inner = None

    def _model(self):
        if self._inner is None:
            from langchain_huggingface import HuggingFaceEmbeddings

            self._inner = HuggingFaceEmbeddings(
                model_name=self.model_path, encode_kwargs={"normalize_embeddings": True}
            )
        return self._inner

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = self.cache.get_or_compute(
            list(texts), lambda b: self._model().embed_documents(b), desc="baseline embedding"
        )
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        # HuggingFaceEmbeddings encodes queries exactly like documents when
        # query_encode_kwargs is empty, so both share one cache.
        vectors = self.cache.get_or_compute(
            [text], lambda b: [self._model().embed_query(t) for t in b], progress=False
        )
        return vectors[0].tolist()


def build_store(passages: Sequence[Passage], embeddings: Embeddings):
    from langchain_community.vectorstores import FAISS
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    docs = [Document(page_content=p.text, metadata={"doc_id": p.doc_id}) for p in passages]
    chunks = splitter.split_documents(docs)
    return FAISS.from_documents(chunks, embeddings), len(chunks)


def rankings(
    passages: Sequence[Passage],
    questions: Sequence[Question],
    *,
    model_path: str,
    cache: EmbeddingCache,
    k: int = 50,
    progress: bool = True,
) -> tuple[list[list[str]], dict]:
    """Per question, the doc_ids of the top ``k`` chunks, best first; plus build facts."""
    from tqdm.auto import tqdm

    embeddings = CachedHuggingFaceEmbeddings(model_path, cache)
    store, n_chunks = build_store(passages, embeddings)
    # Warm the cache in one batch; the tutorial's per-query calls then read it.
    embeddings.embed_documents([q.question for q in questions])
    out = []
    for q in tqdm(questions, desc="baseline search", disable=not progress):
        hits = store.similarity_search_with_score(q.question, k=k)
        out.append([doc.metadata["doc_id"] for doc, _distance in hits])
    return out, {"chunks": n_chunks, "chunk_size": CHUNK_SIZE, "chunk_overlap": CHUNK_OVERLAP}
