"""Bulk embedding compiled by TorchInductor: the same vectors as fp32, only for bulk work, and
the eager path (said so in the log) whenever compiling is impossible or fails."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import index.compiled_encode as compiled_encode
from index.bulk_encode import BulkEncoder, choose_plan
from index.embed import SentenceTransformerEmbedder

pytestmark = pytest.mark.e2e

TEXTS = [
    "Council approves the Quay Street Bridge budget after a late vote.",
    "Rail strike called off.",
    "x",
    "The storm cut power to 40,000 homes on Tuesday night; crews expect to restore most by noon.",
    "Which firm won the contract, and when does work start?",
]
NEVER = 10**9


@pytest.fixture(scope="module")
def fp32(real_embedder: SentenceTransformerEmbedder) -> np.ndarray:
    return np.asarray(real_embedder.model.encode(TEXTS, normalize_embeddings=True))


def _encoder(real_embedder: SentenceTransformerEmbedder, tmp_path: Path,
             compile_from: int) -> BulkEncoder:
    return BulkEncoder(real_embedder.model, choose_plan("cpu", "bf16", 8),
                       compile_dir=tmp_path / "inductor", compile_from=compile_from)


def _cosines(vectors: np.ndarray, reference: np.ndarray) -> np.ndarray:
    return np.sum(vectors * reference, axis=1)


def test_each_bulk_path_gives_the_fp32_vectors(real_embedder: SentenceTransformerEmbedder,
                                               fp32: np.ndarray, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)  # restored after the test
    eager = _encoder(real_embedder, tmp_path, NEVER)
    compiled = _encoder(real_embedder, tmp_path, 1)
    assert _cosines(eager.encode(TEXTS), fp32).min() >= 0.999
    assert eager.path == "bf16 autocast, eager"
    assert _cosines(compiled.encode(TEXTS), fp32).min() >= 0.999
    assert compiled.path == "bf16 autocast + TorchInductor (freezing)"
    assert any((tmp_path / "inductor").iterdir())  # kernels kept for the next process


def test_a_compile_that_fails_falls_back_and_says_so(
        real_embedder: SentenceTransformerEmbedder, fp32: np.ndarray, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import torch

    def broken(module: Any, **_: Any) -> Any:
        def run(**__: Any) -> Any:
            raise RuntimeError("C++ compile failed: cc1plus killed")
        return run

    monkeypatch.setattr(torch, "compile", broken)
    encoder = _encoder(real_embedder, tmp_path, 1)
    with caplog.at_level(logging.WARNING, logger="index.bulk_encode"):
        vectors = encoder.encode(TEXTS)
    assert _cosines(vectors, fp32).min() >= 0.999  # every text embedded, by the eager path
    assert encoder.path == "bf16 autocast, eager (TorchInductor failed: RuntimeError)"
    assert "cc1plus killed" in caplog.text
    assert _cosines(encoder.encode(TEXTS), fp32).min() >= 0.999  # and it stays eager


def test_without_a_cxx_compiler_it_stays_eager_and_says_why(
        real_embedder: SentenceTransformerEmbedder, fp32: np.ndarray, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(compiled_encode, "cxx_compiler", lambda: None)
    encoder = _encoder(real_embedder, tmp_path, 1)
    with caplog.at_level(logging.WARNING, logger="index.bulk_encode"):
        vectors = encoder.encode(TEXTS)
    assert _cosines(vectors, fp32).min() >= 0.999
    assert "no C++ compiler" in encoder.path and "no C++ compiler" in caplog.text


def test_small_calls_and_fp32_are_never_compiled(real_embedder: SentenceTransformerEmbedder,
                                                 tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("compiled a call that does not pay for it")

    monkeypatch.setattr(torch, "compile", refuse)
    small = _encoder(real_embedder, tmp_path, len(TEXTS) * 2)
    small.encode(TEXTS)  # below the threshold: eager
    assert small.path == "bf16 autocast, eager"
    fp32_plan = BulkEncoder(real_embedder.model, choose_plan("cpu", "fp32"), compile_from=1)
    fp32_plan.encode(TEXTS)
    assert fp32_plan.path == "fp32"
    monkeypatch.setattr(compiled_encode, "COMPILE_FROM", 2)  # bulk work, but compiling is off:
    off = SentenceTransformerEmbedder(precision="bf16", compile_bulk=False,
                                      onnx_for_small_calls=False)
    off.model = real_embedder.model
    assert off.embed(TEXTS * 2).shape == (len(TEXTS) * 2, 384)


def test_ingest_says_which_path_embedded_the_chunks(tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    folder = tmp_path / "articles"
    folder.mkdir()
    for n in range(3):
        body = " ".join(f"Sentence {k} of story {n}: the council met on day {k} and voted."
                        for k in range(60))
        (folder / f"{n}.json").write_text(json.dumps({"id": f"s{n}", "title": f"Story {n}",
                                                      "body": body}))
    env = {**os.environ, "NEWSQA_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-m", "api.cli", "ingest", str(folder)], env=env,
                          check=True, capture_output=True, text=True)
    last = done.stdout.strip().splitlines()[-1]
    assert last in ("chunks embedded by: bf16 autocast, eager", "chunks embedded by: fp32"), last
