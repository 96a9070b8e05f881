"""Checks every request passes before any route sees it, as one ASGI middleware: the Host header
is one this server answers to, the query string and headers are of bounded size, and the body is
no larger than its route takes, refused with 413 before it is read (by Content-Length) or as soon
as a chunked body passes the limit. Every response says `X-Content-Type-Options: nosniff`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.responses import json_bytes

MAX_QUERY_BYTES = 8 * 1024
MAX_HEADER_BYTES = 16 * 1024  # all header lines together (uvicorn's h11 is given the same bound)
SMALL_BODY_BYTES = 64 * 1024  # a question, a figure query: far under this
CHAT_BODY_BYTES = 4 * 1024 * 1024  # 50 messages of up to 16,000 characters, 4 bytes each, + JSON


@dataclass(frozen=True)
class Bounds:
    allowed_hosts: tuple[str, ...]
    article_body_bytes: int

    def body_limit(self, path: str) -> int:
        if path.startswith("/v1/articles"):
            return self.article_body_bytes
        if path == "/v1/chat":
            return CHAT_BODY_BYTES
        return SMALL_BODY_BYTES

    def host_allowed(self, host: str) -> bool:
        return any(host == h or (h.startswith("*.") and host.endswith(h[1:])) or h == "*"
                   for h in self.allowed_hosts)


_NAME = re.compile(r"[a-z0-9._-]+|[0-9a-f:.]*:[0-9a-f:.]*")  # a DNS name or IPv4; IPv6
_PORT = re.compile(r"(:[0-9]*)?")


def host_of(header: str) -> str:
    """'Example.org:8000' -> 'example.org'; '[::1]:8000' -> '::1'; '' when the header is more
    than a name and a port ('localhost:8000@attacker.example'), which no allowed name matches."""
    value = header.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        name, rest = (value[1:end], value[end + 1:]) if end > 0 else ("", "")
    elif value.count(":") == 1:
        name, rest = value[:value.index(":")], value[value.index(":"):]
    else:
        name, rest = value, ""
    return name if _NAME.fullmatch(name) and _PORT.fullmatch(rest) else ""


def default_hosts(bind_host: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys([host_of(bind_host) if bind_host.startswith("[") else bind_host,
                                "localhost", "127.0.0.1", "::1"]))


class GuardMiddleware:
    def __init__(self, app: ASGIApp, bounds: Bounds,
                 refuses_write: Callable[[Scope], bool] = lambda scope: False) -> None:
        self.app = app
        self.bounds = bounds
        self.refuses_write = refuses_write

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_nosniff(send)
        refusal = self._check_head(scope)
        if refusal is not None:
            await _refuse(send, *refusal)
            return
        limit = self.bounds.body_limit(scope["path"])
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _refuse(send, 400, f"Content-Length {declared[:40].decode('latin-1')!r} is "
                                         "not a number of bytes")
                return
            if int(declared) > limit:
                await _refuse(send, 413, _too_large(limit))
                return
        if self.refuses_write(scope):
            # the route's key check will refuse it: let it say so (and spend the client's
            # budget) without holding up to the body limit in memory for it first
            await self.app(scope, _replay(b"", receive), send)
            return
        body = await _read_body(receive, limit)
        if body is None:
            await _refuse(send, 413, _too_large(limit))
            return
        await self.app(scope, _replay(body, receive), send)

    def _check_head(self, scope: Scope) -> tuple[int, str] | None:
        host = next((v for k, v in scope["headers"] if k == b"host"), b"").decode("latin-1")
        if not self.bounds.host_allowed(host_of(host)):
            return 400, (f"the Host header {host[:100]!r} is not a name this server answers to; "
                         "reach it by an allowed name, or add this one to NEWSQA_ALLOWED_HOSTS")
        if len(scope.get("query_string", b"")) > MAX_QUERY_BYTES:
            return 414, (f"the query string has {len(scope['query_string']):,} bytes, over the "
                         f"limit of {MAX_QUERY_BYTES:,}; shorten it")
        size = sum(len(k) + len(v) + 4 for k, v in scope["headers"])
        if size > MAX_HEADER_BYTES:
            return 431, (f"the request headers have {size:,} bytes, over the limit of "
                         f"{MAX_HEADER_BYTES:,}; send fewer or shorter headers")
        return None


def _too_large(limit: int) -> str:
    return (f"the request body is over the limit of {limit:,} bytes for this route; send a "
            "smaller one (the article limit is NEWSQA_MAX_BODY_BYTES)")


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes `limit`."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(parts)  # the client left; the app will see the disconnect
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _with_nosniff(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            if not any(k.lower() == b"x-content-type-options" for k, _ in headers):
                headers.append((b"x-content-type-options", b"nosniff"))
            message = {**message, "headers": headers}
        await send(message)

    return sending


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json_bytes({"detail": detail})
    headers: Iterable[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": list(headers)})
    await send({"type": "http.response.body", "body": body})
