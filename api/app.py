"""The FastAPI application: resources are loaded in the lifespan and handed to routes.

Every request first passes the guard (allowed Host, bounded headers, query and body), then CORS;
routes check keys and rate limits through their dependencies (api/security.py, api/ratelimit.py).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api import docs, routes, routes_chat, routes_figures, web
from api.errors import install_error_handlers
from api.middleware import MAX_HEADER_BYTES, Bounds, GuardMiddleware, default_hosts
from api.ratelimit import build_limiters
from api.responses import SafeJSONResponse
from api.security import Access, refuses_write
from qa.conversation import Chat
from qa.errors import ConfigError
from qa.service import NewsQA
from qa.settings import Settings, get_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, service: NewsQA | None = None,
               bind_host: str = "127.0.0.1") -> FastAPI:
    """Build the app; `service` lets tests hand in a NewsQA built with a fake embedder.
    `bind_host` is the address served on: with localhost, the Host names taken by default."""
    settings = settings or (service.settings if service else get_settings())
    access = Access.of(settings)
    if access.read_keys_required and not access.keys:
        raise ConfigError("NEWSQA_READ_KEYS_REQUIRED is set but no API key is configured; set "
                          "NEWSQA_API_KEYS or NEWSQA_API_KEYS_FILE")
    hosts = tuple(settings.allowed_hosts) or default_hosts(bind_host)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = service is None
        app.state.newsqa = service or NewsQA(settings)
        app.state.newsqa.warm_up()  # the first reader should not wait for the model to load
        app.state.chat = Chat(app.state.newsqa)
        log.info("newsqa: %s; answering to Host %s", access.describe(), ", ".join(hosts))
        yield
        if owned:
            app.state.newsqa.close()

    app = FastAPI(title="newsqa", version="0.1.0", lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url=None,  # api/docs.py serves them, rate-limited
                  default_response_class=SafeJSONResponse,  # no raw C1 from article text
                  description="Questions over live-updating news, answered with verbatim quotes, "
                              "update timestamps and citation markers.")
    app.add_middleware(GuardMiddleware, bounds=Bounds(hosts, settings.body_limit_bytes),
                       refuses_write=partial(refuses_write, access))
    if settings.cors_origins:  # outside the guard, so a browser can read its refusals too
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type", "Accept", "Authorization"])
    app.state.access = access
    app.state.limits = build_limiters(settings.rate_limits, settings.chat_rate_per_minute)
    install_error_handlers(app)
    app.include_router(routes.router)
    app.include_router(routes_figures.router)
    app.include_router(routes_chat.router)
    app.include_router(web.router)
    app.include_router(docs.router)
    return app


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's part: no `Server` header; X-Forwarded-For is read by the app, from trusted
    proxies only, so uvicorn must not rewrite the client from it (it trusts 127.0.0.1 by
    default); headers bounded as the guard bounds them."""
    return {"server_header": False, "proxy_headers": False, "forwarded_allow_ips": "",
            "h11_max_incomplete_event_size": MAX_HEADER_BYTES}
