"""Many texts (an ingest, a re-index) through the transformer as fast as the hardware allows.

Texts are sorted by length and cut into batches of similar length, so padding costs next to
nothing; a background thread tokenises the next batch while the model runs this one. The model
runs in the precision the hardware does fastest while keeping the vectors (cosine >= 0.9999 to
fp32 on news chunks, see docs/performance.md):

- `bf16` on a CPU with bf16 matrix units (AMX or AVX-512 BF16): PyTorch autocast, so the matrix
  products run in bf16 and the rest (layer norms, softmax, pooling) in fp32. About 2x fp32.
- `fp16` on a CUDA GPU: the whole model in half precision, large batches.
- `fp32` anywhere else, and whenever asked for.

Mean pooling and normalisation always run in fp32. Only the plain Transformer -> mean Pooling
layout is run this way; any other model goes through sentence-transformers' own `encode`.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
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

    def __init__(self, model: SentenceTransformer, plan: Plan) -> None:
        import torch

        self.plan = plan
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
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self._dim()), dtype=np.float32)
        for rows, vectors in self._batches([texts[i] for i in order], order):
            out[rows] = vectors
        return out

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
        if self.plan.device != "cpu":
            features = {k: v.pin_memory().to(self.plan.device, non_blocking=True)
                        for k, v in features.items()}
        return dict(features)

    def _forward(self, features: dict[str, Any]) -> np.ndarray:
        torch = self._torch
        names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in features]
        with torch.inference_mode(), torch.autocast(
                "cpu", dtype=torch.bfloat16, enabled=self.plan.precision == "bf16"):
            tokens = self._transformer(**{n: features[n] for n in names}).last_hidden_state
        mask = features["attention_mask"].unsqueeze(-1).to(torch.float32)
        summed = (tokens.to(torch.float32) * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        pooled = torch.nn.functional.normalize(summed, p=2.0, dim=1)
        return np.asarray(pooled.cpu().numpy(), dtype=np.float32)

    def _encode_other(self, texts: Sequence[str]) -> np.ndarray:
        torch = self._torch
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.plan.precision == "bf16"):
            vectors = self._model.encode(list(texts), batch_size=self.plan.batch_size,
                                         normalize_embeddings=True, convert_to_numpy=True,
                                         show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)
