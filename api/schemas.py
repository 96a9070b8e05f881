"""Request and response models of the HTTP API (pydantic lives only here, at the edge)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from index.modes import SearchMode
from qa.library import DeleteResult, IngestResult
from qa.limits import MAX_TOP_K
from qa.models import Article, Citation, Timestamp
from qa.question_time import Window
from qa.service import TimedAnswer

AS_OF_HELP = ("Use only text published at or before this time (ISO 8601, or a live-page stamp "
              "such as '10/8/2025, 5:35 PM'; without a zone, NEWSQA_DEFAULT_TZ).")


ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"  # qa.ids' rule, as JSON Schema writes it
ArticleId = Annotated[str, Path(pattern=ID_PATTERN, description="The article's id.",
                                examples=["ferry-strike"])]
SOME_TEXT = r"\S"  # at least one character that is not a space


class ErrorOut(BaseModel):
    """Every refusal: one message saying what was wrong, with the value, and what to do."""

    detail: str = Field(..., examples=["top_k: Input should be greater than or equal to 1"])


ERRORS: dict[int, str] = {
    400: "The request cannot be answered as it stands; `detail` says why and what to change.",
    401: "An API key is needed or was not recognised (`Authorization: Bearer KEY`).",
    403: "Writes are refused from this address: the server has no API key configured.",
    404: "No article with that id.",
    413: "The request body is over this route's limit (NEWSQA_MAX_BODY_BYTES for articles).",
    422: "The request does not match the schema; `detail` names the field.",
    429: "Too many requests from this client; wait `Retry-After` seconds.",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The documented refusals of a route, all with an ErrorOut body."""
    return {code: {"model": ErrorOut, "description": ERRORS[code]} for code in codes}


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(..., pattern=SOME_TEXT, description="The question, in plain words "
                          "(up to NEWSQA_MAX_QUESTION_CHARS characters, 1,000 by default).",
                          examples=["How much funding did ICE receive in 2025?"])
    top_k: int | None = Field(None, ge=1, le=MAX_TOP_K, description="Passages to retrieve (default 5).")
    mode: SearchMode | None = Field(None, description="Retrieval mode (default hybrid).")
    as_of: str | None = Field(None, description=AS_OF_HELP,
                              examples=["2025-10-08T17:35:00-04:00", "10/8/2025, 5:35 PM"])


class CitationOut(BaseModel):
    marker: int
    quote: str = Field(..., description="Verbatim text from the article section.")
    article_id: str
    title: str
    url: str | None
    section: Literal["body", "update"]
    update_index: int | None = Field(None, description="1-based number of the update, in time order.")
    timestamp: str | None = Field(None, description="ISO 8601; a bare date when only the date is known.")
    timestamp_precision: Literal["date", "second"] | None
    timestamp_zone: Literal["stated", "assumed"] | None = Field(
        None, description="'assumed': the source wrote no zone, and the timestamp carries the "
                          "offset of NEWSQA_DEFAULT_TZ; null for a date.")
    score: float

    @classmethod
    def of(cls, c: Citation) -> CitationOut:
        return cls(marker=c.marker, quote=c.quote, article_id=c.article_id, title=c.title,
                   url=c.url, section=c.section.kind, update_index=c.section.index,
                   timestamp=stamp_iso(c.timestamp), timestamp_precision=precision(c.timestamp),
                   timestamp_zone=zone_of(c.timestamp), score=c.score)


class WindowOut(BaseModel):
    """The evidence an answer could use: text published after `since` and at or before `as_of`."""

    since: str | None = Field(None, description="ISO 8601, exclusive; null: from the start.")
    as_of: str | None = Field(None, description="ISO 8601, inclusive; null: up to now.")
    from_question: str | None = Field(
        None, description="The question's own words that set the window ('since 6:30 PM'); null "
                          "when only the request's as_of did.")

    @classmethod
    def of(cls, w: Window) -> WindowOut:
        return cls(since=None if w.since is None else w.since.isoformat(),
                   as_of=None if w.as_of is None else w.as_of.isoformat(), from_question=w.phrase)


