"""Figures stored at ingest, and the in-memory index that finds them by value.

Each section's figures are written as one record ("figures", "<article id>|<sid>") in the same
atomic write as its chunks, with the sentence that quotes each one, the heading it sits under
and the section's timestamp, so a look-up never rescans text. The index keeps every figure's
value in one sorted array: finding a value within a tolerance is two binary searches.
"""

from __future__ import annotations

import logging
import threading
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from qa.figures.extract import Figure, FigureKind, extract_figures
from qa.models import Timestamp
from qa.records import stamp_from_json
from qa.sentences import Span, split_sentences

FIGURES = "figures"
# A record lists each figure as values in this order (one short JSON list, quick to load).
RECORD_FIELDS = ("kind", "value", "currency", "noun", "rate", "qualifier", "start", "end",
                 "surface", "quote_start", "quote_end", "heading")

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FigureAt(Figure):
    """A figure where it was published: its offsets (and those of the sentence quoting it) are
    into the text of section `sid` of article `article_id`."""

    article_id: str
    sid: str
    quote_start: int
    quote_end: int
    heading: str | None
    timestamp: Timestamp | None

    def order_key(self) -> tuple[float, int, str, int]:
        """Oldest first: by moment (a date-only body counts as the start of its day, so it comes
        before that day's updates), then the body before updates, then place in the text."""
        moment = float("-inf") if self.timestamp is None else self.timestamp.moment.timestamp()
        return (moment, 0 if self.sid == "body" else 1, self.article_id, self.start)

    def published_by(self, as_of: datetime | None) -> bool:
        return published_by(self.timestamp, as_of)


def published_by(stamp: Timestamp | None, as_of: datetime | None) -> bool:
    """Published at or before `as_of` (a text of unknown time only counts without as_of)."""
    return as_of is None or (stamp is not None and stamp.moment <= as_of)


# -- records --------------------------------------------------------------------------------


def _quote_span(text: str, spans: Sequence[Span], starts: Sequence[int], figure: Figure) -> Span:
    """The sentence holding the figure, trimmed of a dangling "[" or "(" left by a cut-off source."""
    i = max(0, bisect_right(starts, figure.start) - 1)
    j = max(i, bisect_right(starts, max(figure.start, figure.end - 1)) - 1)
    start, end = spans[i].start, max(spans[j].end, figure.end)
    while end > figure.end and (text[end - 1] in "[(" or text[end - 1].isspace()):
        end -= 1
    return Span(start, end)


def _heading_before(text: str, headings: Sequence[Span], position: int) -> str | None:
    above = [h for h in headings if h.start <= position]
    return text[above[-1].start:above[-1].end].lstrip("#").strip() if above else None


def figure_record(text: str, stamp: dict[str, Any] | None) -> dict[str, Any]:
    """The stored record of one section's figures; `stamp` is the section's stored timestamp."""
    spans = split_sentences(text)
    starts = [s.start for s in spans]
    headings = [s for s in spans if s.heading]
    figures = []
    for f in extract_figures(text):
        quote = _quote_span(text, spans, starts, f)
        figures.append([f.kind, f.value, f.currency, f.noun, f.rate, f.qualifier, f.start, f.end,
                        f.surface, quote.start, quote.end,
                        _heading_before(text, headings, f.start)])
    return {"timestamp": stamp, "fields": list(RECORD_FIELDS), "figures": figures}


# -- the index ------------------------------------------------------------------------------

_KINDS: tuple[FigureKind, ...] = ("money", "count", "percent")
_KIND_CODE = {k: n for n, k in enumerate(_KINDS)}


class _Strings:
    """Each distinct string (or None) once, under a small int code: figures repeat a handful
    of currencies, nouns and headings, and their surfaces ("$2 million") recur across texts."""

    def __init__(self) -> None:
        self._codes: dict[str | None, int] = {None: 0}
        self.values: list[str | None] = [None]

    def code(self, value: str | None) -> int:
        found = self._codes.get(value)
        if found is None:
            found = self._codes[value] = len(self.values)
            self.values.append(value)
        return found


