"""Coverage-guided fuzzing (atheris/libFuzzer) of the loaders and the chunker, time-boxed.

Each harness in fuzz/ runs for ``RAG_FUZZ_SECONDS`` (default 60) in a subprocess,
starting from the committed seeds in fuzz/seeds/. The test fails if libFuzzer
reports a crash (an exception other than ``DocumentError``, a broken invariant), a
timeout (one input over 30 s) or dies; the failing input is kept in
``tmp_path`` and its path printed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris", reason="atheris is in the dev extra: pip install -e '.[dev]'")

ROOT = Path(__file__).resolve().parents[1]
SECONDS = int(os.environ.get("RAG_FUZZ_SECONDS", "60"))


@pytest.mark.parametrize("harness", ["loaders", "chunker"])
def test_fuzzer_finds_no_crash(harness, tmp_path):
    corpus = tmp_path / "corpus"  # new inputs go here; the committed seeds stay unchanged
    corpus.mkdir()
    cmd = [
        sys.executable,
        str(ROOT / "fuzz" / f"fuzz_{harness}.py"),
        str(corpus),
        str(ROOT / "fuzz" / "seeds" / harness),
        f"-max_total_time={SECONDS}",
        "-timeout=30",
        # Off: libFuzzer reads the peak RSS from getrusage, which a child inherits from this
        # (pytest) process, so a model loaded by an earlier test looked like a leak. A real
        # blow-up still fails the test: MemoryError is a crash, an OOM kill a non-zero exit.
        "-rss_limit_mb=0",
        "-max_len=8192",
        "-print_final_stats=1",
        f"-artifact_prefix={tmp_path}/",
    ]
    run = subprocess.run(
        cmd, capture_output=True, text=True, errors="replace", timeout=SECONDS + 120, cwd=ROOT
    )
    log = run.stderr
    crashes = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    tail = "\n".join(log.splitlines()[-40:])
    assert run.returncode == 0 and not crashes, f"fuzzer failed ({crashes}):\n{tail}"
    execs = int(re.search(r"stat::number_of_executed_units:\s*(\d+)", log).group(1))
    added = int(re.search(r"stat::new_units_added:\s*(\d+)", log).group(1))
    assert execs > 100, f"only {execs} inputs in {SECONDS}s; the harness is stuck"
    print(f"{harness}: {execs} inputs in {SECONDS}s, {added} new coverage units, no crash")
