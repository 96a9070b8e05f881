"""Translating errors into HTTP answers, in one place: 4xx with a message naming the problem,
and never a traceback in a response."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from qa.errors import ArticleNotFound, NewsqaError

log = logging.getLogger(__name__)


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

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_message(exc)}, status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error; the server log has the details"},
                            status_code=500)
