"""The OpenAPI document is the contract: schemathesis checks every route against it in-process
(bounded examples, zero failures), and the refusals it documents are the ones sent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.config import SchemathesisConfig

from api.app import create_app
from index.embed import HashingEmbedder
from qa.service import NewsQA
from qa.settings import Settings
from tests.conftest import DEMO

KEY = "contract-test-key-0123456789"
# A schema-valid request may still be a documented 400 where the schema cannot say what is wrong
# (an impossible date such as 2026-02-30, an article whose texts are all blank); never a 422.
CONFIG = SchemathesisConfig.from_str("""
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "400", "401", "403", "404", "429"]
""")


def _app(data_dir: Path) -> tuple[FastAPI, NewsQA]:
    config = Settings(data_dir=data_dir, embedder="hashing", rate_limits={"*": 0}, api_keys=[KEY],
                      stream_pause_ms=0, allowed_hosts=["localhost", "testserver"])
    service = NewsQA(config, embedder=HashingEmbedder())
    list(service.ingest_paths([DEMO]))
    return create_app(config, service), service


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    app, service = _app(tmp_path_factory.mktemp("contract") / "data")
    with TestClient(app):  # runs the lifespan: the app's state stays set for schemathesis
        yield app
    service.close()


def _check_operation(operation: Any, failures: list[str], examples: int) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {KEY}"})

    try:
        run()
    except Exception as exc:  # noqa: BLE001 - every operation is checked, failures listed at the end
        failures.append(f"{operation.label}: {str(exc)[:1500]}")


def test_every_route_keeps_its_contract(served: FastAPI) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", served, config=CONFIG)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} >= {
        "POST /v1/ask", "POST /v1/chat", "POST /v1/articles", "GET /v1/articles",
        "GET /v1/articles/{article_id}", "DELETE /v1/articles/{article_id}", "GET /v1/figures",
        "GET /v1/articles/{article_id}/changes", "GET /healthz"}
    failures: list[str] = []
    for operation in operations:
        _check_operation(operation, failures, examples=20)
    assert failures == []


def test_refusals_are_documented_with_the_body_they_have(served: FastAPI) -> None:
    with TestClient(served) as c:
        document = c.get("/openapi.json").json()
        invalid = c.post("/v1/ask", json={"question": 42})
    ask = document["paths"]["/v1/ask"]["post"]["responses"]
    assert {"400", "413", "422", "429"} <= set(ask)
    assert ask["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"}
    assert isinstance(invalid.json()["detail"], str)
    assert "404" in document["paths"]["/v1/articles/{article_id}"]["get"]["responses"]
    assert document["components"]["schemas"]["AskRequest"]["properties"]["question"]["pattern"]


def test_405_names_every_method_the_path_takes(served: FastAPI) -> None:
    with TestClient(served) as c:
        articles = c.put("/v1/articles", json={})
        one = c.post("/v1/articles/ferry")
        ask = c.get("/v1/ask")
    assert articles.status_code == 405
    assert articles.headers["allow"] == "GET, POST"
    assert one.headers["allow"] == "DELETE, GET"
    assert ask.headers["allow"] == "POST" and "use POST" in ask.json()["detail"]


def test_docs_work_with_no_way_out(served: FastAPI) -> None:
    with TestClient(served) as c:
        page = c.get("/docs")
        assets = [c.get(src) for src in ("/docs/assets/swagger-ui-bundle.js",
                                         "/docs/assets/swagger-ui.css")]
        missing = c.get("/docs/assets/evil.js")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "https://" not in page.text.split("<body>")[1]
    assert 'src="/docs/assets/swagger-ui-bundle.js"' in page.text
    assert all(a.status_code == 200 and len(a.content) > 1000 for a in assets)
    assert "SwaggerUIBundle" in assets[0].text
    assert missing.status_code == 404
