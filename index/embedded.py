"""The embedded search engine: a FAISS file in the data directory, BM25 in memory, fused by RRF.

No server: the vector index is saved next to the store with the store stamp it reflects, and
rebuilt from the store at open when the two disagree (a crash between commit and save, or a
file cut short); the BM25 index and the time column are rebuilt in memory at every open.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Sequence
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
    single,
    vectors_of,
)
from index.keyword import KeywordIndex
from index.vectors import FaissVectorIndex, VectorIndex

log = logging.getLogger(__name__)

VectorFactory = Callable[[int], VectorIndex]


class EmbeddedEngine:
    """FAISS + in-memory BM25 in one process; the time window becomes an id set per search."""

    VECTORS_FILE = "vectors.faiss"
    VECTORS_STAMP = "vectors.json"

    def __init__(self, directory: Path, dim: int, fusion: FusionSettings | None = None,
                 vector_factory: VectorFactory = FaissVectorIndex,
                 keyword_factory: Callable[[], KeywordIndex] = KeywordIndex) -> None:
        self.directory = directory
        self.dim = dim
        self.fusion = fusion or FusionSettings()
        self._vector_factory = vector_factory
        self.vectors: VectorIndex = vector_factory(dim)
        self.keyword = keyword_factory()
        self._times: dict[int, float | None] = {}
        self._time_arrays: tuple[np.ndarray, np.ndarray] | None = None
        self._unsaved = False

    def __len__(self) -> int:
        return len(self._times)

    def ids(self) -> np.ndarray:
        return np.sort(np.fromiter(self._times.keys(), dtype=np.int64, count=len(self._times)))

    # -- opening ----------------------------------------------------------------------------

    def sync(self, stamp: StoreStamp, source: DocSource) -> None:
        loaded = self._load_vectors(stamp)
        for docs in source(loaded is None):
            for doc in docs:
                self.keyword.add(doc.id, doc.text)
                self._times[doc.id] = doc.time
            if loaded is None and docs:
                self.vectors.add(np.asarray([d.id for d in docs], dtype=np.int64), vectors_of(docs))
        if loaded is not None:
            self.vectors = loaded
        else:
            self._save_vectors(stamp)

    def _load_vectors(self, stamp: StoreStamp) -> VectorIndex | None:
        path = self.directory / self.VECTORS_FILE
        stamp_path = self.directory / self.VECTORS_STAMP
        expected = {"generation": stamp.generation, "count": stamp.count}
        if self._vector_factory is not FaissVectorIndex or not path.exists() \
                or not stamp_path.exists():
            return None
        try:  # a file cut short by a crash or a full disk is as good as stale
            saved = json.loads(stamp_path.read_text())
            if saved == expected:
                loaded = FaissVectorIndex.load(path)
                if len(loaded) == stamp.count and loaded.dim == self.dim:
                    return loaded
        except (OSError, ValueError, RuntimeError) as exc:
            saved = f"unreadable: {exc}"
        log.warning("vector index in %s is stale (%s, store at %s); rebuilding it from "
                    "the store", self.directory, saved, expected)
        return None

    def _save_vectors(self, stamp: StoreStamp) -> None:
        self.vectors.save(self.directory / self.VECTORS_FILE)
        stamp_path = self.directory / self.VECTORS_STAMP
        tmp = stamp_path.with_name(stamp_path.name + ".tmp")
        saved = asdict(stamp)
        with open(tmp, "w", encoding="utf-8") as file:
            file.write(json.dumps(saved))
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, stamp_path)

    def flush(self, stamp: StoreStamp) -> None:
        if self._unsaved:
            self._save_vectors(stamp)
            self._unsaved = False

    def close(self) -> None:
        pass

    # -- writing ----------------------------------------------------------------------------

    def upsert(self, docs: Sequence[IndexedDoc]) -> None:
        held = [d.id for d in docs if d.id in self._times]
        if held:  # FAISS would keep both copies of an id added twice
            self.vectors.remove(np.asarray(held, dtype=np.int64))
        if docs:
            self.vectors.add(np.asarray([d.id for d in docs], dtype=np.int64), vectors_of(docs))
        for doc in docs:
            self.keyword.add(doc.id, doc.text)
            self._times[doc.id] = doc.time
        self._time_arrays = None
        self._unsaved = True

    def delete(self, ids: Sequence[int]) -> None:
        held = [i for i in ids if i in self._times]
        if not held:
            return
        self.vectors.remove(np.asarray(held, dtype=np.int64))
        for doc_id in held:
            self.keyword.remove(doc_id)
            self._times.pop(doc_id, None)
        self._time_arrays = None
        self._unsaved = True

    # -- reading ----------------------------------------------------------------------------

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

    def idf(self, term: str) -> float:
        return self.keyword.idf(term)
