"""Load test of the running Gradio app: ``python -m bench.load_app --sessions 8 --seconds 60``.

Starts ``app.py`` on 127.0.0.1 (a free port, a private copy of ``index/``) in a
subprocess, then drives ``--sessions`` concurrent browser-like sessions with
``gradio_client`` (one ``Client`` each, so each has its own chat history) for
``--seconds``, with a hard cap of ``--max-requests``. One more session uploads a
small document and removes it again, over and over, so questions are answered
while the index changes. Reports throughput, p50/p95/max latency, errors and the
server's peak RSS (``VmHWM``); ``--json`` writes them to a file.

A response counts as an error if the call raised, or its answer card is not an
answer or a refusal (e.g. the app's "Something went wrong" notice or a traceback).
It keeps both cores busy: figures to quote come from a run with nothing else on the machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

log = logging.getLogger("bench.load_app")
ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = (
    "Which companies signed the pledge?",
    "And which of them are Korean?",  # a follow-up: uses the session's history
    "REAIM 회의는 어느 도시에서 개최되었나요?",
    "서울 AI 기업 서약에 참여한 국내 기업은?",
    "Who attended the AI Global Forum?",
    "What is the capital of Australia?",  # not in the documents: a refusal
    "Where was the load-test note written?",  # answered only while the upload is live
)
UPLOAD_NAME = "load-test-note.txt"
UPLOAD_TEXT = "Load-test note.\n\nThe load-test note was written in Daejeon on a rainy Tuesday.\n"
GOOD_CARD = ("rag-answer", "rag-refusal")
BAD_TEXT = ("Traceback", "Something went wrong", "a bug;")


@dataclass
class Result:
    sessions: int
    seconds: float
    requests: int = 0
    errors: int = 0
    refusals: int = 0
    uploads: int = 0
    upload_errors: int = 0
    throughput_rps: float = 0.0
    p50_s: float = 0.0
    p95_s: float = 0.0
    max_s: float = 0.0
    server_peak_rss_mb: float = 0.0
    error_samples: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(index_dir: Path, port: int, *, env: dict | None = None) -> subprocess.Popen:
    """``app.py`` on 127.0.0.1:``port``; returns once it answers HTTP (or raises).

    The server's log goes to ``app.log`` next to ``index_dir`` (a pipe nobody reads
    would fill up and stall the server).
    """
    cmd = [sys.executable, str(ROOT / "app.py"), "--index-dir", str(index_dir)]
    cmd += ["--port", str(port), "--no-warmup"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})}
    log_path = index_dir.parent / "app.log"
    with open(log_path, "w", encoding="utf-8") as log_file:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, text=True
        )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise RuntimeError(f"app.py exited with {proc.returncode}: {tail}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return proc
        except OSError:
            time.sleep(0.5)
    stop_app(proc)
    raise RuntimeError("app.py did not answer within 240 s")


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def last_answer(outputs) -> str:
    """The newest chat bubble of the /ask outputs (chat, retrieval panel, question box)."""
    chat = outputs[0]
    return str(chat[-1]) if isinstance(chat, list) and chat else str(chat)


def card_problem(outputs) -> str:
    """ "" if the /ask outputs hold a proper answer card, else what is wrong."""
    if not isinstance(outputs, list | tuple) or len(outputs) < 2:
        return f"unexpected outputs: {str(outputs)[:200]}"
    card = last_answer(outputs)
    if any(bad in card for bad in BAD_TEXT) or any(bad in str(outputs[1]) for bad in BAD_TEXT):
        return f"error shown: {card[:200]}"
    if not any(good in card for good in GOOD_CARD):
        return f"no answer card: {card[:200]}"
    return ""


class Load:
    """Shared counters of one run; sessions append under a lock."""

    def __init__(self, url: str, *, seconds: float, max_requests: int):
        self.url = url
        self.deadline = time.monotonic() + seconds
        self.max_requests = max_requests
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.refusals = 0
        self.uploads = 0
        self.upload_errors: list[str] = []
        self.lock = threading.Lock()
        self.issued = 0

    def take(self) -> bool:
        """Claim one request slot, or False when time or the request cap is up."""
        with self.lock:
            if time.monotonic() >= self.deadline or self.issued >= self.max_requests:
                return False
            self.issued += 1
            return True

    def session(self, k: int) -> None:
        from gradio_client import Client

        client = Client(self.url, verbose=False, download_files=False, analytics_enabled=False)
        n = k
        while self.take():
            question = QUESTIONS[n % len(QUESTIONS)]
            n += 1
            began = time.perf_counter()
            try:
                outputs = client.predict(question, "extractive", api_name="/ask")
                problem = card_problem(outputs)
            except Exception as exc:  # a failed call is a result here, not a crash
                problem = f"{type(exc).__name__}: {exc}"
                outputs = None
            elapsed = time.perf_counter() - began
            with self.lock:
                self.latencies.append(elapsed)
                if problem:
                    self.errors.append(f"{question!r}: {problem}")
                elif "rag-refusal" in last_answer(outputs):
                    self.refusals += 1

    def uploader(self, folder: Path) -> None:
        from gradio_client import Client, handle_file

        client = Client(self.url, verbose=False, download_files=False, analytics_enabled=False)
        path = folder / UPLOAD_NAME
        path.write_text(UPLOAD_TEXT, encoding="utf-8")
        while time.monotonic() < self.deadline - 5:
            try:
                status = client.predict([handle_file(str(path))], api_name="/upload")[0]
                ok = "rag-ok" in str(status)
                removed = client.predict(UPLOAD_NAME, api_name="/remove")[0]
                ok = ok and "rag-ok" in str(removed)
                problem = "" if ok else f"upload/remove status: {status} / {removed}"
            except Exception as exc:
                problem = f"{type(exc).__name__}: {exc}"
            with self.lock:
                self.uploads += 1
                if problem:
                    self.upload_errors.append(problem)
            time.sleep(2.0)


def run(
    *, sessions: int, seconds: float, max_requests: int, uploads: bool = True, env=None
) -> Result:
    """Start the app, load it, stop it; the app's index is a temporary copy of ``index/``."""
    with tempfile.TemporaryDirectory(prefix="rag-load-") as tmp:
        index_dir = Path(tmp) / "index"
        shutil.copytree(ROOT / "index", index_dir, ignore=shutil.ignore_patterns(".tmp-*"))
        port = free_port()
        proc = start_app(index_dir, port, env=env)
        try:
            load = Load(f"http://127.0.0.1:{port}/", seconds=seconds, max_requests=max_requests)
            began = time.monotonic()
            threads = [
                threading.Thread(target=load.session, args=(k,), name=f"session-{k}")
                for k in range(sessions)
            ]
            if uploads:
                threads.append(threading.Thread(target=load.uploader, args=(Path(tmp),)))
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=seconds + 300)
            wall = time.monotonic() - began
            rss = peak_rss_mb(proc.pid)
        finally:
            stop_app(proc)
    return summarise(load, sessions=sessions, wall=wall, rss=rss)


