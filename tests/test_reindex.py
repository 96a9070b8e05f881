"""`newsqa reindex` on a local Ray cluster: every stored text re-embedded by model-holding
actors, written back in batches, resumable after the run is cut off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from index.embed import HashingEmbedder
from index.reindex import ReindexPlan, pending_count, reindex
from index.store import NewDoc, Store, insert_docs, put_record

ray = pytest.importorskip("ray")

TEXTS = [f"Story {i}: the council met on day {i} about the {('bridge', 'budget', 'school')[i % 3]}."
         for i in range(60)]
PLAN = ReindexPlan(workers=2, batch=8, write_batch=16)


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    yield
    if ray.is_initialized():
        ray.shutdown()


def _store(path: Path) -> Store:
    store = Store.at_path(path)
    with store.transaction() as conn:
        insert_docs(conn, [NewDoc(f"a|{i}", text, np.zeros(3, dtype=np.float32))
                           for i, text in enumerate(TEXTS)])
        put_record(conn, "_collection", "embedder", {"name": "old-model", "dim": 3})
    return store


class Cut(Exception):
    pass


def test_reindex_embeds_every_text_and_resumes_after_a_cut(tmp_path: Path) -> None:
    store = _store(tmp_path / "store.sqlite3")
    model = HashingEmbedder()

    def cut_after_first_write(done: int, total: int, _seconds: float) -> None:
        if done >= 16:
            raise Cut

    with pytest.raises(Cut):
        reindex(store, HashingEmbedder, model.name, model.dim, PLAN, cut_after_first_write)
    run = f"{model.name}|{model.dim}"
    assert pending_count(store, run) == len(TEXTS) - 16  # staged, not yet swapped in
    assert store.get_record("_collection", "embedder") == {"name": "old-model", "dim": 3}
    assert store.vectors([1])[1].shape == (3,)

    report = reindex(store, HashingEmbedder, model.name, model.dim, PLAN)
    assert (report.total, report.embedded) == (len(TEXTS), len(TEXTS) - 16)
    stored = store.vectors(list(range(1, len(TEXTS) + 1)))
    expected = model.embed(TEXTS)
    np.testing.assert_allclose(np.stack([stored[i + 1] for i in range(len(TEXTS))]), expected,
                               rtol=1e-6)
    assert store.get_record("_collection", "embedder") == {"name": model.name, "dim": model.dim}
    assert pending_count(store, run) == len(TEXTS)  # staging emptied: a new run starts afresh
    store.close()
