"""The transformer compiled by TorchInductor for bulk embedding on a CPU, or the reason it is not.

On a CPU with bf16 matrix units, bf16 autocast leaves the layer norms, GELU, softmax and the
casts between them as dozens of small eager kernels per layer; TorchInductor fuses them, and
`freezing` folds the weights into oneDNN's prepacked bf16 layout. The vectors stay those of the
eager bf16 path (cosine >= 0.9999 to fp32, see docs/performance.md).

Compiling costs tens of seconds per input shape on two cores, so it is done only for bulk work
(once an encoder has embedded `COMPILE_FROM` texts) and only for a few shapes: `BulkEncoder` pads every
batch to one of `LENGTH_BUCKETS` tokens and a fixed number of rows. The compiled kernels are
kept in the data directory (`TORCHINDUCTOR_CACHE_DIR`), so a later process reuses them.

Anything that goes wrong (no C++ compiler, a compile error) is logged with its reason and the
eager bf16 path takes over; compiling never makes an ingest fail.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Token lengths a batch is padded up to (the model reads at most 256): one compiled graph each.
LENGTH_BUCKETS = (64, 128, 192, 256)
# Texts an encoder embeds eagerly before it compiles: compiling costs ~15-45 s on two cores and
# saves ~30% of each later batch, so it pays for bulk work only (an ingest groups ~500 chunks a
# call: a small ingest never compiles, a large one after its first few groups).
COMPILE_FROM = 2048


@dataclass(frozen=True)
class Compiled:
    """The module to call (compiled, or the eager one), and which path that is."""

    module: Any
    path: str


def cxx_compiler() -> str | None:
    """The C++ compiler TorchInductor would call (its `CXX`, else the usual names), if any."""
    for name in (os.environ.get("CXX"), "g++", "c++", "clang++"):
        if name and shutil.which(name):
            return name
    return None


def compile_transformer(transformer: Any, cache_dir: Path | None,
                        compile_fn: Callable[..., Any] | None = None) -> Compiled:
    """`transformer` compiled with freezing, or itself with the reason it could not be.

    `compile_fn` is `torch.compile` unless a test swaps it."""
    if cxx_compiler() is None:
        return Compiled(transformer, "bf16 autocast, eager (no C++ compiler for TorchInductor)")
    import torch

    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        # set, not defaulted: torch writes its own default here the first time it looks
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(cache_dir)
    compile_fn = compile_fn or torch.compile
    try:
        module = compile_fn(transformer, dynamic=False, options={"freezing": True})
    except Exception as exc:  # noqa: BLE001 - any failure means the eager path, said why
        return Compiled(transformer, f"bf16 autocast, eager (torch.compile failed: {exc})")
    return Compiled(module, "bf16 autocast + TorchInductor (freezing)")
