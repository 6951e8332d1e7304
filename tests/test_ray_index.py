"""``rag index --ray``: the bundled corpus embedded on a local Ray, against the local build.

Ray runs on this machine only (2 CPUs, no dashboard, temp dir under /tmp, every server
on 127.0.0.1) and is shut down by the test module. The Ray tests are skipped without
the optional extra; the missing-extra message is checked either way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS

import rag
from rag import cli
from rag.store import load_index
from rag.units import answer_units

PLEDGE = "Which companies signed the pledge?"
pytestmark = pytest.mark.usefixtures("loopback_only")  # tests/conftest.py
NEEDS_RAY = "the Ray tests need the optional extra: pip install -e '.[ray]'"


def test_missing_extra_names_it(tmp_path):
    """Without ray importable, --ray fails with the pip command, before anything is built."""
    code = (
        "import sys; sys.modules['ray'] = None; from rag.cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    index_dir = tmp_path / "index"
    argv = ["index", str(CORPUS), "--index-dir", str(index_dir), "--ray"]
    run = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 2, run.stderr
    assert "pip install -e '.[ray]'" in run.stderr
    assert not index_dir.exists()


def test_a_session_stops_what_it_started():
    """Runs before the module's Ray: ray_session starts a local Ray and removes it."""
    pytest.importorskip("ray", reason=NEEDS_RAY)
    from rag.ray_embedding import ray_session

    with ray_session(num_cpus=1) as ray:
        temp = Path(_session_root(ray))
        assert ray.util.get_node_ip_address() == "127.0.0.1"
        assert temp.is_dir() and len(str(temp)) < 40
    assert not ray.is_initialized()
    assert not temp.exists()


@pytest.fixture(scope="module")
def local_ray():
    pytest.importorskip("ray", reason=NEEDS_RAY)
    from rag.ray_embedding import ray_session

    with ray_session(num_cpus=2) as ray:
        yield ray
    assert not ray.is_initialized()


@pytest.fixture(scope="module")
def ray_index(local_ray, tmp_path_factory) -> Path:
    """The bundled corpus indexed by the CLI through the module's Ray."""
    index_dir = tmp_path_factory.mktemp("ray_index")
    assert cli.main(["index", str(CORPUS), "--index-dir", str(index_dir), "--ray"]) == 0
    assert local_ray.is_initialized()  # not the CLI's to shut down
    return index_dir


def test_ray_build_has_the_local_build_s_vectors(ray_index, built_index):
    local, remote = load_index(built_index), load_index(ray_index)
    assert [c.chunk_id for c in remote.chunks] == [c.chunk_id for c in local.chunks]
    assert [c.text for c in remote.chunks] == [c.text for c in local.chunks]
    assert remote.terms == local.terms and remote.model == local.model
    assert remote.sentences.rows == local.sentences.rows
    pairs = [
        (remote.vectors, local.vectors),
        (remote.unit_vectors, local.unit_vectors),  # float16 rows
        (remote.sentences.vectors, local.sentences.vectors),  # float16 rows
    ]
    for got, want in pairs:
        got, want = np.asarray(got, np.float32), np.asarray(want, np.float32)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-2)  # bf16 tolerance
        assert np.min(np.sum(got * want, axis=1)) > 0.999  # rows are unit vectors


def test_ray_index_answers_the_pledge_question_the_same(ray_index, qa):
    got = rag.open(ray_index).ask(PLEDGE)
    want = qa.ask(PLEDGE)
    assert got.text == want.text
    assert got.citations == want.citations
    assert "Samsung" in got.text or "삼성전자" in got.text


def test_two_workers_return_each_batch_in_place(local_ray, built_index):
    """Several batches on 2 workers: chunk and unit vectors equal the local model's."""
    from rag.config import Settings
    from rag.index_model import embedder_for
    from rag.ray_embedding import RayEmbedder

    texts = [c.text for c in load_index(built_index).chunks]
    spans = [[(u.start, u.end) for u in answer_units(t)] for t in texts]
    settings = Settings.from_env()
    remote = RayEmbedder(settings=settings, workers=2)
    docs, units = remote.encode_documents_with_spans(texts, spans, batch_size=3)
    want_docs, want_units = embedder_for(settings).encode_documents_with_spans(
        texts, spans, batch_size=3
    )
    np.testing.assert_allclose(docs, want_docs, rtol=0, atol=1e-2)
    assert [u.shape for u in units] == [u.shape for u in want_units]
    np.testing.assert_allclose(np.concatenate(units), np.concatenate(want_units), atol=1e-2)


def test_local_ray_listens_on_loopback_only(local_ray):
    """Every listening TCP socket of this process and the Ray processes it started."""
    assert local_ray.util.get_node_ip_address() == "127.0.0.1"
    listening = _listening(_descendants(os.getpid()) | {os.getpid()})
    assert listening, "found no listening sockets of Ray's processes"
    assert all(_is_loopback(address) for address in listening), listening


def _session_root(ray) -> str:
    """The temp dir ray_session gave Ray (the parent of its session folder)."""
    return ray._private.worker._global_node.get_temp_dir_path()


def _descendants(pid: int) -> set[int]:
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="utf-8").rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        children = [c for c, p in parents.items() if p == parent]
        found.update(children)
        todo.extend(children)
    return found


def _listening(pids: set[int]) -> list[str]:
    """Local addresses (hex, as /proc/net/tcp* has them) of LISTEN sockets owned by ``pids``."""
    inodes = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text(encoding="utf-8").splitlines()[1:]:
            cols = line.split()
            if cols[3] == "0A" and cols[9] in inodes:  # 0A: LISTEN
                out.append(cols[1].split(":")[0])
    return out


def _is_loopback(hex_address: str) -> bool:
    if len(hex_address) == 8:  # IPv4, little-endian: 127.x.x.x ends in 7F
        return hex_address.endswith("7F")
    loopback6 = "00000000000000000000000001000000"  # ::1
    mapped = "0000000000000000FFFF0000"  # ::ffff:127.x.x.x
    return hex_address == loopback6 or (
        hex_address.startswith(mapped) and hex_address.endswith("7F")
    )
