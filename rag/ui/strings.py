"""Every word the app shows, in English and Korean.

``STATIC`` holds the labels Gradio translates in the browser (``I18N(key)``, chosen by
the browser's language or the app's language switch); ``DYNAMIC`` holds text the
server writes into HTML (status lines, tables, notes), picked with ``text(key, lang)``.
Keys start with ``rag_`` so they never collide with Gradio's own translation keys.
"""

from __future__ import annotations

import gradio as gr

LANGS = ("en", "ko")

STATIC = {
    "en": {
        "rag_title": "Ask the documents",
        "rag_intro": "Ask in English or 한국어. Answers quote the indexed documents; "
        "click a [n] to open the cited passage. Follow-up questions "
        "(“And which of them are Korean?”) use the previous question.",
        "rag_conversation": "Conversation",
        "rag_chat_placeholder": "Ask a question about the documents, or pick an example below.",
        "rag_question_placeholder": "Ask about the documents — English or 한국어",
        "rag_ask": "Ask",
        "rag_new_chat": "New chat",
        "rag_answerer": "Answerer",
        "rag_extractive": "Extractive (quotes)",
        "rag_generated": "Quotes + translation (local LLM, checked)",
        "rag_llm_off": "Answers quote the documents; generated answers are off:",
        "rag_retrieved": "Retrieved passages",
        "rag_documents": "Documents",
        "rag_upload": "Upload files, up to this size each:",
        "rag_url_label": "Add a web page by URL",
        "rag_url_placeholder": "https://… (an HTML page)",
        "rag_add_url": "Add page",
        "rag_remove_label": "Remove a document",
        "rag_remove": "Remove",
        "rag_example_0": "Which companies signed the pledge?",
        "rag_example_1": "In which city was the REAIM summit held?",
        "rag_example_2": "Which Korean companies joined the Seoul AI Business Pledge?",
        "rag_example_3": "Who attended the AI Global Forum?",
    },
    "ko": {
        "rag_title": "문서에 묻기",
        "rag_intro": "한국어나 English로 물어보세요. 답은 색인된 문서를 그대로 인용합니다. "
        "[n]을 누르면 인용한 구절이 열립니다. 이어지는 질문"
        "(“그중 한국 기업은?”)은 앞 질문을 이어받습니다.",
        "rag_conversation": "대화",
        "rag_chat_placeholder": "문서에 대해 질문하거나 아래 예시를 고르세요.",
        "rag_question_placeholder": "문서에 대해 물어보세요 — 한국어 또는 English",
        "rag_ask": "질문하기",
        "rag_new_chat": "새 대화",
        "rag_answerer": "답변 방식",
        "rag_extractive": "인용 (문서 문장 그대로)",
        "rag_generated": "인용 + 번역 (로컬 LLM, 검증)",
        "rag_llm_off": "답은 문서를 인용합니다. 생성 답변은 꺼져 있습니다:",
        "rag_retrieved": "검색된 구절",
        "rag_documents": "문서",
        "rag_upload": "파일 올리기, 파일당 최대 크기:",
        "rag_url_label": "URL로 웹 페이지 추가",
        "rag_url_placeholder": "https://… 로 시작하는 주소",
        "rag_add_url": "페이지 추가",
        "rag_remove_label": "문서 삭제",
        "rag_remove": "삭제",
        "rag_example_0": "서약에 서명한 기업은 어디인가요?",
        "rag_example_1": "REAIM 회의는 어느 도시에서 개최되었나요?",
        "rag_example_2": "서울 AI 기업 서약에 참여한 국내 기업은?",
        "rag_example_3": "AI 글로벌 포럼에 참석한 사람은 누구인가요?",
    },
}
N_EXAMPLES = 4

