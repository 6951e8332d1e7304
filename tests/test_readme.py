"""The README's Python example runs as written, so the docs cannot rot."""

from __future__ import annotations

import contextlib
import io
import os
import re

from conftest import ROOT


def test_readme_python_example_runs(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    (tmp_path / "data").mkdir()
    os.symlink(ROOT / "data" / "corpus", tmp_path / "data" / "corpus")
    monkeypatch.chdir(tmp_path)  # the example writes ./index
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    printed = out.getvalue()
    assert "삼성전자" in printed and "Adobe" in printed and "[1]" in printed
    assert "False" in printed  # answer.refused
    assert (tmp_path / "index" / "CURRENT").exists()
