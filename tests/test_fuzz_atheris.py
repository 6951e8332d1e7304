"""Coverage-guided fuzzing (atheris/libFuzzer) of the loaders and the chunker, time-boxed.

Each harness in fuzz/ runs for ``RAG_FUZZ_SECONDS`` (default 60) in a subprocess,
starting from the committed seeds in fuzz/seeds/. The test fails if libFuzzer
reports a crash (an exception other than ``DocumentError``, a broken invariant), a
timeout (one input over 30 s) or dies, and the saved input fails again when run on its
own; the failing input is kept in ``tmp_path`` and its path printed. A stop whose input
runs cleanly on its own is reported as a warning with libFuzzer's log.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
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
    crashes = sorted(p for p in tmp_path.iterdir() if p.is_file())
    tail = "\n".join(log.splitlines()[-40:])
    if crashes and not _reproduced(harness, crashes):
        # Seen once: "fuzz target exited" deep in a run, on an input that then ran cleanly
        # on its own every time. The harnesses are deterministic, so a crash that does not
        # come back is the environment's; it is reported, not failed on.
        warnings.warn(f"{harness}: a fuzzer stop that does not reproduce:\n{tail}", stacklevel=1)
        return
    assert run.returncode == 0 and not crashes, f"fuzzer failed ({crashes}):\n{tail}"
    execs = int(re.search(r"stat::number_of_executed_units:\s*(\d+)", log).group(1))
    added = int(re.search(r"stat::new_units_added:\s*(\d+)", log).group(1))
    assert execs > 100, f"only {execs} inputs in {SECONDS}s; the harness is stuck"
    print(f"{harness}: {execs} inputs in {SECONDS}s, {added} new coverage units, no crash")


def _reproduced(harness: str, crashes: list[Path]) -> bool:
    """Does any saved input fail again when the harness runs it alone (three times)?"""
    for crash in crashes:
        cmd = [sys.executable, str(ROOT / "fuzz" / f"fuzz_{harness}.py"), "-runs=3", str(crash)]
        again = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                               timeout=300, cwd=ROOT)  # fmt: skip
        if again.returncode != 0:
            return True
    return False
