"""HTTP routes for journalists: a figure's timeline, figures about a topic, and what changed in
an article since a given time. Plain `def` routes: the work runs in FastAPI's thread pool."""

from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from api.deps import NewsQADep, moment_of
from api.figure_export import timeline_csv, timeline_svg
from api.ratelimit import rate_limited
from api.schemas import AS_OF_HELP, SOME_TEXT, ArticleId, responses
from api.schemas_figures import ChangesResponse, FiguresResponse
from api.security import require_read_key
from qa.figures.extract import DEFAULT_REL_TOLERANCE, MAX_TOLERANCE

router = APIRouter()
READ = Depends(require_read_key)
FIGURES = [Depends(rate_limited("figures")), READ]  # the token first: refused keys count too

AsOf = Annotated[str | None, Query(description=AS_OF_HELP, examples=["2025-10-08T17:35:00+00:00"])]


Tolerance = Annotated[float, Query(
    ge=0, le=MAX_TOLERANCE, description="Relative difference still reported as an approximate "
                                        "match.")]
FigureQuery = Annotated[str, Query(pattern=SOME_TEXT,
                                   description="A figure ('$28.7 billion', '3,000 arrests per "
                                               "day') or a topic ('ICE budget').",
                                   examples=["$28.7 billion"])]


def _timeline(newsqa: NewsQADep, q: str, as_of: str | None, tolerance: float) -> FiguresResponse:
    started = time.perf_counter()
    timeline = newsqa.figures(q, moment_of("as_of", as_of, newsqa.settings.zone), tolerance)
    return FiguresResponse.of(timeline, (time.perf_counter() - started) * 1000)


@router.get("/v1/figures", response_model=FiguresResponse, tags=["figures"], dependencies=FIGURES,
            responses={200: {"content": {"text/csv": {}}}, **responses(400, 401, 422, 429)})
def figures(
    newsqa: NewsQADep,
    q: FigureQuery,
    as_of: AsOf = None,
    tolerance: Tolerance = DEFAULT_REL_TOLERANCE,
    format: Annotated[Literal["json", "csv"], Query(  # noqa: A002 - the public parameter's name
        description="'csv': one row per appearance, cells safe to open in a spreadsheet.")] = "json",
) -> FiguresResponse | Response:
    """Every appearance of a figure, oldest first, exact and approximate; or, for a topic, the
    figures in passages about it, grouped, with revisions marked."""
    result = _timeline(newsqa, q, as_of, tolerance)
    if format == "csv":
        return Response(timeline_csv(result), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="figures.csv"'})
    return result


@router.get("/v1/figures/chart.svg", tags=["figures"], response_class=Response,
            dependencies=FIGURES,
            responses={200: {"content": {"image/svg+xml": {}}}, **responses(400, 401, 422, 429)})
def figure_chart(newsqa: NewsQADep, q: FigureQuery, as_of: AsOf = None,
                 tolerance: Tolerance = DEFAULT_REL_TOLERANCE) -> Response:
    """A chart of the figure's values across the updates that stated them (for a topic, its
    first group's), each point labelled with the value as written and its marker."""
    svg = timeline_svg(_timeline(newsqa, q, as_of, tolerance))
    return Response(svg, media_type="image/svg+xml",
                    headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})


@router.get("/v1/articles/{article_id}/changes", response_model=ChangesResponse,
            tags=["articles"], dependencies=[Depends(rate_limited("changes")), READ],
            responses=responses(400, 401, 404, 422, 429))
def changes(
    article_id: ArticleId,
    newsqa: NewsQADep,
    since: Annotated[str, Query(pattern=SOME_TEXT, description="List the updates published after this time.",
                                examples=["2025-10-08T17:35:00+00:00"])],
    as_of: AsOf = None,
) -> ChangesResponse:
    """The updates published after `since`, and the figures that first appear in them."""
    zone = newsqa.settings.zone
    moment = moment_of("since", since, zone)
    assert moment is not None
    return ChangesResponse.of(newsqa.changes(article_id, moment, moment_of("as_of", as_of, zone)))
