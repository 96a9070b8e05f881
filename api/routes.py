"""HTTP routes: thin translations between JSON and NewsQA. CPU-bound routes are plain `def`,
so FastAPI runs them in its thread pool and model inference never blocks the event loop."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import NewsQADep, moment_of
from api.schemas import (
    ArticleIn,
    ArticleOut,
    ArticleSummary,
    AskRequest,
    AskResponse,
    Health,
    IngestOut,
)
from qa.parse_json import article_from_dict

router = APIRouter()


@router.get("/healthz", response_model=Health, tags=["service"])
def healthz(newsqa: NewsQADep) -> Health:
    health = newsqa.health()
    return Health(status="ok", articles=health.articles, chunks=health.chunks, model=health.model)


@router.post("/v1/ask", response_model=AskResponse, tags=["answers"])
def ask(body: AskRequest, newsqa: NewsQADep) -> AskResponse:
    """Answer a question with verbatim quotes, each tied to a marker [n] and its update time."""
    as_of = moment_of("as_of", body.as_of, newsqa.settings.zone)
    return AskResponse.of(newsqa.ask(body.question, body.top_k, body.mode, as_of))


@router.post("/v1/articles", response_model=IngestOut, status_code=201, tags=["articles"])
def ingest(body: ArticleIn, newsqa: NewsQADep) -> IngestOut:
    """Ingest a JSON article; what is already stored is skipped, a new update is added."""
    doc = body.model_dump(exclude_none=True)
    article = article_from_dict(doc, "request body", newsqa.settings.zone)
    return IngestOut.of(newsqa.ingest(article))


@router.get("/v1/articles", response_model=list[ArticleSummary], tags=["articles"])
def list_articles(newsqa: NewsQADep) -> list[ArticleSummary]:
    return [ArticleSummary.of(a) for a in newsqa.articles()]


@router.get("/v1/articles/{article_id}", response_model=ArticleOut, tags=["articles"])
def get_article(article_id: str, newsqa: NewsQADep) -> ArticleOut:
    return ArticleOut.of(newsqa.article(article_id))
