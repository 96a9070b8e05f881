"""`newsqa reindex` on a local Ray cluster: every stored text re-embedded by model-holding
actors, written back in batches, resumable after the run is cut off."""

from __future__ import annotations

import json
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


TOWNS = ["Ashford", "Brimley", "Carrow", "Dunmore", "Elstow", "Fenwick", "Garth", "Holloway",
         "Ibsley", "Jarrow"]


def _archive(folder: Path) -> None:
    folder.mkdir()
    for i, town in enumerate(TOWNS):
        (folder / f"{town.lower()}.json").write_text(json.dumps({
            "id": f"{town.lower()}-bridge", "title": f"{town} bridge vote",
            "published_at": f"2026-03-{i + 1:02d}T09:00:00+00:00",
            "body": f"The {town} council voted {i + 3} to 2 to rebuild the old bridge. "
                    f"The work will cost {i + 1}.5 million pounds and start in May."}))
    (folder / "broken.json").write_text('{"title": "Broken", "body": ')


def test_reindex_from_an_archive_folder_embeds_on_ray_and_resumes_after_a_cut(
        tmp_path: Path) -> None:
    from api.cli_scale import reindex_from_folder
    from qa.service import NewsQA
    from qa.settings import Settings

    _archive(tmp_path / "archive")
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing")

    def cut_after_first_batch(files: int, _chunks: int, _seconds: float) -> None:
        raise Cut

    with pytest.raises(Cut):
        reindex_from_folder(tmp_path / "archive", settings, PLAN, 4, cut_after_first_batch)
    first = NewsQA(settings, embedder=HashingEmbedder())
    stored_first, chunks_first = first.library.article_ids(), len(first.collection)
    first.close()
    # the first batch (4 files in name order, broken.json among them) was written before the cut
    assert stored_first == ["ashford-bridge", "brimley-bridge", "carrow-bridge"]

    report = reindex_from_folder(tmp_path / "archive", settings, PLAN, 4)
    assert report.files == len(TOWNS) + 1
    (refused,) = report.refused  # named, and it stops nothing
    assert "broken.json" in refused and "malformed JSON" in refused
    service = NewsQA(settings, embedder=HashingEmbedder())
    try:
        assert sorted(service.library.article_ids()) == sorted(f"{t.lower()}-bridge" for t in TOWNS)
        assert report.new_chunks == len(service.collection) - chunks_first  # none embedded twice
        # the vectors Ray's workers made are those a plain ingest makes, chunk for chunk
        plain = NewsQA(Settings(data_dir=tmp_path / "plain", embedder="hashing"),
                       embedder=HashingEmbedder())
        list(plain.ingest_paths([tmp_path / "archive"]))
        assert _vectors_by_key(plain) == _vectors_by_key(service) != {}
        plain.close()
        answer = service.ask("What did the Garth council vote?").answer
        assert answer.citations and answer.citations[0].article_id == "garth-bridge"
    finally:
        service.close()


def _vectors_by_key(service: object) -> dict[str, tuple[float, ...]]:
    collection = service.collection  # type: ignore[attr-defined]
    ids = collection.ids()
    docs, vectors = collection.get(ids), collection.store.vectors(ids)
    return {docs[i].key: tuple(np.round(vectors[i], 6).tolist()) for i in ids}
