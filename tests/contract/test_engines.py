"""The search-engine contract: the embedded engine and Milvus give the same results through a
Collection, on a corpus small enough to write the expected rankings down.

Rankings are compared, never scores (the engines' fused scores differ in scale)."""

from __future__ import annotations

import numpy as np
import pytest

from index.collection import Batch, Collection
from index.store import NewDoc, insert_docs
from index.text import analyze
from tests.contract.conftest import OpenCollection


def unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


E0 = unit(1, 0, 0, 0)
# key -> (text, vector, time); cosines with E0: a 1, c .71, b .1, d -.5
DOCS = {
    "art1|body|h1|0": ("Bridge closed after the storm", E0, 100.0),
    "art2|body|h1|0": ("Bridge, bridge toll", unit(0.1, 0.995, 0, 0), 200.0),
    "art3|body|h1|0": ("Storm power cut", unit(1, 1, 0, 0), None),
    "art4|body|h1|0": ("Ferry timetable", unit(-0.5, 0, 0.866, 0), 300.0),
}


def corpus(collection: Collection) -> dict[int, str]:
    """Writes DOCS; returns article by id."""
    collection.write(Batch(docs=[NewDoc(key, text, vector, time=time)
                                 for key, (text, vector, time) in DOCS.items()]))
    return {d.id: d.key.split("|")[0] for d in collection.get(collection.ids()).values()}


def ranked(collection: Collection, articles: dict[int, str], query: str, mode: str,
           vector: np.ndarray | None = E0, time_max: float | None = None, k: int = 10) -> list[str]:
    hits = collection.search(query, vector, k, mode, time_max=time_max)  # type: ignore[arg-type]
    return [articles[h.id] for h in hits]


def test_an_empty_collection_finds_nothing(open_collection: OpenCollection) -> None:
    collection = open_collection()
    for mode in ("bm25", "dense", "hybrid"):
        assert collection.search("bridge", E0, 5, mode) == [], mode  # type: ignore[arg-type]
    assert collection.idf("bridg") == 0.0 and len(collection) == 0


def test_each_mode_ranks_as_written_down(open_collection: OpenCollection) -> None:
    collection = open_collection()
    articles = corpus(collection)
    assert len(collection) == 4
    assert ranked(collection, articles, "bridge", "bm25") == ["art2", "art1"]
    assert ranked(collection, articles, "bridge", "dense") == ["art1", "art3", "art2", "art4"]
    # weighted RRF (dense .7, BM25 1): art1 .7/61 + 1/62 beats art2 .7/63 + 1/61
    assert ranked(collection, articles, "bridge", "hybrid") == ["art1", "art2", "art3", "art4"]
    assert ranked(collection, articles, "bridge", "hybrid", k=2) == ["art1", "art2"]


def test_hybrid_fusion_unweighted_ranks_the_same(open_collection: OpenCollection) -> None:
    """Equal weights and an integer k: Milvus fuses on the server (hybrid_search + RRFRanker)."""
    from index.engine import FusionSettings

    collection = open_collection(fusion=FusionSettings(rrf_k=60, dense_weight=1, keyword_weight=1))
    articles = corpus(collection)
    assert ranked(collection, articles, "bridge", "hybrid") == ["art1", "art2", "art3", "art4"]
    # a question with no indexed word is ranked by its vector alone
    assert ranked(collection, articles, "the of", "hybrid") == ["art1", "art3", "art2", "art4"]


def test_the_time_window_is_applied_while_searching(open_collection: OpenCollection) -> None:
    collection = open_collection()
    articles = corpus(collection)
    for mode in ("bm25", "dense", "hybrid"):
        assert ranked(collection, articles, "bridge", mode, time_max=150) == ["art1"], mode
        assert ranked(collection, articles, "bridge", mode, time_max=99) == [], mode
    assert ranked(collection, articles, "bridge", "dense", time_max=250) == ["art1", "art2"]
    # a document whose time is unknown is in no window, however late
    assert "art3" not in ranked(collection, articles, "storm", "hybrid", time_max=1e12)
    assert sorted(ranked(collection, articles, "storm", "bm25")) == ["art1", "art3"]  # a tie
    # only the k best inside the window, not the k best filtered afterwards
    assert ranked(collection, articles, "bridge", "dense", time_max=250, k=1) == ["art1"]
    ferry = DOCS["art4|body|h1|0"][1]  # its best match is art4, published at 300
    assert ranked(collection, articles, "toll", "dense", vector=ferry, k=1) == ["art4"]
    assert ranked(collection, articles, "toll", "dense", vector=ferry, time_max=250, k=1) == ["art2"]


def test_writing_the_same_articles_twice_changes_nothing(open_collection: OpenCollection) -> None:
    collection = open_collection()
    articles = corpus(collection)
    before = {mode: ranked(collection, articles, "bridge storm", mode)
              for mode in ("bm25", "dense", "hybrid")}
    again = collection.write(Batch(docs=[NewDoc(key, text, vector, time=time)
                                         for key, (text, vector, time) in DOCS.items()]))
    assert again.added_ids == [] and len(again.skipped_keys) == 4
    assert len(collection) == 4 == collection.store.count()
    assert {mode: ranked(collection, articles, "bridge storm", mode) for mode in before} == before


