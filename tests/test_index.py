"""index/: BM25 against bm25s, FAISS against brute force, and the collection's atomic writes."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.exc import IntegrityError

from index.collection import Batch, Collection
from index.fusion import reciprocal_rank_fusion
from index.keyword import KeywordIndex, top_k
from index.store import NewDoc
from index.text import analyze
from index.vectors import FaissVectorIndex

DOCS = [
    "The council approved the bridge contract on Saturday.",
    "Storm winds knocked out power to thousands of customers.",
    "The bridge will carry a protected bike lane.",
    "Power was restored to most customers by Tuesday.",
    "Officials said the contract is worth $452 million.",
    "A boil-water advisory covers the east side of the city.",
]


def test_bm25_matches_bm25s_lucene_on_a_small_corpus() -> None:
    ours = KeywordIndex()
    for i, text in enumerate(DOCS):
        ours.add(i, text)
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(t, len(vocab)) for t in analyze(d)] for d in DOCS]
    ref = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
    ref.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
    for query in ("bridge contract", "power customers", "city advisory water", "452 million"):
        q = [[vocab[t] for t in analyze(query) if t in vocab]]
        docs, scores = ref.retrieve(bm25s.tokenization.Tokenized(ids=q, vocab=vocab), k=len(DOCS),
                                    show_progress=False)
        expected = {int(d): float(s) * 2.2 for d, s in zip(docs[0], scores[0], strict=True) if s > 0}
        got = dict(ours.search(query, len(DOCS)))
        assert got.keys() == expected.keys()
        for doc_id, score in expected.items():  # bm25s leaves out the constant (k1 + 1) factor
            assert got[doc_id] == pytest.approx(score, rel=1e-4)


def test_bm25_remove_and_filter() -> None:
    index = KeywordIndex()
    for i, text in enumerate(DOCS):
        index.add(i, text)
    index.remove(0)
    assert [i for i, _ in index.search("bridge", 5)] == [2]
    assert index.search("bridge", 5, allowed_ids=np.asarray([4, 5])) == []
    assert 0 not in index and len(index) == 5


@given(st.lists(st.integers(0, 60), max_size=80), st.booleans())
def test_bm25_filter_mask_is_membership(wanted: list[int], sort: bool) -> None:
    index = KeywordIndex()
    for doc_id in range(0, 50, 2):  # even ids only: odd wanted ids are not indexed
        index.add(doc_id, f"word{doc_id} common")
    doc_ids = np.asarray(sorted(set(wanted)) if sort else wanted, dtype=np.int64)
    assert index.mask_of(doc_ids).tolist() == np.isin(index.ids(), doc_ids).tolist()


def test_bm25_sees_every_document_while_idf_is_read_concurrently() -> None:
    """An answer reads idf outside the collection's lock while ingest adds documents: a copy
    of the postings made mid-append must not be kept, or later searches miss documents."""
    import sys
    import threading

    index = KeywordIndex()
    stop = threading.Event()
    errors: list[BaseException] = []

    def read_idf() -> None:
        while not stop.is_set():
            try:
                index.idf("ferri")
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    reader = threading.Thread(target=read_idf)
    reader.start()
    try:
        for doc_id in range(20_000):
            index.add(doc_id, "ferry")
            if doc_id % 500 == 0:
                assert len(index.search("ferry", 10**6)) == doc_id + 1
    finally:
        stop.set()
        reader.join()
        sys.setswitchinterval(interval)
    assert not errors
    assert len(index.search("ferry", 10**6)) == 20_000


@given(st.lists(st.integers(0, 3), min_size=1, max_size=40), st.integers(1, 12))
def test_bm25_top_k_breaks_ties_by_smaller_id(scores: list[int], k: int) -> None:
    ids = np.arange(100, 100 + len(scores), dtype=np.int64)[::-1].copy()  # ids not in position order
    got = top_k(ids, np.asarray(scores, dtype=np.float32), k)
    expected = sorted(((int(i), float(s)) for i, s in zip(ids, scores, strict=True) if s > 0),
                      key=lambda pair: (-pair[1], pair[0]))[:k]
    assert got == expected


def test_faiss_matches_brute_force_and_honours_filters(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(300, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(1000, 1300, dtype=np.int64)
    index = FaissVectorIndex(16)
    index.add(ids, vectors)
    query = vectors[5] + 0.1 * vectors[9]
    brute = np.argsort(-(vectors @ query))[:10]
    assert [i for i, _ in index.search(query, 10)] == [int(ids[j]) for j in brute]
    allowed = ids[::3]
    got = [i for i, _ in index.search(query, 5, allowed)]
    assert got and set(got) <= set(allowed.tolist())
    index.remove(np.asarray([got[0]]))
    assert got[0] not in [i for i, _ in index.search(query, 10)]
    index.save(tmp_path / "v.faiss")
    again = FaissVectorIndex.load(tmp_path / "v.faiss")
    assert again.search(query, 3) == index.search(query, 3)


def test_faiss_filter_keeps_out_every_later_id() -> None:
    """The time filter's shape: only a prefix of the ids is allowed (articles up to a moment),
    and the closest vectors sit above it. Nothing past the prefix may come back, on any query,
    and the result is brute force over the allowed ids."""
    rng = np.random.default_rng(11)
    vectors = rng.normal(size=(4000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(4000, dtype=np.int64)
    index = FaissVectorIndex(16)
    index.add(ids, vectors)
    for cut in (9, 100, 1001, 2047):
        allowed = ids[:cut]
        for row in rng.integers(cut, 4000, size=40):  # the query is a vector past the cut
            got = [i for i, _ in index.search(vectors[row], 10, allowed)]
            brute = np.argsort(-(vectors[:cut] @ vectors[row]), kind="stable")[:10]
            assert max(got) < cut, f"id {max(got)} is past the allowed prefix of {cut}"
            assert got == brute.tolist()


def test_rrf_rewards_agreement_and_is_deterministic() -> None:
    fused = reciprocal_rank_fusion([[(1, 9.0), (2, 8.0), (3, 1.0)], [(3, 0.9), (1, 0.8)]])
    assert [i for i, _ in fused] == [1, 3, 2]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)


def _doc(key: str, text: str, dim: int = 4, time: float | None = None) -> NewDoc:
    vector = np.zeros(dim, dtype=np.float32)
    vector[hash(key) % dim] = 1.0
    return NewDoc(key=key, text=text, vector=vector, time=time)


def test_removing_by_key_prefix_is_exact(tmp_path: Path) -> None:
    """A correction to article "storm" removes its chunks only: not those of "STORM" (ids are
    case-sensitive), nor of "st_rm" or "storm-2" (no wildcards)."""
    collection = Collection(tmp_path, "fake", 4)
    keys = ["storm|body|1", "storm|body|2", "STORM|body|1", "stXrm|body|1", "st_rm|body|1",
            "storm-2|body|1", "Storm|body|1"]
    collection.write(Batch(docs=[_doc(k, k) for k in keys]))
    removed = collection.write(Batch(remove_prefixes=["storm|"])).removed_ids
    assert removed == [1, 2]
    left = sorted(doc.key for doc in collection.get(collection.ids()).values())
    assert left == sorted(keys[2:])
    assert collection.store.ids_with_key_prefix("st_rm|") == [5]
    edge = "s\U0010ffff"
    collection.write(Batch(docs=[_doc(f"{edge}|x", "a"), _doc(f"{edge}\U0010ffff", "b"), _doc("t", "c")]))
    assert [collection.get([i])[i].key for i in collection.store.ids_with_key_prefix(edge)] == [
        f"{edge}|x", f"{edge}\U0010ffff"]


def test_writing_the_same_batch_twice_adds_nothing(tmp_path: Path) -> None:
    collection = Collection(tmp_path, "fake", 4)
    batch = Batch(docs=[_doc("a", "alpha"), _doc("b", "beta")])
    assert len(collection.write(batch).added_ids) == 2
    result = collection.write(batch)
    assert result.added_ids == [] and sorted(result.skipped_keys) == ["a", "b"]
    assert len(collection) == 2 and collection.store.count() == 2


def test_a_batch_can_remove_and_add_back_the_same_key(tmp_path: Path) -> None:
    collection = Collection(tmp_path, "fake", 4)
    collection.write(Batch(docs=[_doc("art|body|0", "old text")]))
    replace = Batch(docs=[_doc("art|body|0", "new text")], remove_prefixes=["art|body|"])
    result = collection.write(replace)
    assert len(result.added_ids) == 1 and result.removed_ids == [1] and result.skipped_keys == []
    (doc,) = collection.get(collection.ids()).values()
    assert doc.text == "new text" and collection.store.count() == 1


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    collection = Collection(tmp_path, "fake", 4)
    collection.write(Batch(docs=[_doc("a", "alpha")]))
    bad = Batch(docs=[_doc("b", "beta"), NewDoc("c", "gamma", np.zeros(3, dtype=np.float32))])
    with pytest.raises(ValueError, match="expected \\(4,\\)"):
        collection.write(bad)
    assert collection.store.count() == 1 and len(collection.engine.vectors) == 1

    batch = Batch(docs=[_doc("d", "delta")])
    batch.put_record("things", "x", {"y": 1})
    with collection.store.engine.begin() as conn:  # the record, written after the doc, fails
        conn.exec_driver_sql("CREATE TRIGGER fail AFTER INSERT ON records "
                             "BEGIN SELECT RAISE(ABORT, 'boom'); END")
    with pytest.raises(IntegrityError, match="boom"):
        collection.write(batch)
    assert collection.store.count() == 1 and collection.store.get_record("things", "x") is None
    assert len(collection.engine.vectors) == 1 and len(collection.engine.keyword) == 1


def test_a_crash_after_commit_is_repaired_at_start(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    collection = Collection(tmp_path, "fake", 4)
    collection.write(Batch(docs=[_doc("a", "alpha")]))
    collection.close()
    stale = (tmp_path / "vectors.faiss").read_bytes()
    collection = Collection(tmp_path, "fake", 4)
    collection.write(Batch(docs=[_doc("b", "beta"), _doc("c", "gamma")]))
    collection.close()
    (tmp_path / "vectors.faiss").write_bytes(stale)  # as if killed before the index was saved
    reopened = Collection(tmp_path, "fake", 4)
    assert len(reopened.engine.vectors) == 3 == reopened.store.count()
    assert {i for i, _ in reopened.engine.vectors.search(np.ones(4, dtype=np.float32), 10)} == set(
        reopened.ids())


@pytest.mark.parametrize(("name", "damage"), [
    ("vectors.json", b'{"generation": 4, "cou'),  # the stamp cut short
    ("vectors.json", b""),
    ("vectors.faiss", b"IxM2\x00\x01"),  # the index cut short
])
def test_a_damaged_index_file_is_rebuilt_at_start(tmp_path: Path, name: str, damage: bytes) -> None:
    collection = Collection(tmp_path, "fake", 4)
    collection.write(Batch(docs=[_doc("a", "alpha"), _doc("b", "beta")]))
    collection.close()
    (tmp_path / name).write_bytes(damage)
    reopened = Collection(tmp_path, "fake", 4)
    assert len(reopened.engine.vectors) == 2 == reopened.store.count()
    assert len(reopened.engine.vectors.search(np.ones(4, dtype=np.float32), 5)) == 2
    reopened.close()


def test_another_model_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    Collection(tmp_path, "model-a", 4).close()
    with pytest.raises(RuntimeError, match="model-a.*another data directory"):
        Collection(tmp_path, "model-b", 8)


def test_search_modes_and_time_filter(tmp_path: Path) -> None:
    collection = Collection(tmp_path, "fake", 4)
    collection.write(Batch(docs=[_doc("a", "bridge contract", time=100.0),
                                 _doc("b", "bridge lane", time=200.0),
                                 _doc("c", "storm power", time=None)]))
    keys = {d.id: d.key for d in collection.get(collection.ids()).values()}
    vector = np.ones(4, dtype=np.float32) / 2
    assert {keys[h.id] for h in collection.search("bridge", vector, 5, "bm25")} == {"a", "b"}
    assert {keys[h.id] for h in collection.search("bridge", vector, 5, "bm25", time_max=150)} == {"a"}
    assert all(keys[h.id] != "c" for h in collection.search("x", vector, 5, "dense", time_max=1e9))
    hybrid = collection.search("bridge", vector, 5, "hybrid")
    assert {keys[h.id] for h in hybrid} == {"a", "b", "c"}


def _bm25s_scores(docs: list[str], queries: list[str]) -> list[dict[int, float]]:
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(t, len(vocab)) for t in analyze(d)] for d in docs]
    ref = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
    ref.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
    out = []
    for query in queries:
        q = [[vocab[t] for t in analyze(query) if t in vocab]]
        found, scores = ref.retrieve(bm25s.tokenization.Tokenized(ids=q, vocab=vocab), k=len(docs),
                                     show_progress=False)
        out.append({int(d): float(s) * 2.2 for d, s in zip(found[0], scores[0], strict=True) if s > 0})
    return out


WORDS = ("bridge contract storm power customers council lane ferry fare riders budget school "
         "water advisory fire crews wind evacuation court ruling vote").split()


def _word_docs(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(3, 30)))) for _ in range(n)]


def test_bm25_postings_in_many_segments_score_as_bm25s(tmp_path: Path) -> None:
    """Postings spread over several merged segments and the append buffer (a tiny buffer forces
    them), then saved and loaded, score exactly as a second BM25 implementation does."""
    docs = _word_docs(600, seed=3)
    index = KeywordIndex()
    index.buffer_postings = 64
    index._seal_buffer(64)
    for i, text in enumerate(docs):
        index.add(i, text)
    assert len(index._postings.segments) > 1 and index._postings.buffer.n > 0
    queries = ["bridge contract", "storm power fire", "ferry fare riders vote", "court"]
    expected = _bm25s_scores(docs, queries)
    index.save(tmp_path / "k.npz")
    loaded = KeywordIndex.load(tmp_path / "k.npz")
    for idx in (index, loaded):
        for query, want in zip(queries, expected, strict=True):
            got = dict(idx.search(query, len(docs)))
            assert got.keys() == want.keys()
            for doc_id, score in want.items():
                assert got[doc_id] == pytest.approx(score, rel=1e-4)
    assert loaded.idf("ferri") == index.idf("ferri") > 0


def test_bm25_ids_out_of_order_and_re_added() -> None:
    index = KeywordIndex()
    for doc_id, text in [(5, "bridge"), (2, "bridge lane"), (9, "storm")]:
        index.add(doc_id, text)
    index.add(5, "storm power")  # replaced: no longer about a bridge
    assert [i for i, _ in index.search("bridge", 5)] == [2]
    assert {i for i, _ in index.search("storm", 5)} == {5, 9}
    assert len(index) == 3 and 5 in index and 7 not in index
    assert [i for i, _ in index.search("storm", 5, allowed_ids=np.asarray([9, 40]))] == [9]


def _clustered(n: int, dim: int, seed: int) -> np.ndarray:
    """Unit vectors around a few hundred centres, as text embeddings cluster by topic."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(200, dim)).astype(np.float32)
    vectors = centres[rng.integers(0, 200, size=n)] + 0.6 * rng.normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_ivf_finds_what_flat_finds_and_honours_filters(tmp_path: Path) -> None:
    from index.vectors import IvfVectorIndex

    vectors = _clustered(20_000, 32, seed=5)
    ids = np.arange(10, 20_010, dtype=np.int64)
    flat, ivf = FaissVectorIndex(32), IvfVectorIndex(32, nlist=128, nprobe=32)
    ivf.train(vectors[::4])
    flat.add(ids, vectors)
    ivf.add(ids, vectors)
    rng = np.random.default_rng(6)  # questions near the documents, as a reader's are
    queries = vectors[rng.integers(0, len(vectors), 100)] + 0.2 * rng.normal(size=(100, 32))
    recall = np.mean([len({i for i, _ in flat.search(q, 10)} & {i for i, _ in ivf.search(q, 10)}) / 10
                      for q in queries])
    assert recall >= 0.98
    for cut in (30, 700, 9_000):  # the time filter's shape: a prefix of the ids
        allowed = ids[:cut]
        for q in queries[:10]:
            got = ivf.search(q, 10, allowed)
            assert got and max(i for i, _ in got) < ids[cut]
            if cut <= 700:  # a narrow filter scans every cell: exactly the flat result
                assert [i for i, _ in got] == [i for i, _ in flat.search(q, 10, allowed)]
    ivf.remove(ids[:5])
    assert len(ivf) == 19_995 and int(ids[0]) not in ivf.ids().tolist()
    ivf.save(tmp_path / "v.faiss")
    again = FaissVectorIndex.load(tmp_path / "v.faiss")
    assert isinstance(again, IvfVectorIndex) and again.search(queries[0], 5) == ivf.search(queries[0], 5)


