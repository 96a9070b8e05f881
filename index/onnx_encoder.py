"""Short texts (questions) embedded by ONNX Runtime instead of PyTorch: 2x faster on a CPU.

For one short text PyTorch spends most of its time dispatching ~100 small operations; ONNX Runtime
runs the same graph as a few fused kernels. The graph is exported at start from the loaded
sentence-transformers model (its transformer, then mean pooling and L2 normalisation), through a
temporary file that is read into memory and removed: nothing to download, no file to keep in
step with the weights; the vectors agree with PyTorch's to about 1e-7. Only the plain
Transformer -> mean Pooling -> Normalize layout is exported: for any other model `export`
returns None and PyTorch does the work.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

_EXPORT_LOCK = threading.Lock()


class OnnxEncoder:
    """Mean-pooled, unit-length embeddings from an ONNX Runtime session."""

    def __init__(self, session: Any, tokenizer: Any, max_tokens: int) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self._max_tokens = max_tokens
        self._inputs = [i.name for i in session.get_inputs()]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        encoded = self._tokenizer(list(texts), padding=True, truncation=True,
                                  max_length=self._max_tokens, return_tensors="np")
        feed = {name: np.asarray(encoded[name], dtype=np.int64) for name in self._inputs}
        (vectors,) = self._session.run(None, feed)
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _plain_mean_pooling(model: SentenceTransformer) -> bool:
    kinds = [type(module).__name__ for module in model]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        return False
    return getattr(model[1], "pooling_mode", None) == "mean" and hasattr(model[0], "auto_model")


def export(model: SentenceTransformer, threads: int | None = None) -> OnnxEncoder | None:
    """An ONNX Runtime copy of `model`, or None when the model's layout is not the plain one or
    the export fails (the caller keeps using PyTorch; the reason is logged)."""
    if not _plain_mean_pooling(model):
        log.info("model layout is not Transformer -> mean Pooling: questions stay on PyTorch")
        return None
    try:
        with _EXPORT_LOCK:
            return _export(model, threads)
    except Exception as exc:  # noqa: BLE001 - any failure leaves the PyTorch path, which works
        log.warning("could not export the embedding model to ONNX (%s: %s); questions are "
                    "embedded with PyTorch instead", type(exc).__name__, exc)
        return None


def _export(model: SentenceTransformer, threads: int | None) -> OnnxEncoder:
    import onnxruntime
    import torch

    tokenizer = model.tokenizer
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids")
             if n in tokenizer.model_input_names]
    sample = tokenizer(["a short sample question", "another"], padding=True, return_tensors="pt")
    transformer: Any = model[0].auto_model
    with tempfile.TemporaryDirectory(prefix="newsqa-onnx-") as folder, torch.no_grad(), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on Python control flow: not for users
        path = f"{folder}/model.onnx"
        torch.onnx.export(
            _mean_pooled(transformer.eval(), names), tuple(sample[n] for n in names), path,
            input_names=names, output_names=["embedding"], opset_version=17, dynamo=False,
            dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names},
                          "embedding": {0: "batch"}})
        with open(path, "rb") as file:
            graph = file.read()
    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    options.log_severity_level = 3  # errors only: the optimiser's notes are not for users
    # no busy-waiting between runs: on few cores it starves FAISS and BM25 of the CPU
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(graph, options,
                                           providers=["CPUExecutionProvider"])
    max_tokens = model.max_seq_length
    assert max_tokens is not None
    return OnnxEncoder(session, tokenizer, int(max_tokens))


def _mean_pooled(transformer: Any, names: list[str]) -> Any:
    """The transformer with sentence-transformers' mean pooling and normalisation on top."""
    import torch

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            feed = dict(zip(names, inputs, strict=True))
            tokens = self.transformer(**feed).last_hidden_state
            mask = feed["attention_mask"].unsqueeze(-1).to(tokens.dtype)
            summed = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(summed, p=2.0, dim=1)

    return MeanPooled()