DYNAMIC = {
    "en": {
        "sources": "Sources",
        "extractive": "extractive",
        "generated": "generated",
        "refusal_hint": "Nothing in the indexed documents answers this. "
        "Try other words, or upload a document that covers it.",
        "chars": "chars",
        "closest": "Closest passages (not an answer)",
        "passage": "Open the cited passage",
        "searching": "🔎 Searching for: {query}",
        "searched": "Searched for:",
        "follow_up": "Follow-up ({reason}): searched together with the earlier question",
        "passage_col": "Passage",
        "fused_title": "reciprocal-rank fusion of dense and BM25",
        "dense_title": "cosine similarity",
        "cited": "cited",
        "no_passages": "No passages (the index is empty).",
        "doc_cols": ("Title", "Date", "doc_id", "Chunks", "Source"),
        "no_docs": "No documents yet — upload some.",
        "failed": "Something went wrong while answering; the server log has the details.",
        "could_not_answer": "Could not answer",
        "indexing": "Indexing {name}",
        "done": "Done",
        "too_big": "{name}: {size:.1f} MB is over the {limit:g} MB limit.",
        "bug": "{name}: could not be indexed (a bug; the server log has the details).",
        "added": "{name}: added as {where}.",
        "updated": "{name}: updated as {where}.",
        "unchanged": "{name}: unchanged as {where}.",
        "chunks": "{n} chunk|{n} chunks",
        "choose_first": "Choose a document to remove first.",
        "not_a_url": "{url}: not a web address; enter one that starts with http:// or https://.",
        "removed": "Removed {doc_id}.",
        "not_in_index": "{doc_id} is not in the index (already removed?).",
        "cannot_remove": "Could not remove {doc_id}: {error}",
        "hint_install": "The quotes are in Korean. For an English rendering next to them, "
        "turn on the local LLM: pip install -e '.[llm]', then rag models fetch --llm, "
        "then start the app with RAG_ANSWERER=llm (README, “Generated answers”).",
        "hint_choose": "The quotes are in Korean. Choose “Quotes + translation” under "
        "Answerer for an English rendering next to them.",
        "rendering_label": "Machine rendering of {refs} (local LLM, checked against the "
        "quotes; the quote is the answer)",
        "rendering_pending": "Machine rendering of the quote, being written…",
    },
    "ko": {
        "sources": "출처",
        "extractive": "인용",
        "generated": "생성",
        "refusal_hint": "색인된 문서에 답이 없습니다. "
        "다른 표현으로 묻거나 관련 문서를 올려 보세요.",
        "chars": "글자",
        "closest": "가장 가까운 구절 (답이 아님)",
        "passage": "인용 구절 열기",
        "searching": "🔎 검색 중: {query}",
        "searched": "검색어:",
        "follow_up": "이어지는 질문({reason}): 앞 질문과 함께 검색했습니다",
        "passage_col": "구절",
        "fused_title": "밀집 검색과 BM25의 순위 융합",
        "dense_title": "코사인 유사도",
        "cited": "인용됨",
        "no_passages": "구절이 없습니다 (색인이 비어 있음).",
        "doc_cols": ("제목", "날짜", "doc_id", "청크", "출처"),
        "no_docs": "아직 문서가 없습니다 — 올려 주세요.",
        "failed": "답하는 중에 문제가 생겼습니다. 자세한 내용은 서버 로그에 있습니다.",
        "could_not_answer": "답할 수 없습니다",
        "indexing": "{name} 색인 중",
        "done": "완료",
        "too_big": "{name}: {size:.1f} MB로 한도 {limit:g} MB를 넘습니다.",
        "bug": "{name}: 색인하지 못했습니다 (버그입니다. 자세한 내용은 서버 로그에 있습니다).",
        "added": "{name}: {where}(으)로 추가했습니다.",
        "updated": "{name}: {where}(으)로 갱신했습니다.",
        "unchanged": "{name}: 바뀐 것이 없습니다 ({where}).",
        "chunks": "청크 {n}개|청크 {n}개",
        "choose_first": "먼저 삭제할 문서를 고르세요.",
        "not_a_url": "{url}: 웹 주소가 아닙니다. http:// 또는 https://로 시작하는 주소를 넣으세요.",
        "removed": "{doc_id}을(를) 삭제했습니다.",
        "not_in_index": "{doc_id}은(는) 색인에 없습니다 (이미 삭제됨?).",
        "cannot_remove": "{doc_id}을(를) 삭제하지 못했습니다: {error}",
        "hint_install": "인용문이 한국어입니다. 번역을 함께 보려면 로컬 LLM을 켜세요: "
        "pip install -e '.[llm]', rag models fetch --llm, 그리고 RAG_ANSWERER=llm으로 "
        "앱을 시작합니다 (README, “Generated answers”).",
        "hint_choose": "인용문이 한국어입니다. "
        "답변 방식에서 “인용 + 번역”을 고르면 번역된 답을 볼 수 있습니다.",
        "rendering_label": "{refs}을(를) 로컬 LLM이 옮긴 글 (인용문과 대조해 검증함; "
        "답의 근거는 인용문입니다)",
        "rendering_pending": "인용문을 옮기는 중…",
    },
}

I18N = gr.I18n(**STATIC)


def lang_or_default(lang: str | None) -> str:
    """``lang`` if the app speaks it, else English."""
    return lang if lang in LANGS else "en"


def text(key: str, lang: str | None, **values) -> str:
    """The server-side text ``key`` in ``lang`` (English when unknown), formatted."""
    template = DYNAMIC[lang_or_default(lang)][key]
    return template.format(**values) if values else template


def plural(key: str, n: int, lang: str | None) -> str:
    """``"one|many"`` templates, e.g. ``plural("chunks", 2, "en") == "2 chunks"``."""
    one, many = text(key, lang).split("|")
    return (one if n == 1 else many).format(n=n)


def example(i: int, lang: str | None) -> str:
    """The ``i``-th example question as shown in ``lang``."""
    return STATIC[lang_or_default(lang)][f"rag_example_{i}"]
