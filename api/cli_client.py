"""The CLI as a client of a running `newsqa serve`: `newsqa ask --server URL` (or NEWSQA_SERVER)
sends the question to POST /v1/ask instead of opening the data directory.

Standard library only (urllib + json): the question model, the index and pydantic stay in the
server, so the command costs about what `newsqa --help` does. Every way the call can fail
becomes one `ServerError` naming the server, the problem and the fix; a configured server that
fails is never replaced by answering locally.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import socket
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from api.cli_render import AnswerView

SERVER_ENV = "NEWSQA_SERVER"
KEY_ENV = "NEWSQA_API_KEY"
TIMEOUT_S = 60.0
LOCAL_HINT = f"or unset {SERVER_ENV} (and drop --server) to answer from the data directory"


class ServerError(Exception):
    """A server that could not be asked, or refused: the message says why and what to do."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        self.exit_code = exit_code
        super().__init__(message)


def server_url(option: str | None) -> str | None:
    """The server to ask: `--server`, else NEWSQA_SERVER; None (or empty) answers locally."""
    value = option if option is not None else os.environ.get(SERVER_ENV)
    if not value or not value.strip():
        return None
    url = value.strip().rstrip("/")
    parts = urllib.parse.urlsplit(url)
    source = "--server" if option is not None else SERVER_ENV
    if parts.username is not None or parts.password is not None:
        raise ServerError(f"{source} holds a user name or password (before '@'), which would be "
                          f"printed and sent in the clear; give the address without it and the "
                          f"key in {KEY_ENV}", 2)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServerError(f"{source}={value!r} is not a server address; write the URL "
                          "`newsqa serve` printed, e.g. http://127.0.0.1:8000", 2)
    return url


