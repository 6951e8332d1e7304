"""Can the Milvus server that PyPI ships hold the product's collection?

``python -m bench.milvus_server`` downloads the PyPI package ``milvus`` (a standalone
Milvus server with embedded etcd and local storage, started from Python) into a
temporary folder, starts it, and tries what ``rag.milvus_store`` needs from a server:
a collection with a dense and a sparse vector field, inserts into both, a dense search
and ``hybrid_search``. Writes bench/results/milvus_server.json.

That server listens on every interface, not only 127.0.0.1, so the check runs in a
network namespace of its own whose only interface is loopback (``unshare --net``, which
needs root or user namespaces); without one it stops and says so rather than open a
port to the network.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "milvus_server.json"
PACKAGE = "milvus==2.3.5"
DIM = 8
INSIDE = "_RAG_BENCH_WHEELS"  # set inside the namespace: where the downloaded wheel is


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.milvus_server", description=__doc__)
    p.add_argument("--package", default=PACKAGE, help="the PyPI requirement to download")
    p.add_argument("--out", type=Path, default=RESULTS)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not os.environ.get(INSIDE):
        return _reexec_isolated(args.package, argv)
    wheels = sorted(Path(os.environ[INSIDE]).glob("milvus-*.whl"))
    if not wheels:
        raise SystemExit(f"no milvus wheel in {os.environ[INSIDE]}")
    wheel = wheels[-1]
    with tempfile.TemporaryDirectory(prefix="milvus-server-") as tmp:
        folder = Path(tmp)
        root = folder / "pkg"
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(root)
        result = {"package": wheel.name, "machine": platform.machine(), **_check(root, folder)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))
    return 0


def _reexec_isolated(requirement: str, argv: Sequence[str] | None) -> int:
    """Download the wheel, then run this module again inside a new network namespace with
    only loopback up (the download needs the network; the server must not have it)."""
    if shutil.which("unshare") is None:
        print("unshare (util-linux) is needed to keep the server off the network", file=sys.stderr)
        return 2
    cmd = [sys.executable, "-m", "bench.milvus_server", *(sys.argv[1:] if argv is None else argv)]
    script = "ip link set lo up 2>/dev/null || true; exec " + shlex.join(cmd)
    env = {**os.environ, INSIDE: str(_download(requirement))}
    done = subprocess.run(["unshare", "--net", "sh", "-c", script], env=env, check=False)
    if done.returncode != 0:
        print(
            "the check failed or `unshare --net` is not allowed here (it needs root or user "
            "namespaces); the server is not started outside an isolated namespace",
            file=sys.stderr,
        )
    return done.returncode


def _download(requirement: str) -> Path:
    """The wheel of ``requirement``, fetched once into the temporary folder."""
    folder = Path(tempfile.gettempdir()) / "rag-bench-milvus-wheel"
    folder.mkdir(exist_ok=True)
    if not any(folder.glob("milvus-*.whl")):
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
             "-d", str(folder), requirement],
            check=True,
        )  # fmt: skip
    return folder


def _check(root: Path, folder: Path) -> dict:
    sys.path.insert(0, str(root))
    from milvus import MilvusServer
    from pymilvus import AnnSearchRequest, DataType, MilvusClient, RRFRanker

    server = MilvusServer()
    server.set_base_dir(str(folder / "data"))
    started = time.perf_counter()
    server.start()
    out: dict = {"start_s": round(time.perf_counter() - started, 1)}
    try:
        client = MilvusClient(uri=f"http://127.0.0.1:{server.listen_port}")
        out["server_version"] = client.get_server_version()
        schema = MilvusClient.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=DIM)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        out["sparse_field_in_schema"] = _attempt(
            lambda: client.create_collection("chunks", schema=schema)
        )
        rows = [
            {"id": i, "dense": [random.random() for _ in range(DIM)], "sparse": {i % 7: 1.0}}
            for i in range(100)
        ]
        out["insert_with_sparse"] = _attempt(lambda: client.insert("chunks", rows))
        dense = MilvusClient.create_schema(auto_id=False)
        dense.add_field("id", DataType.INT64, is_primary=True)
        dense.add_field("dense", DataType.FLOAT_VECTOR, dim=DIM)
        client.create_collection("dense", schema=dense)
        index = client.prepare_index_params()
        index.add_index("dense", index_type="FLAT", metric_type="IP")
        client.create_index("dense", index)
        client.load_collection("dense")
        client.insert("dense", [{k: r[k] for k in ("id", "dense")} for r in rows])
        client.flush("dense")
        query = [[0.5] * DIM]
        out["dense_search"] = _attempt(
            lambda: client.search("dense", data=query, limit=3, anns_field="dense")
        )
        request = AnnSearchRequest(data=query, anns_field="dense", param={}, limit=3)
        out["hybrid_search"] = _attempt(
            lambda: client.hybrid_search("dense", [request, request], RRFRanker(), limit=3)
        )
    finally:
        server.stop()
    return out


def _attempt(call) -> str:
    try:
        call()
    except Exception as exc:  # the server's refusal is the finding
        return "fails: " + " ".join(str(exc).split())[:160]
    return "works"


if __name__ == "__main__":
    raise SystemExit(main())
