"""HTTP routes: thin translations between JSON and NewsQA. CPU-bound routes are plain `def`,
so FastAPI runs them in its thread pool and model inference never blocks the event loop."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.deps import NewsQADep, moment_of
from api.ratelimit import rate_limited
from api.schemas import (
    ArticleId,
    ArticleIn,
    ArticleOut,
    ArticleSummary,
    AskRequest,
    AskResponse,
    DeleteOut,
    Health,
    IngestOut,
    responses,
)
from api.security import require_read_key, require_write_key
from qa.parse_json import article_from_dict

router = APIRouter()
# Each route takes its rate-limit token before its key is checked, so refused keys are limited too.
READ = [Depends(require_read_key)]
WRITE = [Depends(require_write_key)]


@router.get("/healthz", response_model=Health, tags=["service"],
            dependencies=[Depends(rate_limited("health"))], responses=responses(429))
def healthz(newsqa: NewsQADep) -> Health:
    health = newsqa.health()
    return Health(status="ok", articles=health.articles, chunks=health.chunks, model=health.model)


@router.post("/v1/ask", response_model=AskResponse, tags=["answers"],
             dependencies=[Depends(rate_limited("ask")), *READ],
             responses=responses(400, 401, 413, 422, 429))
def ask(body: AskRequest, newsqa: NewsQADep) -> AskResponse:
    """Answer a question with verbatim quotes, each tied to a marker [n] and its update time."""
    as_of = moment_of("as_of", body.as_of, newsqa.settings.zone)
    return AskResponse.of(newsqa.ask(body.question, body.top_k, body.mode, as_of))


@router.post("/v1/articles", response_model=IngestOut, status_code=201, tags=["articles"],
             dependencies=[Depends(rate_limited("write")), *WRITE],
             responses=responses(400, 401, 403, 413, 422, 429))
def ingest(body: ArticleIn, newsqa: NewsQADep) -> IngestOut:
    """Ingest a JSON article; what is already stored is skipped, a new update is added.

    An article is known by its `id`; without one, by its canonical `url` (scheme, host case,
    default port, fragment, final '/' and tracking parameters ignored), so a live page re-posted with a new
    title or date replaces its stored copy; without either, by its title and publication day.
    An update whose text repeats one already stored for the article (ignoring case and spacing)
    is not stored again, whatever its time. Needs an API key (`Authorization: Bearer`)."""
    doc = body.model_dump(exclude_none=True)
    article = article_from_dict(doc, "request body", newsqa.settings.zone)
    return IngestOut.of(newsqa.ingest(article))


@router.get("/v1/articles", response_model=list[ArticleSummary], tags=["articles"],
            dependencies=[Depends(rate_limited("articles")), *READ], responses=responses(401, 429))
def list_articles(newsqa: NewsQADep) -> list[ArticleSummary]:
    return [ArticleSummary.of(a) for a in newsqa.articles()]


@router.get("/v1/articles/{article_id}", response_model=ArticleOut, tags=["articles"],
            dependencies=[Depends(rate_limited("articles")), *READ],
            responses=responses(401, 404, 422, 429))
def get_article(article_id: ArticleId, newsqa: NewsQADep) -> ArticleOut:
    return ArticleOut.of(newsqa.article(article_id))


@router.delete("/v1/articles/{article_id}", response_model=DeleteOut, tags=["articles"],
               dependencies=[Depends(rate_limited("write")), *WRITE],
               responses=responses(401, 403, 404, 422, 429))
def delete_article(article_id: ArticleId, newsqa: NewsQADep) -> DeleteOut:
    """Delete an article: its passages, figures and updates go in one atomic write, so answers
    stop quoting it at once and a crash leaves it whole or gone. Needs an API key."""
    return DeleteOut.of(newsqa.delete(article_id))
