"""A corpus of bad requests across every route: each gets a 4xx with a message, none a 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from qa.service import NewsQA
from tests.conftest import DEMO

ID = "harbor-city-awards-bridge-replacement-contract-after-months-2026-03-14"
JSON_VALUES: list[Any] = [None, True, 0, -1, 10**30, 1.5, float("1e308"), "", " ", "\x00", "\ud800",
                          "x" * 5000, [], [1], {}, {"a": 1}, "9999-12-31T23:59:59-14:00"]
TIMES = ["", "soon", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2026-02-30",
         "2026-13-01", "25:00", "13/13/2026", "1e9", "\x00", "2026-03-14T09:00:00+25:00"]


Case = tuple[str, str, dict[str, Any]]


def _json(doc: Any) -> dict[str, Any]:
    """A JSON body as a client may send it (lone surrogates as \\uD800 escapes)."""
    return {"content": json.dumps(doc).encode(), "headers": {"Content-Type": "application/json"}}


def _bodies() -> list[Case]:
    cases: list[Case] = []
    for field in ("question", "top_k", "mode", "as_of"):
        for value in JSON_VALUES:
            cases.append(("POST", "/v1/ask", _json({"question": "Who won?", field: value})))
    for field in ("id", "title", "url", "published_at", "body", "updates"):
        for value in JSON_VALUES:
            cases.append(("POST", "/v1/articles", _json({"title": "T", "body": "", field: value})))
    for messages in ([], [{}], [{"role": "system", "content": "x"}], [{"role": "user"}],
                     [{"role": "assistant", "content": "x"}], [{"role": "user", "content": ""}],
                     [{"role": "user", "content": "x" * 4001}], "x", None,
                     [{"role": "user", "content": "a\ud800"}]):
        cases.append(("POST", "/v1/chat", _json({"messages": messages})))
    cases.append(("POST", "/v1/chat", _json({"messages": [{"role": "user", "content": "Hi?"}],
                                             "conversation_id": "bad id!"})))
    # times in the question past the calendar's ends, or in a zone that cannot be read (500s)
    for question in ("What was reported on 12/31/9999?", "What changed since 1/1/0001?",
                     "What was said as of 11 PM +14:00 on December 31, 9999?",
                     "How many were without power as of 10:30 PM XYZT?"):
        cases.append(("POST", "/v1/ask", _json({"question": question})))
        cases.append(("POST", "/v1/chat", _json({"messages": [{"role": "user",
                                                               "content": question}]})))
    for as_of in ("0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00"):
        cases.append(("POST", "/v1/ask", _json({"question": "What changed since yesterday?",
                                                "as_of": as_of})))
    return cases


def _corpus() -> list[Case]:
    cases = _bodies()
    for stamp in TIMES:
        cases.append(("POST", "/v1/articles", _json({"title": "T", "body": "x", "updates": [
            {"published_at": stamp, "text": "y"}]})))
        cases.append(("GET", "/v1/figures", {"params": {"q": "$1", "as_of": stamp or "x"}}))
        cases.append(("GET", f"/v1/articles/{ID}/changes", {"params": {"since": stamp or "x"}}))
    for bad_id in ("bad%0Aid", "-x", "a" * 200, "%00", "nope", ".."):
        cases.append(("GET", f"/v1/articles/{bad_id}", {}))
        cases.append(("DELETE", f"/v1/articles/{bad_id}", {}))
        cases.append(("GET", f"/v1/articles/{bad_id}/changes", {"params": {"since": "2026-01-01"}}))
    for q in ("", " ", "x" * 1001, "\x00"):
        cases.append(("GET", "/v1/figures", {"params": {"q": q}}))
        cases.append(("GET", "/v1/figures/chart.svg", {"params": {"q": q}}))
    for tolerance in ("-1", "nan", "inf", "2", "x"):
        cases.append(("GET", "/v1/figures", {"params": {"q": "$1", "tolerance": tolerance}}))
    for path in ("/v1/ask", "/v1/articles", "/v1/chat"):
        for body in (b"", b"{", b"[]", b"null", b'{"a":', b"\xff\xfe", b'"x"'):
            cases.append(("POST", path, {"content": body,
                                         "headers": {"Content-Type": "application/json"}}))
        cases.append(("POST", path, {"content": b"x" * 10, "headers": {"Content-Type": "text/plain"}}))
        cases.append(("PUT", path, {}))
        cases.append(("POST", path, {"content": b"{}", "headers": {
            "Content-Type": "application/json", "Content-Length": "abc"}}))
    # a title over the model's token limit leaves no room for text: chunking recursed until a
    # RecursionError (a 500)
    cases.append(("POST", "/v1/articles", _json({"title": " ".join(["harbour"] * 3000),
                                                 "body": "The harbour wall was rebuilt."})))
    cases += [("GET", "/healthz", {"headers": {"Host": "attacker.example"}}),
              ("GET", "/v1/figures", {"params": {"q": "a" * 9000}}),
              ("GET", "/healthz", {"headers": {"X-Big": "a" * 17000}}),
              ("POST", "/healthz", {}), ("GET", "/nowhere", {}), ("GET", "/docs/assets/x.js", {})]
    return cases


CORPUS = _corpus()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from index.embed import HashingEmbedder
    from qa.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("bad") / "data", embedder="hashing",
                        rate_limits={"*": 0})
    service = NewsQA(settings, embedder=HashingEmbedder())
    list(service.ingest_paths([DEMO]))
    with TestClient(create_app(settings, service), raise_server_exceptions=False) as c:
        yield c
    service.close()


def test_the_corpus_is_large_and_distinct() -> None:
    keys = {repr(case) for case in CORPUS}
    assert len(keys) == len(CORPUS) >= 150
    assert {path.split("?")[0].split("/")[2] if path.count("/") > 1 else path
            for _, path, _ in CORPUS} >= {"ask", "articles", "chat", "figures"}


def test_no_bad_request_gets_a_5xx(client: TestClient) -> None:
    results = [(method, path, str(options)[:120], client.request(method, path, **options))
               for method, path, options in CORPUS]
    server_errors = [(m, p, o, r.status_code, r.text[:200]) for m, p, o, r in results
                     if r.status_code >= 500]
    assert server_errors == []
    refused = [r for *_, r in results if r.status_code >= 400]
    assert len(refused) >= 0.8 * len(results)
    assert all(r.json()["detail"] for r in refused)
