"""Translating errors into HTTP answers, in one place: 4xx with a message naming the problem,
503 for a model or data directory that cannot be used, and never a traceback in a response.
A streamed answer that fails ends with the `error` event `stream_error` gives."""

from __future__ import annotations

import logging
import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.chat_schemas import ErrorEvent
from index.errors import IndexSetupError
from qa.errors import ArticleNotFound, NewsqaError

log = logging.getLogger(__name__)

INTERNAL = "internal error while composing the answer; the server log has the details"


class TooManyRequests(Exception):
    """A client over its rate limit; answered 429 with the seconds to wait."""

    def __init__(self, client: str, per_minute: int, wait_s: float) -> None:
        self.wait_s = wait_s
        super().__init__(f"too many questions from {client}: the limit is {per_minute} a minute; "
                         f"ask again in {wait_s:g} seconds")


def stream_error(exc: Exception, query: str) -> ErrorEvent:
    """The `error` event that ends a stream whose answer failed with `exc`."""
    if isinstance(exc, NewsqaError):
        return ErrorEvent(detail=str(exc))
    log.error("chat stream failed for query %r", query, exc_info=exc)
    return ErrorEvent(detail=INTERNAL)


def _location(loc: tuple[object, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "request body"


def _validation_message(exc: RequestValidationError) -> str:
    messages = []
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            ctx = error.get("ctx") or {}
            messages.append(f"the request body is not valid JSON ({ctx.get('error', 'syntax error')});"
                            " send a JSON object")
        else:
            messages.append(f"{_location(tuple(error.get('loc', ())))}: {error.get('msg')}")
    return "; ".join(messages)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ArticleNotFound)
    async def _not_found(_: Request, exc: ArticleNotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(NewsqaError)
    async def _bad_input(_: Request, exc: NewsqaError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(IndexSetupError)
    async def _unavailable(_: Request, exc: IndexSetupError) -> JSONResponse:
        log.error("service unavailable: %s", exc)
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.exception_handler(TooManyRequests)
    async def _too_many(_: Request, exc: TooManyRequests) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=429,
                            headers={"Retry-After": str(max(1, math.ceil(exc.wait_s)))})

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_message(exc)}, status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error; the server log has the details"},
                            status_code=500)