def client_key() -> str | None:
    """The key sent as `Authorization: Bearer`: NEWSQA_API_KEY, else the first key of the
    server's own settings when they are set here (NEWSQA_API_KEYS, NEWSQA_API_KEYS_FILE)."""
    key = os.environ.get(KEY_ENV, "").strip()
    if key:
        return _sendable(key, KEY_ENV)
    listed = [k.strip() for k in os.environ.get("NEWSQA_API_KEYS", "").split(",") if k.strip()]
    if listed:
        return _sendable(listed[0], "NEWSQA_API_KEYS")
    keys_file = os.environ.get("NEWSQA_API_KEYS_FILE")
    if keys_file:
        try:
            lines = Path(keys_file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ServerError(f"NEWSQA_API_KEYS_FILE={keys_file!r} cannot be read "
                              f"({exc.strerror}); give a readable file of keys, or set "
                              f"{KEY_ENV}") from exc
        keys = [line.split("#", 1)[0].strip() for line in lines]
        first = next((k for k in keys if k), None)
        return None if first is None else _sendable(first, f"NEWSQA_API_KEYS_FILE={keys_file!r}")
    return None


def _sendable(key: str, source: str) -> str:
    """`key` when an HTTP header can carry it (visible ASCII); the error never shows the key."""
    bad = next((i for i, c in enumerate(key) if not "!" <= c <= "~"), None)
    if bad is None:
        return key
    raise ServerError(f"the API key in {source} has a character an HTTP header cannot carry "
                      f"(U+{ord(key[bad]):04X} at character {bad + 1}); set it to the server's "
                      "key as written: visible ASCII, no spaces")


def is_loopback(base: str) -> bool:
    """True when `base` names this machine (localhost, 127.0.0.0/8, ::1)."""
    host = urllib.parse.urlsplit(base).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def key_exposure(base: str, key: str | None) -> str | None:
    """A warning when `key` would cross a network in the clear (plain http to another host)."""
    if not key or is_loopback(base) or urllib.parse.urlsplit(base).scheme != "http":
        return None
    host = urllib.parse.urlsplit(base).hostname
    return (f"the API key ({KEY_ENV}) goes to {host} over plain http, readable on the way; "
            "use an https:// address (a TLS proxy in front of `newsqa serve`) or a loopback one")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is refused, not followed: the request and its key would go where it points."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                         headers: Any, newurl: str) -> None:
        return None


def _opener(base: str) -> urllib.request.OpenerDirector:
    """No redirects; a loopback server is asked directly, never through an http(s)_proxy."""
    handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
    if is_loopback(base):
        handlers.append(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener(*handlers)


def server_to_ask(option: str | None, data_dir: Path | None) -> str | None:
    """The server a command asks (None: its data directory); --data-dir with a server is refused."""
    base = server_url(option)
    if base is not None and data_dir is not None:
        raise ServerError(f"--data-dir and a server ({base}) were both given; drop --data-dir "
                          f"to ask the server, or unset {SERVER_ENV} (and drop --server) to "
                          "use the data directory", 2)
    return base


def post_json(base: str, path: str, body: dict[str, Any], key: str | None,
              timeout: float = TIMEOUT_S) -> dict[str, Any]:
    """POST `body` as JSON to base + path and return the JSON object the server answered."""
    request = urllib.request.Request(base + path, data=json.dumps(body).encode("utf-8"),
                                     headers=_headers(key, "application/json")
                                     | {"Content-Type": "application/json"}, method="POST")
    return _json_object(base, _call(base, request, key, timeout))


def get(base: str, path: str, params: dict[str, str | float | None], key: str | None,
        accept: str = "application/json", timeout: float = TIMEOUT_S) -> bytes:
    """GET base + path with the query parameters that are not None; the reply's body."""
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
    request = urllib.request.Request(f"{base}{path}?{query}", headers=_headers(key, accept))
    return _call(base, request, key, timeout)


def get_json(base: str, path: str, params: dict[str, str | float | None],
             key: str | None) -> dict[str, Any]:
    return _json_object(base, get(base, path, params, key))


def _headers(key: str | None, accept: str) -> dict[str, str]:
    return {"Accept": accept, **({"Authorization": f"Bearer {key}"} if key else {})}


def _call(base: str, request: urllib.request.Request, key: str | None, timeout: float) -> bytes:
    try:
        with _opener(base).open(request, timeout=timeout) as reply:
            return bytes(reply.read())
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            raise redirected(base, exc.code, exc.headers.get("Location")) from None
        raise refused(base, exc.code, exc.headers.get("Retry-After"), exc.read(), key) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise unreachable(base, exc, timeout) from None


def unreachable(base: str, exc: BaseException, timeout: float) -> ServerError:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, socket.timeout | TimeoutError):
        why = f"no answer within {timeout:g} s"
    elif isinstance(reason, ConnectionRefusedError):
        why = "connection refused: nothing listens there"
    elif isinstance(reason, socket.gaierror):
        why = "the host name is not known"
    else:
        why = str(getattr(reason, "strerror", None) or reason) or type(reason).__name__
    return ServerError(f"cannot reach the newsqa server at {base} ({why}); start it with "
                       f"`newsqa serve`, fix --server/{SERVER_ENV}, {LOCAL_HINT}")


def redirected(base: str, status: int, location: str | None) -> ServerError:
    where = f" to {location!r}" if location else ""
    return ServerError(f"the server at {base} redirected{where} ({status}); not followed, so "
                       f"the question and the API key went nowhere else; give --server/"
                       f"{SERVER_ENV} the address `newsqa serve` printed, {LOCAL_HINT}")


def refused(base: str, status: int, retry_after: str | None, raw: bytes,
            key: str | None) -> ServerError:
    """The server's refusal as one message: its own `detail`, and what to do about it."""
    detail = _detail(raw) or f"HTTP {status}"
    if status == 401:
        fix = (f"the key sent ({KEY_ENV}) is not one the server knows; use one of its "
               "NEWSQA_API_KEYS" if key else
               f"set {KEY_ENV} to one of the server's keys (NEWSQA_API_KEYS)")
        return ServerError(f"the newsqa server at {base} needs an API key (401: {detail}); {fix}")
    if status == 403:
        return ServerError(f"the newsqa server at {base} refused the request (403: {detail}); "
                           f"set {KEY_ENV} to one of the server's keys (NEWSQA_API_KEYS)")
    if status == 429:
        wait = f"retry in {retry_after} s" if retry_after else "retry in a minute"
        return ServerError(f"the newsqa server at {base} is limiting this client (429: {detail}); "
                           f"{wait}, or raise its NEWSQA_RATE_LIMITS")
    if status in (400, 413, 422):  # the question or an option: fixed on the command line
        return ServerError(f"the newsqa server at {base} refused the request ({status}): "
                           f"{detail}", 2)
    if status == 404 and detail.startswith("no article"):  # newsqa's ArticleNotFound
        return ServerError(f"the newsqa server at {base}: {detail}", 2)
    if status == 404:
        return ServerError(f"{base} answered 404 ({detail}); is it a newsqa server? Give the "
                           f"URL `newsqa serve` printed, {LOCAL_HINT}")
    return ServerError(f"the newsqa server at {base} failed ({status}: {detail}); see its log, "
                       f"{LOCAL_HINT}")


def _detail(raw: bytes) -> str:
    """`detail` of a newsqa refusal, else the start of whatever the reply held."""
    text = raw.decode("utf-8", "replace").strip()
    try:
        body = json.loads(text)
    except ValueError:
        return " ".join(text.split())[:200]
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return str(body["detail"])
    return " ".join(text.split())[:200]


def _json_object(base: str, raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw.decode("utf-8"))
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ServerError(f"{base} answered something that is not newsqa's JSON; check that "
                          f"--server/{SERVER_ENV} names a newsqa server")
    return body


def ask_server(base: str, question: str, top_k: int | None, mode: str | None,
               as_of: str | None, key: str | None) -> dict[str, Any]:
    """/v1/ask's JSON for the question and the options given (the server's defaults for the
    rest), checked to be an answer."""
    body: dict[str, Any] = {"question": question}
    for name, value in (("top_k", top_k), ("mode", mode), ("as_of", as_of)):
        if value is not None:
            body[name] = value
    reply = post_json(base, "/v1/ask", body, key)
    answer_view(base, reply)
    return reply


def answer_view(base: str, reply: dict[str, Any]) -> AnswerView:
    try:
        return AnswerView.from_json(reply)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ServerError(f"{base} answered JSON that is not a newsqa answer; check that "
                          f"--server/{SERVER_ENV} names a newsqa server") from None
