"""The records store's contract, on both engines: the embedded SQLite file and a real PostgreSQL
server (started by the tests). Each test runs once per engine and expects the same results."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError

from index.collection import Batch, Collection
from index.store import NewDoc, Store, delete_docs, docs, insert_docs, put_record
from qa.models import Article, Timestamp, Update
from qa.service import NewsQA
from qa.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _doc(key: str, text: str, time: float | None = None) -> NewDoc:
    vector = np.zeros(4, dtype=np.float32)
    vector[sum(map(ord, key)) % 4] = 1.0
    return NewDoc(key=key, text=text, vector=vector, time=time, meta={"k": key, "é": [1, None]})


@pytest.fixture
def collection(tmp_path: Path, store_url: str) -> Collection:
    return Collection(tmp_path / "index", "fake", 4, database_url=store_url)


def test_writing_the_same_batch_twice_adds_nothing(collection: Collection) -> None:
    batch = Batch(docs=[_doc("a|1", "alpha"), _doc("a|2", "beta")])
    batch.put_record("things", "a", {"n": 1})
    first = collection.write(batch)
    generation = collection.store.generation()
    again = collection.write(batch)
    assert len(first.added_ids) == 2 and again.added_ids == [] and sorted(again.skipped_keys) == [
        "a|1", "a|2"]
    assert collection.store.count() == 2 and len(collection) == 2
    assert collection.store.list_records("things") == [("a", {"n": 1})]
    assert collection.store.generation() == generation + 1  # a write, even one that adds nothing


def test_stored_documents_come_back_as_written(collection: Collection) -> None:
    (doc_id,) = collection.write(Batch(docs=[_doc("k|1", "Zürich — 3½ %", time=1.7e9 + 0.25)])).added_ids
    stored = collection.get([doc_id])[doc_id]
    assert (stored.key, stored.text, stored.time, stored.meta) == (
        "k|1", "Zürich — 3½ %", 1.7e9 + 0.25, {"k": "k|1", "é": [1, None]})
    np.testing.assert_array_equal(collection.store.vectors([doc_id])[doc_id], _doc("k|1", "").vector)


def test_a_correction_replaces_the_text_under_its_key(collection: Collection) -> None:
    collection.write(Batch(docs=[_doc("art|body|0", "The toll was 12."), _doc("art|up|0", "Later.")]))
    fix = Batch(docs=[_doc("art|body|0", "The toll was 14.")], remove_prefixes=["art|body|"])
    result = collection.write(fix)
    assert result.removed_ids == [1] and len(result.added_ids) == 1
    texts = sorted(d.text for d in collection.get(list(range(1, 10))).values())
    assert texts == ["Later.", "The toll was 14."]


def test_removing_by_prefix_is_exact_and_ids_are_not_reused(collection: Collection) -> None:
    keys = ["storm|1", "storm|2", "STORM|1", "st_rm|1", "st%rm|1", "storm-2|1", "Storm|1"]
    collection.write(Batch(docs=[_doc(k, k) for k in keys]))
    assert collection.write(Batch(remove_prefixes=["storm|"])).removed_ids == [1, 2]
    assert collection.store.count() == 5
    left = sorted(d.key for d in collection.get(list(range(1, 20))).values())
    assert left == sorted(keys[2:])
    (new_id,) = collection.write(Batch(docs=[_doc("storm|1", "back")])).added_ids
    assert new_id == 8  # a deleted document's id is never handed out again


def test_records_list_in_the_same_byte_order_everywhere(collection: Collection) -> None:
    batch = Batch()
    for key in ["b", "B", "a", "é", "A|2", "A|10", "Z"]:
        batch.put_record("order", key, {"key": key})
    batch.put_record("other", "x", [1])
    collection.write(batch)
    assert [k for k, _ in collection.store.list_records("order")] == [
        "A|10", "A|2", "B", "Z", "a", "b", "é"]
    collection.write(Batch(records=[("order", "a", {"key": "changed"})]))
    assert collection.store.get_record("order", "a") == {"key": "changed"}
    assert collection.store.get_record("order", "missing") is None


def test_a_failed_write_leaves_nothing_and_bumps_no_generation(collection: Collection,
                                                                store_url: str) -> None:
    collection.write(Batch(docs=[_doc("a", "alpha")]))
    generation = collection.store.generation()
    with collection.store.engine.begin() as conn:  # the engine itself refuses the record
        if store_url.startswith("sqlite"):
            conn.exec_driver_sql("CREATE TRIGGER fail AFTER INSERT ON records "
                                 "BEGIN SELECT RAISE(ABORT, 'boom'); END")
        else:
            conn.exec_driver_sql("CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS "
                                 "$$ BEGIN RAISE EXCEPTION 'boom'; END $$")
            conn.exec_driver_sql("CREATE TRIGGER fail AFTER INSERT ON records "
                                 "FOR EACH ROW EXECUTE FUNCTION boom()")
    batch = Batch(docs=[_doc("d", "delta")], records=[("things", "x", {"y": 1})])
    with pytest.raises(DBAPIError, match="boom"):
        collection.write(batch)
    assert collection.store.count() == 1 and collection.store.get_record("things", "x") is None
    assert collection.store.generation() == generation
    assert len(collection) == 1 and collection.ids() == [1]


KILLED_WRITER = """
import os, sys
import numpy as np
from index.store import NewDoc, Store, insert_docs, put_record
store = Store(sys.argv[1])
with store.transaction() as conn:
    insert_docs(conn, [NewDoc(f"half|{i}", "x", np.zeros(4, dtype=np.float32)) for i in range(50)])
    put_record(conn, "things", "half", {"done": False})
    os._exit(9)  # killed before the commit
