"""An in-memory BM25 keyword index that grows one document at a time.

Scores follow Lucene's BM25 (idf = ln(1 + (N - df + .5) / (df + .5))). Document statistics are
read at query time, so adding or removing a document never rebuilds anything.

Postings live in numpy arrays, never one Python object per posting (six bytes each: an int32
position and a uint16 term frequency). New documents go to a small append buffer; a full
buffer becomes a sorted segment, and segments of similar size are merged, as Lucene does, so a
term's postings are a handful of array slices however the index was built.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.text import analyze

BUFFER_POSTINGS = 32_768   # postings scanned linearly before they become a sorted segment
_MAX_TF = np.iinfo(np.uint16).max
# A saved index is only reused by an analyzer that turns this text into the same terms.
_PROBE = ("The Council's 3,000 riders paid $28.7 billion on 2022-06-17; E.U. officials were "
          "running quickly to the naïve café’s doors. Storms, STORM, storming!")


def analyzer_fingerprint(analyzer: Callable[[str], list[str]]) -> str:
    return hashlib.sha256("\0".join(analyzer(_PROBE)).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class _Segment:
    """Postings sorted by term: `terms` (unique, ascending) own `pos[starts[i]:starts[i+1]]`."""

    terms: np.ndarray   # int32, ascending
    starts: np.ndarray  # int64, len(terms) + 1
    pos: np.ndarray     # int32 document positions
    tfs: np.ndarray     # uint16 term frequencies

    @classmethod
    def from_postings(cls, terms: np.ndarray, pos: np.ndarray, tfs: np.ndarray) -> _Segment:
        # stable: positions stay in order within a term; two sorted runs merge in one pass
        order = np.argsort(terms, kind="stable")
        terms, pos, tfs = terms[order], pos[order], tfs[order]
        unique, starts = np.unique(terms, return_index=True)
        return cls(unique.astype(np.int32), np.append(starts, len(terms)).astype(np.int64),
                   pos, tfs)

    def __len__(self) -> int:
        return len(self.pos)

    def expanded_terms(self) -> np.ndarray:
        return np.repeat(self.terms, np.diff(self.starts))

    def lookup(self, term: int) -> tuple[np.ndarray, np.ndarray] | None:
        i = int(np.searchsorted(self.terms, term))
        if i == len(self.terms) or self.terms[i] != term:
            return None
        lo, hi = self.starts[i], self.starts[i + 1]
        return self.pos[lo:hi], self.tfs[lo:hi]


def _merge(segments: list[_Segment]) -> _Segment:
    return _Segment.from_postings(np.concatenate([s.expanded_terms() for s in segments]),
                                  np.concatenate([s.pos for s in segments]),
                                  np.concatenate([s.tfs for s in segments]))


class _Buffer:
    """Recent postings in arrival order; `n` is raised only after an entry is written, so a
    reader that reads `n` first sees whole entries."""

    def __init__(self, capacity: int = BUFFER_POSTINGS) -> None:
        self.terms = np.empty(capacity, dtype=np.int32)
        self.pos = np.empty(capacity, dtype=np.int32)
        self.tfs = np.empty(capacity, dtype=np.uint16)
        self.n = 0

    def room(self) -> int:
        return len(self.terms) - self.n

    def extend(self, terms: np.ndarray, position: int, tfs: np.ndarray) -> None:
        n, m = self.n, len(terms)
        self.terms[n:n + m] = terms
        self.pos[n:n + m] = position
        self.tfs[n:n + m] = tfs
        self.n = n + m

    def lookup(self, term: int) -> tuple[np.ndarray, np.ndarray] | None:
        n = self.n
        where = np.flatnonzero(self.terms[:n] == term)
        return (self.pos[where], self.tfs[where]) if where.size else None

    def segment(self) -> _Segment:
        n = self.n
        return _Segment.from_postings(self.terms[:n].copy(), self.pos[:n].copy(), self.tfs[:n].copy())


@dataclass(frozen=True)
class _Postings:
    """What a reader sees: sorted segments and the buffer after them. A writer replaces the
    whole object when the buffer becomes a segment, so a reader holding it is never cut short."""

    segments: tuple[_Segment, ...]
    buffer: _Buffer

    def lookup(self, term: int) -> tuple[np.ndarray, np.ndarray] | None:
        parts = [p for p in (*(s.lookup(term) for s in self.segments), self.buffer.lookup(term))
                 if p is not None]
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def __len__(self) -> int:
        return sum(len(s) for s in self.segments) + self.buffer.n


class KeywordIndex:
    """BM25 over documents identified by integer ids."""

    buffer_postings = BUFFER_POSTINGS

    def __init__(self, analyzer: Callable[[str], list[str]] = analyze,
                 k1: float = 1.2, b: float = 0.75) -> None:
        self.analyzer = analyzer
        self.k1 = k1
        self.b = b
        self._vocab: dict[str, int] = {}
        self._postings = _Postings((), _Buffer(self.buffer_postings))
        self._n = 0                      # positions used (removed documents keep theirs)
        self._ids = np.zeros(1024, dtype=np.int64)
        self._lengths = np.zeros(1024, dtype=np.float32)
        self._alive = np.zeros(1024, dtype=bool)
        self._live = 0
        self._total_length = 0.0
        # ids arrive in increasing order (a store's row ids): positions are found by binary
        # search. An id added out of order (or again) switches to a dictionary.
        self._position: dict[int, int] | None = None
        self._fingerprint = analyzer_fingerprint(analyzer)  # of the analyzer that built the postings
        self._norm_cache: tuple[tuple[int, int, float], np.ndarray] | None = None

    def __len__(self) -> int:
        return self._live

    def same_settings(self, other: KeywordIndex) -> bool:
        """Would `other`, empty, index and score text as this one does?"""
        return ((self.k1, self.b) == (other.k1, other.b)
                and analyzer_fingerprint(self.analyzer) == self._fingerprint
                and analyzer_fingerprint(other.analyzer) == self._fingerprint)

    def __contains__(self, doc_id: int) -> bool:
        return self._find(doc_id) is not None

    def _find(self, doc_id: int) -> int | None:
        if self._position is not None:
            return self._position.get(doc_id)
        n = self._n
        at = int(np.searchsorted(self._ids[:n], doc_id))
        if at < n and self._ids[at] == doc_id and self._alive[at]:
            return at
        return None

    def _grow(self, needed: int) -> None:
        size = max(len(self._ids) * 2, needed)
        # each array is complete before it replaces the old one (readers hold either)
        for name in ("_ids", "_lengths", "_alive"):
            old = getattr(self, name)
            new = np.zeros(size, dtype=old.dtype)
            new[:len(old)] = old
            setattr(self, name, new)

    def _term_ids(self, terms: Iterable[str]) -> list[int]:
        vocab = self._vocab
        return [vocab.setdefault(t, len(vocab)) for t in terms]

    def add(self, doc_id: int, text: str) -> None:
        """Index `text` under `doc_id`; an id already present is replaced."""
        self.add_many([(doc_id, text)])

    def add_many(self, docs: Iterable[tuple[int, str]]) -> None:
        for doc_id, text in docs:
            self._add_terms(doc_id, self.analyzer(text))

    def _add_terms(self, doc_id: int, terms: list[str]) -> None:
        if self._find(doc_id) is not None:
            self.remove(doc_id)
        counts = Counter(terms)
        term_ids = np.asarray(self._term_ids(counts), dtype=np.int32)
        tfs = np.minimum(np.fromiter(counts.values(), dtype=np.int64, count=len(counts)),
                         _MAX_TF).astype(np.uint16)
        position = self._n
        if position >= len(self._ids):
            self._grow(position + 1)
        self._note_id(doc_id, position)
        self._ids[position] = doc_id
        self._lengths[position] = len(terms)
        self._alive[position] = True
        self._n = position + 1
        self._live += 1
        self._total_length += len(terms)
        if self._postings.buffer.room() < len(term_ids):
            self._seal_buffer(max(self.buffer_postings, len(term_ids)))
        self._postings.buffer.extend(term_ids, position, tfs)

    def _note_id(self, doc_id: int, position: int) -> None:
        if self._position is None and position and doc_id <= self._ids[position - 1]:
            self._position = {int(i): p for p, i in enumerate(self._ids[:position].tolist())
                              if self._alive[p]}
        if self._position is not None:
            self._position[doc_id] = position

    def _seal_buffer(self, capacity: int) -> None:
        """The buffer becomes a segment; the smallest segments merge while the newest is at
        least half the size of the one before it (so there are O(log n) segments)."""
        old = self._postings
        segments = list(old.segments)
        if old.buffer.n:
            segments.append(old.buffer.segment())
        while len(segments) > 1 and len(segments[-1]) * 2 >= len(segments[-2]):
            segments[-2:] = [_merge(segments[-2:])]
        self._postings = _Postings(tuple(segments), _Buffer(capacity))

    def compact(self) -> None:
        """Merge every segment and the buffer into one (before saving, after a bulk load)."""
        old = self._postings
        parts = [*old.segments, *([old.buffer.segment()] if old.buffer.n else [])]
        merged = (_merge(parts),) if len(parts) > 1 else tuple(parts)
        self._postings = _Postings(merged, _Buffer(self.buffer_postings))

    def remove(self, doc_id: int) -> None:
        position = self._find(doc_id)
        if position is None:
            return
        if self._position is not None:
            del self._position[doc_id]
        self._alive[position] = False
        self._live -= 1
        self._total_length -= float(self._lengths[position])

    def _view(self) -> tuple[_Postings, int, np.ndarray, np.ndarray]:
        """A consistent view for one query: postings first, then the documents they point to."""
        postings = self._postings
        n = self._n
        return postings, n, self._lengths[:n], self._alive[:n]

    def scores(self, query: str, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """BM25 score of every indexed position for `query`, and the ids of those positions.

        `allowed` is a boolean mask over positions (see `mask_of`); masked-out documents
        score zero but still count in the collection statistics.
        """
        postings, n_positions, lengths, alive = self._view()
        scores = np.zeros(n_positions, dtype=np.float32)
        ids = self._ids[:n_positions]
        n_docs = self._live
        if n_docs == 0:
            return scores, ids
        norm = self._norm(lengths, n_docs)
        every_position_live = n_docs == n_positions  # nothing removed: skip the liveness test
        for term, count in Counter(self.analyzer(query)).items():
            found = self._lookup(postings, term, n_positions)
            if found is None:
                continue
            positions, tfs = found
            if not every_position_live:
                live = alive[positions]
                positions, tfs = positions[live], tfs[live]
            df = len(positions)
            if df == 0:
                continue
            tfs = tfs.astype(np.float32)
            idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
            scores[positions] += count * idf * tfs * (self.k1 + 1) / (tfs + norm[positions])
        if allowed is not None:
            scores[~allowed[:n_positions]] = 0.0
        return scores, ids

    def _norm(self, lengths: np.ndarray, n_docs: int) -> np.ndarray:
        """k1 · (1 - b + b · length / average length) per position, kept until the documents change."""
        key = (len(lengths), n_docs, self._total_length)
        cached = self._norm_cache
        if cached is not None and cached[0] == key:
            return cached[1]
        avg_length = max(self._total_length / n_docs, 1.0)
        norm = self.k1 * (1 - self.b + self.b * lengths / avg_length)
        self._norm_cache = (key, norm)
        return norm

    def _lookup(self, postings: _Postings, term: str,
                n_positions: int) -> tuple[np.ndarray, np.ndarray] | None:
        term_id = self._vocab.get(term)
        found = None if term_id is None else postings.lookup(term_id)
        if found is None:
            return None
        positions, tfs = found
        if positions.size and positions[-1] >= n_positions:  # appended after this view began
            keep = positions < n_positions
            positions, tfs = positions[keep], tfs[keep]
        return positions, tfs

    def idf(self, term: str) -> float:
        """Inverse document frequency of an analysed term (0 for a term no document has)."""
        postings, n_positions, _, alive = self._view()
        n_docs = self._live
        found = self._lookup(postings, term, n_positions)
        if found is None or n_docs == 0:
            return 0.0
        df = int(np.count_nonzero(alive[found[0]]))
        return float(np.log1p((n_docs - df + 0.5) / (df + 0.5))) if df else 0.0

    def search(self, query: str, k: int,
               allowed_ids: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The `k` best (id, score) pairs with a positive score, best first; `allowed_ids`
        (an int64 array) restricts the result to those documents."""
        mask = None if allowed_ids is None else self.mask_of(allowed_ids)
        scores, ids = self.scores(query, mask)
        return top_k(ids, scores, k)

    def ids(self) -> np.ndarray:
        """Document ids by position (ascending when ids are added in increasing order); a
        removed document keeps its position, so this lists it until `live_ids`."""
        return self._ids[:self._n]

    def live_ids(self) -> np.ndarray:
        n = self._n
        return self._ids[:n][self._alive[:n]]

    def mask_of(self, doc_ids: np.ndarray) -> np.ndarray:
        """Boolean mask over positions: True where the position holds one of `doc_ids`."""
        ids = self.ids()
        if ids.size == 0:
            return np.zeros(0, dtype=bool)
        wanted = np.asarray(doc_ids, dtype=np.int64)
        top = int(ids.max()) if self._position is not None else int(ids[-1])
        wanted = wanted[(wanted >= 0) & (wanted <= top)]
        # a bitmap over the id range: linear in the ids, not a sort or a binary search each
        member = np.zeros(top + 1, dtype=bool)
        member[wanted] = True
        return member[ids]

    # -- persistence -------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the index to `path` (.npz) by way of a temporary file, so a crash leaves the old one."""
        self.compact()
        (segment,) = self._postings.segments or (_Segment.from_postings(
            np.empty(0, np.int32), np.empty(0, np.int32), np.empty(0, np.uint16)),)
        n = self._n
        vocab = "\n".join(self._vocab).encode("utf-8")
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as handle:
            np.savez(handle, ids=self._ids[:n], lengths=self._lengths[:n], alive=self._alive[:n],
                     vocab=np.frombuffer(vocab, dtype=np.uint8), terms=segment.terms,
                     starts=segment.starts, pos=segment.pos, tfs=segment.tfs,
                     params=np.asarray([self.k1, self.b], dtype=np.float64),
                     analyzer=np.frombuffer(self._fingerprint.encode(), dtype=np.uint8))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, analyzer: Callable[[str], list[str]] = analyze) -> KeywordIndex:
        """Read what `save` wrote; raises ValueError (or OSError) when the file is damaged."""
        with np.load(path, allow_pickle=False) as data:
            k1, b = (float(x) for x in data["params"])
            self = cls(analyzer, k1, b)
            words = bytes(data["vocab"]).decode("utf-8")
            self._vocab = {w: i for i, w in enumerate(words.split("\n"))} if words else {}
            ids, lengths, alive = data["ids"], data["lengths"], data["alive"]
            segment = _Segment(data["terms"], data["starts"], data["pos"], data["tfs"])
            self._fingerprint = bytes(data["analyzer"]).decode()
        if not len(ids) == len(lengths) == len(alive) or len(segment.starts) != len(segment.terms) + 1:
            raise ValueError(f"keyword index {path} is inconsistent")
        n = len(ids)
        self._grow(n)
        self._ids[:n], self._lengths[:n], self._alive[:n] = ids, lengths, alive
        self._n, self._live = n, int(np.count_nonzero(alive))
        self._total_length = float(lengths[alive].astype(np.float64).sum())
        if n > 1 and not np.all(ids[1:] > ids[:-1]):
            self._position = {int(i): p for p, i in enumerate(ids.tolist()) if alive[p]}
        self._postings = _Postings((segment,) if len(segment) else (), _Buffer(self.buffer_postings))
        return self


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
