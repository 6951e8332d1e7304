"""When is a Latin name the same as a Hangul one? Consonant keys and exonyms.

Korean writes foreign names by sound (외래어 표기법), and the sounds it keeps are
mostly consonants: Samsung/삼성, Hoekstra/훅스트라, Microsoft/마이크로소프트. Both
scripts are reduced to one small consonant alphabet (k t p s j h m n N l; vowels,
w and y dropped; English r kept only before a vowel, as Korean drops coda r), and
two names match when their keys are equal. Keys are coarse on purpose; callers
only compare them with nouns of the cited passage, and require longer keys for
partial matches. Country names are translated, not transliterated, so they come
from a small table of exonyms instead (Korea/한국, Netherlands/네덜란드).
"""

from __future__ import annotations

import re
from functools import lru_cache

# Hangul syllable = 0xAC00 + (initial * 21 + vowel) * 28 + final.
_INITIAL = ["k", "k", "n", "t", "t", "l", "m", "p", "p", "s", "s", "", "j", "j", "j", "k", "t",
            "p", "h"]  # fmt: skip
# Finals: none ㄱ ㄲ ㄳ ㄴ ㄵ ㄶ ㄷ ㄹ ㄺ ㄻ ㄼ ㄽ ㄾ ㄿ ㅀ ㅁ ㅂ ㅄ ㅅ ㅆ ㅇ ㅈ ㅊ ㅋ ㅌ ㅍ ㅎ.
# A final ㅅ is how loanwords write a coda t (로봇 robot), hence "t".
_FINAL = ["", "k", "k", "ks", "n", "nj", "n", "t", "l", "lk", "lm", "lp", "ls", "lt", "lp",
          "l", "m", "p", "ps", "t", "t", "N", "t", "t", "k", "t", "p", "t"]  # fmt: skip
_VOWELS = set("aeiouy")
_ENGLISH_RULES = [  # applied in order to a lower-case word
    (re.compile(r"ng$"), "N"),
    (re.compile(r"n(?=[gk])"), "N"),  # Singapore 싱가포르, bank 뱅크
    (re.compile(r"ph"), "p"),
    (re.compile(r"ck"), "k"),
    (re.compile(r"[cs]h"), lambda m: "j" if m.group() == "ch" else "s"),
    (re.compile(r"th"), "t"),
    (re.compile(r"x"), "ks"),
    (re.compile(r"qu?"), "k"),
    (re.compile(r"c(?=[eiy])"), "s"),
    (re.compile(r"r(?![aeiouy])"), ""),  # Naver 네이버: no coda r
    (re.compile(r"(?<!^)h"), ""),  # only a word-initial h is written (Hoekstra 훅스트라)
    (re.compile(r"([b-df-hj-np-tv-z])\1"), r"\1"),  # doubled letters are one sound
]
_LETTER = str.maketrans({"c": "k", "g": "k", "d": "t", "b": "p", "v": "p", "f": "p",
                         "z": "j", "r": "l", "w": None, "y": None, "a": None, "e": None,
                         "i": None, "o": None, "u": None})  # fmt: skip

# Exonyms: English name or demonym -> the Korean names a document may use, including the
# one-syllable abbreviations Korean press releases put in parentheses: (영) 장관 = British.
EXONYMS: dict[str, tuple[str, ...]] = {
    "korea": ("한국", "대한민국", "우리나라", "국내"),
    "south korea": ("한국", "대한민국", "우리나라"),
    "republic of korea": ("대한민국",),
    "korean": ("한국", "국내", "우리"),
    "netherlands": ("네덜란드",),
    "dutch": ("네덜란드",),
    "united states": ("미국", "(미)"),
    "us": ("미국",),
    "usa": ("미국",),
    "america": ("미국",),
    "american": ("미국", "(미)"),
    "japan": ("일본", "(일)"),
    "japanese": ("일본", "(일)"),
    "china": ("중국", "(중)"),
    "chinese": ("중국", "(중)"),
    "united kingdom": ("영국", "(영)"),
    "uk": ("영국", "(영)"),
    "britain": ("영국", "(영)"),
    "british": ("영국", "(영)"),
    "france": ("프랑스", "(프)", "(불)"),
    "french": ("프랑스", "(프)", "(불)"),
    "germany": ("독일", "(독)"),
    "german": ("독일", "(독)"),
    "saudi arabia": ("사우디아라비아", "사우디"),
    "saudi": ("사우디",),
    "philippines": ("필리핀",),
    "indonesia": ("인도네시아",),
    "india": ("인도",),
    "canada": ("캐나다",),
    "australia": ("호주",),
    "singapore": ("싱가포르",),
    "hague": ("헤이그",),
    "the hague": ("헤이그",),
    "asean": ("아세안",),
    "un": ("유엔", "국제연합"),
    "united nations": ("유엔", "국제연합"),
    "eu": ("유럽연합",),
    "european union": ("유럽연합",),
    "foreign": ("국외", "해외"),
    "domestic": ("국내",),
}


def is_hangul_syllable(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3"


def hangul_key(text: str) -> str:
    """Consonant key of the Hangul syllables in ``text`` (other characters ignored)."""
    out = []
    for ch in text:
        if not is_hangul_syllable(ch):
            continue
        code = ord(ch) - 0xAC00
        out.append(_INITIAL[code // 588] + _FINAL[code % 28])
    return re.sub(r"l+", "l", "".join(out))  # 텔레콤: ㄹㄹ writes one English l


@lru_cache(maxsize=4096)
def latin_key(word: str) -> str:
    """Consonant key of a Latin word or name (``"Duck-soo"`` -> ``"tks"``)."""
    parts = re.findall(r"[a-z]+", word.lower())
    out = []
    for part in parts:
        for pattern, repl in _ENGLISH_RULES:
            part = pattern.sub(repl, part)
        out.append(part.translate(_LETTER))
    return re.sub(r"l+", "l", "".join(out))


def latin_keys(words: tuple[str, ...]) -> set[str]:
    """Keys of a name; "ch" is also tried as ㅅ (Michelle 미셸), as it is in French names."""
    keys = {"".join(latin_key(w) for w in words)}
    if any("ch" in w.lower() for w in words):
        keys.add("".join(latin_key(re.sub("(?i)ch", "sh", w)) for w in words))
    return keys


def exonyms(name: str) -> tuple[str, ...]:
    """Korean names for an English country, organisation or demonym (folded input)."""
    return EXONYMS.get(name.strip().lower().removeprefix("the ").strip(), ()) or EXONYMS.get(
        name.strip().lower(), ()
    )
