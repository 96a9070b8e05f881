"""What only the Milvus engine has to say: whose documents a Milvus collection holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.collection import Batch, Collection, CollectionMismatch, MilvusTarget
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
