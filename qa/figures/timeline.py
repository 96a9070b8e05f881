"""Figure timelines: every appearance of a figure, oldest first, each quoted and timestamped.

A look-up by number ("$28.7 billion") finds exact and approximate statements of it; a topic
("ICE budget") is handled in qa/figures/topics.py and comes back in the same shape, with its figures
grouped and revisions marked.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from qa.errors import InvalidQuestion
from qa.figures.extract import DEFAULT_REL_TOLERANCE, MAX_TOLERANCE, Figure, MatchKind, figure_matches
from qa.figures.index import FigureAt, FigureIndex
from qa.models import Citation, SectionRef, Timestamp
from qa.records import ArticleRecord


class Articles(Protocol):
    """What a timeline reads about stored articles (qa.library.Library provides it)."""

    def section_text(self, article_id: str, sid: str) -> str | None: ...

    def record(self, article_id: str) -> ArticleRecord: ...

    def section_ref(self, article_id: str, sid: str) -> SectionRef: ...


@dataclass(frozen=True)
class Appearance:
    """One figure as published, tied to marker [n]: `quote` is the sentence that states it."""

    marker: int
    figure: FigureAt
    title: str
    url: str | None
    section: SectionRef
    quote: str
    match: MatchKind | None = None  # how it matches the queried figure; None in a topic listing
    group: str | None = None  # the group it belongs to in a topic listing

    @property
    def timestamp(self) -> Timestamp | None:
        return self.figure.timestamp

    @property
    def stated(self) -> str:
        """The figure as the text gives it, qualifier included ("nearly $29 billion")."""
        f = self.figure
        return f"{f.qualifier} {f.surface}" if f.qualifier else f.surface

    def citation(self, marker: int) -> Citation:
        f = self.figure
        return Citation(marker=marker, quote=self.quote, article_id=f.article_id, title=self.title,
                        url=self.url, section=self.section, timestamp=f.timestamp, score=1.0,
                        start=f.quote_start, end=f.quote_end)


@dataclass(frozen=True)
class GroupValue:
    """One distinct value within a group, and the markers of the appearances stating it."""

    value: float
    stated: str
    markers: tuple[int, ...]
    first_seen: Timestamp | None
    last_seen: Timestamp | None


@dataclass(frozen=True)
class FigureGroup:
    """Figures of one kind for one thing in one article: amounts in a currency, a percentage,
    or counts of one noun (and rate)."""

    article_id: str
    title: str
    label: str
    kind: str
    currency: str | None
    noun: str | None
    rate: str | None
    values: tuple[GroupValue, ...]


@dataclass(frozen=True)
class Revision:
    """A value for the same thing that changed from one section to a later one."""

    article_id: str
    title: str
    group: str
    old: Appearance
    new: Appearance


@dataclass(frozen=True)
class FigureTimeline:
    """The answer to a figure look-up: appearances oldest first, numbered from [1]."""

    query: str
    figure: Figure | None  # the figure asked about; None when the query is a topic
    as_of: datetime | None
    tolerance: float
    appearances: tuple[Appearance, ...]
    groups: tuple[FigureGroup, ...] = ()
    revisions: tuple[Revision, ...] = ()
    note: str | None = None  # why a topic look-up found nothing, in a sentence
    covered: bool = True  # whether some article names the topic's whole subject

    @property
    def first_seen(self) -> Timestamp | None:
        return self.appearances[0].timestamp if self.appearances else None

    @property
    def last_seen(self) -> Timestamp | None:
        return self.appearances[-1].timestamp if self.appearances else None

    @property
    def count(self) -> int:
        return len(self.appearances)


def value_bounds(value: float, tolerance: float) -> tuple[float, float]:
    """The values within `tolerance` of `value`, as figure_matches measures it (relative to the
    larger of the two), widened by a hair so float rounding never drops a match."""
    low = value * (1 - tolerance)
    high = value / (1 - tolerance) if tolerance < 1 else math.inf
    return low * (1 - 1e-12), high * (1 + 1e-12)


class SectionTexts:
    """Section texts read once per look-up; checks each stored figure against its text."""

    def __init__(self, articles: Articles) -> None:
        self.articles = articles
        self._texts: dict[tuple[str, str], str] = {}

    def get(self, article_id: str, sid: str) -> str:
        key = (article_id, sid)
        if key not in self._texts:
            text = self.articles.section_text(article_id, sid)
            if text is None:
                raise AssertionError(f"figures are stored for section {sid!r} of article "
                                     f"{article_id!r}, but its text is not")
            self._texts[key] = text
        return self._texts[key]

    def quote(self, f: FigureAt) -> str:
        text = self.get(f.article_id, f.sid)
        if text[f.start:f.end] != f.surface:
            raise AssertionError(f"stored figure {f.surface!r} is not at {f.start}:{f.end} of "
                                 f"article {f.article_id!r} {f.sid}; re-ingest the article")
        return text[f.quote_start:f.quote_end]


def appearances(figures: Sequence[FigureAt], texts: SectionTexts,
                matches: Sequence[MatchKind | None] | None = None,
                groups: Sequence[str | None] | None = None) -> tuple[Appearance, ...]:
    """`figures` (already oldest first) as numbered, quoted appearances."""
    out = []
    for i, f in enumerate(figures):
        record = texts.articles.record(f.article_id)
        out.append(Appearance(marker=i + 1, figure=f, title=record.title, url=record.url,
                              section=texts.articles.section_ref(f.article_id, f.sid),
                              quote=texts.quote(f), match=matches[i] if matches else None,
                              group=groups[i] if groups else None))
    return tuple(out)


def check_tolerance(tolerance: float) -> float:
    if not 0 <= tolerance <= MAX_TOLERANCE:
        raise InvalidQuestion(f"tolerance={tolerance!r} is out of range; use 0 to {MAX_TOLERANCE} "
                              f"(a share of the value; the default is {DEFAULT_REL_TOLERANCE})")
    return tolerance


def figure_timeline(index: FigureIndex, articles: Articles, query: str, figure: Figure,
                    as_of: datetime | None = None,
                    tolerance: float = DEFAULT_REL_TOLERANCE) -> FigureTimeline:
    """Every appearance of `figure` (parsed from `query`), exact or within `tolerance`."""
    low, high = value_bounds(figure.value, check_tolerance(tolerance))
    found: list[tuple[FigureAt, MatchKind]] = []
    for f in index.between(low, high):
        if f.published_by(as_of):
            match = figure_matches(figure, f, tolerance)
            if match is not None:
                found.append((f, match))
    found.sort(key=lambda pair: pair[0].order_key())
    shown = appearances([f for f, _ in found], SectionTexts(articles), [m for _, m in found])
    return FigureTimeline(query, figure, as_of, tolerance, shown)