def test_a_correction_replaces_the_old_text_at_once(open_collection: OpenCollection) -> None:
    collection = open_collection()
    corpus(collection)
    fixed = Batch(docs=[NewDoc("art1|body|h2|0", "Tunnel closed after the storm", unit(0, 0, 0, 1),
                               time=100.0)], remove_prefixes=["art1|body|"])
    result = collection.write(fixed)
    assert len(result.added_ids) == 1 and len(result.removed_ids) == 1
    articles = {d.id: d.key.split("|")[0] for d in collection.get(collection.ids()).values()}
    assert len(collection) == 4 and set(articles) == set(collection.ids())
    assert ranked(collection, articles, "bridge", "bm25") == ["art2"]
    assert ranked(collection, articles, "tunnel", "bm25") == ["art1"]
    assert ranked(collection, articles, "x", "dense", vector=unit(0, 0, 0, 1), k=1) == ["art1"]
    assert collection.get(result.removed_ids) == {}


def test_a_deleted_article_is_never_found_again(open_collection: OpenCollection) -> None:
    collection = open_collection()
    articles = corpus(collection)
    removed = collection.write(Batch(remove_prefixes=["art2|"])).removed_ids
    assert len(removed) == 1 and removed[0] not in collection.ids()
    assert len(collection) == 3
    for mode in ("bm25", "dense", "hybrid"):
        assert "art2" not in ranked(collection, articles, "bridge toll", mode), mode
    assert ranked(collection, articles, "toll", "bm25") == []


def test_term_statistics_follow_the_documents(open_collection: OpenCollection) -> None:
    collection = open_collection()
    corpus(collection)
    (bridge,) = analyze("bridge")
    assert collection.idf(bridge) == pytest.approx(np.log1p(2.5 / 2.5))  # 2 of 4 documents
    assert collection.idf("nosuchterm") == 0.0
    collection.write(Batch(remove_prefixes=["art2|"]))
    assert collection.idf(bridge) == pytest.approx(np.log1p(2.5 / 1.5))  # 1 of 3


def test_a_questions_words_read_at_once_weigh_as_read_one_by_one(
        open_collection: OpenCollection) -> None:
    collection = open_collection()
    corpus(collection)
    words = [*analyze("bridge toll storm"), "nosuchterm"]
    idf = collection.idf_of(words[:2])  # the rest is looked up when asked for
    assert [idf(w) for w in words] == [collection.idf(w) for w in words]
    assert idf(words[0]) > 0 and idf("nosuchterm") == 0.0


def test_what_the_engine_missed_is_repaired_when_it_opens(open_collection: OpenCollection) -> None:
    """As after a crash: the store committed documents the engine never got (Milvus Lite killed
    before it persisted, a FAISS file left stale), and the engine kept one the store removed."""
    collection = open_collection()
    articles = corpus(collection)
    with collection.store.transaction() as conn:  # behind the engine's back
        (late,) = insert_docs(conn, [NewDoc("art5|body|h1|0", "Harbour crane collapse",
                                            unit(0, 0, 1, 1), time=400.0)])
    articles[late] = "art5"
    (gone,) = collection.write(Batch(remove_prefixes=["art4|"])).removed_ids
    from index.engine import IndexedDoc

    collection.engine.upsert([IndexedDoc(gone, "ferry timetable", DOCS["art4|body|h1|0"][1], 300.0)])
    collection.close()
    reopened = open_collection()
    assert reopened.ids() == sorted(set(articles) - {gone})
    assert ranked(reopened, articles, "crane", "bm25") == ["art5"]
    assert ranked(reopened, articles, "ferry", "hybrid", vector=unit(-0.5, 0, 0.866, 0))[0] != "art4"


def test_a_failed_write_leaves_the_engine_as_it_was(open_collection: OpenCollection) -> None:
    collection = open_collection()
    articles = corpus(collection)
    batch = Batch(docs=[NewDoc("art6|body|h1|0", "Bridge toll doubles", E0, time=500.0)])
    batch.put_record("things", "x", object())  # not JSON: the transaction fails
    with pytest.raises(TypeError):
        collection.write(batch)
    assert len(collection) == 4 == collection.store.count()
    assert ranked(collection, articles, "bridge toll", "bm25") == ["art2", "art1"]


def test_a_bulk_load_is_searchable_when_it_ends(open_collection: OpenCollection) -> None:
    collection = open_collection()
    with collection.bulk():
        corpus(collection)
        collection.write(Batch(remove_prefixes=["art4|"]))  # a correction inside the bulk
    articles = {d.id: d.key.split("|")[0] for d in collection.get(collection.ids()).values()}
    assert len(collection) == 3 == collection.store.count()
    assert ranked(collection, articles, "bridge", "hybrid") == ["art1", "art2", "art3"]


