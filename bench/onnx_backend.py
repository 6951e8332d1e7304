"""An ONNX Runtime int8 path for the embedding model, measured by ``bench.speed``.

sentence-transformers' own ``backend="onnx"`` needs optimum, whose current
release pins transformers < 4.58 (this project runs 5.x), so the export here
is ``torch.onnx.export`` of the whole sentence-transformers pipeline
(transformer, mean pooling, the two dense layers, normalisation) followed by
onnxruntime's dynamic int8 quantisation. Exports live under the cache dir,
never in the repo. Needs the ``fast`` extra (onnx, onnxscript, onnxruntime).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def export(st_model, folder: Path, *, quantize: bool = True) -> Path:
    """Write ``model.onnx`` (fp32) and ``model_int8.onnx`` into ``folder``; return the one asked."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    fp32 = folder / "model.onnx"
    int8 = folder / "model_int8.onnx"
    if not fp32.exists():
        wrapper = _make_pipeline()(st_model).eval()
        feats = st_model.tokenize(["an example sentence to trace", "짧은 문장"])
        args = (feats["input_ids"], feats["attention_mask"])
        batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq")
        tmp = folder / "model.tmp.onnx"
        with torch.inference_mode():
            torch.onnx.export(
                wrapper,
                args,
                str(tmp),
                input_names=["input_ids", "attention_mask"],
                output_names=["sentence_embedding"],
                dynamic_shapes=({0: batch, 1: seq}, {0: batch, 1: seq}),
                dynamo=True,
                external_data=True,
            )
        _rename(tmp, fp32)
    if quantize and not int8.exists():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        tmp = folder / "model_int8.tmp.onnx"
        quantize_dynamic(
            str(fp32),
            str(tmp),
            weight_type=QuantType.QInt8,
            per_channel=True,
            use_external_data_format=True,
        )
        _rename(tmp, int8)
    return int8 if quantize else fp32


def _rename(tmp: Path, final: Path) -> None:
    # External weights keep the file name the graph records (``*.tmp.onnx.data``).
    tmp.replace(final)


def _make_pipeline():
    import torch

    class Pipeline(torch.nn.Module):
        def __init__(self, st_model):
            super().__init__()
            self.st = st_model

        def forward(self, input_ids, attention_mask):
            out = self.st({"input_ids": input_ids, "attention_mask": attention_mask})
            return out["sentence_embedding"]

    return Pipeline


class OnnxEmbedder:
    """Same ``encode_queries`` / ``encode_documents`` as ``rag.embeddings.Embedder``."""

    def __init__(self, st_model, onnx_path: Path, *, threads: int = 2):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(
            str(onnx_path), opts, providers=["CPUExecutionProvider"]
        )
        self.st = st_model
        self.prompts = dict(getattr(st_model, "prompts", {}) or {})

    def _encode(self, texts: list[str], prompt: str, batch_size: int, sort: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        full = [self.prompts.get(prompt, "") + t for t in texts]
        order = np.argsort([-len(t) for t in full], kind="stable") if sort else np.arange(len(full))
        out = None
        for start in range(0, len(full), batch_size):
            rows = order[start : start + batch_size]
            feats = self.st.tokenize([full[i] for i in rows])
            vecs = self.session.run(
                None,
                {
                    "input_ids": feats["input_ids"].numpy().astype(np.int64),
                    "attention_mask": feats["attention_mask"].numpy().astype(np.int64),
                },
            )[0]
            if out is None:
                out = np.empty((len(full), vecs.shape[1]), dtype=np.float32)
            out[rows] = vecs
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.ascontiguousarray(out / np.maximum(norms, 1e-12), dtype=np.float32)

    def encode_queries(self, texts: list[str], *, batch_size: int = 16) -> np.ndarray:
        return self._encode(texts, "query", batch_size, sort=True)

    def encode_documents(
        self, texts: list[str], *, batch_size: int = 16, sort: bool = True
    ) -> np.ndarray:
        return self._encode(texts, "document", batch_size, sort=sort)
