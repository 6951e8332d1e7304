"""One exception base for the library, with a few subclasses callers can catch.

Every message names what was wrong and how to fix it.
"""

from __future__ import annotations


class RagError(Exception):
    """Base class of every error this library raises on purpose."""


class InvalidQuestionError(RagError, ValueError):
    """The question is empty, too long or not text."""


class DocumentError(RagError):
    """A document could not be read: unsupported, binary, empty, encrypted or too large."""


class DocumentNotFoundError(RagError, KeyError):
    """A ``doc_id`` that is not in the index (``QA.remove``); nothing was changed."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class IndexNotFoundError(RagError, FileNotFoundError):
    """No index at the given path."""


class IndexCorruptedError(RagError):
    """The index on disk fails its checksums or is missing files."""


class IndexMismatchError(RagError):
    """The index was built with another model, dimension or format version."""


class ModelNotFoundError(RagError):
    """The embedding or LLM model is not in the cache and cannot be loaded."""


class ModelVerificationError(RagError):
    """A downloaded model file does not match its pinned SHA-256."""
