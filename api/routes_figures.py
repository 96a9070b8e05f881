"""HTTP routes for journalists: a figure's timeline, figures about a topic, and what changed in
an article since a given time. Plain `def` routes: the work runs in FastAPI's thread pool."""

from __future__ import annotations

import time
from datetime import datetime, tzinfo
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import NewsQADep
from api.schemas_figures import ChangesResponse, FiguresResponse
from qa.errors import InvalidTime
from qa.figures import DEFAULT_REL_TOLERANCE
from qa.timeline import MAX_TOLERANCE
from qa.timeparse import parse_timestamp

router = APIRouter()

AsOf = Annotated[str | None, Query(
    description="Use only text published at or before this time (ISO 8601, or a live-page "
                "stamp such as '10/8/2025, 5:35 PM').", examples=["2025-10-08T17:35:00+00:00"])]


def _moment(name: str, value: str | None, zone: tzinfo) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_timestamp(value, zone).moment
    except InvalidTime as exc:
        raise InvalidTime(f"{name}: {exc}") from exc


@router.get("/v1/figures", response_model=FiguresResponse, tags=["figures"])
def figures(
    newsqa: NewsQADep,
    q: Annotated[str, Query(description="A figure ('$28.7 billion', '3,000 arrests per day') or "
                                        "a topic ('ICE budget').", examples=["$28.7 billion"])],
    as_of: AsOf = None,
    tolerance: Annotated[float, Query(
        ge=0, le=MAX_TOLERANCE, description="Relative difference still reported as an "
                                            "approximate match.")] = DEFAULT_REL_TOLERANCE,
) -> FiguresResponse:
    """Every appearance of a figure, oldest first, exact and approximate; or, for a topic, the
    figures in passages about it, grouped, with revisions marked."""
    started = time.perf_counter()
    timeline = newsqa.figures(q, _moment("as_of", as_of, newsqa.settings.zone), tolerance)
    return FiguresResponse.of(timeline, (time.perf_counter() - started) * 1000)


@router.get("/v1/articles/{article_id}/changes", response_model=ChangesResponse,
            tags=["articles"])
def changes(
    article_id: str,
    newsqa: NewsQADep,
    since: Annotated[str, Query(description="List the updates published after this time.",
                                examples=["2025-10-08T17:35:00+00:00"])],
    as_of: AsOf = None,
) -> ChangesResponse:
    """The updates published after `since`, and the figures that first appear in them."""
    zone = newsqa.settings.zone
    moment = _moment("since", since, zone)
    assert moment is not None
    return ChangesResponse.of(newsqa.changes(article_id, moment, _moment("as_of", as_of, zone)))