"""


def test_a_writer_killed_mid_transaction_leaves_nothing(store_url: str) -> None:
    store = Store(store_url)
    with store.transaction() as conn:
        insert_docs(conn, [NewDoc("kept", "kept", np.ones(4, dtype=np.float32))])
    generation = store.generation()
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(KILLED_WRITER), store_url],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 9, done.stderr
    assert store.count() == 1 and store.get_record("things", "half") is None
    assert store.generation() == generation
    with store.transaction() as conn:  # the dead writer holds no lock: the next one goes through
        put_record(conn, "things", "after", {"ok": True})
    assert store.get_record("things", "after") == {"ok": True}
    store.close()


def test_streams_come_in_id_order_and_in_batches(store_url: str) -> None:
    store = Store(store_url)
    with store.transaction() as conn:
        ids = insert_docs(conn, [_doc(f"k{i:03d}", f"text {i}", time=float(i)) for i in range(25)])
    texts = list(store.iter_texts(batch=10))
    assert [len(b.ids) for b in texts] == [10, 10, 5]
    assert np.concatenate([b.ids for b in texts]).tolist() == ids == sorted(ids)
    assert texts[2].texts[-1] == "text 24" and texts[2].times[-1] == 24.0
    full = list(store.iter_docs(batch=10))
    assert np.concatenate([b.ids for b in full]).tolist() == ids
    assert full[1].texts[0] == "text 10" and full[1].times[0] == 10.0
    np.testing.assert_array_equal(full[0].vectors[3], _doc("k003", "").vector)
    later = list(store.iter_vectors(batch=10, after_id=ids[19]))
    assert [b.ids.tolist() for b in later] == [ids[20:]] and later[0].vectors.shape == (5, 4)
    assert [b.times for b in store.iter_times(after_id=ids[22])] == [[23.0, 24.0]]
    store.close()


def test_documents_are_read_by_id_and_every_id_at_once(store_url: str) -> None:
    """What an engine catching up with another process's writes reads: the documents it lacks
    by id (those deleted meanwhile skipped), and the store's ids to compare its own with."""
    store = Store(store_url)
    with store.transaction() as conn:
        ids = insert_docs(conn, [_doc(f"k{i:04d}", f"text {i}", time=float(i)) for i in range(1200)])
    with store.transaction() as conn:
        delete_docs(conn, ids[100:200])
    assert store.ids().tolist() == ids[:100] + ids[200:]
    wanted = np.asarray([ids[1199], ids[150], ids[3], *ids[600:1100], ids[3]], dtype=np.int64)
    found = list(store.iter_docs(ids=wanted))
    assert np.concatenate([b.ids for b in found]).tolist() == [ids[3], *ids[600:1100], ids[1199]]
    assert found[0].texts[0] == "text 3" and found[0].times[0] == 3.0
    np.testing.assert_array_equal(found[-1].vectors[-1], _doc("k1199", "").vector)
    assert list(store.iter_times(ids=np.asarray([ids[150]]))) == []
    store.close()


