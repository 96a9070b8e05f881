"""HTTP routes for journalists: a figure's timeline, figures about a topic, and what changed in
an article since a given time. Plain `def` routes: the work runs in FastAPI's thread pool."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import NewsQADep, moment_of
from api.schemas import AS_OF_HELP
from api.schemas_figures import ChangesResponse, FiguresResponse
from qa.figures.extract import DEFAULT_REL_TOLERANCE, MAX_TOLERANCE

router = APIRouter()

AsOf = Annotated[str | None, Query(description=AS_OF_HELP, examples=["2025-10-08T17:35:00+00:00"])]


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
    timeline = newsqa.figures(q, moment_of("as_of", as_of, newsqa.settings.zone), tolerance)
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
    moment = moment_of("since", since, zone)
    assert moment is not None
    return ChangesResponse.of(newsqa.changes(article_id, moment, moment_of("as_of", as_of, zone)))
