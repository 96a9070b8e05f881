"""Which embedding path runs, what a cache hands back, and ingest embedding a folder in one go:
no model is loaded here (the real model's vectors are checked in test_onnx_questions.py)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

import index.bulk_encode as bulk_encode
from index.bulk_encode import choose_plan
from index.embed import HashingEmbedder, SentenceTransformerEmbedder
from index.embed_cache import CachedEmbedder
from index.onnx_encoder import graph_file
from qa.service import NewsQA
from qa.settings import Settings


def test_a_cpu_without_bf16_units_embeds_in_fp32_and_says_so(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(bulk_encode, "cpu_has_bf16_units", lambda: False)
    embedder = SentenceTransformerEmbedder()
    with caplog.at_level(logging.INFO, logger="index.embed"):
        assert embedder.plan.precision == "fp32"
    assert "fp32" in caplog.text and "without bf16" in caplog.text
    assert embedder.cache_name == "all-MiniLM-L6-v2"


def test_a_cpu_with_bf16_units_embeds_in_bf16(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_encode, "cpu_has_bf16_units", lambda: True)
    assert choose_plan("cpu", "auto").precision == "bf16"
    assert choose_plan("cpu", "fp32").precision == "fp32"  # asked for: kept
    assert choose_plan("cuda:0", "auto").precision == "fp16"
    assert choose_plan("cuda:0", "auto").batch_size > choose_plan("cpu", "auto").batch_size


def test_impossible_precisions_are_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="'fp16' needs a CUDA device"):
        choose_plan("cpu", "fp16")
    with pytest.raises(ValidationError, match="NEWSQA_EMBED_PRECISION='int4' is unknown"):
        Settings(embed_precision="int4")


class Recording(HashingEmbedder):
    """The hashing embedder, recording each call and naming its precision in `cache_name`."""

    def __init__(self, precision: str = "fp32") -> None:
        super().__init__()
        self.calls: list[int] = []
        self.precision = precision

    @property
    def cache_name(self) -> str:
        return self.name if self.precision == "fp32" else f"{self.name}@{self.precision}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        vectors = super().embed(texts)
        return vectors if self.precision == "fp32" else -vectors  # tell the two apart


def test_the_cache_never_hands_bf16_vectors_to_an_fp32_run(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    texts = ["Council approves the bridge budget.", "Rail strike called off."]
    fp32 = CachedEmbedder(Recording("fp32"), path)
    first = fp32.embed(texts)
    fp32.close()
    bf16 = CachedEmbedder(Recording("bf16"), path)
    assert np.allclose(bf16.embed(texts), -first)  # computed, not the fp32 rows
    assert (bf16.hits, bf16.misses) == (0, 2)
    bf16.close()
    again = CachedEmbedder(Recording("fp32"), path)
    assert np.allclose(again.embed(texts), first) and again.hits == 2
    again.close()


def _article(n: int, article_id: str | None = None) -> dict[str, object]:
    return {"id": article_id or f"story-{n}", "title": f"Story {n}",
            "body": " ".join(f"Sentence {k} of story {n} says the council met on day {k}."
                             for k in range(40))}


def test_a_folder_is_embedded_in_one_call_and_stored_as_one_by_one(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    for n in range(4):
        (folder / f"{n}.json").write_text(json.dumps(_article(n)))
    (folder / "2-bad.json").write_text(json.dumps({"title": "No body"}))
    together = Recording()
    service = NewsQA(Settings(data_dir=tmp_path / "a", embedder="hashing"), embedder=together)
    outcomes = list(service.ingest_paths([folder]))
    failed = [Path(o.path).name for o in outcomes if o.error]
    assert failed == ["2-bad.json"] and len(outcomes) == 5  # a bad file stops nothing
    single = NewsQA(Settings(data_dir=tmp_path / "b", embedder="hashing"), embedder=Recording())
    for n in range(4):
        single.ingest_paths([folder / f"{n}.json"]).__next__()
    assert len(together.calls) == 1 and together.calls[0] == len(service.collection) > 4
    assert len(service.collection) == len(single.collection)
    question = "What did the council say on day 7 of story 2?"
    assert ([p.chunk.text for p in service.search(question)]
            == [p.chunk.text for p in single.search(question)])
    service.close()
    single.close()


def test_a_second_version_in_the_same_folder_replaces_the_first(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    first, second = _article(1, "story"), _article(1, "story")
    second["body"] = "A corrected body: the council met on Tuesday."
    (folder / "a.json").write_text(json.dumps(first))
    (folder / "b.json").write_text(json.dumps(second))
    service = NewsQA(Settings(data_dir=tmp_path / "d", embedder="hashing"), embedder=Recording())
    results = [o.result for o in service.ingest_paths([folder])]
    assert results[1] is not None and results[1].replaced_sections == 1
    assert service.library.article("story").body == second["body"]
    assert len(service.collection) == 1
    service.close()


def test_the_saved_graph_is_keyed_by_the_model_files(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"hidden_size": 384}')
    (model / "weights.bin").write_bytes(b"\x00" * 1000)
    graphs = tmp_path / "onnx"
    before = graph_file(graphs, model)
    assert graph_file(graphs, model) == before  # the same files: the same graph
    (model / "weights.bin").write_bytes(b"\x01" * 1000)
    stat = (model / "weights.bin").stat()  # a later write: the clock may not have ticked yet
    os.utime(model / "weights.bin", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert graph_file(graphs, model) != before  # other weights: another graph