class AskResponse(BaseModel):
    answer: str
    abstained: bool
    citations: list[CitationOut]
    window: WindowOut = Field(default_factory=WindowOut, description=(
        "The window of publication times the answer used: the request's as_of and the times "
        "written in the question ('as of 5:35 PM', 'since 6:30 PM'), both applied."))
    took_ms: float

    @classmethod
    def of(cls, timed: TimedAnswer) -> AskResponse:
        a = timed.answer
        return cls(answer=a.text, abstained=a.abstained,
                   citations=[CitationOut.of(c) for c in a.citations],
                   window=WindowOut.of(timed.window), took_ms=round(timed.took_ms, 2))


class UpdateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    published_at: str = Field(..., pattern=SOME_TEXT, examples=["2026-03-14T09:00:00-04:00"])
    text: str


class ArticleIn(BaseModel):
    """A JSON article document: a body, or updates with text, or both."""

    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(None, pattern=ID_PATTERN, description="Its identity; without it, the "
                           "canonical url, else the title and publication day.")
    title: str = Field(..., pattern=SOME_TEXT)
    url: str | None = None
    source: str | None = None
    published_at: str | None = None
    body: str = ""
    updates: list[UpdateIn] = Field(default_factory=list)


class DeleteOut(BaseModel):
    article_id: str
    title: str
    removed_sections: int
    removed_chunks: int

    @classmethod
    def of(cls, r: DeleteResult) -> DeleteOut:
        return cls(article_id=r.article_id, title=r.title, removed_sections=r.removed_sections,
                   removed_chunks=r.removed_chunks)


class IngestOut(BaseModel):
    article_id: str
    title: str
    new_sections: int
    new_chunks: int
    replaced_sections: int
    updated_fields: list[str] = Field(default_factory=list, description=(
        "The article's details this post changed: any of title, url, source, published_at."))
    changed: bool = Field(..., description="Whether the stored article is now different: new "
                          "or edited text, or an updated detail.")

    @classmethod
    def of(cls, r: IngestResult) -> IngestOut:
        return cls(article_id=r.article_id, title=r.title, new_sections=r.new_sections,
                   new_chunks=r.new_chunks, replaced_sections=r.replaced_sections,
                   updated_fields=list(r.updated_fields), changed=r.changed)


class UpdateOut(BaseModel):
    index: int
    published_at: str
    text: str


class ArticleSummary(BaseModel):
    id: str
    title: str
    url: str | None
    source: str | None
    published_at: str | None
    published_precision: Literal["date", "second"] | None
    update_count: int
    last_updated: str | None

    @classmethod
    def of(cls, a: Article) -> ArticleSummary:
        return cls(**_summary_fields(a))


class ArticleOut(ArticleSummary):
    body: str
    updates: list[UpdateOut]

    @classmethod
    def of(cls, a: Article) -> ArticleOut:
        return cls(**_summary_fields(a), body=a.body,
                   updates=[UpdateOut(index=i, published_at=u.published_at.iso(), text=u.text)
                            for i, u in enumerate(a.updates, start=1)])


def _summary_fields(a: Article) -> dict[str, object]:
    last = a.updates[-1].published_at if a.updates else a.published_at
    return {"id": a.id, "title": a.title, "url": a.url, "source": a.source,
            "published_at": stamp_iso(a.published_at),
            "published_precision": precision(a.published_at),
            "update_count": len(a.updates), "last_updated": stamp_iso(last)}


class Health(BaseModel):
    status: Literal["ok"]
    articles: int
    chunks: int
    model: str


def stamp_iso(stamp: Timestamp | None) -> str | None:
    return None if stamp is None else stamp.iso()


def zone_of(stamp: Timestamp | None) -> Literal["stated", "assumed"] | None:
    """'assumed' when the source gave no zone and the timestamp took NEWSQA_DEFAULT_TZ's offset."""
    if stamp is None or stamp.date_only:
        return None
    return "stated" if stamp.zone_stated else "assumed"


def precision(stamp: Timestamp | None) -> Literal["date", "second"] | None:
    if stamp is None:
        return None
    return "date" if stamp.date_only else "second"
