"""Translating errors into HTTP answers, in one place: 4xx with a message naming the problem,
503 for a model or data directory that cannot be used, and never a traceback in a response.
Every refusal is `{"detail": "<message>"}`. A streamed answer that fails ends with the `error`
event `stream_error` gives."""

from __future__ import annotations

import logging
import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.routing import Match

from api.chat_schemas import ErrorEvent
from api.responses import SafeJSONResponse
from index.errors import IndexSetupError
from qa.errors import ArticleNotFound, NewsqaError

log = logging.getLogger(__name__)

INTERNAL = "internal error while composing the answer; the server log has the details"


class TooManyRequests(Exception):
    """A client over its rate limit; answered 429 with the seconds to wait (api/ratelimit.py)."""

    def __init__(self, message: str, wait_s: float) -> None:
        self.wait_s = wait_s
        super().__init__(message)


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
        elif error.get("type") == "string_unicode":
            messages.append(f"{_location(tuple(error.get('loc', ())))}: has a lone surrogate, "
                            "which is not a character; send the text as UTF-8 (in JSON, a "
                            "\\uD8xx escape must be followed by its \\uDCxx pair)")
        elif error.get("type") == "string_pattern_mismatch":
            messages.append(f"{_location(tuple(error.get('loc', ())))}: "
                            f"{_pattern_message(str((error.get('ctx') or {}).get('pattern')))}")
        else:
            messages.append(f"{_location(tuple(error.get('loc', ())))}: {error.get('msg')}")
    return "; ".join(messages)


def _pattern_message(pattern: str) -> str:
    if pattern == r"\S":
        return "is empty; give some text"
    return (f"is not valid as an id (it must match {pattern}): use 1-128 letters, digits, '.', "
            "'_', ':' or '-', starting with a letter or digit")


def refusal(status: int, detail: str, headers: dict[str, str] | None = None) -> SafeJSONResponse:
    """{"detail": ...}; a lone surrogate echoed from the request is written as an escape, and
    a control character as JSON's."""
    text = detail.encode("utf-8", "backslashreplace").decode("utf-8")
    return SafeJSONResponse({"detail": text}, status_code=status, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    pending = list(request.app.router.routes)
    while pending:
        route = pending.pop()
        included = getattr(route, "original_router", None)  # FastAPI keeps included routers
        if included is not None:
            pending.extend(included.routes)
            continue
        match, _ = route.matches(request.scope)
        if match in (Match.FULL, Match.PARTIAL):
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ArticleNotFound)
    async def _not_found(_: Request, exc: ArticleNotFound) -> SafeJSONResponse:
        return refusal(404, str(exc))

    @app.exception_handler(NewsqaError)
    async def _bad_input(_: Request, exc: NewsqaError) -> SafeJSONResponse:
        return refusal(400, str(exc))

    @app.exception_handler(IndexSetupError)
    async def _unavailable(_: Request, exc: IndexSetupError) -> SafeJSONResponse:
        log.error("service unavailable: %s", exc)
        return refusal(503, str(exc))

    @app.exception_handler(TooManyRequests)
    async def _too_many(_: Request, exc: TooManyRequests) -> SafeJSONResponse:
        return refusal(429, str(exc), {"Retry-After": str(max(1, math.ceil(exc.wait_s)))})

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> SafeJSONResponse:
        return refusal(422, _validation_message(exc))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> SafeJSONResponse:
        headers = dict(exc.headers or {})
        detail = str(exc.detail)
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
            detail = (f"{request.method} is not allowed on {request.url.path}; use "
                      f"{headers['Allow']}")
        elif exc.status_code == 404 and detail == "Not Found":
            detail = f"no route {request.url.path[:200]}; the API is described at /docs"
        return refusal(exc.status_code, detail, headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> SafeJSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return refusal(500, "internal error; the server log has the details")
