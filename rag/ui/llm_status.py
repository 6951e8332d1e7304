"""Whether the generated-answer mode can be offered, and if not, why (shown in the UI)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def llm_status() -> tuple[bool, str]:
    """(available, why not): the generated-answer mode needs ``rag.llm`` and its model."""
    try:
        from .. import llm
    except ImportError:
        return False, "the optional local LLM is not installed (`make llm`)"
    except Exception as exc:  # a broken optional extra must not stop the app
        log.warning("rag.llm failed to import: %s", exc)
        return False, f"the local LLM failed to load ({type(exc).__name__})"
    if not hasattr(llm, "answer_with_llm"):  # what QA.ask(answerer="llm") calls
        return False, "the local LLM answerer is not installed (`make llm`)"
    check = getattr(llm, "is_available", None)
    if check is None:
        return True, ""
    try:
        result = check()
    except Exception as exc:
        return False, f"the local LLM is unavailable ({exc})"
    if result:
        return True, ""
    return False, _why_unavailable(llm)


def _why_unavailable(llm) -> str:
    reason = getattr(llm, "unavailable_reason", None)
    why = ""
    if reason is not None:
        from ..config import Settings

        why = reason(Settings.from_env()) or ""
    return why or "the local LLM or its model is missing (`make llm`)"
