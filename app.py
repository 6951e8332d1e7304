"""Serve the chat app: ``python app.py [--index-dir index] [--host 127.0.0.1] [--port 7860]``.

Binds to loopback unless ``--host`` says otherwise. ``RAG_APP_USER`` and
``RAG_APP_PASSWORD`` turn on a login. A missing index is built from
``--corpus`` (default data/corpus) first.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no telemetry, no update check
os.environ.setdefault("HF_HUB_OFFLINE", "1")

log = logging.getLogger("rag.app")
ROOT = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    import rag
    from rag.ui import build_app, launch_options

    try:
        auth = auth_from_env(os.environ)
        qa = open_or_build(Path(args.index_dir), Path(args.corpus))
    except rag.RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    demo = build_app(qa, max_file_mb=args.max_file_mb)
    demo.queue(default_concurrency_limit=2, max_size=64)
    _, url, _ = demo.launch(
        server_name=args.host,
        server_port=args.port,
        auth=auth,
        auth_message="Log in to ask the documents." if auth else None,
        prevent_thread_lock=True,
        quiet=True,
        **launch_options(max_file_mb=args.max_file_mb),
    )
    if args.warmup:
        threading.Thread(target=warm_up, args=(qa,), daemon=True, name="warm-up").start()
    log.info(
        "ready at %s in %.1fs (%d documents)",
        url,
        time.perf_counter() - started,
        len(qa.data.documents),
    )
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        pass
    return 0


def open_or_build(index_dir: Path, corpus: Path):
    """Open the index, or build it from ``corpus`` when there is none yet."""
    import rag

    try:
        return rag.open(index_dir)
    except rag.IndexNotFoundError:
        log.warning(
            "no index at %s; building it from %s (a minute on a laptop CPU)", index_dir, corpus
        )
        started = time.perf_counter()
        qa = rag.build([corpus], index_dir=index_dir)
        log.info(
            "built %s: %d documents, %d chunks in %.1fs",
            index_dir,
            len(qa.data.documents),
            len(qa.data.chunks),
            time.perf_counter() - started,
        )
        return qa


def warm_up(qa) -> None:
    """Answer the first example once in the background, so the first user waits less.

    It loads Kiwi, warms torch and caches the example passages' sentence vectors.
    """
    from rag.ui.app import EXAMPLES

    started = time.perf_counter()
    try:
        qa.ask(EXAMPLES[0])
    except Exception:  # never fatal: it only saves time
        log.exception("warm-up failed")
        return
    log.info("warm-up answer took %.1fs", time.perf_counter() - started)


def auth_from_env(env) -> tuple[str, str] | None:
    """(user, password) from RAG_APP_USER / RAG_APP_PASSWORD, or None for no login."""
    from rag import RagError

    user, password = env.get("RAG_APP_USER", ""), env.get("RAG_APP_PASSWORD", "")
    if bool(user) != bool(password):
        raise RagError("Set both RAG_APP_USER and RAG_APP_PASSWORD to require a login, or neither.")
    return (user, password) if user else None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--index-dir", default="index", help="index folder (default: index)")
    p.add_argument(
        "--corpus",
        default=str(ROOT / "data" / "corpus"),
        help="documents to index when the index is missing (default: data/corpus)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    p.add_argument(
        "--max-file-mb",
        type=float,
        default=20,
        help="upload size limit per file in MB (10^6 bytes), for the page and the loader",
    )
    p.add_argument(
        "--no-warmup",
        dest="warmup",
        action="store_false",
        help="skip answering an example question in the background at start",
    )
    return p


if __name__ == "__main__":
    sys.exit(main())
