"""The FastAPI application: resources are loaded in the lifespan and handed to routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api import routes, routes_chat, routes_figures, web
from api.errors import install_error_handlers
from api.ratelimit import RateLimiter
from qa.conversation import Chat
from qa.service import NewsQA
from qa.settings import Settings, get_settings


def create_app(settings: Settings | None = None, service: NewsQA | None = None) -> FastAPI:
    """Build the app; `service` lets tests hand in a NewsQA built with a fake embedder."""
    settings = settings or (service.settings if service else get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = service is None
        app.state.newsqa = service or NewsQA(settings)
        app.state.newsqa.warm_up()  # the first reader should not wait for the model to load
        app.state.chat = Chat(app.state.newsqa)
        yield
        if owned:
            app.state.newsqa.close()

    app = FastAPI(title="newsqa", version="0.1.0", lifespan=lifespan,
                  description="Questions over live-updating news, answered with verbatim quotes, "
                              "update timestamps and citation markers.")
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST"], allow_headers=["Content-Type", "Accept"])
    app.state.rate_limiter = RateLimiter(settings.chat_rate_per_minute)
    install_error_handlers(app)
    app.include_router(routes.router)
    app.include_router(routes_figures.router)
    app.include_router(routes_chat.router)
    app.include_router(web.router)
    return app
