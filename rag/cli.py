"""The ``rag`` command: index, ask, search, docs, remove, eval, models fetch, serve.

Errors the library raises on purpose (``RagError``) print as one line with the
fix and exit with status 2; anything else is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import sys
import time
from dataclasses import asdict
from pathlib import Path
from types import ModuleType
from typing import get_args

from .config import Answerer, Mode
from .errors import RagError

log = logging.getLogger("rag")
LOCAL_RAY = "local"  # ``--ray`` without an address


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and getattr(args, "func", None) is not _cmd_serve:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.app_args = extra
    if getattr(args, "func", None) is not _cmd_serve:  # the app sets up its own logging
        logging.basicConfig(
            level=logging.DEBUG if args.verbose else logging.WARNING,
            format="%(levelname)s %(name)s: %(message)s",
        )
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rag", description=__doc__.splitlines()[0])
    p.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = p.add_subparsers(metavar="COMMAND")
    for add in (_add_index, _add_ask, _add_search, _add_docs, _add_remove, _add_eval):
        add(sub)
    _add_models(sub)
    _add_serve(sub)
    return p


def _index_dir(s: argparse.ArgumentParser) -> None:
    """``--index-dir`` for every command; ``--index`` still works but is not shown."""
    s.add_argument("--index-dir", default="index", help="index folder (default: index)")
    s.add_argument("--index", dest="index_dir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def _add_index(sub) -> None:
    s = sub.add_parser("index", help="build or update the index from files, folders or URLs")
    s.add_argument(
        "paths",
        nargs="*",
        default=["data/corpus"],
        help="files, folders or http(s):// web pages (default: data/corpus)",
    )
    _index_dir(s)
    s.add_argument("--rebuild", action="store_true", help="start from an empty index")
    s.add_argument("--prune", action="store_true", help="drop indexed documents not in PATHS")
    s.add_argument("--if-missing", action="store_true", help="do nothing if an index exists")
    ray = "embed on Ray: a local Ray (127.0.0.1) or the cluster at ADDRESS (auto, host:port, "
    s.add_argument("--ray", nargs="?", const=LOCAL_RAY, default=None, metavar="ADDRESS",
                   help=ray + "ray://host:port); give PATHS before it. Needs '.[ray]'")  # fmt: skip
    workers = "Ray embedding workers (default: one per GPU, else one per CPU)"
    s.add_argument("--ray-workers", type=int, default=None, metavar="N", help=workers)
    s.set_defaults(func=_cmd_index)


def _searching(sub, name: str, text: str, *, about: str, func) -> argparse.ArgumentParser:
    """A command that searches the index for ``text`` (``ask``, ``search``)."""
    s = sub.add_parser(name, help=about)
    s.add_argument(text)
    _index_dir(s)
    s.add_argument("--top-k", type=int, default=None, help="default: RAG_TOP_K (5)")
    s.set_defaults(func=func)
    return s


def _add_ask(sub) -> None:
    s = _searching(sub, "ask", "question", about="answer a question with citations", func=_cmd_ask)
    s.add_argument("--answerer", choices=get_args(Answerer), default=None)
    s.add_argument("--json", action="store_true", help="print the Answer as JSON")


def _add_search(sub) -> None:
    about = "show the passages retrieved for a query"
    s = _searching(sub, "search", "query", about=about, func=_cmd_search)
    s.add_argument("--mode", choices=get_args(Mode), default="hybrid")


def _add_docs(sub) -> None:
    s = sub.add_parser("docs", help="list the indexed documents")
    _index_dir(s)
    s.set_defaults(func=_cmd_docs)


def _add_remove(sub) -> None:
    s = sub.add_parser("remove", help="remove documents from the index by doc_id")
    s.add_argument("doc_ids", nargs="+")
    _index_dir(s)
    s.set_defaults(func=_cmd_remove)


def _add_eval(sub) -> None:
    s = sub.add_parser("eval", help="score answers against a gold question file")
    s.add_argument("--gold", default="eval/gold.jsonl")
    _index_dir(s)
    s.add_argument("--json", dest="json_out", default=None, help="write the full report here")
    s.add_argument("--answerer", choices=get_args(Answerer), default=None)
    s.add_argument("--lang", choices=["en", "ko"], default=None, help="only these questions")
    merge = "answer nothing: merge --json reports of disjoint runs (e.g. --lang en, ko)"
    s.add_argument("--merge", nargs="+", default=None, metavar="REPORT", help=merge)
    minimum = "fail when METRIC (e.g. answer.accuracy) is below VALUE; repeatable"
    s.add_argument("--min", action="append", default=[], metavar="METRIC=VALUE", help=minimum)
    s.add_argument("--thresholds", default=None, help="JSON file of minimums (thresholds.json)")
    s.set_defaults(func=_cmd_eval)


def _add_models(sub) -> None:
    models = sub.add_parser("models", help="manage model files").add_subparsers(metavar="ACTION")
    s = models.add_parser("fetch", help="download and verify the default model(s) into the cache")
    s.add_argument("--llm", action="store_true", help="also fetch the local LLM (1.1 GB)")
    s.add_argument("--verify", action="store_true", help="re-hash files already in the cache")
    s.set_defaults(func=_cmd_models_fetch)


def _add_serve(sub) -> None:
    s = sub.add_parser(
        "serve",
        add_help=False,  # --help goes to the app's own parser, with its options
        help="run the chat app: the options of app.py (--index-dir, --host 127.0.0.1, --port "
        "7860, ...; rag serve --help lists them)",
    )
    s.set_defaults(func=_cmd_serve)


def _cmd_index(args: argparse.Namespace) -> int:
    import rag
    from rag.store import CURRENT

    if args.if_missing and (Path(args.index_dir) / CURRENT).exists():
        print(f"index already at {args.index_dir}; skipping (drop --if-missing to update)")
        return 0
    started = time.perf_counter()
    build = dict(index_dir=args.index_dir, rebuild=args.rebuild, prune=args.prune, progress=True)
    if args.ray is None:
        qa = rag.build(args.paths, **build)
    else:
        qa = _build_on_ray(args, build)
    data = qa.data
    print(
        f"indexed {len(data.documents)} documents, {len(data.chunks)} chunks "
        f"into {args.index_dir} in {time.perf_counter() - started:.1f}s"
    )
    return 0


def _build_on_ray(args: argparse.Namespace, build: dict):
    """``rag.build`` with the embedding on a Ray actor pool (rag.ray_embedding)."""
    from rag.config import Settings
    from rag.ray_embedding import RayEmbedder, import_ray, ray_session

    import_ray()  # the missing extra is named before anything is read or loaded
    address = None if args.ray == LOCAL_RAY else args.ray
    if address is not None and address != "auto" and ":" not in address:
        raise RagError(
            f"--ray {address!r} is not a Ray address (auto, host:port, ray://host:port); "
            f"put the paths before --ray (rag index {address} --ray) or use --ray=ADDRESS."
        )
    import rag

    with ray_session(address=address, verbose=args.verbose):
        settings = Settings.from_env()
        embedder = RayEmbedder(settings=settings, workers=args.ray_workers)
        return rag.build(args.paths, settings=settings, embedder=embedder, **build)


def _cmd_ask(args: argparse.Namespace) -> int:
    import rag
    from rag.refusals import reason_of

    qa = rag.open(args.index_dir)
    if args.json or (args.answerer or qa.settings.answerer) != "llm":
        answer = qa.ask(args.question, top_k=args.top_k, answerer=args.answerer)
    else:  # stream the quote and the rendering to stderr as they come; the checked answer
        # (and a rendering that passed the check) goes to stdout
        for item in qa.ask_stream(args.question, top_k=args.top_k, answerer=args.answerer):
            if isinstance(item, str):
                print(item, end="", file=sys.stderr, flush=True)
            else:
                answer = item
        print("\n", file=sys.stderr)
    if args.json:
        print(json.dumps(asdict(answer), ensure_ascii=False, indent=2))
        return 0
    print(answer.text)
    why = reason_of(answer)
    if why:
        print(why)
    if answer.rendering is not None and answer.rendering.shown:
        refs = ", ".join(f"[{n}]" for n in answer.rendering.sources)
        print(f"\nMachine rendering of {refs}:\n{answer.rendering.text}")
    for c in answer.citations:
        furniture = "page furniture" if qa.data.is_furniture(c.doc_id, c.start, c.end) else ""
        where = " · ".join(x for x in (c.title, c.date, c.source, furniture) if x)
        print(f"\n[{c.n}] {c.doc_id} chars {c.start}-{c.end} ({where})\n    {c.quote}")
    for claim in answer.claims:
        print(f"\n{claim.status}: {claim.text}" + (f" ({claim.reason})" if claim.reason else ""))
    if answer.fallback_reason:
        print(f"\n({answer.fallback_reason})")
    return 0


def _cmd_search(args: argparse.Namespace) -> int:
    import rag

    qa = rag.open(args.index_dir, load_model=False)  # --mode bm25 needs no model
    for rank, hit in enumerate(qa.search(args.query, top_k=args.top_k, mode=args.mode), 1):
        text = " ".join(hit.chunk.text.split())
        chunk = hit.chunk
        marked = qa.data.furniture_share(chunk.doc_id, chunk.start, chunk.end)
        furniture = f" (page furniture {marked:.0%})" if marked else ""
        print(f"{rank}. {hit.score:.4f} {chunk.chunk_id}{furniture}\n   {text[:200]}")
    return 0


def _cmd_docs(args: argparse.Namespace) -> int:
    import rag

    for doc in rag.open(args.index_dir, load_model=False).documents():
        print(f"{doc.doc_id}\t{doc.date}\t{doc.title}")
    return 0


def _cmd_remove(args: argparse.Namespace) -> int:
    import rag

    report = rag.open(args.index_dir, load_model=False).remove(args.doc_ids)
    print(f"removed {', '.join(report.removed)}")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    import rag
    from rag import evaluation

    if args.merge:
        report = evaluation.merge_reports([evaluation.load_report(p) for p in args.merge])
    else:
        items = evaluation.load_gold(args.gold)
        items = [i for i in items if args.lang in (None, i.lang)]
        qa = rag.open(args.index_dir)
        # The chat's path: streamed, so time to first token is measured too.
        ask = lambda q: qa.ask_stream(q, answerer=args.answerer)  # noqa: E731
        report = evaluation.run_eval(ask, items)
    print(evaluation.format_table(report))
    if args.json_out:
        Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_out).write_text(
            json.dumps(evaluation.report_dict(report), ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
    mins = evaluation.load_thresholds(args.thresholds) if args.thresholds else {}
    mins.update(evaluation.parse_min_args(args.min))
    failures = evaluation.check_thresholds(report, mins)
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    return 1 if failures else 0


def _cmd_models_fetch(args: argparse.Namespace) -> int:
    from rag import models

    print(models.fetch_embedding_model(progress=True, verify=args.verify))
    if args.llm:
        print(models.fetch_llm_model(progress=True))
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    """Run ``app.py``'s ``main`` with the arguments after ``serve``."""
    aliases = {"--index": "--index-dir"}
    argv = [aliases.get(a, a) for a in args.app_args]
    argv = ["--index-dir" + a[len("--index") :] if a.startswith("--index=") else a for a in argv]
    return _app_module().main(argv)


def _app_module() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "app.py"
    if not path.is_file():
        raise RagError(
            f"`rag serve` runs the app of a source checkout, but there is no {path}. "
            "Install rag from a clone of the repository (pip install -e .)."
        )
    spec = importlib.util.spec_from_file_location("rag_app", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    sys.exit(main())
