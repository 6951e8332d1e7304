"""The machine a benchmark ran on, as the reports state it: cores, CPU, flags, memory.

Read from ``/proc`` (Linux); elsewhere only the core count is known.
"""

from __future__ import annotations

import os
from pathlib import Path

# The flags that change which kernels torch, faiss and ONNX Runtime use.
FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16")


def machine() -> dict:
    """``{"cores", "cpu", "flags", "ram_gib"}`` of this machine."""
    info = _read("/proc/cpuinfo")
    model = next((ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")), "")
    flags = next((ln.split(":", 1)[1].split() for ln in info if ln.startswith("flags")), [])
    mem_kb = next((int(ln.split()[1]) for ln in _read("/proc/meminfo") if "MemTotal" in ln), 0)
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "flags": [f for f in FLAGS if f in flags],
        "ram_gib": round(mem_kb / 2**20),
    }


def describe(m: dict | None = None) -> str:
    """E.g. "2 cores (AMD EPYC; avx2, avx512f, avx512_vnni, avx512_bf16), 24 GiB RAM, CPU only"."""
    m = m or machine()
    cpu = "; ".join(x for x in (m.get("cpu", ""), ", ".join(m.get("flags", []))) if x)
    ram = f", {m['ram_gib']} GiB RAM" if m.get("ram_gib") else ""
    return f"{m['cores']} cores" + (f" ({cpu})" if cpu else "") + ram + ", CPU only"


def _read(path: str) -> list[str]:
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
