"""Parity with the real model: on the shared sample, the demo corpus and the RealTimeQA CI
fixture, the Milvus-backed service cites the same passage first as the embedded one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from eval.layouts import load_dataset
from eval.run import to_article
from index.embed import SentenceTransformerEmbedder
from index.embed_cache import CachedEmbedder
from qa.models import Answer
from qa.service import NewsQA
from qa.settings import Settings
from tests.conftest import DEMO, ROOT, require_sample
from tests.test_e2e import FUNDING

pytestmark = pytest.mark.e2e
FIXTURE = ROOT / "tests" / "fixtures" / "eval_realtimeqa"
QUESTIONS = [FUNDING, "What is the best recipe for sourdough bread?",  # tests/test_e2e.py
             "How many people were detained in immigration raids?",
             "When did Storm Elena make landfall?", "Who won the harbour bridge contract?",
             "Is the water in Riverton safe to drink?"]


def top_citation(answer: Answer) -> tuple[str, str, int | None, str] | None:
    if answer.abstained or not answer.citations:
        return None
    first = answer.citations[0]
    return first.article_id, first.section.kind, first.section.index, first.quote


@pytest.fixture
def services(tmp_path: Path, milvus_uri: str,
             real_embedder: SentenceTransformerEmbedder) -> Iterator[tuple[NewsQA, NewsQA]]:
    cached = CachedEmbedder(real_embedder, tmp_path / "vectors.sqlite3")  # each text embedded once
    embedded = NewsQA(Settings(data_dir=tmp_path / "embedded"), embedder=cached)
    milvus = NewsQA(Settings(data_dir=tmp_path / "milvus", milvus_uri=milvus_uri,
                             milvus_collection="parity"), embedder=cached)
    try:
        yield embedded, milvus
    finally:
        milvus.collection.engine.drop()  # type: ignore[attr-defined]
        milvus.close()
        embedded.close()
        cached.close()


def test_milvus_cites_what_the_embedded_engine_cites(services: tuple[NewsQA, NewsQA]) -> None:
    dataset = load_dataset(FIXTURE)
    questions = QUESTIONS + [q.question for q in dataset.questions]
    for service in services:
        outcomes = list(service.ingest_paths([require_sample(), DEMO]))
        assert all(o.error is None for o in outcomes), outcomes
        for item in dataset.articles:
            if item.text.strip():
                service.ingest(to_article(item, service.settings.zone))
    embedded, milvus = services
    assert len(milvus.collection) == len(embedded.collection) > 30
    cited = 0
    for question in questions:
        expected = top_citation(embedded.ask(question).answer)
        assert top_citation(milvus.ask(question).answer) == expected, question
        for mode in ("dense", "bm25", "hybrid"):
            assert [p.chunk.text for p in milvus.search(question, 5, mode)][:1] == \
                [p.chunk.text for p in embedded.search(question, 5, mode)][:1], (mode, question)
        cited += expected is not None
    assert cited >= 4  # the comparison is not between two abstentions
