"""``[n]`` citation markers in generated text: find, parse and strip them.

Models write markers in many shapes (``[1, 2]``, ``[1-3]``, ``【1】``, ``[문서 3]``);
all of them mean passage numbers. List bullets are stripped with them before a
sentence's facts are read.
"""

from __future__ import annotations

import re

# [1], [1, 2], [1-3], [1][2], 【1】, [Passage 2], [문서 3]
MARKER = re.compile(
    r"[\[【［]\s*(?:(?:passages?|sources?|documents?|docs?|문서|자료|출처)\s*)?"
    r"(\d{1,3}(?:\s*(?:,|、|-|–|~)\s*\d{1,3})*)\s*[\]】］]",
    re.IGNORECASE,
)
LIST_ITEM = re.compile(r"^\s*(?:[-*•·‣▪]|\d{1,2}[.)])\s+")
LIST_ITEMS = re.compile(LIST_ITEM.pattern, re.MULTILINE)


def parse_markers(text: str) -> list[int]:
    """Every passage number cited in ``text``, in order, ranges expanded."""
    out: list[int] = []
    for match in MARKER.finditer(text):
        for part in re.split(r"\s*(?:,|、)\s*", match.group(1)):
            ends = re.split(r"\s*[-–~]\s*", part)
            lo, hi = int(ends[0]), int(ends[-1])
            out.extend(range(lo, hi + 1) if 0 <= hi - lo <= 20 else (lo, hi))
    return out


def strip_markers(text: str) -> str:
    text = re.sub(r"[ \t]+([.,;:!?。])", r"\1", MARKER.sub("", text))
    return re.sub(r"[ \t]{2,}", " ", text).strip()
