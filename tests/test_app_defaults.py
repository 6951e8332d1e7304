"""Safe defaults of the app: loopback only, login only when both variables are set."""

from __future__ import annotations

import pytest

import app
import rag


def test_binds_to_loopback_by_default():
    assert app._parser().parse_args([]).host == "127.0.0.1"


def test_login_needs_both_user_and_password():
    assert app.auth_from_env({}) is None
    assert app.auth_from_env({"RAG_APP_USER": "a", "RAG_APP_PASSWORD": "b"}) is not None
    with pytest.raises(rag.RagError):
        app.auth_from_env({"RAG_APP_USER": "a"})
