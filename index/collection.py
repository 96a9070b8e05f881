"""A searchable collection: SQLite as the source of truth, a vector index and a BM25 index
derived from it, kept consistent across crashes.

Knows texts, vectors, ids, times and metadata; nothing about news.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from index.fusion import reciprocal_rank_fusion
from index.keyword import KeywordIndex
from index.store import NewDoc, Store, StoredDoc, delete_docs, insert_docs, put_record
from index.vectors import FaissVectorIndex, VectorIndex

log = logging.getLogger(__name__)

SearchMode = Literal["dense", "bm25", "hybrid"]
SEARCH_MODES: tuple[SearchMode, ...] = ("hybrid", "dense", "bm25")

VectorFactory = Callable[[int], VectorIndex]


class CollectionMismatch(RuntimeError):
    """The data directory was built with another embedding model or dimension."""


@dataclass(frozen=True)
class Hit:
    id: int
    score: float
    dense: float | None = None
    keyword: float | None = None


@dataclass
class FusionSettings:
    """How hybrid search merges its two rankings."""

    rrf_k: float = 60.0
    dense_weight: float = 1.0
    keyword_weight: float = 1.0
    depth: int = 100  # candidates taken from each retriever before fusing


@dataclass
class Batch:
    """Changes gathered for one atomic write."""

    docs: list[NewDoc] = field(default_factory=list)
    remove_prefixes: list[str] = field(default_factory=list)
    records: list[tuple[str, str, Any]] = field(default_factory=list)

    def add(self, doc: NewDoc) -> None:
        self.docs.append(doc)

    def remove_keys_with_prefix(self, prefix: str) -> None:
        self.remove_prefixes.append(prefix)

    def put_record(self, collection: str, key: str, value: Any) -> None:
        self.records.append((collection, key, value))


@dataclass(frozen=True)
class WriteResult:
    added_ids: list[int]
    removed_ids: list[int]
    skipped_keys: list[str]


class Collection:
    """Documents with vectors, searched densely, by keywords, or both fused."""

    VECTORS_FILE = "vectors.faiss"
    VECTORS_STAMP = "vectors.json"

    def __init__(self, directory: Path, embedder_name: str, dim: int,
                 vector_factory: VectorFactory = FaissVectorIndex,
                 keyword_factory: Callable[[], KeywordIndex] = KeywordIndex,
                 fusion: FusionSettings | None = None) -> None:
        self.directory = directory
        self.embedder_name = embedder_name
        self.dim = dim
        self.fusion = fusion or FusionSettings()
        self._vector_factory = vector_factory
        self._lock = threading.RLock()
        directory.mkdir(parents=True, exist_ok=True)
        self.store = Store(directory / "newsqa.sqlite3")
        self._check_model()
        self.keyword = keyword_factory()
        self._times: dict[int, float | None] = {}
        self._time_arrays: tuple[np.ndarray, np.ndarray] | None = None
        self._bulk_depth = 0
        self._unsaved = False
        self.vectors = self._load_vectors()
        self._load_keyword_and_times()

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

    def _stamp(self) -> dict[str, int]:
        return {"generation": self.store.generation(), "count": self.store.count()}

    def _load_vectors(self) -> VectorIndex:
        path = self.directory / self.VECTORS_FILE
        stamp_path = self.directory / self.VECTORS_STAMP
        expected = self._stamp()
        if self._vector_factory is FaissVectorIndex and path.exists() and stamp_path.exists():
            try:  # a file cut short by a crash or a full disk is as good as stale
                saved = json.loads(stamp_path.read_text())
                if saved == expected:
                    loaded = FaissVectorIndex.load(path)
                    if len(loaded) == expected["count"] and loaded.dim == self.dim:
                        return loaded
            except (OSError, ValueError, RuntimeError) as exc:
                saved = f"unreadable: {exc}"
            log.warning("vector index in %s is stale (%s, store at %s); rebuilding it from "
                        "the store", self.directory, saved, expected)
        index: VectorIndex = self._vector_factory(self.dim)
        for ids, _texts, _times, vectors in self.store.iter_all(with_vectors=True):
            assert vectors is not None
            index.add(ids, vectors)
        self._save_vectors(index)
        return index

    def _save_vectors(self, index: VectorIndex) -> None:
        index.save(self.directory / self.VECTORS_FILE)
        stamp_path = self.directory / self.VECTORS_STAMP
        tmp = stamp_path.with_name(stamp_path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as file:
            file.write(json.dumps(self._stamp()))
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, stamp_path)

    def _load_keyword_and_times(self) -> None:
        for ids, texts, times, _ in self.store.iter_all(with_vectors=False):
            for doc_id, text, time in zip(ids.tolist(), texts, times, strict=True):
                self.keyword.add(doc_id, text)
                self._times[doc_id] = time

    def close(self) -> None:
        self.store.close()

    def __len__(self) -> int:
        return len(self._times)

    # -- writing ----------------------------------------------------------------------------

    def write(self, batch: Batch) -> WriteResult:
        """Apply `batch` atomically: all of it is stored, or none of it.

        Documents whose key is already stored are skipped, so writing the same batch twice
        adds nothing; removals come first, so a batch can replace a document under its key.
        """
        for doc in batch.docs:
            if doc.vector.shape != (self.dim,):
                raise ValueError(f"document {doc.key!r} has a vector of shape "
                                 f"{doc.vector.shape}, expected ({self.dim},)")
        with self._lock:
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
            with self.store.transaction() as conn:
                delete_docs(conn, removed)
                added = insert_docs(conn, fresh)
                for collection, key, value in batch.records:
                    put_record(conn, collection, key, value)
            self._apply(fresh, added, removed)
        skipped = [d.key for d in batch.docs if d.key in existing]
        return WriteResult(added, removed, skipped)

    def _apply(self, docs: list[NewDoc], ids: list[int], removed: list[int]) -> None:
        if removed:
            self.vectors.remove(np.asarray(removed, dtype=np.int64))
            for doc_id in removed:
                self.keyword.remove(doc_id)
                self._times.pop(doc_id, None)
            self._time_arrays = None
        if docs:
            self.vectors.add(np.asarray(ids, dtype=np.int64), np.stack([d.vector for d in docs]))
            for doc_id, doc in zip(ids, docs, strict=True):
                self.keyword.add(doc_id, doc.search_text if doc.search_text is not None else doc.text)
                self._times[doc_id] = doc.time
        self._time_arrays = None
        self._unsaved = True
        if self._bulk_depth == 0:
            self.flush()

    def flush(self) -> None:
        """Persist the vector index if it changed since the last save."""
        with self._lock:
            if self._unsaved:
                self._save_vectors(self.vectors)
                self._unsaved = False

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Many writes, one vector-index save at the end. Each write is still atomic in the store;
        a crash inside leaves a stale index file, which the next start rebuilds from the store."""
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

    def similarities(self, vector: np.ndarray, ids: list[int]) -> dict[int, float]:
        """Inner product of `vector` with each stored document's vector (cosine for unit vectors)."""
        if not ids:
            return {}
        stored = self.store.vectors(ids)
        return {i: float(np.dot(v, vector)) for i, v in stored.items()}

    def ids_up_to(self, time_max: float) -> np.ndarray:
        """Ids of documents whose time is known and not later than `time_max`, ascending."""
        if self._time_arrays is None:
            ids = np.fromiter(self._times.keys(), dtype=np.int64, count=len(self._times))
            times = np.fromiter((np.nan if t is None else t for t in self._times.values()),
                                dtype=np.float64, count=len(self._times))
            order = np.argsort(ids)
            self._time_arrays = (ids[order], times[order])
        ids, times = self._time_arrays
        return ids[times <= time_max]  # NaN (unknown time) compares False

    def search(self, query: str, vector: np.ndarray | None, k: int, mode: SearchMode = "hybrid",
               time_max: float | None = None) -> list[Hit]:
        """The `k` best documents for `query` (text for BM25, `vector` for dense search)."""
        with self._lock:
            allowed = None if time_max is None else self.ids_up_to(time_max)
            depth = k if mode != "hybrid" else max(k, self.fusion.depth)
            dense = self._dense(vector, depth, allowed) if mode != "bm25" else []
            keyword = self.keyword.search(query, depth, allowed) if mode != "dense" else []
        if mode == "dense":
            return [Hit(i, s, dense=s) for i, s in dense[:k]]
        if mode == "bm25":
            return [Hit(i, s, keyword=s) for i, s in keyword[:k]]
        fused = reciprocal_rank_fusion([dense, keyword],
                                       [self.fusion.dense_weight, self.fusion.keyword_weight],
                                       k=self.fusion.rrf_k)
        dense_scores, keyword_scores = dict(dense), dict(keyword)
        return [Hit(i, s, dense=dense_scores.get(i), keyword=keyword_scores.get(i))
                for i, s in fused[:k]]

    def _dense(self, vector: np.ndarray | None, k: int,
               allowed: np.ndarray | None) -> list[tuple[int, float]]:
        if vector is None:
            raise ValueError("dense and hybrid search need a query vector")
        return self.vectors.search(vector, k, allowed)
