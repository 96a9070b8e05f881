"""No input a client can send gets a 500: random JSON bodies and query strings on every route."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from qa.service import NewsQA
from tests.conftest import DEMO, local_client

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=60),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=12)
FIELDS = {
    "/v1/ask": ["question", "top_k", "mode", "as_of"],
    "/v1/articles": ["id", "title", "url", "source", "published_at", "body", "updates"],
    "/v1/chat": ["messages", "conversation_id", "stream"],
}
BODY = st.sampled_from(sorted(FIELDS)).flatmap(lambda path: st.tuples(
    st.just(path), st.one_of(JSON, st.fixed_dictionaries(
        {}, optional={name: JSON for name in FIELDS[path]}))))


@pytest.fixture
def client(service: NewsQA) -> Iterator[TestClient]:
    list(service.ingest_paths([DEMO]))
    service.settings.chat_rate_per_minute = 0
    with local_client(create_app(service.settings, service), raise_server_exceptions=False) as c:
        yield c


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=BODY)
def test_random_bodies_never_get_a_500(client: TestClient, request: tuple[str, object]) -> None:
    path, body = request
    response = client.post(path, json=body)
    assert response.status_code < 500, (path, body, response.text)
    if response.status_code >= 400:
        assert response.json()["detail"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.text(max_size=80), since=st.text(max_size=30),
       article=st.text(st.characters(min_codepoint=33, max_codepoint=0x2FFF), min_size=1,
                       max_size=30).map(lambda a: quote(a, safe="")))
def test_random_query_strings_never_get_a_500(client: TestClient, q: str, since: str,
                                              article: str) -> None:
    for path, params in (("/v1/figures", {"q": q, "as_of": since}),
                         (f"/v1/articles/{article}/changes", {"since": since}),
                         (f"/v1/articles/{article}", {})):
        response = client.get(path, params=params)
        assert response.status_code < 500, (path, params, response.text)
