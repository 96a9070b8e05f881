"""What only the Milvus engine has to say: whose documents a Milvus collection holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.collection import Batch, Collection, CollectionMismatch, MilvusTarget
from index.store import NewDoc
from tests.contract.test_engines import E0


def test_a_collection_filled_from_another_store_is_refused(milvus_uri: str, tmp_path: Path) -> None:
    first = Collection(tmp_path / "one", "fake", 4, milvus=MilvusTarget(milvus_uri, "owned"))
    try:
        first.write(Batch(docs=[NewDoc("a|body|h|0", "Bridge closed", E0, time=1.0)]))
        with pytest.raises(CollectionMismatch, match="'owned'.*another records store.*"
                                                     "NEWSQA_MILVUS_COLLECTION"):
            Collection(tmp_path / "two", "fake", 4, milvus=MilvusTarget(milvus_uri, "owned"))
        from index.milvus import MilvusEngine

        with pytest.raises(CollectionMismatch, match="dimension 4, but the configured model has 8"):
            MilvusEngine(milvus_uri, "owned", 8, first._store_id())
    finally:
        first.engine.drop()  # type: ignore[attr-defined]
        first.close()