def test_the_newest_article_deleted_while_the_engine_was_down_stays_deleted(
        open_collection: OpenCollection) -> None:
    """As after a crash between the store's commit and the engine's delete, for the document
    with the highest id: a restart must not bring it back into the answers."""
    collection = open_collection()
    articles = corpus(collection)
    (gone,) = collection.write(Batch(remove_prefixes=["art4|"])).removed_ids
    assert gone == max(articles)  # art4 was written last
    from index.engine import IndexedDoc

    collection.engine.upsert([IndexedDoc(gone, "ferry timetable", DOCS["art4|body|h1|0"][1], 300.0)])
    collection.close()
    reopened = open_collection()
    assert gone not in reopened.ids()
    assert ranked(reopened, articles, "ferry timetable", "bm25") == []
    assert "art4" not in ranked(reopened, articles, "ferry", "hybrid", vector=unit(-0.5, 0, 0.866, 0))


def test_a_write_the_engine_failed_is_searchable_by_the_next_call(
        open_collection: OpenCollection, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store committed; the engine refused the new document (Milvus unreachable for a
    moment): the write reports the error, and the next search catches the engine up."""
    collection = open_collection()
    articles = corpus(collection)

    def refuse(*_args: object) -> None:
        raise ConnectionError("engine away")

    monkeypatch.setattr(type(collection.engine), "upsert", refuse)
    batch = Batch(docs=[NewDoc("art5|body|h1|0", "Harbour crane collapse", unit(0, 0, 1, 1), time=400.0)])
    with pytest.raises(ConnectionError):
        collection.write(batch)
    monkeypatch.undo()
    (crane,) = set(collection.store.ids_with_key_prefix("art5|"))
    articles[crane] = "art5"
    assert ranked(collection, articles, "crane", "bm25") == ["art5"]
    assert collection.ids() == sorted(articles)
    assert collection.write(batch).added_ids == []  # written once, whatever the engine did


def test_what_another_process_writes_the_next_search_finds(open_collection: OpenCollection) -> None:
    """`newsqa ingest` and `newsqa delete` on the data directory (and store) of a running
    server: the server's next search finds the new document and no longer the deleted one,
    and it counts what the store holds."""
    server = open_collection(check_interval_s=0)  # the store is asked before every search
    articles = corpus(server)
    other = open_collection()  # the second process
    (crane,) = other.write(Batch(docs=[NewDoc("art5|body|h1|0", "Harbour crane collapse",
                                              unit(0, 0, 1, 1), time=400.0)])).added_ids
    articles[crane] = "art5"
    other.write(Batch(remove_prefixes=["art4|"]))
    assert ranked(server, articles, "crane", "bm25") == ["art5"]
    assert ranked(server, articles, "", "dense", vector=unit(0, 0, 1, 1), k=1) == ["art5"]
    assert ranked(server, articles, "ferry timetable", "bm25") == []
    assert len(server) == 4 == server.store.count()
    assert server.ids() == sorted(i for i, a in articles.items() if a != "art4")
    # the server's own next write after the other's: both are searchable
    server.write(Batch(docs=[NewDoc("art6|body|h1|0", "Tram depot fire", unit(0, 0, 0, 1))]))
    (tram,) = server.store.ids_with_key_prefix("art6|")
    articles[tram] = "art6"
    other.write(Batch(docs=[NewDoc("art7|body|h1|0", "Tram depot reopens", unit(0, 1, 0, 1))]))
    (reopens,) = server.store.ids_with_key_prefix("art7|")
    articles[reopens] = "art7"
    assert sorted(ranked(server, articles, "tram depot", "bm25")) == ["art6", "art7"]


def test_a_server_writing_right_after_another_process_misses_none_of_its_changes(
        open_collection: OpenCollection) -> None:
    """The reviewer's run: another process deletes one article and adds another (the count
    stays the same), then the server commits its own write, with a larger id, before it has
    looked: both of the other's changes still reach the server's searches."""
    server = open_collection(check_interval_s=3600)  # no look before the write
    articles = corpus(server)
    other = open_collection()
    other.write(Batch(remove_prefixes=["art2|"]))
    (ferry,) = other.write(Batch(docs=[NewDoc("art8|body|h1|0", "Ferry fares frozen",
                                              unit(0, 1, 0, 0))])).added_ids
    articles[ferry] = "art8"
    (fire,) = server.write(Batch(docs=[NewDoc("art9|body|h1|0", "Bridge fire", unit(0, 0, 1, 0))])).added_ids
    articles[fire] = "art9"
    assert fire > ferry
    assert ranked(server, articles, "fares", "bm25") == ["art8"]
    assert ranked(server, articles, "toll", "bm25") == []  # only art2 said toll
    assert sorted(server.ids()) == sorted(server.store.ids().tolist())