def summarise(load: Load, *, sessions: int, wall: float, rss: float) -> Result:
    lat = sorted(load.latencies)

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] if lat else 0.0

    return Result(
        sessions=sessions,
        seconds=round(wall, 1),
        requests=len(lat),
        errors=len(load.errors),
        refusals=load.refusals,
        uploads=load.uploads,
        upload_errors=len(load.upload_errors),
        throughput_rps=round(len(lat) / wall, 2) if wall else 0.0,
        p50_s=round(pct(0.50), 2),
        p95_s=round(pct(0.95), 2),
        max_s=round(lat[-1], 2) if lat else 0.0,
        server_peak_rss_mb=round(rss),
        error_samples=(load.errors + load.upload_errors)[:5],
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=4, help="concurrent asking sessions")
    p.add_argument("--seconds", type=float, default=20, help="how long to ask")
    p.add_argument("--max-requests", type=int, default=2000, help="hard cap on questions")
    p.add_argument("--no-uploads", dest="uploads", action="store_false")
    p.add_argument("--json", type=Path, help="write the figures here")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per poll otherwise
    result = run(
        sessions=args.sessions,
        seconds=args.seconds,
        max_requests=args.max_requests,
        uploads=args.uploads,
    )
    text = json.dumps(asdict(result), ensure_ascii=False, indent=1)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 1 if result.errors or result.upload_errors else 0


if __name__ == "__main__":
    sys.exit(main())
