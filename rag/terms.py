"""Words for keyword search: Kiwi morphemes for Korean, lower-cased words otherwise.

Only content morphemes count (nouns, verb and adjective stems, roots, foreign
words, numbers, hanja), so particles and endings do not dilute BM25.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .sentences import kiwi, kiwi_lock

_CONTENT_TAGS = ("NNG", "NNP", "NR", "VV", "VA", "XR", "SL", "SN", "SH", "MAG")
_STOP_EN = frozenset(
    "a an and are as at be by did do does for from had has have how in is it its of on or "
    "that the their them these they this to was were what when where which who whom whose why "
    "with".split()
)
_NUMBER_SEP = re.compile(r"(?<=\d)[,.](?=\d)")


def terms(text: str) -> list[str]:
    """Return the searchable terms of ``text`` in order (with repeats)."""
    return list(_cached_terms(text))


def clear_terms_cache() -> None:
    """Forget the cached terms (for timing runs that must start cold)."""
    _cached_terms.cache_clear()


@lru_cache(maxsize=4096)
def _cached_terms(text: str) -> tuple[str, ...]:
    """Kiwi costs milliseconds a sentence, and the answerers read the same candidate
    sentences for every question about a passage, several times per question."""
    if not text.strip():
        return ()
    with kiwi_lock:
        tokens = kiwi().tokenize(text)
    out: list[str] = []
    for token in tokens:
        if not token.tag.startswith(_CONTENT_TAGS):
            continue
        form = token.form.lower()
        if token.tag == "SN":
            form = _NUMBER_SEP.sub("", form)
        if form in _STOP_EN or not form.strip():
            continue
        out.append(form)
    return tuple(out)


def terms_batch(texts: list[str]) -> list[list[str]]:
    return [terms(t) for t in texts]
