"""Response models of the figure timeline and article changes endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.schemas import precision, stamp_iso, zone_of
from qa.figures.changes import ArticleChanges, ChangedUpdate
from qa.figures.extract import Figure
from qa.figures.timeline import Appearance, FigureGroup, FigureTimeline, GroupValue, Revision

Precision = Literal["date", "second"]


class AppearanceOut(BaseModel):
    """One appearance of a figure, quoted verbatim and tied to its marker [n]."""

    marker: int
    timestamp: str | None = Field(..., description="ISO 8601; a bare date when only the date is known.")
    timestamp_precision: Precision | None
    timestamp_zone: Literal["stated", "assumed"] | None = Field(
        None, description="'assumed': the source wrote no zone (the offset is NEWSQA_DEFAULT_TZ's).")
    section: Literal["body", "update"]
    update_index: int | None = Field(None, description="1-based number of the update, in time order.")
    quote: str = Field(..., description="The sentence stating the figure, verbatim.")
    quote_start: int = Field(..., description="Offset of the quote in its section's text.")
    quote_end: int
    stated: str = Field(..., description="The figure as written, with its qualifier.")
    qualifier: str | None
    kind: Literal["money", "count", "percent"]
    value: float
    currency: str | None
    noun: str | None
    rate: str | None
    match: Literal["exact", "approximate"] | None = Field(
        None, description="How it matches the figure asked for; null in a topic listing.")
    group: str | None = Field(None, description="Its group in a topic listing.")
    article_id: str
    title: str
    url: str | None

    @classmethod
    def of(cls, a: Appearance) -> AppearanceOut:
        f = a.figure
        return cls(marker=a.marker, timestamp=stamp_iso(f.timestamp),
                   timestamp_precision=precision(f.timestamp),
                   timestamp_zone=zone_of(f.timestamp), section=a.section.kind,
                   update_index=a.section.index, quote=a.quote, quote_start=f.quote_start,
                   quote_end=f.quote_end, stated=a.stated, qualifier=f.qualifier, kind=f.kind,
                   value=f.value, currency=f.currency, noun=f.noun, rate=f.rate, match=a.match,
                   group=a.group, article_id=f.article_id, title=a.title, url=a.url)


class QueryFigureOut(BaseModel):
    surface: str
    kind: Literal["money", "count", "percent"]
    value: float
    currency: str | None
    noun: str | None
    rate: str | None

    @classmethod
    def of(cls, f: Figure) -> QueryFigureOut:
        return cls(surface=f.surface, kind=f.kind, value=f.value, currency=f.currency,
                   noun=f.noun, rate=f.rate)


class GroupValueOut(BaseModel):
    value: float
    stated: str
    markers: list[int]
    first_seen: str | None
    last_seen: str | None

    @classmethod
    def of(cls, v: GroupValue) -> GroupValueOut:
        return cls(value=v.value, stated=v.stated, markers=list(v.markers),
                   first_seen=stamp_iso(v.first_seen), last_seen=stamp_iso(v.last_seen))


class GroupOut(BaseModel):
    article_id: str
    title: str
    label: str
    kind: str
    currency: str | None
    noun: str | None
    rate: str | None
    values: list[GroupValueOut]

    @classmethod
    def of(cls, g: FigureGroup) -> GroupOut:
        return cls(article_id=g.article_id, title=g.title, label=g.label, kind=g.kind,
                   currency=g.currency, noun=g.noun, rate=g.rate,
                   values=[GroupValueOut.of(v) for v in g.values])


class RevisionPointOut(BaseModel):
    marker: int
    stated: str
    value: float
    timestamp: str | None
    timestamp_precision: Precision | None
    timestamp_zone: Literal["stated", "assumed"] | None = None

    @classmethod
    def of(cls, a: Appearance) -> RevisionPointOut:
        return cls(marker=a.marker, stated=a.stated, value=a.figure.value,
                   timestamp=stamp_iso(a.timestamp), timestamp_precision=precision(a.timestamp),
                   timestamp_zone=zone_of(a.timestamp))


class RevisionOut(BaseModel):
    article_id: str
    title: str
    group: str
    old: RevisionPointOut
    new: RevisionPointOut

    @classmethod
    def of(cls, r: Revision) -> RevisionOut:
        return cls(article_id=r.article_id, title=r.title, group=r.group,
                   old=RevisionPointOut.of(r.old), new=RevisionPointOut.of(r.new))


class FiguresResponse(BaseModel):
    query: str
    mode: Literal["figure", "topic"] = Field(
        ..., description="'figure' when the query names a number, 'topic' otherwise.")
    figure: QueryFigureOut | None
    tolerance: float = Field(..., description="Relative difference still counted as approximate.")
    as_of: str | None
    count: int
    first_seen: str | None
    first_seen_precision: Precision | None
    last_seen: str | None
    last_seen_precision: Precision | None
    appearances: list[AppearanceOut]
    groups: list[GroupOut]
    revisions: list[RevisionOut]
    note: str | None = Field(None, description="Why a topic look-up found no figure, in a sentence "
                             "(no passage is about the topic, or none states a figure about it).")
    took_ms: float

    @classmethod
    def of(cls, t: FigureTimeline, took_ms: float) -> FiguresResponse:
        return cls(query=t.query, mode="topic" if t.figure is None else "figure",
                   figure=None if t.figure is None else QueryFigureOut.of(t.figure),
                   tolerance=t.tolerance, as_of=None if t.as_of is None else t.as_of.isoformat(),
                   count=t.count, first_seen=stamp_iso(t.first_seen),
                   first_seen_precision=precision(t.first_seen), last_seen=stamp_iso(t.last_seen),
                   last_seen_precision=precision(t.last_seen),
                   appearances=[AppearanceOut.of(a) for a in t.appearances],
                   groups=[GroupOut.of(g) for g in t.groups],
                   revisions=[RevisionOut.of(r) for r in t.revisions], note=t.note,
                   took_ms=round(took_ms, 2))


class ChangedUpdateOut(BaseModel):
    index: int
    published_at: str
    published_precision: Precision
    published_zone: Literal["stated", "assumed"] | None = None
    text: str
    new_figures: list[AppearanceOut]

    @classmethod
    def of(cls, u: ChangedUpdate) -> ChangedUpdateOut:
        return cls(index=u.index, published_at=u.timestamp.iso(),
                   published_precision="date" if u.timestamp.date_only else "second",
                   published_zone=zone_of(u.timestamp), text=u.text,
                   new_figures=[AppearanceOut.of(a) for a in u.new_figures])


class ChangesResponse(BaseModel):
    article_id: str
    title: str
    since: str
    as_of: str | None
    updates: list[ChangedUpdateOut]

    @classmethod
    def of(cls, c: ArticleChanges) -> ChangesResponse:
        return cls(article_id=c.article_id, title=c.title, since=c.since.isoformat(),
                   as_of=None if c.as_of is None else c.as_of.isoformat(),
                   updates=[ChangedUpdateOut.of(u) for u in c.updates])
