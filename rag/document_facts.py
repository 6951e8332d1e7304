"""Questions about a document itself: who wrote it, which outlet ran it, when it was
registered, which office issued it.

Their answers are a byline ("[일간환경연합 장민주 기자]"), a registration line ("등록
2023-02-17 17:50:59") or a press release's header ("2024.05.22 국무조정실"): short lines
that resemble no question, so ranking sentences by similarity never puts them first, and
the best sentence's similarity (a byline's is about 0.3) refuses the question. Such a
question is recognised by its wording (``asked_fact``), the line by the conventions of
Korean and English news pages (``fact_span``), and the line is quoted alone from the
document the question is about. The patterns are written from those conventions, not
fitted to any question set; the gold set is the check.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Literal

from .furniture import Spans, is_furniture
from .index_data import IndexData
from .sentence_candidates import Candidate

FactKind = Literal["reporter", "outlet", "published", "issuer"]

# Where a page's own header lines are looked for: a byline or a release's date line sits
# above or at the start of the article, and a later match belongs to another story.
HEADER_CHARS = 1500

# A question about the document names it: "the article", "이 기사", "the press release".
_ARTICLE = re.compile(
    r"\b(article|story|report|reported|piece|post|press release|news release|byline)\b"
    r"|기사|보도자료|보도한|이\s*글|해당\s*글",
    re.I,
)
# ...and asks for one of its facts. Both must match, so "이 논문의 작성자는?" and
# "BBK 의혹을 보도한 신문사는?" (a paper's author, a newspaper in the story) do not
# count as questions about the page, and "연기자는 누구인가?" never matches "기자".
_FACTS: dict[FactKind, re.Pattern[str]] = {
    "reporter": re.compile(
        r"\b(which|what) (reporter|journalist|correspondent|writer|author)\b"
        r"|\bwho (wrote|authored|penned|is the (author|writer|reporter))\b"
        r"|\b(author|byline|writer) of\b"
        r"|(?<![가-힣])기자(는|가|의|\s*이름|\s*명)"
        r"|(쓴|작성한)\s*(기자|사람|이)|누가\s*(이\s*)?(기사|글)?(를|을)?\s*(썼|작성)"
        r"|작성자|필자|글쓴이",
        re.I,
    ),
    "outlet": re.compile(
        r"\b(which|what) (news )?(outlet|newspaper|paper|publication|media|magazine|"
        r"news ?agency|news ?site|press)\b"
        r"|언론사|신문사|통신사|어느\s*(신문|매체|언론)|(어떤|어느)\s*매체",
        re.I,
    ),
    "published": re.compile(
        r"\bwhen (was|were|did)\b.*\b(registered|published|posted|written|filed|"
        r"uploaded|put online|go online|released|issued)\b"
        r"|\b(publication|registration|posting|release) (date|time)\b"
        r"|(등록|게재|발행|작성|입력|송고|배포)(된|일|날짜|시각|시간|했|되었|됐)"
        r"|(등록|게재|발행|작성|입력|송고|배포)\s*(일시|일자|날짜|시각)",
        re.I,
    ),
    "issuer": re.compile(
        r"\b(which|what) (government )?(office|ministry|agency|department|body|"
        r"organi[sz]ation|institution|authority|bureau)\b.*\b(issued|released|published|"
        r"put out|distributed|sent out)\b"
        r"|\bwho (issued|released|published|put out|distributed)\b"
        r"|(보도자료|자료)(를|을)?\s*(낸|배포한|발표한|발행한|작성한|내놓은)"
        r"|(배포|발행|발표)\s*(기관|부처|부서)",
        re.I,
    ),
}

# Which fact wins when a question matches several: "When was the press release issued?"
# asks for the date, not the office.
_ORDER: tuple[FactKind, ...] = ("published", "outlet", "reporter", "issuer")

_NAME_KO = r"[가-힣]{2,4}"
_DATE = (
    r"\d{4}\s*[-./년]\s*\d{1,2}\s*[-./월]\s*\d{1,2}\s*(?:일|\.)?"
    r"(?:\s*\(?[월화수목금토일]\)?)?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?"
)
# "[일간환경연합 장민주 기자]", "(서울=연합뉴스) 홍길동 기자"
_BRACKET_BYLINE = re.compile(rf"\[([^\[\]\n]{{1,30}}?)\s+({_NAME_KO})\s*기자\]")
_AGENCY_BYLINE = re.compile(rf"\(([^()\n=]{{1,15}})=([^()\n]{{1,20}})\)\s*({_NAME_KO})\s*기자")
# A line that is only a byline: "• 장민주 기자", "홍길동 기자 hong@example.com", "By Jane Doe"
_LINE_BYLINE = re.compile(
    rf"^[ \t•·\-–*]*(?:({_NAME_KO})\s*기자(?:\s+\S+@\S+)?"
    r"|By\s+([A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){0,3}))[ \t]*$",
    re.M,
)
_REGISTERED = re.compile(
    rf"(?:등록|입력|게재|발행|송고|작성|최초\s*등록|기사\s*입력)\s*(?:일시|일자|일|시간)?\s*[:：]?\s*{_DATE}"
    rf"|(?:Published|Posted|Registered|First published)\s*(?:on|:)?\s*{_DATE}",
    re.I,
)
# A press release's header: a line of its date and the issuing office, "2024.05.22 국무조정실".
_RELEASE_HEADER = re.compile(
    r"^[ \t]*\d{4}\.\s?\d{1,2}\.\s?\d{1,2}\.?[ \t]+([가-힣A-Za-z][가-힣A-Za-z·ㆍ ]{1,29})[ \t]*$",
    re.M,
)
_ISSUER_LABEL = re.compile(
    r"^[ \t\-•·]*(?:배포\s*기관|발행\s*기관|담당\s*부서|출처)\s*[:：][^\n]{2,40}$", re.M
)


def asked_fact(question: str) -> FactKind | None:
    """The fact about the document itself that ``question`` asks for, or None."""
    if not _ARTICLE.search(question):
        return None
    for kind in _ORDER:
        if _FACTS[kind].search(question):
            return kind
    return None


def fact_span(
    text: str, kind: FactKind, *, furniture: Spans | None = None
) -> tuple[int, int] | None:
    """Offsets in ``text`` of the line that states ``kind``, or None when the page has none.

    Only the page's first ``HEADER_CHARS`` are read (a later byline or date is another
    story's), and a line in the page furniture (``furniture``: a sidebar's) is skipped."""
    head = text[:HEADER_CHARS]
    for start, end in _spans(head, kind):
        if furniture is None or not is_furniture(furniture, start, end):
            return start, end
    return None


def fact_candidate(kind: FactKind, about: Candidate, data: IndexData) -> Candidate | None:
    """The line stating ``kind`` in the document of ``about`` (the sentence the question is
    most about), as a candidate to quote alone; None when that page states none."""
    doc = data.documents.get(about.doc_id)
    if doc is None:
        return None
    span = fact_span(doc.text, kind, furniture=data.furniture.get(doc.doc_id))
    if span is None:
        return None
    start, end = span
    line_start = doc.text.rfind("\n", 0, start) + 1
    line_end = doc.text.find("\n", end)
    line_end = len(doc.text) if line_end < 0 else line_end
    chunk_id = next(
        (c.chunk_id for c in data.chunks if c.doc_id == doc.doc_id and c.start <= start < c.end),
        about.chunk_id,
    )
    return replace(
        about, chunk_id=chunk_id, start=start, end=end, text=doc.text[start:end],
        neighbours=(), context="", furniture=False, sentence=(line_start, line_end),
    )  # fmt: skip


def _spans(text: str, kind: FactKind) -> list[tuple[int, int]]:
    if kind == "outlet":
        found = [m.span() for m in _BRACKET_BYLINE.finditer(text)]
        found += [m.span() for m in _AGENCY_BYLINE.finditer(text)]
    elif kind == "reporter":
        found = [_stripped(text, *m.span()) for m in _LINE_BYLINE.finditer(text)]
        found += [m.span() for m in _BRACKET_BYLINE.finditer(text)]
        found += [m.span() for m in _AGENCY_BYLINE.finditer(text)]
    elif kind == "published":
        found = [m.span() for m in _REGISTERED.finditer(text)]
        found += [_stripped(text, *m.span()) for m in _RELEASE_HEADER.finditer(text)]
    else:
        found = [_stripped(text, *m.span()) for m in _RELEASE_HEADER.finditer(text)]
        found += [_stripped(text, *m.span()) for m in _ISSUER_LABEL.finditer(text)]
    return sorted(found)


def _stripped(text: str, start: int, end: int) -> tuple[int, int]:
    """``start``–``end`` without the line's leading bullets and spaces."""
    while start < end and text[start] in " \t•·-–*":
        start += 1
    while end > start and text[end - 1] in " \t":
        end -= 1
    return start, end
