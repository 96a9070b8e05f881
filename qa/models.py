"""Core values of newsqa: articles, their updates, chunks, citations and answers.

All are frozen dataclasses; pydantic models live only at the HTTP edge (api/).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from qa.abstention import Evidence

SectionKind = Literal["body", "update"]


@dataclass(frozen=True, order=True)
class Timestamp:
    """When a piece of text was published.

    `moment` is timezone-aware and used for ordering and `as_of` filtering. When the
    source gave only a date, `date_only` is true and `moment` is the start of that day in
    the configured zone, so a date-only body sorts before every update of the same day.
    `zone_stated` says whether the source gave the zone; it takes no part in comparisons.
    """

    moment: datetime
    date_only: bool = False
    # False when the source wrote no zone and `moment` took the configured one ("5:40:56 PM")
    zone_stated: bool = field(default=True, compare=False)

    def __post_init__(self) -> None:
        if self.moment.tzinfo is None:
            raise ValueError(f"Timestamp needs a timezone-aware datetime, got {self.moment!r}")

    def iso(self) -> str:
        """ISO 8601: a date (`2025-10-08`) when date-only, else a datetime with offset."""
        if self.date_only:
            return self.moment.date().isoformat()
        return self.moment.isoformat()

    @property
    def day(self) -> date:
        return self.moment.date()


@dataclass(frozen=True)
class Update:
    """One timestamped `Updated:` block of a live article."""

    published_at: Timestamp
    text: str


@dataclass(frozen=True)
class Article:
    """A live article: a body and its updates, in publication order."""

    id: str
    title: str
    body: str
    published_at: Timestamp | None = None
    url: str | None = None
    source: str | None = None
    updates: tuple[Update, ...] = ()


@dataclass(frozen=True)
class SectionRef:
    """Which part of an article a text comes from: the body, or update number `index` (1-based)."""

    kind: SectionKind
    index: int | None = None

    def key(self) -> str:
        return "body" if self.kind == "body" else f"update:{self.index}"


@dataclass(frozen=True)
class Chunk:
    """A passage of one section, cut at sentence boundaries.

    `start`/`end` are character offsets into the section's text: section_text[start:end] == text.
    """

    article_id: str
    section: SectionRef
    text: str
    start: int
    end: int
    timestamp: Timestamp | None
    heading: str | None = None
    title: str = ""
    url: str | None = None


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its fused retrieval score."""

    chunk_id: int
    chunk: Chunk
    score: float
    dense_score: float | None = None
    keyword_score: float | None = None


@dataclass(frozen=True)
class Citation:
    """A verbatim quote backing one sentence of an answer, tied to its marker [n]."""

    marker: int
    quote: str
    article_id: str
    title: str
    url: str | None
    section: SectionRef
    timestamp: Timestamp | None
    score: float
    start: int  # offsets of the quote in its section's text
    end: int


@dataclass(frozen=True)
class LastAnswer:
    """The turn a conversation's next question leans on, as a figure question reads it: the
    question it answered, the sentences it quoted (in order) and the story it quoted most (None
    when not known: a conversation rebuilt from its messages). "When was it first reported?"
    points at the figure those sentences state; "What changed since 2 PM?" at that story."""

    question: str = ""
    quotes: tuple[str, ...] = ()
    story: str | None = None


@dataclass(frozen=True)
class Answer:
    """An extractive answer: sentences each followed by a marker, and the citations they point to."""

    text: str
    abstained: bool
    citations: tuple[Citation, ...] = field(default_factory=tuple)
    passages: tuple[Passage, ...] = field(default_factory=tuple)
    # how sure the answer layer is that the evidence answers the question (qa/abstention.py);
    # None for answers not composed from passages (the figure timeline's)
    confidence: float | None = None
    evidence: Evidence | None = None
