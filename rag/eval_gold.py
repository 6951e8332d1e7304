"""Gold questions: the shared JSONL format, read strictly (``rag eval --gold FILE``).

Errors name the file, the line and the problem, so a hand-edited gold file is
fixed in one go.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import RagError
from .textnorm import fold
from .types import Lang

LANGS: tuple[Lang, ...] = ("en", "ko")
_FIELDS = ("id", "question", "lang", "answerable", "answers", "evidence", "source")


@dataclass(frozen=True)
class GoldItem:
    """One gold question. ``answers`` are alias groups; ``evidence`` source substrings."""

    id: str
    question: str
    lang: Lang
    answerable: bool
    answers: tuple[tuple[str, ...], ...]
    evidence: tuple[str, ...]
    source: str | None


def load_gold(path: str | Path) -> list[GoldItem]:
    """Read a gold JSONL file; raises RagError naming the line and the problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8").lstrip("\ufeff")
    except (OSError, UnicodeDecodeError) as exc:
        raise RagError(f"Cannot read gold file {str(path)!r}: {exc}") from exc
    items: list[GoldItem] = []
    seen: set[str] = set()
    # Split on "\n" only: str.splitlines() would also break at U+2028 inside JSON strings.
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            item = _parse_item(line)
        except (ValueError, TypeError) as exc:
            raise RagError(f"{path}:{lineno}: {exc}") from exc
        if item.id in seen:
            raise RagError(f"{path}:{lineno}: duplicate id {item.id!r}; ids must be unique")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise RagError(f"Gold file {str(path)!r} has no questions; expected one JSON object a line")
    return items


def _parse_item(line: str) -> GoldItem:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"expected a JSON object, got {type(raw).__name__}")
    missing = [f for f in _FIELDS if f not in raw]
    if missing:
        raise ValueError(f"missing field(s) {missing}; every line needs {list(_FIELDS)}")
    for key in ("id", "question"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            raise ValueError(f"{key!r} must be a non-empty string, got {raw[key]!r}")
    if raw["lang"] not in LANGS:
        raise ValueError(f"'lang' is {raw['lang']!r}; use one of {list(LANGS)}")
    if not isinstance(raw["answerable"], bool):
        raise ValueError(f"'answerable' must be true or false, got {raw['answerable']!r}")
    answers = _alias_groups(raw["answers"])
    evidence = _strings(raw["evidence"], "evidence")
    source = raw["source"]
    if source is not None and (not isinstance(source, str) or not source.strip()):
        raise ValueError(f"'source' must be a file name or null, got {source!r}")
    if raw["answerable"] and (not answers or source is None):
        raise ValueError("answerable question needs non-empty 'answers' and a 'source'")
    if not raw["answerable"] and (answers or source is not None):
        raise ValueError("unanswerable question must have 'answers': [] and 'source': null")
    return GoldItem(
        raw["id"], raw["question"], raw["lang"], raw["answerable"], answers, evidence, source
    )


def _alias_groups(value: Any) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list):
        raise ValueError(f"'answers' must be a list of alias lists, got {value!r}")
    groups = []
    for group in value:
        if not isinstance(group, list) or not group:
            raise ValueError(f"each alias group must be a non-empty list, got {group!r}")
        groups.append(_strings(group, "answers"))
    return tuple(groups)


def _strings(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(f"{key!r} must be a list of strings, got {value!r}")
    for s in value:
        if not isinstance(s, str) or not fold(s):
            raise ValueError(f"{key!r} holds {s!r}; every entry must be a non-blank string")
    return tuple(value)
