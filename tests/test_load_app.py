"""A short load test of the running app (bench/load_app.py): 4 sessions for 20 s.

The app runs in its own process on 127.0.0.1, over a private copy of index/; a fifth
session uploads and removes a document throughout. Every question must get an answer
card (an answer or a refusal): no failed call, no error notice, no traceback. The
figures for docs/reliability.md come from a longer run of ``python -m bench.load_app``.
"""

from __future__ import annotations

import pytest

pytest.importorskip("gradio_client")

from bench import load_app  # noqa: E402

SESSIONS = 4
SECONDS = 20
MAX_REQUESTS = 200


@pytest.mark.slow
def test_concurrent_sessions_all_get_answers_while_documents_change():
    result = load_app.run(sessions=SESSIONS, seconds=SECONDS, max_requests=MAX_REQUESTS)
    print(result)
    assert result.errors == 0, result.error_samples
    assert result.upload_errors == 0, result.error_samples
    assert result.requests >= SESSIONS, "fewer answers than sessions: the app is stuck"
    assert result.requests <= MAX_REQUESTS
    assert result.uploads >= 1
    assert result.refusals < result.requests  # refusals count as answers, but not all are
