"""An in-memory BM25 keyword index that grows one document at a time.

Scores follow Lucene's BM25 (idf = ln(1 + (N - df + .5) / (df + .5))). Document statistics are
read at query time, so adding or removing a document never rebuilds anything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

import numpy as np

from index.text import analyze


class _Postings:
    """Positions and term frequencies of one term, appended to and frozen lazily into arrays.

    A reader may run while a writer appends (an answer reads idf outside the collection's
    lock): the arrays are cut to the entries both lists hold, and the cache is tagged with the
    count of appends it saw, so a copy made during an append is rebuilt, never reused.
    """

    __slots__ = ("positions", "tfs", "_appends", "_arrays")

    def __init__(self) -> None:
        self.positions: list[int] = []
        self.tfs: list[int] = []
        self._appends = 0
        self._arrays: tuple[int, np.ndarray, np.ndarray] | None = None

    def append(self, position: int, tf: int) -> None:
        self.positions.append(position)
        self.tfs.append(tf)
        self._appends += 1

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        appends, cached = self._appends, self._arrays
        if cached is not None and cached[0] == appends:
            return cached[1], cached[2]
        n = min(len(self.positions), len(self.tfs))
        positions = np.asarray(self.positions[:n], dtype=np.int64)
        tfs = np.asarray(self.tfs[:n], dtype=np.float32)
        self._arrays = (appends, positions, tfs)
        return positions, tfs


class KeywordIndex:
    """BM25 over documents identified by integer ids."""

    def __init__(self, analyzer: Callable[[str], list[str]] = analyze,
                 k1: float = 1.2, b: float = 0.75) -> None:
        self.analyzer = analyzer
        self.k1 = k1
        self.b = b
        self._postings: dict[str, _Postings] = {}
        self._ids: list[int] = []
        self._position: dict[int, int] = {}
        self._lengths = np.zeros(1024, dtype=np.float32)
        self._alive = np.zeros(1024, dtype=bool)
        self._total_length = 0.0
        self._ids_array: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self._position)

    def __contains__(self, doc_id: int) -> bool:
        return doc_id in self._position

    def _grow(self) -> None:
        size = len(self._lengths) * 2
        self._lengths = np.resize(self._lengths, size)
        self._lengths[len(self._ids):] = 0
        self._alive = np.resize(self._alive, size)
        self._alive[len(self._ids):] = False

    def add(self, doc_id: int, text: str) -> None:
        """Index `text` under `doc_id`; an id already present is replaced."""
        if doc_id in self._position:
            self.remove(doc_id)
        terms = self.analyzer(text)
        position = len(self._ids)
        if position >= len(self._lengths):
            self._grow()
        self._ids.append(doc_id)
        self._ids_array = None
        self._position[doc_id] = position
        self._lengths[position] = len(terms)
        self._alive[position] = True
        self._total_length += len(terms)
        for term, tf in Counter(terms).items():
            self._postings.setdefault(term, _Postings()).append(position, tf)

    def add_many(self, docs: Iterable[tuple[int, str]]) -> None:
        for doc_id, text in docs:
            self.add(doc_id, text)

    def remove(self, doc_id: int) -> None:
        position = self._position.pop(doc_id, None)
        if position is None:
            return
        self._alive[position] = False
        self._total_length -= float(self._lengths[position])

    def scores(self, query: str, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """BM25 score of every indexed position for `query`, and the ids of those positions.

        `allowed` is a boolean mask over positions (see `positions_of`); masked-out documents
        score zero but still count in the collection statistics.
        """
        n_positions = len(self._ids)
        scores = np.zeros(n_positions, dtype=np.float32)
        n_docs = len(self._position)
        if n_docs == 0:
            return scores, self.ids()
        alive = self._alive[:n_positions]
        avg_length = max(self._total_length / n_docs, 1.0)
        norm = self.k1 * (1 - self.b + self.b * self._lengths[:n_positions] / avg_length)
        for term, count in Counter(self.analyzer(query)).items():
            postings = self._postings.get(term)
            if postings is None:
                continue
            positions, tfs = postings.arrays()
            live = alive[positions]
            df = int(np.count_nonzero(live))
            if df == 0:
                continue
            positions, tfs = positions[live], tfs[live]
            idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
            scores[positions] += count * idf * tfs * (self.k1 + 1) / (tfs + norm[positions])
        if allowed is not None:
            scores[~allowed[:n_positions]] = 0.0
        return scores, self.ids()

    def idf(self, term: str) -> float:
        """Inverse document frequency of an analysed term (0 for a term no document has)."""
        postings = self._postings.get(term)
        n_docs = len(self._position)
        if postings is None or n_docs == 0:
            return 0.0
        positions, _ = postings.arrays()
        df = int(np.count_nonzero(self._alive[positions]))
        return float(np.log1p((n_docs - df + 0.5) / (df + 0.5))) if df else 0.0

    def search(self, query: str, k: int,
               allowed_ids: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The `k` best (id, score) pairs with a positive score, best first; `allowed_ids`
        (an int64 array) restricts the result to those documents."""
        mask = None if allowed_ids is None else self.mask_of(allowed_ids)
        scores, ids = self.scores(query, mask)
        return top_k(ids, scores, k)

    def ids(self) -> np.ndarray:
        """Document ids by position (ascending when ids are added in increasing order)."""
        if self._ids_array is None:
            self._ids_array = np.asarray(self._ids, dtype=np.int64)
        return self._ids_array

    def mask_of(self, doc_ids: np.ndarray) -> np.ndarray:
        """Boolean mask over positions: True where the position holds one of `doc_ids`."""
        ids = self.ids()
        wanted = np.asarray(doc_ids, dtype=np.int64)
        # sorting is most of the cost: skip it when the ids come sorted (the time filter's do)
        if not np.all(wanted[1:] > wanted[:-1]):
            wanted = np.unique(wanted)
        if wanted.size == 0:
            return np.zeros(len(ids), dtype=bool)
        at = np.minimum(np.searchsorted(wanted, ids), wanted.size - 1)
        return wanted[at] == ids


def top_k(ids: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The k highest positive scores as (id, score), best first; ties broken by smaller id."""
    positive = np.flatnonzero(scores > 0)
    if positive.size == 0 or k <= 0:
        return []
    if positive.size > k:  # keep every score tied with the k-th best, then cut after sorting
        kth_best = -np.partition(-scores[positive], k - 1)[k - 1]
        positive = positive[scores[positive] >= kth_best]
    order = np.lexsort((ids[positive], -scores[positive]))[:k]
    chosen = positive[order]
    return [(int(ids[i]), float(scores[i])) for i in chosen]
