"""Document times in arrays, for the `as_of` filter: which ids were published by a moment."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class TimeColumn:
    """Ids (ascending) with their times (NaN: unknown); two arrays, not a dict of floats."""

    def __init__(self) -> None:
        self._ids = np.empty(0, dtype=np.int64)
        self._times = np.empty(0, dtype=np.float64)
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []

    def __len__(self) -> int:
        self._settle()
        return len(self._ids)

    def __contains__(self, doc_id: int) -> bool:
        ids = self.ids()
        at = int(np.searchsorted(ids, doc_id))
        return at < len(ids) and ids[at] == doc_id

    def add(self, ids: Sequence[int] | np.ndarray, times: Sequence[float | None] | np.ndarray) -> None:
        """Add documents; an id already held is replaced."""
        if len(ids) == 0:
            return
        new_ids = np.asarray(ids, dtype=np.int64)
        new_times = np.asarray([np.nan if t is None else t for t in times], dtype=np.float64) \
            if not isinstance(times, np.ndarray) else times.astype(np.float64)
        self._pending.append((new_ids, new_times))

    def _settle(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        ids = np.concatenate([self._ids, *(p[0] for p in pending)])
        times = np.concatenate([self._times, *(p[1] for p in pending)])
        if not np.all(ids[1:] > ids[:-1]):  # out of order or replaced: the last copy wins
            order = np.argsort(ids, kind="stable")[::-1]
            ids, first = np.unique(ids[order], return_index=True)
            times = times[order][first]
        self._ids, self._times = ids, times

    def remove(self, ids: Sequence[int] | np.ndarray) -> None:
        if len(ids) == 0:
            return
        self._settle()
        gone = np.asarray(ids, dtype=np.int64)
        at = np.minimum(np.searchsorted(self._ids, gone), max(len(self._ids) - 1, 0))
        at = at[self._ids[at] == gone] if len(self._ids) else at[:0]
        self._ids, self._times = np.delete(self._ids, at), np.delete(self._times, at)

    def ids(self) -> np.ndarray:
        self._settle()
        return self._ids

    def up_to(self, time_max: float) -> np.ndarray:
        """Ids of documents whose time is known and not later than `time_max`, ascending."""
        self._settle()
        return self._ids[self._times <= time_max]  # NaN (unknown time) compares False
