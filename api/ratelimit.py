"""Per-client token buckets, one per route group, in memory and bounded in clients: enough to
keep one browser tab or one script from monopolising the answer threads or the writer.

Each group has its own budget (BUDGETS); NEWSQA_RATE_LIMITS overrides them ('ask=60', 'off').
A refused request gets 429 and `Retry-After`, in whole seconds rounded up. A client is its
address (api/security.py), an IPv6 one counted by its /64.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from api.errors import TooManyRequests
from qa.errors import ConfigError

MAX_CLIENTS = 10_000


@dataclass(frozen=True)
class Budget:
    per_minute: int
    burst: int
    routes: str
    noun: str = "requests"


# The one home of every route group's budget: README's configuration table quotes it.
BUDGETS: dict[str, Budget] = {
    "ask": Budget(120, 20, "POST /v1/ask", "questions"),
    "chat": Budget(30, 10, "POST /v1/chat", "questions"),
    "figures": Budget(60, 10, "GET /v1/figures, GET /v1/figures/chart.svg"),
    "changes": Budget(60, 10, "GET /v1/articles/{id}/changes"),
    "articles": Budget(240, 40, "GET /v1/articles, GET /v1/articles/{id}"),
    "write": Budget(120, 60, "POST /v1/articles, DELETE /v1/articles/{id}", "writes"),
    "health": Budget(600, 60, "GET /healthz"),
    "pages": Budget(600, 120, "/, the widget's files, /docs and its assets, /openapi.json"),
}


class RateLimiter:
    """`per_minute` requests a minute per client, in bursts of up to `burst`; 0 turns it off."""

    def __init__(self, per_minute: int, burst: int | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.burst = burst if burst is not None else max(1, min(per_minute, 10))
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, at

    def wait_s(self, client: str) -> float:
        """Take one token for `client`: 0 when allowed, else seconds until the next one."""
        if self.per_minute <= 0:
            return 0.0
        rate = self.per_minute / 60.0
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.pop(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * rate)
            allowed = tokens >= 1.0
            self._buckets[client] = (tokens - 1.0 if allowed else tokens, now)
            while len(self._buckets) > MAX_CLIENTS:
                self._buckets.popitem(last=False)
        return 0.0 if allowed else math.ceil((1.0 - tokens) / rate * 10) / 10


def build_limiters(overrides: dict[str, int], chat_per_minute: int) -> dict[str, RateLimiter]:
    """One limiter per group: the defaults, NEWSQA_CHAT_RATE_PER_MINUTE for chat, then overrides."""
    unknown = sorted(set(overrides) - set(BUDGETS) - {"*"})
    if unknown:
        raise ConfigError(f"NEWSQA_RATE_LIMITS names {unknown}; the route groups are "
                          f"{', '.join(BUDGETS)}")
    limiters = {}
    for name, budget in BUDGETS.items():
        per_minute = chat_per_minute if name == "chat" else budget.per_minute
        per_minute = overrides.get(name, overrides.get("*", per_minute))
        burst = budget.burst if per_minute == budget.per_minute else max(1, min(per_minute, budget.burst))
        limiters[name] = RateLimiter(per_minute, burst)
    return limiters


def bucket_of(address: str) -> str:
    """Whose budget a request spends: an IPv6 client's /64 (one subscriber holds a whole one, so
    a new address each time would be a new budget), an IPv4-mapped address as its IPv4 one."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def rate_limited(group: str) -> Callable[[Request], None]:
    """A route dependency that takes one token of `group` for the request's client, or refuses."""
    budget = BUDGETS[group]

    def check(request: Request) -> None:
        from api.security import client_address

        limiter: RateLimiter = request.app.state.limits[group]
        client = bucket_of(client_address(request))
        wait = limiter.wait_s(client)
        if wait:
            raise TooManyRequests(
                f"too many {budget.noun} from {client}: the limit of {budget.routes} is "
                f"{limiter.per_minute} a minute; try again in {wait:g} seconds", wait)

    check.__name__ = f"rate_limit_{group}"
    return check
