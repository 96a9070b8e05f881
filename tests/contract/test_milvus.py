"""What only the Milvus engine has to say: whose documents a Milvus collection holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.collection import Batch, Collection, CollectionMismatch, MilvusTarget
from index.errors import DocumentRefused
from index.store import NewDoc, put_record
from tests.contract.test_engines import E0


def test_a_collection_filled_from_another_store_is_refused(milvus_uri: str, tmp_path: Path) -> None:
    first = Collection(tmp_path / "one", "fake", 4, milvus=MilvusTarget(milvus_uri, "owned"))
    try:
        first.write(Batch(docs=[NewDoc("a|body|h|0", "Bridge closed", E0, time=1.0)]))
        with pytest.raises(CollectionMismatch, match="'owned'.*another records store.*"
                                                     "NEWSQA_MILVUS_COLLECTION"):
            Collection(tmp_path / "two", "fake", 4, milvus=MilvusTarget(milvus_uri, "owned"))
        # the store re-embedded with another model (as newsqa reindex leaves it): Milvus is
        # emptied and refilled from the store's new vectors
        with first.store.transaction() as conn:
            put_record(conn, "_collection", "embedder", {"name": "fake-2", "dim": 4})
    finally:
        first.close()
    again = Collection(tmp_path / "one", "fake-2", 4, milvus=MilvusTarget(milvus_uri, "owned"))
    try:
        described = again.engine._client.describe_collection("owned")  # type: ignore[attr-defined]
        assert "model fake-2" in described["description"]
        assert len(again) == 1
        assert [h.id for h in again.search("bridge", E0, 5, "hybrid")] == again.ids()
    finally:
        again.engine.drop()  # type: ignore[attr-defined]
        again.close()


def test_a_document_milvus_cannot_hold_is_refused_before_it_is_stored(
        milvus_uri: str, tmp_path: Path) -> None:
    """Milvus's text field holds 65,535 bytes: an over-long search text (a huge title) was
    committed to the store, Milvus refused it, and every later catch-up sent it again, so every
    search and write failed from then on, and the server could not start."""
    collection = Collection(tmp_path, "fake", 4, milvus=MilvusTarget(milvus_uri, "too_long"))
    try:
        collection.write(Batch(docs=[NewDoc("a|body|h|0", "Bridge closed", E0, time=1.0)]))
        huge = " ".join(f"word{i}" for i in range(15_000))
        with pytest.raises(DocumentRefused, match=r"'b\|body\|h\|0' cannot be indexed.*65,535"):
            collection.write(Batch(docs=[NewDoc("b|body|h|0", huge, E0, time=2.0)]))
        assert collection.store.count() == 1
        assert [h.id for h in collection.search("bridge", E0, 5, "bm25")] == collection.ids()
        collection.write(Batch(docs=[NewDoc("c|body|h|0", "Ferry timetable", E0, time=3.0)]))
        assert len(collection) == 2 == collection.store.count()
    finally:
        collection.engine.drop()  # type: ignore[attr-defined]
        collection.close()


def test_an_article_milvus_cannot_hold_is_a_400_and_the_server_keeps_answering(
        milvus_uri: str, tmp_path: Path) -> None:
    """Long words pass the model's token count as one token each: a title of them made every
    chunk's search text too long for Milvus (a 500, then a 500 for every ask and write after)."""
    import random

    from api.app import create_app
    from qa.service import NewsQA
    from qa.settings import Settings
    from tests.conftest import HashingEmbedder, local_client

    settings = Settings(data_dir=tmp_path / "data", milvus_uri=milvus_uri,
                        milvus_collection="long_title")
    service = NewsQA(settings, embedder=HashingEmbedder())
    article = {"id": "ferry", "title": "Ferry Workers Strike", "published_at": "2026-03-14",
               "body": "Ferry workers walked out on Monday after talks over pay collapsed."}
    letters = random.Random(1)
    title = " ".join("".join(letters.choice("abcdefghijklmnop") for _ in range(800))
                     for _ in range(100))
    try:
        with local_client(create_app(settings, service), raise_server_exceptions=False) as client:
            assert client.post("/v1/articles", json=article).status_code == 201
            refused = client.post("/v1/articles", json=dict(article, id="long", title=title))
            assert refused.status_code == 400 and "'long'" in refused.json()["detail"]
            asked = client.post("/v1/ask", json={"question": "Why did ferry workers walk out?"})
            assert asked.status_code == 200 and "walked out" in asked.json()["answer"]
            assert client.get("/v1/articles/long").status_code == 404
            assert client.post("/v1/articles", json=dict(article, id="ferry-2")).status_code == 201
    finally:
        service.library.collection.engine.drop()  # type: ignore[attr-defined]
        service.close()


def test_a_store_that_already_holds_an_over_long_document_still_opens_on_milvus(
        milvus_uri: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A store filled before Milvus refused such documents (or by the embedded engine, which
    holds any length) is moved to Milvus: it opens and searches everything else, and says which
    document Milvus cannot hold and what to do, on every start until it is fixed."""
    embedded = Collection(tmp_path, "fake", 4)
    huge = " ".join(f"word{i}" for i in range(15_000))
    embedded.write(Batch(docs=[NewDoc("a|body|h|0", "Bridge closed", E0, time=1.0),
                               NewDoc("long|body|h|0", huge, E0, time=2.0),
                               NewDoc("c|body|h|0", "Ferry timetable", E0, time=3.0)]))
    embedded.close()
    target = MilvusTarget(milvus_uri, "held_too_long")
    moved = Collection(tmp_path, "fake", 4, milvus=target)
    try:
        assert len(moved) == 2 and moved.store.count() == 3
        assert len(moved.search("ferry", E0, 5, "bm25")) == 1
        warned = [r.getMessage() for r in caplog.records if "leaves out" in r.getMessage()]
        assert len(warned) == 1 and "document 2:" in warned[0] and "65,535" in warned[0]
        assert "'word0 word1" in warned[0] and "newsqa delete" in warned[0]
        moved.close()
        caplog.clear()
        moved = Collection(tmp_path, "fake", 4, milvus=target)
        assert len(moved) == 2 and "document 2:" in caplog.text
    finally:
        moved.engine.drop()  # type: ignore[attr-defined]
        moved.close()
