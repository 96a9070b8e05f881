"""A searchable collection: the records store as the source of truth, a search engine derived
from it (embedded FAISS + BM25, or Milvus), kept consistent across crashes and with what other
processes write to the same store.

Knows texts, vectors, ids, times and metadata; nothing about news.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.catchup import catch_up
from index.embedded import EmbeddedEngine, VectorFactory
from index.engine import (
    FusionSettings,
    Hit,
    IndexedDoc,
    Query,
    SearchEngine,
    StoreStamp,
)
from index.errors import CollectionMismatch, DocumentRefused
from index.keyword import KeywordIndex
from index.milvus import MilvusTarget
from index.modes import SEARCH_MODES, SearchMode
from index.store import (
    NewDoc,
    Store,
    StoredDoc,
    delete_docs,
    delete_record,
    insert_docs,
    put_record,
)
from index.vectors import vector_index_for

log = logging.getLogger(__name__)

BULK_BATCH = 4096  # documents gathered by a bulk before they go to the engine in one call
# How often a reader asks the store whether another process wrote it (one primary-key read).
STORE_CHECK_INTERVAL_S = 0.1

__all__ = ["SEARCH_MODES", "Batch", "Collection", "CollectionMismatch", "FusionSettings", "Hit",
           "MilvusTarget", "SearchMode", "WriteResult", "open_engine"]

@dataclass
class Batch:
    """Changes gathered for one atomic write."""

    docs: list[NewDoc] = field(default_factory=list)
    remove_prefixes: list[str] = field(default_factory=list)
    records: list[tuple[str, str, Any]] = field(default_factory=list)
    dropped_records: list[tuple[str, str]] = field(default_factory=list)

    def add(self, doc: NewDoc) -> None:
        self.docs.append(doc)

    def remove_keys_with_prefix(self, prefix: str) -> None:
        self.remove_prefixes.append(prefix)

    def put_record(self, collection: str, key: str, value: Any) -> None:
        self.records.append((collection, key, value))

    def delete_record(self, collection: str, key: str) -> None:
        self.dropped_records.append((collection, key))


@dataclass(frozen=True)
class WriteResult:
    added_ids: list[int]
    removed_ids: list[int]
    skipped_keys: list[str]
    generation: int = 0  # the store's generation this write committed


def open_engine(directory: Path, dim: int, fusion: FusionSettings, store_id: str,
                milvus: MilvusTarget | None = None, model: str = "",
                vector_factory: VectorFactory = vector_index_for,
                keyword_factory: Callable[[], KeywordIndex] = KeywordIndex) -> SearchEngine:
    """Milvus when a target is given (a file path: Milvus Lite; http://host:port: a server),
    else the embedded engine in `directory`."""
    if milvus is not None:
        from index.milvus import MilvusEngine

        return MilvusEngine(milvus.uri, milvus.collection, dim, store_id, fusion,
                            consistency=milvus.consistency, model=model)
    return EmbeddedEngine(directory, dim, fusion, vector_factory, keyword_factory)


class Collection:
    """Documents with vectors, searched densely, by keywords, or both fused."""

    STORE_FILE = "newsqa.sqlite3"

    def __init__(self, directory: Path, embedder_name: str, dim: int,
                 vector_factory: VectorFactory = vector_index_for,
                 keyword_factory: Callable[[], KeywordIndex] = KeywordIndex,
                 fusion: FusionSettings | None = None, milvus: MilvusTarget | None = None,
                 database_url: str | None = None,
                 check_interval_s: float = STORE_CHECK_INTERVAL_S) -> None:
        """`database_url` (a SQLAlchemy URL) puts the store in that database instead of a SQLite
        file in `directory`; `milvus` puts search there instead of FAISS + BM25 in `directory`.
        A search asks the store at most every `check_interval_s` whether another process wrote
        it, and catches the engine up first if so (`refresh`)."""
        self.directory = directory
        self.embedder_name = embedder_name
        self.dim = dim
        self.fusion = fusion or FusionSettings()
        self._lock = threading.RLock()
        directory.mkdir(parents=True, exist_ok=True)
        self.store = Store(database_url) if database_url else Store.at_path(directory / self.STORE_FILE)
        self._check_model()
        self._bulk_depth = 0
        self._pending: list[IndexedDoc] = []  # written to the store inside a bulk, not yet to the engine
        self._behind = False  # an engine call after a commit failed: catch up before the next
        self.check_interval_s = check_interval_s
        self._checked_at = float("-inf")
        self._in_line_up_to = 0  # the engine holds exactly the store's ids up to this one
        store_id = self._store_id()
        self._open_engine = lambda: open_engine(directory, dim, self.fusion, store_id, milvus,
                                                embedder_name, vector_factory, keyword_factory)
        self.engine = self._open_engine()
        self._generation = self._sync()  # the store's generation the engine reflects

    # -- opening ----------------------------------------------------------------------------

    def _check_model(self) -> None:
        stamp = self.store.get_record("_collection", "embedder")
        wanted = {"name": self.embedder_name, "dim": self.dim}
        if stamp is None:
            with self.store.transaction() as conn:
                put_record(conn, "_collection", "embedder", wanted)
        elif stamp != wanted:
            raise CollectionMismatch(
                f"the data directory {self.directory} holds vectors from model "
                f"{stamp['name']!r} (dimension {stamp['dim']}), but the configured model is "
                f"{self.embedder_name!r} (dimension {self.dim}). Use another data directory "
                "(--data-dir / NEWSQA_DATA_DIR) or configure the model it was built with.")

    def _store_id(self) -> str:
        """A name for this store, made once: an engine outside the data directory checks it."""
        value = self.store.get_record("_collection", "store_id")
        if value is None:
            value = uuid.uuid4().hex
            with self.store.transaction() as conn:
                put_record(conn, "_collection", "store_id", value)
        return str(value)

    def _stamp(self) -> StoreStamp:
        return StoreStamp(self.store.generation(), self.store.count(), self.store.high_water())

    def _sync(self) -> int:
        """Bring the engine in line with the store, as at open; the generation it reflects."""
        stamp = self._stamp()  # the generation first: a write landing meanwhile is seen next time
        self.engine.sync(stamp, self._documents)
        if not self.engine.shared:
            held = self.engine.ids()
            self._in_line_up_to = int(held[-1]) if len(held) else 0
        return stamp.generation

    def _documents(self, with_vectors: bool, after_id: int = 0, with_texts: bool = True,
                   ids: np.ndarray | None = None) -> Iterator[list[IndexedDoc]]:
        """The engine's view of the store (see `DocSource`), streamed in batches."""
        store = self.store
        if with_vectors and with_texts:
            for full in store.iter_docs(after_id=after_id, ids=ids):
                yield [IndexedDoc(i, text, vector, time) for i, time, text, vector
                       in zip(full.ids.tolist(), full.times, full.texts, full.vectors, strict=True)]
        elif with_vectors:
            for part in store.iter_vectors(after_id=after_id, ids=ids):
                yield [IndexedDoc(i, "", vector, time) for i, time, vector
                       in zip(part.ids.tolist(), part.times, part.vectors, strict=True)]
        elif with_texts:
            for texts in store.iter_texts(after_id=after_id, ids=ids):
                yield [IndexedDoc(i, text, None, time) for i, time, text
                       in zip(texts.ids.tolist(), texts.times, texts.texts, strict=True)]
        else:
            for times in store.iter_times(after_id=after_id, ids=ids):
                yield [IndexedDoc(i, "", None, time)
                       for i, time in zip(times.ids.tolist(), times.times, strict=True)]

    def close(self) -> None:
        self.engine.close()
        self.store.close()

    def __len__(self) -> int:
        """How many documents searches cover (the store's count, once caught up)."""
        self.refresh()
        return len(self.engine)

    # -- other processes --------------------------------------------------------------------

    def refresh(self, force: bool = False) -> None:
        """If another process wrote the store since the engine last looked (its generation
        moved), catch the engine up before the next search: asked at most every
        `check_interval_s`, unless `force`."""
        with self._lock:
            self._catch_up()
            now = time.monotonic()
            if not force and now - self._checked_at < self.check_interval_s:
                return
            self._checked_at = now
            if self.store.generation() != self._generation:
                self._follow()

    def _follow(self) -> None:
        """Copy into an engine of this process what other processes committed (index/catchup.py)."""
        if self.engine.shared:  # they wrote it themselves
            self._generation = self.store.generation()
            return
        stamp = self._stamp()  # the generation first: a write landing meanwhile is seen next time
        with self._to_engine():
            self._send_pending()  # what a bulk of ours gathered is not another's write
            done = catch_up(self.engine, self.store, self._documents, self._in_line_up_to)
            self.engine.flush(stamp)
        if done.added or done.removed:
            log.info("another process wrote the store (generation %d to %d): the search engine "
                     "took the %d documents it added and dropped the %d it removed",
                     self._generation, stamp.generation, done.added, done.removed)
        self._in_line_up_to = done.in_line_up_to
        self._generation = stamp.generation

    # -- writing ----------------------------------------------------------------------------

    def write(self, batch: Batch) -> WriteResult:
        """Apply `batch` atomically: all of it is stored, or none of it.

        Documents whose key is already stored are skipped, so writing the same batch twice
        adds nothing; removals come first, so a batch can replace a document under its key.
        The store commits first (it is the source of truth); the engine is then brought up to
        it. So the engine never holds a document the store does not: a crash after the commit
        leaves the engine behind, and its next open (or this process's next call) catches it up.
        """
        for doc in batch.docs:
            if doc.vector.shape != (self.dim,):
                raise ValueError(f"document {doc.key!r} has a vector of shape "
                                 f"{doc.vector.shape}, expected ({self.dim},)")
        with self._lock:
            self._catch_up()
            # a key this batch removes and adds again is replaced, not skipped
            existing = {key for key in self.store.existing_keys([d.key for d in batch.docs])
                        if not key.startswith(tuple(batch.remove_prefixes))}
            seen: set[str] = set()
            fresh = []
            for doc in batch.docs:
                if doc.key not in existing and doc.key not in seen:
                    fresh.append(doc)
                    seen.add(doc.key)
            removed = sorted({i for p in batch.remove_prefixes
                              for i in self.store.ids_with_key_prefix(p)})
            for doc in fresh:  # refused before the commit: no catch-up could ever send it
                try:
                    self.engine.check(doc.search_text if doc.search_text is not None else doc.text)
                except ValueError as exc:
                    raise DocumentRefused(f"document {doc.key!r} cannot be indexed: {exc}") from exc
            with self.store.transaction() as conn:
                delete_docs(conn, removed)
                added = insert_docs(conn, fresh)
                for collection, key in batch.dropped_records:
                    delete_record(conn, collection, key)
                for collection, key, value in batch.records:
                    put_record(conn, collection, key, value)
            generation = self.store.committed_generation
            indexed = [IndexedDoc(i, d.search_text if d.search_text is not None else d.text,
                                  d.vector, d.time) for i, d in zip(added, fresh, strict=True)]
            self._apply(indexed, removed)
            if generation == self._generation + 1:
                self._generation = generation
                self._in_line_up_to = max([self._in_line_up_to, *added])
            else:  # another process committed since the engine last looked
                self._follow()
        skipped = [d.key for d in batch.docs if d.key in existing]
        return WriteResult(added, removed, skipped, generation)

    def _apply(self, indexed: list[IndexedDoc], removed: list[int]) -> None:
        """Hand the engine a committed write (idempotent: upsert by id, delete by id). If it
        fails, the engine is caught up from the store before the next write or search."""
        with self._to_engine():
            if self._bulk_depth:
                self._pending.extend(indexed)
                if removed or len(self._pending) >= BULK_BATCH:
                    self._send_pending()
                self.engine.delete(removed)
            else:
                self.engine.upsert(indexed)
                self.engine.delete(removed)
                self.engine.flush(self._stamp())

    @contextmanager
    def _to_engine(self) -> Iterator[None]:
        """Engine calls after a commit: one that fails leaves the engine behind the store."""
        try:
            yield
        except BaseException:
            self._behind = True
            raise

    def _catch_up(self) -> None:
        """After an engine call that failed: the engine is opened again and brought up to the
        store, as at start (what it held in memory may be half of a write)."""
        if not self._behind:
            return
        log.warning("the search engine missed a committed write; catching it up from the store")
        self._pending = []
        try:
            self.engine.close()
        except Exception:  # its state is being replaced; the new engine's sync is what counts
            log.exception("closing the search engine that missed a write failed")
        self.engine = self._open_engine()
        self._generation = self._sync()
        self._behind = False

    def _send_pending(self) -> None:
        pending, self._pending = self._pending, []
        self.engine.upsert(pending)

    def flush(self) -> None:
        """Hand the engine what a bulk gathered; make its state durable (the embedded engine
        saves its vector index)."""
        with self._lock, self._to_engine():
            self._send_pending()
            self.engine.flush(self._stamp())

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Many writes, their documents handed to the engine in batches of BULK_BATCH and once
        at the end: searches inside see them from then on. Each write is still atomic in the
        store; a crash inside leaves the engine behind, and its next open brings it up to the
        store."""
        with self._lock:
            self._bulk_depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._bulk_depth -= 1
            if self._bulk_depth == 0:
                self.flush()

    # -- reading ----------------------------------------------------------------------------

    def get(self, ids: list[int]) -> dict[int, StoredDoc]:
        return self.store.get(ids)

    def ids(self) -> list[int]:
        """Ids of the documents the engine holds, ascending."""
        self.refresh()
        return [int(i) for i in self.engine.ids()]

    def similarities(self, vector: np.ndarray, ids: list[int]) -> dict[int, float]:
        """Inner product of `vector` with each stored document's vector (cosine for unit vectors)."""
        if not ids:
            return {}
        stored = self.store.vectors(ids)
        return {i: float(np.dot(v, vector)) for i, v in stored.items()}

    def generation(self) -> int:
        """The store's write counter: it moves whenever any process writes."""
        return self.store.generation()

    def record(self, collection: str, key: str) -> Any | None:
        """One stored record (a JSON value) of `collection`, or None."""
        return self.store.get_record(collection, key)

    def records(self, collection: str) -> list[tuple[str, Any]]:
        """Every (key, record) of `collection`, by key."""
        return self.store.list_records(collection)

    def iter_records(self, collection: str) -> Iterator[tuple[str, Any]]:
        """Every (key, record) of `collection`, by key, streamed (bounded memory at start)."""
        return self.store.iter_records(collection)

    def idf(self, term: str) -> float:
        """BM25 idf of an analysed term over the stored documents (what weighs a question's
        words): the store keeps the counts, so no engine has to scan for them."""
        return self.store.term_stats([term]).idf(term)

    def idf_of(self, terms: Iterable[str]) -> Callable[[str], float]:
        """`idf`, with the counts of `terms` read in one query (a question's dozen words were a
        dozen round trips to the store); a term outside `terms` is looked up on its own."""
        wanted = set(terms)
        stats = self.store.term_stats(sorted(wanted))

        def idf(term: str) -> float:
            return stats.idf(term) if term in wanted else self.idf(term)

        return idf

    def search(self, query: str, vector: np.ndarray | None, k: int, mode: SearchMode = "hybrid",
               time_max: float | None = None) -> list[Hit]:
        """The `k` best documents for `query` (text for BM25, `vector` for dense search);
        `time_max` keeps those whose time is known and not later."""
        if mode != "bm25" and vector is None:
            raise ValueError("dense and hybrid search need a query vector")
        with self._lock:
            self.refresh()
            return self.engine.search(Query(query, vector, k, mode, time_max))
