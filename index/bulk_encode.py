"""Many texts (an ingest, a re-index) through the transformer as fast as the hardware allows.

Texts are sorted by length and cut into batches of similar length, so padding costs next to
nothing; a background thread tokenises the next batch while the model runs this one. The model
runs in the precision the hardware does fastest while keeping the vectors (cosine >= 0.9999 to
fp32 on news chunks, see docs/performance.md):

- `bf16` on a CPU with bf16 matrix units (AMX or AVX-512 BF16): PyTorch autocast, so the matrix
  products run in bf16 and the rest (layer norms, softmax, pooling) in fp32. About 2x fp32.
- `fp16` on a CUDA GPU: the whole model in half precision, large batches.
- `fp32` anywhere else, and whenever asked for.

In bf16 on a CPU, bulk work (once `COMPILE_FROM` texts have been embedded: a large ingest, a
re-index, an evaluation) runs the transformer compiled by TorchInductor (index/compiled_encode.py), each batch
padded to one of a few fixed shapes so the compiled graphs are reused; the path taken is logged.

Mean pooling and normalisation always run in fp32. Only the plain Transformer -> mean Pooling
layout is run this way; any other model goes through sentence-transformers' own `encode`.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

Precision = Literal["fp32", "bf16", "fp16"]
# What a user may ask for: a precision, or "auto" (the fastest that keeps the vectors here).
PRECISION_CHOICES = ("auto", "fp32", "bf16", "fp16")


@dataclass(frozen=True)
class Plan:
    """How bulk embedding runs on this machine, and why."""

    device: str
    precision: Precision
    batch_size: int
    reason: str


def cpu_has_bf16_units() -> bool:
    """Whether this CPU multiplies bf16 matrices in hardware (AMX tiles or AVX-512 BF16)."""
    import torch

    cpu = torch.cpu
    return bool(getattr(cpu, "_is_amx_tile_supported", lambda: False)()
                or getattr(cpu, "_is_avx512_bf16_supported", lambda: False)())


def choose_plan(device: str, requested: str, batch_size: int | None = None) -> Plan:
    """The precision and batch size for `device`; `requested` is one of PRECISION_CHOICES."""
    if requested not in PRECISION_CHOICES:
        raise ValueError(f"embedding precision {requested!r} is unknown; use one of "
                         f"{', '.join(PRECISION_CHOICES)}")
    gpu = device.startswith("cuda")
    if requested == "auto":
        if gpu:
            precision: Precision = "fp16"
            reason = "CUDA GPU: half precision"
        elif cpu_has_bf16_units():
            precision, reason = "bf16", "CPU with bf16 matrix units (AMX / AVX-512 BF16): bf16 autocast"
        else:
            precision, reason = "fp32", "CPU without bf16 matrix units: fp32 (bf16 would be slower)"
    else:
        precision, reason = requested, "asked for"  # type: ignore[assignment]
    if precision == "fp16" and not gpu:
        raise ValueError("embedding precision 'fp16' needs a CUDA device; use 'bf16' or 'fp32' "
                         "on a CPU")
    return Plan(device, precision, batch_size or (1024 if gpu else 128), reason)


class BulkEncoder:
    """Unit-length embeddings of many texts, length-sorted, tokenised ahead of the model."""

    def __init__(self, model: SentenceTransformer, plan: Plan, compile_dir: Path | None = None,
                 compile_from: int | None = None) -> None:
        """`compile_dir` keeps TorchInductor's kernels; `compile_from`: after how many texts the
        transformer is compiled (default `COMPILE_FROM`; bf16 on a CPU only)."""
        import torch

        from index.compiled_encode import COMPILE_FROM

        self.plan = plan
        self.compile_dir = compile_dir
        self.compile_from = COMPILE_FROM if compile_from is None else compile_from
        self._compiled: Any = None  # the compiled transformer, once a large call has made it
        self._compile_failed = False
        self._embedded = 0  # texts of all calls so far: compiling pays for bulk work only
        self._use_compiled = False
        self.path: str = "bf16 autocast, eager" if plan.precision == "bf16" else plan.precision
        self._model = model
        from index.onnx_encoder import plain_mean_pooling

        self._plain = plain_mean_pooling(model)
        transformer: Any = model[0].auto_model if self._plain else None
        if transformer is not None and plan.precision == "fp16":
            import copy

            transformer = copy.deepcopy(transformer).half()
        self._transformer = transformer
        self._tokenizer = model.tokenizer
        limit = model.max_seq_length
        assert limit is not None
        self._max_tokens = int(limit)
        self._torch = torch

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not self._plain:
            return self._encode_other(texts)
        self._use_compiled = self._compiles(len(texts))
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self._dim()), dtype=np.float32)
        for rows, vectors in self._batches([texts[i] for i in order], order):
            out[rows] = vectors
        return out

    def _compiles(self, n_texts: int) -> bool:
        """Whether this call runs the compiled transformer (compiling it now if need be): once
        this encoder's calls have brought `compile_from` texts, so a small ingest never pays."""
        self._embedded += n_texts
        if (self.plan.precision != "bf16" or self.plan.device != "cpu" or self._compile_failed
                or self._embedded < self.compile_from):
            return False
        if self._compiled is None:
            from index.compiled_encode import compile_transformer

            made = compile_transformer(self._transformer, self.compile_dir)
            self._compile_failed = made.module is self._transformer
            self._compiled = None if self._compile_failed else made.module
            self.path = made.path
            (log.warning if self._compile_failed else log.info)("bulk embedding path: %s",
                                                                made.path)
        return self._compiled is not None

    def _dim(self) -> int:
        dim = self._model.get_embedding_dimension()
        assert dim is not None
        return int(dim)

    def _batches(self, ordered: list[str], order: list[int]) -> Iterator[tuple[list[int], np.ndarray]]:
        size = self.plan.batch_size
        spans = [(start, min(start + size, len(ordered))) for start in range(0, len(ordered), size)]
        for (start, end), features in zip(spans, self._tokenised(ordered, spans), strict=True):
            yield order[start:end], self._forward(features)

    def _tokenised(self, ordered: list[str], spans: list[tuple[int, int]]) -> Iterator[dict[str, Any]]:
        """Each batch's model input, tokenised by a background thread one batch ahead."""
        ready: queue.Queue[dict[str, Any] | BaseException] = queue.Queue(maxsize=2)

        def produce() -> None:
            try:
                for start, end in spans:
                    ready.put(self._tokenise(ordered[start:end]))
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
                ready.put(exc)

        worker = threading.Thread(target=produce, name="newsqa-tokenise", daemon=True)
        worker.start()
        for _ in spans:
            item = ready.get()
            if isinstance(item, BaseException):
                raise item
            yield item
        worker.join()

    def _tokenise(self, texts: list[str]) -> dict[str, Any]:
        features = self._tokenizer([t.strip() for t in texts], padding=True, truncation=True,
                                   max_length=self._max_tokens, return_tensors="pt")
        if self._use_compiled:
            features = _to_bucket(dict(features), self.plan.batch_size, self._max_tokens)
        if self.plan.device != "cpu":
            features = {k: v.pin_memory().to(self.plan.device, non_blocking=True)
                        for k, v in features.items()}
        return dict(features)

    def _forward(self, features: dict[str, Any]) -> np.ndarray:
        torch = self._torch
        names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in features]
        inputs: dict[str, Any] = {n: features[n] for n in names}
        rows = int(features.pop("rows", len(features["input_ids"])))
        with torch.inference_mode(), torch.autocast(
                "cpu", dtype=torch.bfloat16, enabled=self.plan.precision == "bf16"):
            tokens = self._run(inputs).last_hidden_state[:rows]
        features = {k: v[:rows] for k, v in features.items()}
        mask = features["attention_mask"].unsqueeze(-1).to(torch.float32)
        summed = (tokens.to(torch.float32) * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        pooled = torch.nn.functional.normalize(summed, p=2.0, dim=1)
        return np.asarray(pooled.cpu().numpy(), dtype=np.float32)

    def _run(self, inputs: dict[str, Any]) -> Any:
        """The compiled transformer when this call uses it; the eager one if compiling fails."""
        if self._use_compiled and self._compiled is not None:
            try:
                return self._compiled(**inputs)
            except Exception as exc:  # noqa: BLE001 - a compile error: eager takes over, said why
                self._compiled, self._compile_failed, self._use_compiled = None, True, False
                self.path = f"bf16 autocast, eager (TorchInductor failed: {type(exc).__name__})"
                log.warning("bulk embedding path: %s: %s", self.path, exc)
        return self._transformer(**inputs)

    def _encode_other(self, texts: Sequence[str]) -> np.ndarray:
        torch = self._torch
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.plan.precision == "bf16"):
            vectors = self._model.encode(list(texts), batch_size=self.plan.batch_size,
                                         normalize_embeddings=True, convert_to_numpy=True,
                                         show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


def _to_bucket(features: dict[str, Any], rows: int, max_tokens: int) -> dict[str, Any]:
    """The batch padded to `rows` rows and the next of `LENGTH_BUCKETS` tokens, so a compiled
    graph is reused; padded positions are masked out (they change no real row's vector) and
    padded rows are dropped after the model (`features["rows"]` says how many are real)."""
    import torch

    from index.compiled_encode import LENGTH_BUCKETS

    ids = features["input_ids"]
    real, length = ids.shape
    target = next((b for b in LENGTH_BUCKETS if b >= length), max(length, max_tokens))
    rows = max(rows, real)
    out: dict[str, Any] = {"rows": real}
    for name, value in features.items():
        padded = torch.zeros((rows, target), dtype=value.dtype)
        padded[:real, :length] = value
        if name == "attention_mask":
            padded[real:, 0] = 1  # a padded row attends to one token, so nothing divides by 0
        out[name] = padded
    return out
