"""Safe defaults of the app: loopback only, login only when both variables are set.

The last two tests start app.py (real model, a copy of index/) with a login and probe
it: not reachable on this machine's network address, and no answer without logging in.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

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


# --- the running app: started as a user would, then probed from outside --------------------

USER, PASSWORD = "editor", "correct horse battery"
ROOT = Path(__file__).resolve().parents[1]


def _non_loopback_addresses() -> list[str]:
    """This machine's IPv4 addresses other than 127.x (empty in a sandbox without network)."""
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [a for a in out.split() if "." in a and not a.startswith("127.")]


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def _status(url: str, *, data: bytes | None = None, headers: dict | None = None) -> int:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """app.py with default host and a login, over a private copy of index/."""
    from bench.load_app import free_port, start_app, stop_app

    index_dir = tmp_path_factory.mktemp("served") / "index"
    shutil.copytree(ROOT / "index", index_dir, ignore=shutil.ignore_patterns(".tmp-*"))
    port = free_port()
    proc = start_app(index_dir, port, env={"RAG_APP_USER": USER, "RAG_APP_PASSWORD": PASSWORD})
    yield port
    stop_app(proc)


def test_default_bind_is_not_reachable_from_the_network(served):
    port = served
    assert _reachable("127.0.0.1", port)
    addresses = _non_loopback_addresses()
    if not addresses:
        pytest.skip("this machine has no non-loopback IPv4 address to probe")
    # The probe can fail: a socket bound to all interfaces is reachable on the same address.
    with socket.socket() as probe:
        probe.bind(("0.0.0.0", 0))
        probe.listen()
        assert _reachable(addresses[0], probe.getsockname()[1])
    for address in addresses:
        assert not _reachable(address, port), f"the app answers on {address}:{port}"


def test_login_is_required_when_configured(served):
    base = f"http://127.0.0.1:{served}"
    assert _status(f"{base}/config") in (401, 403)
    body = json.dumps({"data": ["Which companies signed the pledge?", "extractive"],
                       "fn_index": 0, "session_hash": "probe"}).encode()  # fmt: skip
    join = _status(f"{base}/gradio_api/queue/join", data=body,
                   headers={"Content-Type": "application/json"})  # fmt: skip
    assert join in (401, 403)
    wrong = urllib.parse.urlencode({"username": USER, "password": "wrong"}).encode()
    assert _status(f"{base}/login", data=wrong) in (400, 401, 403)

    from gradio_client import Client

    client = Client(
        f"{base}/", auth=(USER, PASSWORD), verbose=False, download_files=False,
        analytics_enabled=False,
    )  # fmt: skip
    outputs = client.predict("Which companies signed the pledge?", "extractive", api_name="/ask")
    answer = str(outputs[0][-1])  # (chat, retrieval panel, question box); the answer is in chat
    assert "rag-answer" in answer and "삼성전자" in answer