def test_a_second_store_on_the_same_database_sees_each_write(store_url: str) -> None:
    """Two processes on one database (two API replicas): the generation tells the second that
    the first wrote, so it knows its caches are stale."""
    writer, reader = Store(store_url), Store(store_url)
    before = reader.generation()
    with writer.transaction() as conn:
        put_record(conn, "articles", "a1", {"title": "One"})
    assert reader.generation() == before + 1
    assert reader.list_records("articles") == [("a1", {"title": "One"})]
    writer.close()
    reader.close()


def test_a_smaller_id_committed_later_reaches_another_services_search(postgres_url: str,
                                                                      tmp_path: Path) -> None:
    """On PostgreSQL two writers draw ids at once and may commit them in another order: a
    service holding its own FAISS + BM25 still finds the document whose id was drawn first
    and committed last, though a deletion in between left the count as it was."""
    server = Collection(tmp_path / "server", "fake", 4, database_url=postgres_url,
                        check_interval_s=0)
    server.write(Batch(docs=[_doc("a|1", "alpha harbour"), _doc("b|1", "beta harbour")]))
    other = Collection(tmp_path / "other", "fake", 4, database_url=postgres_url)
    slow_store = Store(postgres_url)
    slow = slow_store.transaction()
    conn = slow.__enter__()  # a writer that draws its id now and commits last (before it
    # counts the document's terms, which would make the next writer wait for it)
    late = conn.execute(insert(docs).returning(docs.c.id), [_doc("late|1", "gamma crane").to_row()]
                        ).scalar_one()
    (ferry,) = other.write(Batch(docs=[_doc("c|1", "delta ferry")])).added_ids
    assert late < ferry
    assert [h.id for h in server.search("ferry", None, 5, "bm25")] == [ferry]
    other.write(Batch(remove_prefixes=["a|"]))
    slow.__exit__(None, None, None)
    assert [h.id for h in server.search("crane", None, 5, "bm25")] == [late]
    assert server.search("alpha", None, 5, "bm25") == []
    assert server.ids() == server.store.ids().tolist()
    for opened in (server, other, slow_store):
        opened.close()


def _article(body: str, updates: tuple[Update, ...] = ()) -> Article:
    from datetime import UTC, datetime

    stamp = Timestamp(datetime(2026, 3, 1, 9, 0, tzinfo=UTC), False)
    return Article(id="city-budget", title="City budget", url=None, source=None,
                   published_at=stamp, body=body, updates=updates)


def test_the_service_ingests_and_answers_the_same_on_either_engine(tmp_path: Path,
                                                                   store_url: str) -> None:
    from datetime import UTC, datetime

    from index.embed import HashingEmbedder

    settings = Settings(data_dir=tmp_path / "data", embedder="hashing", database_url=store_url)
    qa = NewsQA(settings, embedder=HashingEmbedder())
    body = "The council approved a budget of $4.2 million for the new library on Tuesday."
    first = qa.ingest(_article(body))
    assert first.new_chunks >= 1 and qa.ingest(_article(body)).new_chunks == 0
    later = Update(Timestamp(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), False),
                   "The mayor said the library budget rose to $4.5 million.")
    assert qa.ingest(_article(body, (later,))).new_sections == 1
    answer = qa.ask("What budget did the council approve for the library?").answer
    assert answer.citations and "$4.2 million" in answer.citations[0].quote
    assert qa.library.article_ids() == ["city-budget"]
    qa.close()


