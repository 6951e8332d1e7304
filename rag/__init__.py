"""Multilingual document question answering with exact, cited passages.

import rag
qa = rag.build(["data/corpus"], index_dir="index")
answer = qa.ask("Which companies signed the pledge?")
print(answer.text, answer.citations)
"""

from .api import QA, build, open
from .config import Settings
from .errors import (
    DocumentError,
    DocumentNotFoundError,
    IndexCorruptedError,
    IndexMismatchError,
    IndexNotFoundError,
    InvalidQuestionError,
    ModelNotFoundError,
    ModelVerificationError,
    RagError,
)
from .types import Answer, Chunk, Citation, Claim, Document, Hit, Rendering, RenderingDelta

__all__ = [
    "QA",
    "Answer",
    "Chunk",
    "Citation",
    "Claim",
    "Document",
    "DocumentError",
    "DocumentNotFoundError",
    "Hit",
    "IndexCorruptedError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "InvalidQuestionError",
    "ModelNotFoundError",
    "ModelVerificationError",
    "RagError",
    "Rendering",
    "RenderingDelta",
    "Settings",
    "build",
    "open",
]
