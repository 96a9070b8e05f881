"""Questions embedded by the ONNX Runtime copy of the model: the same vectors as PyTorch's, used
only after a warm-up, and a model it cannot export stays on PyTorch."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

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
    reference = SentenceTransformerEmbedder(onnx_for_small_calls=False, precision="fp32")
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


NEWS = ["City council approves $12 million for the Quay Street Bridge repairs after a long debate.",
        "Update: the rail strike was called off at 6 p.m. after unions accepted a 4% raise.",
        "Officials said 2,300 homes were still without power on Tuesday morning."]


def test_bulk_fp32_gives_the_models_own_vectors(real_embedder: SentenceTransformerEmbedder) -> None:
    fp32 = SentenceTransformerEmbedder(precision="fp32", onnx_for_small_calls=False)
    fp32.model = real_embedder.model
    texts = NEWS * 4 + TEXTS  # more than `small_call`: the bulk path, length-sorted
    expected = real_embedder.model.encode(texts, normalize_embeddings=True)
    np.testing.assert_allclose(fp32.embed(texts), expected, atol=1e-5)


def test_the_fast_path_keeps_every_vector(real_embedder: SentenceTransformerEmbedder) -> None:
    fast = SentenceTransformerEmbedder(onnx_for_small_calls=False)  # auto: bf16 where AMX is
    fast.model = real_embedder.model
    texts = NEWS * 4 + TEXTS
    expected = real_embedder.model.encode(texts, normalize_embeddings=True)
    cosine = np.sum(fast.embed(texts) * expected, axis=1)
    assert cosine.min() >= 0.999, (fast.plan, cosine.min())


def test_a_saved_graph_embeds_questions_without_torch(
        real_embedder: SentenceTransformerEmbedder, tmp_path: Path) -> None:
    graphs = tmp_path / "onnx"
    first = SentenceTransformerEmbedder(graph_dir=graphs)
    first.model = real_embedder.model
    first.warm_up()  # exports and saves the graph
    assert first.fast_path and list(graphs.glob("*.onnx"))
    script = ("import json, sys; from pathlib import Path; "
              "from index.embed import SentenceTransformerEmbedder as E; "
              f"e = E(graph_dir=Path({str(graphs)!r})); e.warm_up(); "
              f"v = e.embed({NEWS[:1]!r}); "
              "print(json.dumps({'torch': 'torch' in sys.modules, 'vector': v[0].tolist()}))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).resolve().parent.parent)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["torch"] is False
    expected = real_embedder.model.encode(NEWS[:1], normalize_embeddings=True)[0]
    np.testing.assert_allclose(np.asarray(out["vector"]), expected, atol=1e-5)
