"""The embedded search engine: a FAISS file and a BM25 file in the data directory, fused by RRF.

No server. Both indexes are saved beside the store (every `SAVE_EVERY` changed documents or 1%
of them, at the end of a bulk load, and on close) and loaded at open, then brought up to the
store by comparing id sets: every stored row a file lacks is added (not only those above its
highest id: another process on the same data directory may have saved files over the ones a
writer left), every row the store no longer has is removed (the store never reuses a row id).
A file that is missing, cut short, built by another analyzer or of another kind than the
collection's size calls for is rebuilt from the store.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import numpy as np

from index.engine import (
    DocSource,
    FusionSettings,
    Hit,
    IndexedDoc,
    Query,
    StoreStamp,
    fuse,
    missing_and_gone,
    single,
    vectors_of,
)
from index.keyword import KeywordIndex
from index.times import TimeColumn
from index.vectors import FaissVectorIndex, IvfVectorIndex, VectorIndex, index_kind, vector_index_for

log = logging.getLogger(__name__)

VectorFactory = Callable[[int, int], VectorIndex]  # (dimension, vectors to hold) -> index


class EmbeddedEngine:
    """FAISS + in-memory BM25 in one process; the time window becomes an id set per search."""

    VECTORS_FILE = "vectors.faiss"
    VECTORS_STAMP = "vectors.json"
    KEYWORD_FILE = "keyword.npz"
    SAVE_LOCK = "index.lock"
    SAVE_EVERY = 2_000
    shared = False  # in this process's memory: another process's writes are copied in

    def __init__(self, directory: Path, dim: int, fusion: FusionSettings | None = None,
                 vector_factory: VectorFactory = vector_index_for,
                 keyword_factory: Callable[[], KeywordIndex] = KeywordIndex) -> None:
        self.directory = directory
        self.dim = dim
        self.fusion = fusion or FusionSettings()
        self._vector_factory = vector_factory
        self._keyword_factory = keyword_factory
        self.vectors: VectorIndex = vector_factory(dim, 0)
        self.keyword = keyword_factory()
        self._times = TimeColumn()
        self._unsaved = 0
        self._stamp: StoreStamp | None = None

    def __len__(self) -> int:
        return len(self._times)

    def ids(self) -> np.ndarray:
        return self._times.ids()

    # -- opening ----------------------------------------------------------------------------

    def sync(self, stamp: StoreStamp, source: DocSource) -> None:
        self._stamp = stamp
        for docs in source(False, with_texts=False):
            self._times.add([d.id for d in docs], [d.time for d in docs])
        store_ids = self._times.ids()
        self.vectors = self._open_vectors(store_ids, source)
        self.keyword = self._open_keyword(store_ids, source)
        if self._unsaved:
            self.flush(stamp)

    def _open_vectors(self, store_ids: np.ndarray, source: DocSource) -> VectorIndex:
        path = self.directory / self.VECTORS_FILE
        wanted = self._vector_factory(self.dim, len(store_ids))
        if path.exists():
            try:  # a file cut short by a crash or a full disk is as good as missing
                loaded = FaissVectorIndex.load(path)
                if loaded.dim == self.dim and index_kind(loaded) == index_kind(wanted):
                    missing, gone = missing_and_gone(loaded.ids(), store_ids)
                    loaded.remove(gone)
                    added = 0
                    for docs in source(True, with_texts=False, ids=missing):
                        loaded.add(np.asarray([d.id for d in docs], dtype=np.int64), vectors_of(docs))
                        added += len(docs)
                    self._unsaved += len(gone) + added
                    return loaded
                reason = f"a {index_kind(loaded)} index of dimension {loaded.dim}"
            except (OSError, ValueError, RuntimeError) as exc:
                reason = f"unreadable: {exc}"
            log.warning("vector index in %s is %s; building a %s index of %d vectors from the "
                        "store", self.directory, reason, index_kind(wanted), len(store_ids))
        self._build_vectors(wanted, len(store_ids), source)
        return wanted

    def _build_vectors(self, index: VectorIndex, count: int, source: DocSource) -> None:
        self._unsaved += max(count, 1)
        if not isinstance(index, IvfVectorIndex):
            for docs in source(True, with_texts=False):
                index.add(np.asarray([d.id for d in docs], dtype=np.int64), vectors_of(docs))
            return
        # the cells are placed by k-means on a sample of all vectors, so hold them once
        ids = np.empty(count, dtype=np.int64)
        matrix = np.empty((count, self.dim), dtype=np.float32)
        filled = 0
        for docs in source(True, with_texts=False):
            ids[filled:filled + len(docs)] = [d.id for d in docs]
            matrix[filled:filled + len(docs)] = vectors_of(docs)
            filled += len(docs)
        sample = np.random.default_rng(0).choice(filled, min(filled, index.train_size()), replace=False)
        index.train(matrix[np.sort(sample)])
        for start in range(0, filled, 65_536):
            index.add(ids[start:start + 65_536], matrix[start:start + 65_536])

    def _open_keyword(self, store_ids: np.ndarray, source: DocSource) -> KeywordIndex:
        path = self.directory / self.KEYWORD_FILE
        fresh = self._keyword_factory()
        if path.exists():
            try:
                loaded = KeywordIndex.load(path, fresh.analyzer)
                if loaded.same_settings(fresh):
                    missing, gone = missing_and_gone(loaded.live_ids(), store_ids)
                    for doc_id in gone.tolist():
                        loaded.remove(doc_id)
                    self._unsaved += len(gone) + self._add_texts(loaded, source, missing)
                    return loaded
                reason = "built with other settings"
            except (OSError, ValueError, KeyError) as exc:
                reason = f"unreadable: {exc}"
            log.warning("keyword index in %s is %s; rebuilding it from the store",
                        self.directory, reason)
        self._unsaved += max(self._add_texts(fresh, source), 1)
        return fresh

    @staticmethod
    def _add_texts(keyword: KeywordIndex, source: DocSource, ids: np.ndarray | None = None) -> int:
        """Index the texts of these stored documents (all of them without `ids`)."""
        added = 0
        for docs in source(False, ids=ids):
            keyword.add_many((d.id, d.text) for d in docs)
            added += len(docs)
        keyword.compact()
        return added

    def _save(self, stamp: StoreStamp) -> None:
        with self._saving():
            self.vectors.save(self.directory / self.VECTORS_FILE)
            self.keyword.save(self.directory / self.KEYWORD_FILE)
            stamp_path = self.directory / self.VECTORS_STAMP  # what the files reflect, for people
            tmp = stamp_path.with_name(stamp_path.name + ".tmp")
            with open(tmp, "w", encoding="utf-8") as file:
                file.write(json.dumps(asdict(stamp)))
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, stamp_path)
        self._unsaved = 0

    @contextmanager
    def _saving(self) -> Iterator[None]:
        """One process at a time writes the data directory's index files: a server and a
        `newsqa ingest` may both save, and each file is written under one temporary name."""
        import fcntl

        with open(self.directory / self.SAVE_LOCK, "ab") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # released when the file is closed
            yield

    def flush(self, stamp: StoreStamp) -> None:
        """Save the indexes once enough changed since the last save: the store has every write,
        so what a crash loses here the next open catches up."""
        self._stamp = stamp
        if self._unsaved >= max(self.SAVE_EVERY, len(self) // 100):
            self._save(stamp)

    def close(self) -> None:
        if self._unsaved and self._stamp is not None:
            self._save(self._stamp)

    # -- writing ----------------------------------------------------------------------------

    def check(self, text: str) -> None:
        """Any text fits."""

    def upsert(self, docs: Sequence[IndexedDoc]) -> None:
        held = [d.id for d in docs if d.id in self._times]
        if held:  # FAISS would keep both copies of an id added twice
            self.vectors.remove(np.asarray(held, dtype=np.int64))
        if docs:
            self.vectors.add(np.asarray([d.id for d in docs], dtype=np.int64), vectors_of(docs))
        self.keyword.add_many((d.id, d.text) for d in docs)
        self._times.add([d.id for d in docs], [d.time for d in docs])
        self._unsaved += len(docs)

    def delete(self, ids: Sequence[int]) -> None:
        held = [i for i in ids if i in self._times]
        if not held:
            return
        self.vectors.remove(np.asarray(held, dtype=np.int64))
        for doc_id in held:
            self.keyword.remove(doc_id)
        self._times.remove(held)
        self._unsaved += len(held)

    # -- reading ----------------------------------------------------------------------------

    def ids_up_to(self, time_max: float) -> np.ndarray:
        """Ids of documents whose time is known and not later than `time_max`, ascending."""
        return self._times.up_to(time_max)

    def search(self, query: Query) -> list[Hit]:
        allowed = None if query.time_max is None else self.ids_up_to(query.time_max)
        depth = query.k if query.mode != "hybrid" else max(query.k, self.fusion.depth)
        dense = self._dense(query.vector, depth, allowed) if query.mode != "bm25" else []
        keyword = self.keyword.search(query.text, depth, allowed) if query.mode != "dense" else []
        if query.mode == "hybrid":
            return fuse(dense, keyword, query.k, self.fusion)
        return single((dense if query.mode == "dense" else keyword)[:query.k], query.mode)

    def _dense(self, vector: np.ndarray | None, k: int,
               allowed: np.ndarray | None) -> list[tuple[int, float]]:
        if vector is None:
            raise ValueError("dense and hybrid search need a query vector")
        return self.vectors.search(vector, k, allowed)