def test_a_replica_sees_articles_and_figures_another_one_ingested(tmp_path: Path,
                                                                  store_url: str) -> None:
    """Two services on one database (two API replicas): what one ingests, the other lists,
    finds among its figures and answers from at once, though it had cached the articles and
    held its own search engine (FAISS + BM25 in its data directory) before."""
    from datetime import UTC, datetime

    from index.embed import HashingEmbedder

    def replica(name: str) -> NewsQA:
        settings = Settings(data_dir=tmp_path / name, embedder="hashing", database_url=store_url)
        return NewsQA(settings, embedder=HashingEmbedder())

    first, second = replica("one"), replica("two")
    assert second.library.article_ids() == []
    first.ingest(_article("The council approved a budget of $4.2 million for the library."))
    second.library.refresh(force=True)  # what the next request does at most 0.1 s later
    second.collection.refresh(force=True)  # and the next search
    assert second.library.article_ids() == ["city-budget"]
    answer = second.ask("What budget did the council approve for the library?").answer
    assert answer.citations and "$4.2 million" in answer.citations[0].quote
    assert second.health().chunks == first.health().chunks > 0
    assert second.library.article("city-budget").body.startswith("The council approved")
    found = second.figures("$4.2 million")
    assert [a.figure.article_id for a in found.appearances] == ["city-budget"]
    later = Update(Timestamp(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), False),
                   "The budget rose to $4.5 million.")
    second.ingest(_article("The council approved a budget of $4.2 million for the library.", (later,)))
    first.library.refresh(force=True)
    assert len(first.library.article("city-budget").updates) == 1
    first.close()
    second.close()


def test_an_unreachable_or_unknown_database_is_named_in_the_error() -> None:
    from pydantic import ValidationError

    from index.errors import StoreUnavailable

    with pytest.raises(StoreUnavailable, match=r"cannot open the database .*127\.0\.0\.1:9/newsqa") as err:
        Store("postgresql+psycopg://newsqa:secret@127.0.0.1:9/newsqa")
    assert "secret" not in str(err.value)  # the password stays out of logs
    with pytest.raises(ValidationError, match="NEWSQA_DATABASE_URL ends in 'db/newsqa'"):
        Settings(database_url="mysql://user:pw@db/newsqa")


def test_the_high_water_mark_counts_the_newest_document_after_its_deletion(
        collection: Collection) -> None:
    """What lets an engine tell a deleted newest document from one still being committed."""
    collection.write(Batch(docs=[_doc(f"art{i}|body|0", f"text {i}") for i in range(3)]))
    assert collection.store.high_water() == 3
    collection.write(Batch(remove_prefixes=["art2|"]))
    collection.write(Batch(remove_prefixes=["art0|"]))
    assert collection.store.high_water() == 3  # the smaller deletion does not lower it


def _reference_idf(texts: list[str], term: str) -> float:
    """The embedded BM25 index's idf over `texts`: what the store's counts must agree with."""
    from index.keyword import KeywordIndex

    reference = KeywordIndex()
    reference.add_many(enumerate(texts))
    return reference.idf(term)


