"""The search seam: what a search engine must do for a Collection, whichever engine it is.

The records store (SQLite or PostgreSQL) stays the source of truth for texts, metadata and
vectors; an engine holds what searching needs (search text, vector, time) under the store's
ids, and can always be brought back in line from the store. Two engines implement it: the
embedded one (FAISS + in-memory BM25, fused by RRF) and Milvus.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from index.modes import SearchMode


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


@dataclass(frozen=True)
class IndexedDoc:
    """What an engine holds for one stored document: `text` is what keyword search indexes."""

    id: int
    text: str
    vector: np.ndarray | None  # None only where the source was asked for no vectors
    time: float | None = None


@dataclass(frozen=True)
class Query:
    """One search: `text` for BM25, `vector` for dense search, both for hybrid.

    `time_max` keeps documents whose time is known and not later than it (a range the engine
    applies while searching, not a filter on its results).
    """

    text: str
    vector: np.ndarray | None
    k: int
    mode: SearchMode = "hybrid"
    time_max: float | None = None


@dataclass(frozen=True)
class StoreStamp:
    """The store's state an engine was last brought in line with."""

    generation: int
    count: int
    high_water: int = 0  # the largest id ever committed (see Store.high_water)


class DocSource(Protocol):
    """The store's documents in id order, in batches: with their vectors or without (cheaper),
    only those whose id is above `after_id` (or, given `ids`, those of them still stored), and
    with empty texts unless `with_texts`."""

    def __call__(self, with_vectors: bool, after_id: int = 0, with_texts: bool = True,
                 ids: np.ndarray | None = None) -> Iterator[list[IndexedDoc]]: ...


class SearchEngine(Protocol):
    """Documents under the store's ids, searched densely, by keywords, or both fused."""

    # True when every process that writes the store writes this engine too (Milvus): what
    # another process commits is already searchable here. False for an engine in this
    # process's memory (FAISS + BM25), into which another process's writes must be copied.
    shared: bool

    def __len__(self) -> int: ...

    def ids(self) -> np.ndarray:
        """Every id the engine holds, ascending."""
        ...

    def check(self, text: str) -> None:
        """Raise ValueError if `upsert` could never take a document with this search text.
        Called before the store commits: a committed document the engine refuses would make
        every catch-up after it fail."""
        ...

    def upsert(self, docs: Sequence[IndexedDoc]) -> None:
        """Add `docs`, replacing any already held under the same id (writing twice adds nothing)."""
        ...

    def delete(self, ids: Sequence[int]) -> None:
        """Remove these ids; an id not held is ignored."""
        ...

    def search(self, query: Query) -> list[Hit]:
        """The `query.k` best documents, best first."""
        ...

    def sync(self, stamp: StoreStamp, source: DocSource) -> None:
        """At open: bring the engine in line with the store, which is at `stamp`."""
        ...

    def flush(self, stamp: StoreStamp) -> None:
        """Make what was written durable; the store is now at `stamp`."""
        ...

    def close(self) -> None: ...


def missing_and_gone(held: np.ndarray, stored: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ids `stored` (the store's, ascending) has and `held` (an engine's or a file's, any
    order) lacks, and those `held` has and `stored` lacks; both ascending. Set operations on
    arrays: a million ids cost a sort, and nothing more when the two agree."""
    held = np.sort(np.asarray(held, dtype=np.int64))  # np.sort: np.unique is ten times slower
    stored = np.asarray(stored, dtype=np.int64)
    if len(held) == len(stored) and np.array_equal(held, stored):
        return stored[:0], stored[:0]
    held = held[np.concatenate(([True], held[1:] != held[:-1]))] if len(held) else held
    return (np.setdiff1d(stored, held, assume_unique=True),
            np.setdiff1d(held, stored, assume_unique=True))


def fuse(dense: list[tuple[int, float]], keyword: list[tuple[int, float]], k: int,
         fusion: FusionSettings) -> list[Hit]:
    """Weighted reciprocal rank fusion of the two rankings, as `Hit`s with both scores."""
    from index.fusion import reciprocal_rank_fusion

    fused = reciprocal_rank_fusion([dense, keyword], [fusion.dense_weight, fusion.keyword_weight],
                                   k=fusion.rrf_k)
    dense_scores, keyword_scores = dict(dense), dict(keyword)
    return [Hit(i, s, dense=dense_scores.get(i), keyword=keyword_scores.get(i)) for i, s in fused[:k]]


def single(ranking: list[tuple[int, float]], mode: SearchMode) -> list[Hit]:
    """Hits of a one-retriever search, with its score in the field it came from."""
    if mode == "dense":
        return [Hit(i, s, dense=s) for i, s in ranking]
    return [Hit(i, s, keyword=s) for i, s in ranking]


def vectors_of(docs: Sequence[IndexedDoc]) -> np.ndarray:
    """The documents' vectors as one (n, dim) array."""
    vectors = [d.vector for d in docs]
    if any(v is None for v in vectors):
        raise ValueError("an engine was given a document without its vector")
    return np.stack([v for v in vectors if v is not None])