def test_the_vector_index_is_chosen_by_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the flat limit a reopened collection rebuilds as IVF, keeps every document and
    still filters by time; below it stays exact."""
    import index.vectors as vectors_module
    from index.vectors import index_kind

    monkeypatch.setattr(vectors_module, "FLAT_LIMIT", 2_000)
    collection = Collection(tmp_path, "fake", 16)
    vectors = _clustered(3_000, 16, seed=8)
    collection.write(Batch(docs=[NewDoc(f"k{i}", f"text {i}", vectors[i], time=float(i))
                                 for i in range(3_000)]))
    assert index_kind(collection.engine.vectors) == "flat"
    collection.close()
    reopened = Collection(tmp_path, "fake", 16)
    assert index_kind(reopened.engine.vectors) == "ivf" and len(reopened.engine.vectors) == 3_000
    hits = reopened.search("text", vectors[2_500], 10, "dense", time_max=99.0)
    assert hits and all(h.id <= 100 for h in hits)  # ids 1..100 carry times 0..99


def test_saved_indexes_catch_up_with_the_store_at_start(tmp_path: Path) -> None:
    """Writes after the last save (a crash before close) are in the store: the next start adds
    and removes exactly those, in both indexes."""
    collection = Collection(tmp_path, "fake", 4)
    collection.write(Batch(docs=[_doc("a|1", "alpha bridge"), _doc("b|1", "beta storm")]))
    collection.close()
    crashed = Collection(tmp_path, "fake", 4)
    crashed.write(Batch(docs=[_doc("c|1", "gamma ferry")], remove_prefixes=["a|"]))
    crashed.store.close()  # no close(): the saved indexes are one write behind
    reopened = Collection(tmp_path, "fake", 4)
    keys = {d.key for d in reopened.get(reopened.ids()).values()}
    assert keys == {"b|1", "c|1"} and len(reopened.engine.vectors) == 2 == len(reopened.engine.keyword)
    assert [reopened.get([h.id])[h.id].key for h in reopened.search("ferry", None, 5, "bm25")] == ["c|1"]
    assert reopened.search("bridge", None, 5, "bm25") == []


def test_time_column_filters_and_replaces() -> None:
    from index.times import TimeColumn

    times = TimeColumn()
    times.add([1, 2, 3], [10.0, None, 30.0])
    times.add([5, 4], [50.0, 40.0])
    times.remove([3, 99])
    assert times.up_to(45.0).tolist() == [1, 4] and times.ids().tolist() == [1, 2, 4, 5]
    times.add([4], [5.0])
    assert times.up_to(9.0).tolist() == [4] and len(times) == 4


def test_ids_a_saved_index_lacks_below_its_highest_are_caught_up_at_start(tmp_path: Path) -> None:
    """A process saved its indexes over those of another that had written meanwhile (the
    files held ids 1-18 and 27, the store 1-27): at the next start every id the store holds
    and a file lacks is added, not only those above the file's highest id."""
    collection = Collection(tmp_path, "fake", 4)
    texts = {"a|1": "alpha bridge", "b|1": "beta storm", "c|1": "gamma ferry", "d|1": "delta harbour"}
    axes = np.eye(4, dtype=np.float32)
    collection.write(Batch(docs=[NewDoc(key, text, axes[i]) for i, (key, text) in enumerate(texts.items())]))
    engine = collection.engine
    engine.vectors.remove(np.asarray([2, 3], dtype=np.int64))  # saved without ids 2 and 3
    engine.keyword.remove(2)
    engine.keyword.remove(3)
    collection.close()
    reopened = Collection(tmp_path, "fake", 4)
    assert sorted(reopened.engine.vectors.ids().tolist()) == [1, 2, 3, 4]
    assert sorted(reopened.engine.keyword.live_ids().tolist()) == [1, 2, 3, 4]
    for word, key in (("storm", "b|1"), ("ferry", "c|1")):
        (hit,) = reopened.search(word, None, 5, "bm25")
        assert reopened.get([hit.id])[hit.id].key == key
    assert [h.id for h in reopened.search("", axes[2], 1, "dense")] == [3]
    reopened.close()
