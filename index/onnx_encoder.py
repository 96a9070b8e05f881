"""Short texts (questions) embedded by ONNX Runtime instead of PyTorch, without importing torch.

For one short text PyTorch spends most of its time dispatching ~100 small operations; ONNX Runtime
runs the same graph as a few fused kernels, about twice as fast. The graph is the loaded
sentence-transformers model (its transformer, then mean pooling and L2 normalisation) exported
once and saved as a file keyed by the model's files (see `model_fingerprint`); a later process
(`newsqa ask`, a server start) loads that file with ONNX Runtime and the model's `tokenizer.json`
with the `tokenizers` library, so it never imports torch. The vectors agree with PyTorch's to
about 1e-7. Only the plain Transformer -> mean Pooling -> Normalize layout is exported: for any
other model `export` returns None and PyTorch does the work.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

_EXPORT_LOCK = threading.Lock()
# Bumped when the exported graph's inputs or outputs change, so an old file is never reused.
GRAPH_FORMAT = 1
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class OnnxEncoder:
    """Mean-pooled, unit-length embeddings from an ONNX Runtime session and a fast tokenizer."""

    def __init__(self, session: Any, tokenizer: Any) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self._inputs = [i.name for i in session.get_inputs()]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        # sentence-transformers strips each text before tokenising; so do we
        encodings = self._tokenizer.encode_batch([t.strip() for t in texts])
        columns = {"input_ids": [e.ids for e in encodings],
                   "attention_mask": [e.attention_mask for e in encodings],
                   "token_type_ids": [e.type_ids for e in encodings]}
        feed = {name: np.asarray(columns[name], dtype=np.int64) for name in self._inputs}
        (vectors,) = self._session.run(None, feed)
        return np.ascontiguousarray(vectors, dtype=np.float32)


def fast_tokenizer(source: Path | Any, max_tokens: int) -> Any:
    """The model's `tokenizer.json` (from its folder, or copied from a loaded `tokenizers`
    tokenizer), truncating at `max_tokens` and padding to the longest text of a batch, as
    sentence-transformers tokenises."""
    from tokenizers import Tokenizer

    tokenizer = (Tokenizer.from_file(str(source / "tokenizer.json")) if isinstance(source, Path)
                 else Tokenizer.from_str(source.to_str()))
    tokenizer.enable_truncation(max_length=max_tokens)
    padding = tokenizer.padding or {}
    tokenizer.enable_padding(pad_id=int(padding.get("pad_id", 0)),
                             pad_token=str(padding.get("pad_token", "[PAD]")))
    return tokenizer


def model_fingerprint(model_dir: Path, memo_dir: Path | None = None) -> str:
    """A hash of every file of the model folder (names and contents).

    Reading 90 MB of weights costs a few tenths of a second, too much for every `newsqa ask`;
    so the content hash is remembered in `memo_dir` under the files' names, sizes and
    modification times, and recomputed only when one of those changes."""
    files = sorted(p for p in model_dir.rglob("*") if p.is_file())
    listing = [(str(p.relative_to(model_dir)), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    stat_key = hashlib.sha256(json.dumps([GRAPH_FORMAT, str(model_dir), listing]).encode()).hexdigest()
    memo = None if memo_dir is None else memo_dir / f"files-{stat_key[:32]}.sha256"
    if memo is not None and memo.is_file():
        return memo.read_text().strip()
    digest = hashlib.sha256(f"format {GRAPH_FORMAT}\0".encode())
    for path, (name, size, _) in zip(files, listing, strict=True):
        digest.update(f"{name}\0{size}\0".encode())
        with open(path, "rb") as file:
            while block := file.read(1 << 20):
                digest.update(block)
    value = digest.hexdigest()
    if memo is not None:
        _write_atomically(memo, value.encode())
    return value


def graph_file(graph_dir: Path, model_dir: Path) -> Path:
    """Where the ONNX graph of the model in `model_dir` is saved."""
    return graph_dir / f"{model_fingerprint(model_dir, graph_dir)[:32]}.onnx"


def load_saved(graph_dir: Path, model_dir: Path, max_tokens: int,
               threads: int | None = None) -> OnnxEncoder | None:
    """The saved graph of this model as an encoder, or None when none is saved (or it cannot be
    read: the caller exports a new one)."""
    path = graph_file(graph_dir, model_dir)
    if not path.is_file():
        return None
    try:
        return OnnxEncoder(_session(path.read_bytes(), threads), fast_tokenizer(model_dir, max_tokens))
    except Exception as exc:  # noqa: BLE001 - a damaged file is exported again
        log.warning("the saved ONNX graph %s could not be loaded (%s: %s); exporting it again",
                    path, type(exc).__name__, exc)
        return None


def plain_mean_pooling(model: SentenceTransformer) -> bool:
    """Whether `model` is Transformer -> mean Pooling (-> Normalize), the layout run directly."""
    kinds = [type(module).__name__ for module in model]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        return False
    return getattr(model[1], "pooling_mode", None) == "mean" and hasattr(model[0], "auto_model")


def export(model: SentenceTransformer, threads: int | None = None, model_dir: Path | None = None,
           graph_dir: Path | None = None) -> OnnxEncoder | None:
    """An ONNX Runtime copy of `model`, or None when the model's layout is not the plain one or
    the export fails (the caller keeps using PyTorch; the reason is logged). With `graph_dir`
    the graph is saved there for later processes (`load_saved`)."""
    if not plain_mean_pooling(model):
        log.info("model layout is not Transformer -> mean Pooling: questions stay on PyTorch")
        return None
    try:
        with _EXPORT_LOCK:
            return _export(model, threads, model_dir, graph_dir)
    except Exception as exc:  # noqa: BLE001 - any failure leaves the PyTorch path, which works
        log.warning("could not export the embedding model to ONNX (%s: %s); questions are "
                    "embedded with PyTorch instead", type(exc).__name__, exc)
        return None


def _export(model: SentenceTransformer, threads: int | None, model_dir: Path | None,
            graph_dir: Path | None) -> OnnxEncoder:
    import torch

    tokenizer = model.tokenizer
    names = [n for n in _INPUTS if n in tokenizer.model_input_names]
    sample = tokenizer(["a short sample question", "another"], padding=True, return_tensors="pt")
    # a copy: tracing leaves the traced module in a state where later eager calls outside
    # sentence-transformers' own encode return wrong vectors (seen with transformers 5.24)
    transformer: Any = copy.deepcopy(model[0].auto_model)
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
    max_tokens = model.max_seq_length
    assert max_tokens is not None
    if graph_dir is not None and model_dir is not None:
        graph_dir.mkdir(parents=True, exist_ok=True)
        saved = graph_file(graph_dir, model_dir)
        _write_atomically(saved, graph)
        log.info("saved the ONNX graph of the embedding model as %s", saved)
    # without a folder to read tokenizer.json from, a copy of the loaded tokenizer's
    source = model_dir if model_dir is not None else tokenizer.backend_tokenizer
    return OnnxEncoder(_session(graph, threads), fast_tokenizer(source, int(max_tokens)))


def _session(graph: bytes, threads: int | None) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    options.log_severity_level = 3  # errors only: the optimiser's notes are not for users
    # no busy-waiting between runs: on few cores it starves FAISS and BM25 of the CPU
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the file from another user's server
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
