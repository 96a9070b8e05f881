"""Questions embedded by the ONNX Runtime copy of the model: the same vectors as PyTorch's, used
only after a warm-up, and a model it cannot export stays on PyTorch."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from index.embed import SentenceTransformerEmbedder
from index.onnx_encoder import export

pytestmark = pytest.mark.e2e

TEXTS = [
    "How much funding did ICE receive in 2025?",
    "Which firm won the Quay Street Bridge contract?",
    "x",
    "word " * 600,  # past the model's 256 tokens: both runtimes truncate alike
]


@pytest.fixture(scope="module")
def torch_only(real_embedder: SentenceTransformerEmbedder) -> SentenceTransformerEmbedder:
    reference = SentenceTransformerEmbedder(onnx_for_small_calls=False)
    reference.model = real_embedder.model
    return reference


@pytest.fixture(scope="module")
def warmed(real_embedder: SentenceTransformerEmbedder) -> SentenceTransformerEmbedder:
    fast = SentenceTransformerEmbedder()
    fast.model = real_embedder.model  # share the loaded weights; export is what is tested
    fast.warm_up()
    return fast


def test_onnx_vectors_are_the_models_vectors(
        warmed: SentenceTransformerEmbedder, torch_only: SentenceTransformerEmbedder) -> None:
    assert warmed.fast_path and not torch_only.fast_path
    for text in TEXTS:  # one question at a time, as the service asks
        np.testing.assert_allclose(warmed.embed([text]), torch_only.embed([text]), atol=1e-5)
    np.testing.assert_allclose(warmed.embed(TEXTS), torch_only.embed(TEXTS), atol=1e-5)
    assert np.allclose(np.linalg.norm(warmed.embed(TEXTS), axis=1), 1.0, atol=1e-5)


def test_large_batches_stay_on_pytorch(warmed: SentenceTransformerEmbedder,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(texts: list[str]) -> np.ndarray:
        raise AssertionError(f"{len(texts)} texts went to ONNX Runtime")

    monkeypatch.setattr(warmed._fast, "embed", refuse)
    assert warmed.embed(TEXTS * 3).shape == (12, 384)  # over `small_call`: PyTorch


def test_switched_off_there_is_no_export(real_embedder: SentenceTransformerEmbedder) -> None:
    cold = SentenceTransformerEmbedder(onnx_for_small_calls=False)  # NEWSQA_ONNX_QUESTIONS=false
    cold.model = real_embedder.model
    cold.warm_up()
    assert not cold.fast_path


def test_only_the_plain_mean_pooling_layout_is_exported(caplog: pytest.LogCaptureFixture) -> None:
    class Transformer:
        auto_model = None

    class Pooling:
        pooling_mode = "cls"

    with caplog.at_level(logging.INFO, logger="index.onnx_encoder"):
        assert export([Transformer(), Pooling()]) is None  # type: ignore[arg-type]
    assert "PyTorch" in caplog.text


def test_a_model_it_cannot_export_stays_on_pytorch(
        real_embedder: SentenceTransformerEmbedder, torch_only: SentenceTransformerEmbedder,
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    import index.onnx_encoder as onnx_encoder

    def broken(*_: object) -> None:
        raise RuntimeError("exporter missing")

    monkeypatch.setattr(onnx_encoder, "_export", broken)
    with caplog.at_level(logging.WARNING, logger="index.onnx_encoder"):
        assert export(real_embedder.model) is None
    assert "exporter missing" in caplog.text and "PyTorch" in caplog.text
    embedder = SentenceTransformerEmbedder()
    embedder.model = real_embedder.model
    embedder.warm_up()
    assert not embedder.fast_path
    np.testing.assert_allclose(embedder.embed(TEXTS[:1]), torch_only.embed(TEXTS[:1]))
