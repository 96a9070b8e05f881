"""Who may call: API keys for writes (and, when configured, reads), and the client's address.

Keys come as `Authorization: Bearer KEY` and are compared in constant time. With no key
configured, writes are taken from this machine (loopback) only, and not when a proxy forwarded
them (X-Forwarded-For, Forwarded or X-Real-IP from an untrusted peer). The client's address is the
connection's peer, unless that peer is a trusted proxy (NEWSQA_TRUSTED_PROXIES): then it is the
last address in X-Forwarded-For that is not a trusted proxy.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.types import Scope

from qa.settings import Settings

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
bearer = HTTPBearer(auto_error=False, scheme_name="apiKey",
                    description="An API key from NEWSQA_API_KEYS or NEWSQA_API_KEYS_FILE.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


@dataclass(frozen=True)
class Access:
    """What the app was configured with: keys, whether reads need one, trusted proxies."""

    keys: tuple[bytes, ...]  # SHA-256 digests of the keys, so every comparison is of 32 bytes
    read_keys_required: bool
    proxies: tuple[Network, ...]

    @classmethod
    def of(cls, settings: Settings) -> Access:
        keys = tuple(_digest(k) for k in settings.api_key_list())
        return cls(keys, settings.read_keys_required,
                   tuple(ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies))

    def describe(self) -> str:
        if not self.keys:
            return ("no API key is configured (NEWSQA_API_KEYS or NEWSQA_API_KEYS_FILE): writes "
                    "are taken from this machine only, and refused from any other address")
        reads = "needed to read too" if self.read_keys_required else "not needed to read"
        return f"{len(self.keys)} API key(s) configured for writes; a key is {reads}"

    def knows(self, key: str) -> bool:
        """Whether `key` is one of the keys; how long it takes says nothing of the keys, their
        lengths included (compare_digest on strings of different lengths returns at once)."""
        given = _digest(key)
        found = False
        for known in self.keys:  # every key compared, in constant time each
            found |= hmac.compare_digest(given, known)
        return found

    def trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.proxies)


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "backslashreplace")).digest()


def _access(request: Request) -> Access:
    access: Access = request.app.state.access
    return access


def client_address(request: Request) -> str:
    """The client's IP address: the peer, or what a trusted proxy says it forwarded for."""
    peer = request.client.host if request.client else "unknown"
    access = _access(request)
    if not access.proxies or not access.trusted(peer):
        return peer
    hops = [_without_port(h.strip())
            for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",")]
    for hop in reversed([h for h in hops if h]):
        if not access.trusted(hop):
            # a hop that is no address ("unknown") is some other machine, never the proxy's own
            return hop if _is_ip(hop) else f"unreadable forwarded address {hop[:60]!r}"
    return peer


def _without_port(hop: str) -> str:
    """'203.0.113.9:41234' and '[2001:db8::5]:443', as some proxies write them, as addresses."""
    bracketed = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::\d+)?", hop)
    if bracketed:
        return bracketed[1]
    with_port = re.fullmatch(r"(\d{1,3}(?:\.\d{1,3}){3}):\d+", hop)
    return with_port[1] if with_port else hop


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def _forwarded_by(request: Request, access: Access) -> str | None:
    """The proxy header an untrusted peer sent, if any: behind a reverse proxy on this machine,
    every request comes from loopback, and only such a header says it came from elsewhere. (From
    a trusted proxy, X-Forwarded-For was already read by client_address.)"""
    peer = request.client.host if request.client else ""
    if access.trusted(peer) and "x-forwarded-for" in request.headers:
        return None
    # a trusted proxy that says whom it forwarded for only in Forwarded or X-Real-IP still
    # forwarded another machine's request
    return next((name for name in PROXY_HEADERS if name.lower() in request.headers), None)


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def _check_key(access: Access, credentials: HTTPAuthorizationCredentials | None, what: str) -> None:
    if credentials is None:
        raise _unauthorized(f"{what} needs an API key: send 'Authorization: Bearer KEY' with a key "
                            "from NEWSQA_API_KEYS")
    if not access.knows(credentials.credentials):
        raise _unauthorized("the API key is not one this server knows; check the key sent in "
                            "'Authorization: Bearer KEY'")


WRITES = ("POST", "PUT", "PATCH", "DELETE")


def refuses_write(access: Access, scope: Scope) -> bool:
    """Whether require_write_key will refuse this request, judged from its head alone, so that
    the guard need not read its body (api/middleware.py)."""
    if scope["method"] not in WRITES or not scope["path"].startswith("/v1/articles"):
        return False
    request = Request(scope)
    if access.keys:
        scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
        return scheme.lower() != "bearer" or not token or not access.knows(token)
    return not is_loopback(client_address(request)) or _forwarded_by(request, access) is not None


def require_write_key(request: Request, credentials: Credentials) -> None:
    """Writes need a known key; with no key configured, they come from this machine only."""
    access = _access(request)
    if access.keys:
        _check_key(access, credentials, "writing")
        return
    client = client_address(request)
    if not is_loopback(client):
        raise HTTPException(403, f"writes are refused from {client}: no API key is configured on "
                                 "the server, so only this machine may write; set "
                                 "NEWSQA_API_KEYS and send 'Authorization: Bearer KEY'")
    forwarded = _forwarded_by(request, access)
    if forwarded:
        raise HTTPException(403, f"writes are refused from a request a proxy forwarded ({forwarded} "
                                 "header): no API key is configured on the server, so only this "
                                 "machine may write, and a proxy here forwards other machines' "
                                 "requests; set NEWSQA_API_KEYS and send 'Authorization: Bearer "
                                 "KEY', or list the proxy in NEWSQA_TRUSTED_PROXIES")


async def require_read_key(request: Request) -> None:
    """Reads are open unless NEWSQA_READ_KEYS_REQUIRED is set. (Not declared through `bearer`,
    so OpenAPI shows the scheme on reads only when it applies: see api/docs.py.)"""
    access = _access(request)
    if access.read_keys_required:
        _check_key(access, await bearer(request), "reading")
