"""Figures stored at ingest, and the in-memory index that finds them by value.

Each section's figures are written as one record ("figures", "<article id>|<sid>") in the same
atomic write as its chunks, with the sentence that quotes each one, the heading it sits under
and the section's timestamp, so a look-up never rescans text. The index keeps every figure's
value in one sorted array: finding a value within a tolerance is two binary searches.
"""

from __future__ import annotations

import logging
import threading
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from qa.figures.extract import Figure, extract_figures
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


def figures_from_record(article_id: str, sid: str, record: dict[str, Any]) -> list[FigureAt]:
    if tuple(record.get("fields", ())) != RECORD_FIELDS:
        raise ValueError(f"figures of {article_id!r} {sid} were stored as {record['fields']}, "
                         f"expected {list(RECORD_FIELDS)}")
    stamp = stamp_from_json(record["timestamp"])
    return [FigureAt(kind, float(value), currency, noun, rate, qualifier, start, end, surface,
                     article_id=article_id, sid=sid, quote_start=quote_start,
                     quote_end=quote_end, heading=heading, timestamp=stamp)
            for (kind, value, currency, noun, rate, qualifier, start, end, surface, quote_start,
                 quote_end, heading) in record["figures"]]


# -- the index ------------------------------------------------------------------------------


class FigureIndex:
    """Every stored figure, by section and by value. Safe to read while another thread writes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sections: dict[tuple[str, str], tuple[FigureAt, ...]] = {}
        self._by_article: dict[str, set[str]] = {}
        self._sorted: tuple[np.ndarray, list[FigureAt]] | None = None

    @classmethod
    def from_records(cls, records: Iterable[tuple[str, dict[str, Any]]]) -> FigureIndex:
        """Built from ("<article id>|<sid>", record) pairs as the store lists them. A record in
        another layout is left out (and logged), so the figure desk extracts that section again."""
        index = cls()
        for key, record in records:
            article_id, sid = key.split("|", 1)
            try:
                figures = figures_from_record(article_id, sid, record)
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("re-extracting figures of %s %s: %s", article_id, sid, exc)
                continue
            index.put_section(article_id, sid, figures)
        return index

    def __len__(self) -> int:
        with self._lock:
            return sum(len(f) for f in self._sections.values())

    def put_section(self, article_id: str, sid: str, figures: Sequence[FigureAt]) -> None:
        """Set (or replace) the figures of one section."""
        with self._lock:
            self._sections[(article_id, sid)] = tuple(figures)
            self._by_article.setdefault(article_id, set()).add(sid)
            self._sorted = None

    def put_records(self, article_id: str, records: dict[str, dict[str, Any]]) -> None:
        """Take the records just written for an article's sections (sid -> record)."""
        for sid, record in records.items():
            self.put_section(article_id, sid, figures_from_record(article_id, sid, record))

    def remove_article(self, article_id: str) -> None:
        """Forget every figure of an article (it was deleted)."""
        with self._lock:
            for sid in self._by_article.pop(article_id, set()):
                self._sections.pop((article_id, sid), None)
            self._sorted = None

    def has_section(self, article_id: str, sid: str) -> bool:
        with self._lock:
            return (article_id, sid) in self._sections

    def section(self, article_id: str, sid: str) -> tuple[FigureAt, ...]:
        with self._lock:
            return self._sections.get((article_id, sid), ())

    def article(self, article_id: str) -> list[FigureAt]:
        """All figures of one article, oldest first."""
        with self._lock:
            found = [f for sid in self._by_article.get(article_id, ())
                     for f in self._sections[(article_id, sid)]]
        return sorted(found, key=FigureAt.order_key)

    def between(self, low: float, high: float) -> list[FigureAt]:
        """Figures whose value lies in [low, high]."""
        values, figures = self._values()
        lo = int(np.searchsorted(values, low, side="left"))
        hi = int(np.searchsorted(values, high, side="right"))
        return figures[lo:hi]

    def _values(self) -> tuple[np.ndarray, list[FigureAt]]:
        with self._lock:
            if self._sorted is None:
                flat = [f for figures in self._sections.values() for f in figures]
                values = np.fromiter((f.value for f in flat), dtype=np.float64, count=len(flat))
                order = np.argsort(values, kind="stable")
                self._sorted = (values[order], [flat[i] for i in order.tolist()])
            return self._sorted