def test_term_statistics_follow_every_kind_of_write(collection: Collection) -> None:
    """The idf that weighs a question's words comes from the store's own counts: right after
    ingest, a correction, a re-ingest, a delete, and for a store opened again."""
    from index.text import analyze

    terms = [t for word in ("bridge", "storm", "ferry", "tunnel", "toll") for t in analyze(word)]

    def agrees(texts: list[str], store: Store) -> None:
        stats = store.term_stats(terms)
        assert stats.docs == len(texts) == store.count()
        for term in terms:
            assert stats.idf(term) == pytest.approx(_reference_idf(texts, term)), term
            assert collection.idf(term) == pytest.approx(_reference_idf(texts, term)), term

    texts = {"art1|body|0": "Bridge closed after the storm, bridge traffic diverted",
             "art2|body|0": "Bridge toll rises", "art3|body|0": "Storm cuts power",
             "art4|body|0": "Ferry timetable changes"}
    batch = Batch(docs=[_doc(k, t) for k, t in texts.items()])
    collection.write(batch)
    agrees(list(texts.values()), collection.store)
    collection.write(batch)  # re-ingest: skipped, nothing counted twice
    agrees(list(texts.values()), collection.store)
    collection.write(Batch(docs=[_doc("art1|body|1", "Tunnel closed after the storm")],
                           remove_prefixes=["art1|body|"]))  # a correction
    texts.pop("art1|body|0")
    texts["art1|body|1"] = "Tunnel closed after the storm"
    agrees(list(texts.values()), collection.store)
    collection.write(Batch(remove_prefixes=["art4|"]))  # a delete: 'ferri' is in no document
    texts.pop("art4|body|0")
    agrees(list(texts.values()), collection.store)
    assert collection.idf(analyze("ferry")[0]) == 0.0
    reopened = Store(collection.store.url if "sqlite" in collection.store.url
                     else collection.store.engine.url.render_as_string(hide_password=False))
    agrees(list(texts.values()), reopened)
    reopened.close()


def test_a_store_written_before_term_statistics_is_counted_when_it_opens(store_url: str) -> None:
    from sqlalchemy import delete

    from index.schema import state, term_df
    from index.term_stats import STAMP

    store = Store(store_url)
    texts = ["Harbour crane collapse", "Crane inspection ordered", "Council budget"]
    with store.transaction() as conn:
        insert_docs(conn, [_doc(f"a|{i}", t) for i, t in enumerate(texts)])
    with store.engine.begin() as conn:  # as a store from before the counts were kept
        conn.execute(delete(term_df))
        conn.execute(delete(state).where(state.c.key == STAMP))
    assert store.term_stats(["crane"]).docs == 0
    store.close()
    again = Store(store_url)
    assert again.term_stats(["crane"]).idf("crane") == pytest.approx(_reference_idf(texts, "crane"))
    assert again.term_stats(["crane"]).docs == 3
    again.close()



@pytest.mark.timeout(120)
def test_two_processes_opening_an_uncounted_store_at_once_both_start(
        postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two API replicas started together on a PostgreSQL store from before the counts were kept:
    both counted it, and the second's inserts collided with the first's (a unique violation: it
    could not start). The first holds its count open until the second is waiting on a lock."""
    import threading
    import time

    from sqlalchemy import Connection, create_engine, delete, text

    from index import term_stats
    from index.schema import state, term_df

    store = Store(postgres_url)
    texts = ["Harbour crane collapse", "Crane inspection ordered", "Council budget"]
    with store.transaction() as conn:
        insert_docs(conn, [_doc(f"a|{i}", t) for i, t in enumerate(texts)])
    with store.engine.begin() as conn:
        conn.execute(delete(term_df))
        conn.execute(delete(state).where(state.c.key == term_stats.STAMP))
    store.close()

    rebuild = term_stats.rebuild
    results: list[Store | BaseException] = []
    second = threading.Thread(target=lambda: results.append(_open_or_error(postgres_url)))

    def first_rebuild(conn: Connection, batch: int = 2048) -> None:
        rebuild(conn, batch)
        if second.ident is not None:  # the second replica's own count, if it makes one
            return
        second.start()
        waiting = "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
        deadline = time.monotonic() + 60
        watcher = create_engine(postgres_url)  # not a Store: opening one would count too
        with watcher.connect() as watch:
            while watch.execute(text(waiting)).scalar() == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
                watch.rollback()
        watcher.dispose()

    monkeypatch.setattr(term_stats, "rebuild", first_rebuild)
    first = Store(postgres_url)
    second.join(timeout=60)
    assert len(results) == 1 and isinstance(results[0], Store), results
    for opened in (first, results[0]):
        stats = opened.term_stats(["crane"])
        assert stats.docs == 3 and stats.df == {"crane": 2}
        opened.close()


def _open_or_error(url: str) -> Store | BaseException:
    try:
        return Store(url)
    except Exception as exc:  # noqa: BLE001 - the test reports it
        return exc