# one machine value per figure and column; strings are codes into _Strings tables
_INT_COLUMNS = ("start", "end", "quote_start", "quote_end", "section")
_CODE_COLUMNS = ("currency", "noun", "rate", "qualifier", "surface", "heading")


class FigureIndex:
    """Every stored figure, by section and by value. Safe to read while another thread writes.

    Figures are held in columns (typed arrays, strings interned) rather than as one object
    each, so the index costs about 60 bytes a figure instead of about 900; `FigureAt` values
    are made for the figures a look-up returns.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: list[tuple[str, str]] = []                 # section number -> (article, sid)
        self._stamps: list[Timestamp | None] = []               # section number -> its time
        self._spans: list[tuple[int, int]] = []                 # section number -> figure rows
        self._numbers: dict[tuple[str, str], int] = {}          # live sections
        self._by_article: dict[str, list[int]] = {}
        self._strings = _Strings()
        self._kind = array("b")
        self._value = array("d")
        self._ints = {name: array("i") for name in _INT_COLUMNS}
        self._codes = {name: array("i") for name in _CODE_COLUMNS}
        self._live = 0
        self._sorted: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def from_records(cls, records: Iterable[tuple[str, dict[str, Any]]]) -> FigureIndex:
        """Built from ("<article id>|<sid>", record) pairs as the store lists them. A record in
        another layout is left out (and logged), so the figure desk extracts that section again."""
        index = cls()
        for key, record in records:
            article_id, sid = key.split("|", 1)
            try:
                rows = _checked_rows(article_id, sid, record)
                stamp = stamp_from_json(record["timestamp"])
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("re-extracting figures of %s %s: %s", article_id, sid, exc)
                continue
            with index._lock:
                index._put(article_id, sid, stamp, rows)
        return index

    def __len__(self) -> int:
        with self._lock:
            return self._live

    def put_records(self, article_id: str, records: dict[str, dict[str, Any]]) -> None:
        """Take the records just written for an article's sections (sid -> record)."""
        checked = [(sid, stamp_from_json(record["timestamp"]), _checked_rows(article_id, sid, record))
                   for sid, record in records.items()]
        with self._lock:
            for sid, stamp, rows in checked:
                self._put(article_id, sid, stamp, rows)
            self._compact_if_sparse()  # a replaced section leaves its old rows behind

    def remove_article(self, article_id: str) -> None:
        """Forget every figure of an article (it was deleted)."""
        with self._lock:
            for number in self._by_article.pop(article_id, []):
                self._drop(number)
            self._compact_if_sparse()

    def has_section(self, article_id: str, sid: str) -> bool:
        with self._lock:
            return (article_id, sid) in self._numbers

    def section(self, article_id: str, sid: str) -> tuple[FigureAt, ...]:
        with self._lock:
            number = self._numbers.get((article_id, sid))
            if number is None:
                return ()
            first, end = self._spans[number]
            return tuple(self._figure(row) for row in range(first, end))

    def article(self, article_id: str) -> list[FigureAt]:
        """All figures of one article, oldest first."""
        with self._lock:
            found = [self._figure(row) for number in self._by_article.get(article_id, ())
                     for row in range(*self._spans[number])]
        return sorted(found, key=FigureAt.order_key)

    def between(self, low: float, high: float) -> list[FigureAt]:
        """Figures whose value lies in [low, high]."""
        with self._lock:
            values, rows = self._values()
            lo = int(np.searchsorted(values, low, side="left"))
            hi = int(np.searchsorted(values, high, side="right"))
            return [self._figure(row) for row in rows[lo:hi].tolist()]

    # -- inside the lock ------------------------------------------------------------------

    def _put(self, article_id: str, sid: str, stamp: Timestamp | None,
             rows: Sequence[Sequence[Any]]) -> None:
        key = (article_id, sid)
        number = self._numbers.get(key)
        if number is None:
            number = self._numbers[key] = len(self._keys)
            self._keys.append(key)
            self._stamps.append(stamp)
            self._spans.append((0, 0))
            self._by_article.setdefault(article_id, []).append(number)
        else:
            self._drop_rows(number)
            self._stamps[number] = stamp
        first = len(self._value)
        if rows:
            (kinds, values, currencies, nouns, rates, qualifiers, starts, ends, surfaces,
             quote_starts, quote_ends, headings) = zip(*rows, strict=True)
            self._kind.extend(_KIND_CODE[k] for k in kinds)
            self._value.extend(float(v) for v in values)
            for name, column in (("start", starts), ("end", ends), ("quote_start", quote_starts),
                                 ("quote_end", quote_ends)):
                self._ints[name].extend(column)
            self._ints["section"].extend([number] * len(rows))
            code = self._strings.code
            for name, strings in (("currency", currencies), ("noun", nouns), ("rate", rates),
                                  ("qualifier", qualifiers), ("surface", surfaces),
                                  ("heading", headings)):
                self._codes[name].extend(code(text) for text in strings)
        self._spans[number] = (first, len(self._value))
        self._live += len(rows)
        self._sorted = None

    def _drop_rows(self, number: int) -> None:
        first, end = self._spans[number]
        self._live -= end - first
        self._spans[number] = (0, 0)  # the rows stay in the columns, unreachable, until compacted
        self._sorted = None

    def _drop(self, number: int) -> None:
        self._drop_rows(number)
        self._numbers.pop(self._keys[number], None)

    def _compact_if_sparse(self) -> None:
        """Rewrite the columns without unreachable rows once they are most of them."""
        total = len(self._value)
        if total - self._live <= max(self._live, 4096):
            return
        keep = np.zeros(total, dtype=bool)
        for number in self._numbers.values():
            first, end = self._spans[number]
            keep[first:end] = True
        moved = np.cumsum(keep) - 1
        for number in self._numbers.values():
            first, end = self._spans[number]
            if end > first:
                self._spans[number] = (int(moved[first]), int(moved[first]) + end - first)

        def kept(column: array) -> array:
            return array(column.typecode, np.frombuffer(column, dtype=column.typecode)[keep].tobytes())

        self._kind, self._value = kept(self._kind), kept(self._value)
        self._ints = {name: kept(c) for name, c in self._ints.items()}
        self._codes = {name: kept(c) for name, c in self._codes.items()}
        self._sorted = None

    def _figure(self, row: int) -> FigureAt:
        ints, codes, strings = self._ints, self._codes, self._strings.values
        number = ints["section"][row]
        article_id, sid = self._keys[number]
        return FigureAt(_KINDS[self._kind[row]], self._value[row],
                        strings[codes["currency"][row]], strings[codes["noun"][row]],
                        strings[codes["rate"][row]], strings[codes["qualifier"][row]],
                        ints["start"][row], ints["end"][row], strings[codes["surface"][row]] or "",
                        article_id=article_id, sid=sid, quote_start=ints["quote_start"][row],
                        quote_end=ints["quote_end"][row], heading=strings[codes["heading"][row]],
                        timestamp=self._stamps[number])

    def _values(self) -> tuple[np.ndarray, np.ndarray]:
        """Live figures' values sorted, and their rows (ties in the order sections were first
        stored, then in text order)."""
        if self._sorted is None:
            parts = [np.arange(*self._spans[n], dtype=np.int64) for n in self._numbers.values()]
            rows = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
            values = np.frombuffer(self._value, dtype=np.float64)[rows] if len(rows) else \
                np.empty(0, dtype=np.float64)
            sections = np.frombuffer(self._ints["section"], dtype=np.int32)[rows] if len(rows) \
                else np.empty(0, dtype=np.int32)
            order = np.lexsort((rows, sections, values))
            self._sorted = (values[order], rows[order])
        return self._sorted


def _checked_rows(article_id: str, sid: str, record: dict[str, Any]) -> list[list[Any]]:
    """A record's figure rows, each checked to be whole (a bad one raises before any is kept)."""
    if tuple(record.get("fields", ())) != RECORD_FIELDS:
        raise ValueError(f"figures of {article_id!r} {sid} were stored as {record['fields']}, "
                         f"expected {list(RECORD_FIELDS)}")
    rows = record["figures"]
    for row in rows:
        if len(row) != len(RECORD_FIELDS) or row[0] not in _KIND_CODE:
            raise ValueError(f"figures of {article_id!r} {sid}: a row {row!r} is not "
                             f"{list(RECORD_FIELDS)}")
        float(row[1])
    return list(rows)
