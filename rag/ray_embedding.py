"""The embedding of an index build on a Ray actor pool (``rag index DIR --ray``).

``RayEmbedder`` offers the methods ``rag.indexing.update_index`` calls on an
``Embedder``, so reading, chunking and assembling the index stay on the driver,
unchanged, and only forward passes go to Ray Data: each pass is a dataset of model
batches (the batches a local build would make: texts sorted by length, ``batch_size``
each) mapped by an ``ActorPoolStrategy`` pool whose workers load the model once, from
their local cache (``rag models fetch`` on every node). An index build makes two passes
(chunks with their answer units, then the stored sentence texts), so a pool of ``n``
workers loads the model ``2n`` times. A cluster with GPUs gets one GPU per worker.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import numpy as np
from tqdm.auto import tqdm

from .config import Settings
from .embeddings import Embedder, ModelInfo, fingerprint
from .errors import RagError

log = logging.getLogger(__name__)

EXTRA = "pip install -e '.[ray]'"
LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
Spans = list[list[tuple[int, int]]]


def import_ray() -> ModuleType:
    """The ``ray`` module with Ray Data, or the error naming the extra."""
    try:
        ray = importlib.import_module("ray")
        importlib.import_module("ray.data")
    except ImportError as exc:
        raise RagError(
            f"`rag index --ray` needs the optional 'ray' extra (Ray Data): {EXTRA} "
            "(or pip install 'rag[ray]'); without --ray the index is built in this process."
        ) from exc
    return ray


@contextmanager
def ray_session(
    *, address: str | None = None, num_cpus: int | None = None, verbose: bool = False
) -> Iterator[ModuleType]:
    """Connect to Ray at ``address``, or start a local Ray that listens on 127.0.0.1 only.

    A Ray already initialised in this process is used as it is and left running;
    whatever this function starts or connects to is shut down (a cluster reached by
    ``address`` keeps running: only this driver disconnects).
    """
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    quiet = dict(log_to_driver=verbose, logging_level=logging.INFO if verbose else logging.WARNING)
    logging.getLogger("ray.data").setLevel(logging.INFO if verbose else logging.WARNING)
    if address is not None:
        ray.init(address=address, **quiet)
        try:
            yield ray
        finally:
            ray.shutdown()
        return
    # Ray's unix sockets live under the temp dir; their paths must stay < 108 chars.
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    try:
        with _loopback(ray):
            ray.init(
                num_cpus=num_cpus or os.cpu_count() or 1,
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                _temp_dir=temp,
                **quiet,
            )
            try:
                _check_loopback(ray)
                yield ray
            finally:
                ray.shutdown()
    finally:
        shutil.rmtree(temp, ignore_errors=True)


@contextmanager
def _loopback(ray: ModuleType) -> Iterator[None]:
    """Make a local Ray take 127.0.0.1 as its node address, so its servers bind there.

    ``ray.init`` replaces a loopback ``_node_ip_address`` with the machine's reachable
    address (and its gRPC servers then listen on every interface) unless Ray believes
    clusters are off, as on macOS: ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, read when
    ray is imported and inherited by the processes it starts (Ray 2.60).
    """
    constants = importlib.import_module("ray._private.ray_constants")
    saved = os.environ.get(LOOPBACK_ENV), constants.ENABLE_RAY_CLUSTER
    os.environ[LOOPBACK_ENV] = "0"
    constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        constants.ENABLE_RAY_CLUSTER = saved[1]
        if saved[0] is None:
            os.environ.pop(LOOPBACK_ENV, None)
        else:
            os.environ[LOOPBACK_ENV] = saved[0]


def _check_loopback(ray: ModuleType) -> None:
    node = ray.util.get_node_ip_address()
    if node != "127.0.0.1":
        raise RagError(
            f"The local Ray took node address {node}, not 127.0.0.1, so it would listen "
            f"beyond this machine (ray {ray.__version__}); start a cluster with "
            "`ray start --head --node-ip-address=127.0.0.1` and pass --ray ADDRESS."
        )


class _Worker:
    """One model per actor; a call embeds one row, which is one model batch."""

    def __init__(self, *, settings: Settings, expected: ModelInfo, device: str, threads: int):
        import torch

        torch.set_num_threads(max(1, threads))
        self.embedder = Embedder(
            settings.model,
            cache_dir=settings.cache_dir,
            precision=settings.precision,
            device=device,
        )
        if self.embedder.info != expected:
            raise RagError(
                f"A Ray worker loaded {self.embedder.info} from {settings.cache_dir}, but the "
                f"driver's model is {expected}; put the same model on every node "
                "(rag models fetch) or set RAG_CACHE_DIR to a copy of it."
            )

    def __call__(self, batch: dict) -> dict:
        texts = [str(t) for t in batch["texts"][0]]
        spans = json.loads(batch["spans"][0])
        dim = self.embedder.dim
        if spans is None:
            docs = self.embedder.encode_documents(texts, batch_size=len(texts))
            units = np.zeros((0, dim), np.float32)
            counts = np.zeros(len(texts), np.int64)
        else:
            docs, per_text = self.embedder.encode_documents_with_spans(
                texts,
                [[tuple(s) for s in text_spans] for text_spans in spans],
                batch_size=len(texts),
            )
            counts = np.array([len(u) for u in per_text], np.int64)
            units = np.concatenate(per_text) if counts.sum() else np.zeros((0, dim), np.float32)
        # (1, b, dim), (1, units, dim) and (1, b): one output row per input row
        return {
            "batch": batch["batch"],
            "docs": docs[None],
            "units": units[None],
            "counts": counts[None],
        }


class RayEmbedder:
    """An ``Embedder`` whose document passes run on a Ray actor pool of ``workers``.

    Ray must be initialised (``ray_session``). ``info`` comes from the model folder in
    the driver's cache, without loading the model; every worker checks its own copy
    against it. Queries (never part of an index build) use the local model.
    """

    def __init__(self, *, settings: Settings, workers: int | None = None, cpus_per_worker: int = 1):
        from .models import resolve_model

        self._ray = import_ray()
        self.settings = settings
        path = resolve_model(settings.model, cache_dir=settings.cache_dir)
        self.info = ModelInfo(settings.model, fingerprint(path), _folder_dim(path))
        gpus = int(self._ray.cluster_resources().get("GPU", 0))
        cpus = int(self._ray.cluster_resources().get("CPU", 1))
        self.gpus_per_worker = 1 if gpus else 0
        self.cpus_per_worker = max(1, cpus_per_worker)
        self.workers = workers or gpus or max(1, cpus // self.cpus_per_worker)
        log.info("ray pool: %d workers (%d CPU, %d GPU each)", self.workers,
                 self.cpus_per_worker, self.gpus_per_worker)  # fmt: skip

    @property
    def dim(self) -> int:
        return self.info.dim

    def encode_queries(self, texts: list[str], *, batch_size: int = 16) -> np.ndarray:
        from .index_model import embedder_for

        return embedder_for(self.settings).encode_queries(texts, batch_size=batch_size)

    def encode_documents(
        self, texts: list[str], *, batch_size: int = 16, progress: bool = False, sort: bool = True
    ) -> np.ndarray:
        """(n, dim) float32, as ``Embedder.encode_documents`` (always sorted by length)."""
        docs, _ = self._run(texts, None, batch_size=batch_size, progress=progress)
        return docs

    def encode_documents_with_spans(
        self, texts: list[str], spans: Spans, *, batch_size: int = 16, progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """As ``Embedder.encode_documents_with_spans``, from the same batches."""
        if len(texts) != len(spans):
            raise RagError(f"{len(texts)} texts but {len(spans)} span lists; give one per text")
        docs, units = self._run(texts, spans, batch_size=batch_size, progress=progress)
        return docs, units

    def _run(
        self, texts: list[str], spans: Spans | None, *, batch_size: int, progress: bool
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        docs = np.zeros((len(texts), self.dim), np.float32)
        units = [np.zeros((0, self.dim), np.float32) for _ in texts]
        if not texts:
            return docs, units
        order = np.argsort([-len(t) for t in texts], kind="stable")  # as the local Embedder
        batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        rows = [
            {"batch": b, "texts": [texts[i] for i in idx],
             "spans": json.dumps(None if spans is None else [spans[i] for i in idx])}
            for b, idx in enumerate(batches)
        ]  # fmt: skip
        for row in tqdm(
            self._map(rows), total=len(rows), desc="embedding (ray)", disable=not progress
        ):
            idx = batches[int(row["batch"])]
            docs[idx] = row["docs"]
            ends = np.cumsum(row["counts"])
            for i, start, end in zip(idx, ends - row["counts"], ends, strict=True):
                units[i] = np.asarray(row["units"][start:end], np.float32)
        return docs, units

    def _map(self, rows: list[dict]) -> Iterator[dict]:
        ray = self._ray
        ray.data.DataContext.get_current().enable_progress_bars = False
        ds = ray.data.from_items(rows, override_num_blocks=len(rows))
        device = "cuda" if self.gpus_per_worker else "cpu"
        mapped = ds.map_batches(
            _Worker,
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=min(self.workers, len(rows))),
            fn_constructor_kwargs=dict(settings=self.settings, expected=self.info,
                                       device=device, threads=self.cpus_per_worker),
            num_cpus=self.cpus_per_worker,
            num_gpus=self.gpus_per_worker,
        )  # fmt: skip
        return mapped.iter_rows()


def _folder_dim(path: str) -> int:
    """The output dimension of a sentence-transformers folder, read from its module configs.

    The last module that states a size (a Dense layer's ``out_features``, else the
    pooling's ``word_embedding_dimension``) decides; the driver loads no weights.
    """
    root = Path(path)
    modules = json.loads((root / "modules.json").read_text(encoding="utf-8"))
    dim = None
    for module in modules:
        config = root / module.get("path", "") / "config.json"
        if module.get("path") and config.is_file():
            values = json.loads(config.read_text(encoding="utf-8"))
            dim = values.get("out_features", values.get("word_embedding_dimension", dim))
    if dim is None:
        raise RagError(f"Cannot read the embedding dimension of the model folder {path}")
    return int(dim)
