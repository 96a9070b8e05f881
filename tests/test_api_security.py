"""Facing the open internet: keys on writes, bounded requests, rate limits on every route,
client addresses from trusted proxies only, an allowed-hosts list, and safe headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app, server_options
from api.middleware import MAX_HEADER_BYTES, MAX_QUERY_BYTES
from api.ratelimit import BUDGETS
from qa.errors import ConfigError
from qa.service import NewsQA
from qa.settings import Settings
from tests.conftest import DEMO
from tests.live_server import live_server

KEY = "k" * 12 + "-test-key-0001"
OTHER_KEY = "o" * 20
ARTICLE = {"id": "dam-repair", "title": "Dam repair", "body": "The dam repair costs $4 million."}
REMOTE = ("203.0.113.9", 40000)


@pytest.fixture
def demo(service: NewsQA) -> NewsQA:
    list(service.ingest_paths([DEMO]))
    return service


def make(service: NewsQA, client: tuple[str, int] = ("127.0.0.1", 50000),
         host: str = "localhost", **settings: Any) -> TestClient:
    options = {"rate_limits": {"*": 0}, **settings}
    app = create_app(service.settings.model_copy(update=options), service)
    return TestClient(app, base_url=f"http://{host}", client=client,
                      raise_server_exceptions=False)


# -- 3. body, header and query-string bounds ------------------------------------------------

def _call_asgi(app: Any, headers: list[tuple[bytes, bytes]], chunks: int,
               size: int, client: tuple[str, int] = ("127.0.0.1", 5),
               method: str = "POST") -> tuple[int, int]:
    """POST /v1/articles straight to the ASGI app with a body of `chunks` parts of `size` bytes;
    (status, parts the app read)."""
    import anyio

    read = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": b"x" * size, "more_body": read < chunks}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {"type": "http", "method": method, "path": "/v1/articles",
             "raw_path": b"/v1/articles", "query_string": b"",
             "headers": [(b"host", b"localhost"), *headers],
             "client": client, "server": ("127.0.0.1", 80), "scheme": "http",
             "http_version": "1.1", "root_path": "", "app": app}
    anyio.run(app, scope, receive, send)
    return status, read


def test_an_over_long_body_is_a_413_before_it_is_read(demo: NewsQA) -> None:
    app = create_app(demo.settings.model_copy(update={"max_body_bytes": 100_000}), demo)
    declared = [(b"content-type", b"application/json"),
                (b"content-length", str(50 * 1024 * 1024).encode())]
    assert _call_asgi(app, declared, chunks=800, size=65536) == (413, 0)  # not a byte read
    chunked = [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")]
    status, read = _call_asgi(app, chunked, chunks=800, size=65536)
    assert status == 413 and read == 2  # stopped as the limit passed, not after 50 MB
    with make(demo, max_body_bytes=100_000) as c:
        response = c.post("/v1/articles", content=b"{}", headers={
            "Content-Type": "application/json", "Content-Length": str(50 * 1024 * 1024)})
    assert response.status_code == 413 and "100,000 bytes" in response.json()["detail"]


def test_a_write_that_will_be_refused_is_answered_without_reading_its_body(demo: NewsQA) -> None:
    """Anyone may send a write of up to the body limit (9 MiB by default); one the server will
    refuse for its key (or, with no key, for where it comes from) is refused without being read
    into memory first, and still spends the client's write budget."""
    options = {"rate_limits": {"write": 2}}
    chunked = [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")]
    keyed = create_app(demo.settings.model_copy(update={**options, "api_keys": [KEY]}), demo)
    wrong = [*chunked, (b"authorization", b"Bearer " + b"g" * 24)]
    assert _call_asgi(keyed, chunked, chunks=100, size=65536, client=REMOTE[:2]) == (401, 0)
    assert _call_asgi(keyed, wrong, chunks=100, size=65536, client=REMOTE[:2]) == (401, 0)
    assert _call_asgi(keyed, wrong, chunks=100, size=65536, client=REMOTE[:2])[0] == 429
    right = [(b"content-type", b"application/json"), (b"authorization", f"Bearer {KEY}".encode())]
    assert _call_asgi(keyed, right, chunks=1, size=10, client=("198.51.100.1", 1))[1] == 1
    open_ = create_app(demo.settings.model_copy(update=options), demo)
    assert _call_asgi(open_, chunked, chunks=100, size=65536, client=REMOTE[:2]) == (403, 0)
    proxied = [*chunked, (b"x-forwarded-for", b"203.0.113.9")]
    assert _call_asgi(open_, proxied, chunks=100, size=65536) == (403, 0)


def test_the_default_body_limit_fits_the_largest_article_accepted(demo: NewsQA) -> None:
    settings = Settings(data_dir=demo.settings.data_dir, max_article_chars=5000)
    body = "Word " * 999  # just under 5,000 characters, all of it accepted
    assert settings.body_limit_bytes >= 4 * 5000
    with make(demo, max_article_chars=5000) as c:
        assert c.post("/v1/articles", json={**ARTICLE, "body": body}).status_code == 201
        too_big = c.post("/v1/articles", content=b"x" * (settings.body_limit_bytes + 1),
                         headers={"Content-Type": "application/json"})
    assert too_big.status_code == 413


def test_a_ten_megabyte_body_is_refused_by_default(demo: NewsQA) -> None:
    with make(demo) as c:
        response = c.post("/v1/articles", content=b" " * (10 * 1024 * 1024),
                          headers={"Content-Type": "application/json"})
        question = c.post("/v1/ask", content=b" " * (1024 * 1024),
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and question.status_code == 413


def test_headers_and_query_strings_are_bounded(demo: NewsQA) -> None:
    with make(demo) as c:
        big_header = c.get("/healthz", headers={"X-Padding": "a" * (MAX_HEADER_BYTES + 1)})
        big_query = c.get("/v1/figures", params={"q": "a" * (MAX_QUERY_BYTES + 1)})
        fine = c.get("/v1/figures", params={"q": "$452 million"})
    assert big_header.status_code == 431 and "headers" in big_header.json()["detail"]
    assert big_query.status_code == 414 and "query string" in big_query.json()["detail"]
    assert fine.status_code == 200


# -- 4. API keys -------------------------------------------------------------------------

def test_with_no_key_writes_come_from_this_machine_only(demo: NewsQA) -> None:
    with make(demo, client=REMOTE) as remote, make(demo) as local:
        refused = remote.post("/v1/articles", json=ARTICLE)
        deleted = remote.delete("/v1/articles/harbor-city-awards-bridge-replacement-contract-"
                                "after-months-of-delay-2026-03-14")
        assert remote.post("/v1/ask", json={"question": "Who won the contract?"}).status_code == 200
        assert local.post("/v1/articles", json=ARTICLE).status_code == 201
    assert refused.status_code == 403 and "no API key is configured" in refused.json()["detail"]
    assert deleted.status_code == 403


def test_keys_guard_writes_and_are_sent_as_bearer(demo: NewsQA) -> None:
    with make(demo, api_keys=[KEY, OTHER_KEY]) as c:
        anonymous = c.post("/v1/articles", json={**ARTICLE, "title": "HACKED TITLE"})
        wrong = c.post("/v1/articles", json=ARTICLE, headers={"Authorization": "Bearer nope"})
        basic = c.post("/v1/articles", json=ARTICLE, headers={"Authorization": f"Basic {KEY}"})
        right = c.post("/v1/articles", json=ARTICLE, headers={"Authorization": f"Bearer {KEY}"})
        other = c.post("/v1/articles", json=ARTICLE,
                       headers={"Authorization": f"Bearer {OTHER_KEY}"})
        reads = c.get("/v1/articles/dam-repair")
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    assert wrong.status_code == 401 and "not one this server knows" in wrong.json()["detail"]
    assert basic.status_code == 401
    assert right.status_code == 201 and other.status_code == 201
    assert reads.status_code == 200 and reads.json()["title"] == "Dam repair"


def test_checking_a_key_compares_the_same_length_whatever_is_sent(
        demo: NewsQA, monkeypatch: pytest.MonkeyPatch) -> None:
    """hmac.compare_digest returns at once on values of different lengths, so comparing the
    sent key with each known one would tell a guesser how long the keys are."""
    import api.security

    lengths: list[tuple[int, int]] = []
    real = api.security.hmac.compare_digest

    def recording(a: bytes, b: bytes) -> bool:
        lengths.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(api.security.hmac, "compare_digest", recording)
    with make(demo, client=REMOTE, api_keys=[KEY, "L" * 64]) as c:
        for sent in ["x", "y" * 16, KEY[:-1], "z" * 300, "é" * 20]:
            c.post("/v1/articles", json=ARTICLE,
                   headers={"Authorization": f"Bearer {sent}".encode("latin-1")})
        right = c.post("/v1/articles", json=ARTICLE, headers={"Authorization": f"Bearer {KEY}"})
    assert right.status_code == 201
    assert len(lengths) >= 12 and len(set(lengths)) == 1, sorted(set(lengths))


def test_keys_can_come_from_a_file(demo: NewsQA, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text(f"# newsroom CMS\n{KEY}\n\n", encoding="utf-8")
    with make(demo, client=REMOTE, api_keys_file=keys) as c:
        anonymous = c.post("/v1/articles", json={**ARTICLE, "title": "HACKED TITLE"})
        commented = c.post("/v1/articles", json=ARTICLE,
                           headers={"Authorization": "Bearer # newsroom CMS"})
        ok = c.post("/v1/articles", json=ARTICLE, headers={"Authorization": f"Bearer {KEY}"})
    assert anonymous.status_code == 401 and commented.status_code == 401
    assert ok.status_code == 201


def test_with_no_key_a_write_through_a_local_proxy_is_refused(demo: NewsQA) -> None:
    """A reverse proxy on this machine makes every reader's request come from 127.0.0.1; one it
    forwarded (X-Forwarded-For, Forwarded, X-Real-IP) is not from this machine."""
    with make(demo) as c:
        forwarded = [c.post("/v1/articles", json={**ARTICLE, "title": "HACKED TITLE"},
                            headers={name: value}).status_code
                     for name, value in [("X-Forwarded-For", "203.0.113.9"),
                                         ("Forwarded", "for=203.0.113.9"),
                                         ("X-Real-IP", "203.0.113.9")]]
        deleted = c.delete("/v1/articles/dam-repair", headers={"X-Forwarded-For": "203.0.113.9"})
        local = c.post("/v1/articles", json=ARTICLE)
        title = c.get("/v1/articles/dam-repair").json()["title"]
    assert forwarded == [403, 403, 403] and deleted.status_code == 403
    assert local.status_code == 201 and title == "Dam repair"
    with make(demo) as c:
        detail = c.post("/v1/articles", json=ARTICLE,
                        headers={"X-Forwarded-For": "203.0.113.9"}).json()["detail"]
    assert "proxy" in detail and "NEWSQA_API_KEYS" in detail and "NEWSQA_TRUSTED_PROXIES" in detail


def test_refused_keys_count_against_the_budget(demo: NewsQA) -> None:
    """Guessing keys is rate-limited like any other write: a refused key still takes a token."""
    wrong = {"Authorization": "Bearer " + "g" * 24}
    with make(demo, client=REMOTE, api_keys=[KEY], rate_limits={"write": 3}) as c:
        writes = [c.post("/v1/articles", json=ARTICLE, headers=wrong).status_code
                  for _ in range(5)]
    with make(demo, client=REMOTE, api_keys=[KEY], read_keys_required=True,
              rate_limits={"ask": 2, "figures": 2, "chat": 2}) as c:
        asks = [c.post("/v1/ask", json={"question": "Who won?"}, headers=wrong).status_code
                for _ in range(3)]
        figures = [c.get("/v1/figures", params={"q": "$1"}).status_code for _ in range(3)]
        chats = [c.post("/v1/chat", json={"messages": [{"role": "user", "content": "Hi?"}]}
                        ).status_code for _ in range(3)]
    assert writes == [401, 401, 401, 429, 429]
    assert asks == figures == chats == [401, 401, 429]


def test_bad_key_settings_are_refused_at_start(demo: NewsQA, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSQA_API_KEYS", "short")
    with pytest.raises(ValueError, match="at least 16"):
        Settings()
    with pytest.raises(ConfigError, match="cannot be read"):
        make(demo, api_keys_file=tmp_path / "missing")
    with pytest.raises(ConfigError, match="no API key"):
        make(demo, read_keys_required=True)


def test_read_keys_required_closes_reads(demo: NewsQA) -> None:
    with make(demo, api_keys=[KEY], read_keys_required=True) as c:
        refused = [c.post("/v1/ask", json={"question": "Who won?"}).status_code,
                   c.get("/v1/articles").status_code,
                   c.get("/v1/figures", params={"q": "$452 million"}).status_code,
                   c.post("/v1/chat", json={"messages": [{"role": "user", "content": "Hi?"}]}
                          ).status_code]
        auth = {"Authorization": f"Bearer {KEY}"}
        allowed = [c.post("/v1/ask", json={"question": "Who won?"}, headers=auth).status_code,
                   c.get("/v1/articles", headers=auth).status_code]
    assert refused == [401] * 4 and allowed == [200, 200]


def test_openapi_shows_the_bearer_scheme_on_write_routes(demo: NewsQA) -> None:
    with make(demo) as c:
        schema = c.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["apiKey"] == {
        "type": "http", "scheme": "bearer",
        "description": "An API key from NEWSQA_API_KEYS or NEWSQA_API_KEYS_FILE."}
    assert schema["paths"]["/v1/articles"]["post"]["security"] == [{"apiKey": []}]
    assert schema["paths"]["/v1/articles/{article_id}"]["delete"]["security"] == [{"apiKey": []}]


# -- 5. rate limits and client addresses ---------------------------------------------------

@pytest.mark.parametrize(("group", "method", "path", "body"), [
    ("ask", "POST", "/v1/ask", {"question": "Who won the contract?"}),
    ("articles", "GET", "/v1/articles", None),
    ("figures", "GET", "/v1/figures?q=%24452%20million", None),
    ("health", "GET", "/healthz", None),
    ("write", "POST", "/v1/articles", ARTICLE),
    ("pages", "GET", "/openapi.json", None),
])
def test_every_route_has_its_own_budget_with_retry_after(demo: NewsQA, group: str, method: str,
                                                         path: str, body: Any) -> None:
    with make(demo, rate_limits={group: 3}) as c:
        statuses = [c.request(method, path, json=body).status_code for _ in range(4)]
        other = c.post("/v1/chat", json={"messages": [{"role": "user", "content": "Who won?"}]})
    assert statuses[:3] != [429] * 3 and statuses[3] == 429
    assert other.status_code == 200  # another group's budget is untouched
    with make(demo, rate_limits={group: 3}) as c:
        for _ in range(3):
            c.request(method, path, json=body)
        refused = c.request(method, path, json=body)
    assert int(refused.headers["retry-after"]) >= 1 and "a minute" in refused.json()["detail"]


def test_default_budgets_limit_sixty_back_to_back_requests(demo: NewsQA) -> None:
    app = create_app(demo.settings, demo)
    for limiter in app.state.limits.values():
        limiter._clock = lambda: 1000.0  # the 60 requests come at one instant, however slow
    with TestClient(app, base_url="http://localhost", client=REMOTE) as c:
        asks = [c.post("/v1/ask", json={"question": "Who won?"}).status_code for _ in range(60)]
        figures = [c.get("/v1/figures", params={"q": "$1"}).status_code for _ in range(60)]
        listed = [c.get("/v1/articles").status_code for _ in range(60)]
    assert asks.count(200) == BUDGETS["ask"].burst and asks.count(429) == 60 - asks.count(200)
    assert figures.count(200) == BUDGETS["figures"].burst
    assert listed.count(200) == BUDGETS["articles"].burst


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(demo: NewsQA) -> None:
    with make(demo, rate_limits={"chat": 2}) as c:
        body = {"messages": [{"role": "user", "content": "Who won the contract?"}]}
        statuses = [c.post("/v1/chat", json=body,
                           headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
                    for i in range(25)]
    assert statuses.count(200) == 2  # a new X-Forwarded-For each time bypasses nothing


def test_behind_a_trusted_proxy_the_forwarded_client_is_limited(demo: NewsQA) -> None:
    proxy = ("10.0.0.5", 1234)
    with make(demo, client=proxy, trusted_proxies=["10.0.0.0/8"], rate_limits={"ask": 1}) as c:
        first = c.post("/v1/ask", json={"question": "Who won?"},
                       headers={"X-Forwarded-For": "198.51.100.7, 10.0.0.9"})
        same = c.post("/v1/ask", json={"question": "Who won?"},
                      headers={"X-Forwarded-For": "198.51.100.7"})
        other = c.post("/v1/ask", json={"question": "Who won?"},
                       headers={"X-Forwarded-For": "198.51.100.8"})
    assert (first.status_code, same.status_code, other.status_code) == (200, 429, 200)
    assert "198.51.100.7" in same.json()["detail"]


def test_addresses_of_one_ipv6_network_share_a_budget(demo: NewsQA) -> None:
    """One IPv6 subscriber holds a whole /64: a new address in it each time bypasses nothing.
    An IPv4 client written as an IPv4-mapped IPv6 address is the same client."""
    body = {"question": "Who won?"}
    options = {"rate_limits": {"ask": 3}}
    app = create_app(demo.settings.model_copy(update=options), demo)
    statuses = []
    for client in ["2001:db8:0:1::1", "2001:db8:0:1::2", "2001:db8:0:1:ffff::3",
                   "2001:db8:0:1::4", "2001:db8:0:2::1", "198.51.100.4", "::ffff:198.51.100.4"]:
        with TestClient(app, base_url="http://localhost", client=(client, 1)) as c:
            response = c.post("/v1/ask", json=body)
        statuses.append(response.status_code)
        if client == "2001:db8:0:1::4":
            assert "2001:db8:0:1::/64" in response.json()["detail"]
    assert statuses == [200, 200, 200, 429, 200, 200, 200]
    with TestClient(app, base_url="http://localhost", client=("198.51.100.4", 1)) as c:
        again = [c.post("/v1/ask", json=body).status_code for _ in range(2)]
    assert again == [200, 429]  # the mapped address spent the same budget's second token


def test_with_no_key_a_write_a_trusted_local_proxy_forwarded_is_refused(demo: NewsQA) -> None:
    """A reverse proxy on this machine, listed as trusted, that writes the client with its port,
    as 'unknown', or only in X-Real-IP / Forwarded: the write was taken as this machine's."""
    sent = [{"X-Forwarded-For": "203.0.113.9:41234"}, {"X-Forwarded-For": "[2001:db8::5]:443"},
            {"X-Forwarded-For": "unknown"}, {"X-Real-IP": "203.0.113.9"},
            {"Forwarded": "for=203.0.113.9"}, {"X-Forwarded-For": "203.0.113.9"}]
    with make(demo, trusted_proxies=["127.0.0.1"]) as c:
        forwarded = [c.post("/v1/articles", json={**ARTICLE, "title": "HACKED TITLE"},
                            headers=headers).status_code for headers in sent]
        local = c.post("/v1/articles", json=ARTICLE, headers={"X-Forwarded-For": "127.0.0.1"})
        title = c.get("/v1/articles/dam-repair").json()["title"]
    assert forwarded == [403] * len(sent)
    assert local.status_code == 201 and title == "Dam repair"


def test_a_trusted_proxy_that_writes_ports_limits_each_client(demo: NewsQA) -> None:
    with make(demo, client=("10.0.0.5", 1234), trusted_proxies=["10.0.0.0/8"],
              rate_limits={"ask": 1}) as c:
        statuses = [c.post("/v1/ask", json={"question": "Who won?"},
                           headers={"X-Forwarded-For": hop}).status_code
                    for hop in ("198.51.100.7:1000", "198.51.100.7:2000", "198.51.100.8:1000")]
    assert statuses == [200, 429, 200]  # one client, whatever its port; before, all shared one


def test_a_forwarded_loopback_address_does_not_open_writes(demo: NewsQA) -> None:
    with make(demo, client=REMOTE) as c:
        response = c.post("/v1/articles", json=ARTICLE, headers={"X-Forwarded-For": "127.0.0.1"})
    assert response.status_code == 403


# -- 6. host allow-list --------------------------------------------------------------------

def test_an_unknown_host_header_is_refused(demo: NewsQA) -> None:
    with make(demo, host="attacker.example") as c:
        refused = c.get("/v1/articles")
    with make(demo, host="127.0.0.1:8000") as c:
        local = c.get("/v1/articles")
    with make(demo, host="news.example", allowed_hosts=["news.example", "*.news.example"]) as c:
        configured = c.get("/v1/articles")
        sub = c.get("/v1/articles", headers={"Host": "api.news.example"})
        still_refused = c.get("/v1/articles", headers={"Host": "localhost"})
    assert refused.status_code == 400 and "NEWSQA_ALLOWED_HOSTS" in refused.json()["detail"]
    assert local.status_code == 200 and configured.status_code == 200 and sub.status_code == 200
    assert still_refused.status_code == 400


def test_every_route_refuses_an_unknown_host(demo: NewsQA) -> None:
    """DNS rebinding reaches whichever route it likes: each one, and a path that is none, must
    refuse a Host the server does not answer to, before doing anything."""
    app = create_app(demo.settings.model_copy(update={"rate_limits": {"*": 0}}), demo)
    calls = [(method.upper(), path.replace("{article_id}", "dam-repair"))
             for path, operations in app.openapi()["paths"].items() for method in operations]
    calls += [("GET", path) for path in ["/", "/widget.js", "/widget.css", "/demo.js", "/docs",
                                          "/docs/assets/swagger-ui.css", "/openapi.json",
                                          "/no/such/page"]] + [("OPTIONS", "/v1/ask")]
    assert len(calls) >= 15
    with TestClient(app, base_url="http://attacker.example", client=("127.0.0.1", 1)) as c:
        statuses = {f"{m} {path}": c.request(m, path, json=ARTICLE).status_code
                    for m, path in calls}
        titles = c.get("/v1/articles/dam-repair")
    assert statuses == dict.fromkeys(statuses, 400)
    with make(demo) as local:
        assert local.get("/v1/articles/dam-repair").status_code == 404  # nothing was written
    assert titles.status_code == 400


def test_a_host_header_with_more_than_a_name_and_a_port_is_refused(demo: NewsQA) -> None:
    """Only a port may follow an allowed name: 'localhost:8000@attacker.example' is not
    localhost (what follows the colon was taken for a port and dropped)."""
    odd = ["localhost:8000@attacker.example", "localhost:evil", "[::1]evil", "[::1]:80x",
           "localhost@attacker.example", "attacker.example/.news.example", "localhost:80 x"]
    fine = ["localhost", "localhost:8000", "LOCALHOST:8000", "127.0.0.1:80", "[::1]:8000",
            "api.news.example"]
    with make(demo, allowed_hosts=["localhost", "127.0.0.1", "::1", "*.news.example"]) as c:
        refused = {h: c.get("/healthz", headers={"Host": h}).status_code for h in odd}
        served = {h: c.get("/healthz", headers={"Host": h}).status_code for h in fine}
    assert refused == dict.fromkeys(odd, 400)
    assert served == dict.fromkeys(fine, 200)


def test_the_bind_address_is_an_allowed_host(demo: NewsQA) -> None:
    app = create_app(demo.settings, demo, bind_host="192.0.2.10")
    with TestClient(app, base_url="http://192.0.2.10:8080") as c:
        assert c.get("/healthz").status_code == 200


# -- 11. headers -------------------------------------------------------------------------

def test_json_responses_say_nosniff(demo: NewsQA) -> None:
    with make(demo) as c:
        for response in (c.get("/healthz"), c.get("/v1/articles/nope"),
                         c.post("/v1/ask", json={}), c.get("/openapi.json")):
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["content-type"].startswith("application/json")


def test_the_served_app_sends_no_server_header_and_ignores_forwarded_for(demo: NewsQA) -> None:
    settings = demo.settings.model_copy(update={"rate_limits": {"chat": 2}})
    with live_server(create_app(settings, demo), **server_options(settings)) as base:
        health = httpx.get(f"{base}/healthz")
        body = {"messages": [{"role": "user", "content": "Who won the contract?"}]}
        statuses = [httpx.post(f"{base}/v1/chat", json=body,
                               headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
                    for i in range(5)]
    assert health.status_code == 200 and "server" not in health.headers
    assert statuses.count(200) == 2
