"""The HTTP API through FastAPI's test client: answers, articles, and every bad input as a 4xx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from qa.service import NewsQA
from tests.conftest import DEMO, local_client

ARTICLE = {
    "id": "ferry-strike", "title": "Ferry Workers Strike Over Pay", "url": "https://example.org/f",
    "source": "Example News", "published_at": "2026-03-14",
    "body": "Ferry workers walked out on Monday after talks over pay collapsed.",
    "updates": [{"published_at": "2026-03-14T09:00:00-04:00",
                 "text": "About 2,000 passengers were stranded at the harbour terminal."}],
}


@pytest.fixture
def client(service: NewsQA) -> Iterator[TestClient]:
    list(service.ingest_paths([DEMO]))
    with local_client(create_app(service.settings, service), raise_server_exceptions=False) as c:
        yield c


def test_ask_returns_verbatim_cited_timestamped_quotes(client: TestClient, service: NewsQA) -> None:
    response = client.post("/v1/ask", json={"question": "How much is the bridge contract worth?"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"answer", "abstained", "citations", "window", "took_ms"}
    assert not body["abstained"] and body["citations"]
    for c in body["citations"]:
        assert f"[{c['marker']}]" in body["answer"]
        article = service.library.article(c["article_id"])
        source = article.body if c["section"] == "body" else article.updates[c["update_index"] - 1].text
        assert c["quote"] in source
        assert c["timestamp"].startswith("2026-03-14")
    assert any("$452 million" in c["quote"] for c in body["citations"])


def test_ingest_then_get_article_with_updates(client: TestClient) -> None:
    created = client.post("/v1/articles", json=ARTICLE)
    assert created.status_code == 201 and created.json()["new_sections"] == 2
    again = client.post("/v1/articles", json=ARTICLE)
    assert again.status_code == 201 and again.json()["changed"] is False
    article = client.get("/v1/articles/ferry-strike").json()
    assert article["published_at"] == "2026-03-14" and article["published_precision"] == "date"
    assert article["updates"] == [{"index": 1, "published_at": "2026-03-14T09:00:00-04:00",
                                   "text": ARTICLE["updates"][0]["text"]}]
    listed = {a["id"]: a for a in client.get("/v1/articles").json()}
    assert listed["ferry-strike"]["update_count"] == 1 and len(listed) == 4


def test_health_and_openapi(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["articles"] == 3 and health["chunks"] > 0
    assert "/v1/ask" in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize(("payload", "status", "message"), [
    ({"question": ""}, 422, "question: is empty"),
    ({"question": "   \n\t "}, 422, "question: is empty"),
    ({"question": "why " * 400}, 400, "over the limit"),
    ({}, 422, "question"),
    ({"question": "ok?", "top_k": 0}, 422, "top_k"),
    ({"question": "ok?", "mode": "magic"}, 422, "mode"),
    ({"question": "ok?", "as_of": "yesterday-ish"}, 400, "as_of"),
    ({"question": "ok?", "as_of": 20260314}, 422, "as_of"),
    ({"question": 42}, 422, "question"),
])
def test_bad_questions_get_a_4xx_naming_the_problem(client: TestClient, payload: dict, status: int,
                                                    message: str) -> None:
    response = client.post("/v1/ask", json=payload)
    assert response.status_code == status
    assert message in response.json()["detail"]
    assert "Traceback" not in response.text


def test_malformed_json_is_a_422_not_a_500(client: TestClient) -> None:
    response = client.post("/v1/ask", content=b'{"question": "x"', headers={
        "Content-Type": "application/json"})
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"]


@pytest.mark.parametrize(("article", "message"), [
    ({"title": "No text", "body": "  ", "updates": []}, "no text"),
    ({"title": "", "body": "Text."}, "title"),
    ({"title": "Bad time", "body": "x", "updates": [{"published_at": "soon", "text": "y"}]},
     "cannot read the time 'soon'"),
    ({"id": "bad id!", "title": "T", "body": "x"}, "not valid"),
    ({"title": "T", "body": "x", "author": "me"}, "author"),
])
def test_bad_articles_are_refused_and_nothing_is_half_ingested(client: TestClient, article: dict,
                                                               message: str) -> None:
    before = client.get("/healthz").json()["chunks"]
    response = client.post("/v1/articles", json=article)
    assert 400 <= response.status_code < 500
    assert message in response.json()["detail"]
    assert client.get("/healthz").json()["chunks"] == before


def test_unknown_article_is_a_404_that_says_how_to_list(client: TestClient) -> None:
    response = client.get("/v1/articles/nope")
    assert response.status_code == 404
    assert "'nope'" in response.json()["detail"] and "/v1/articles" in response.json()["detail"]


def test_unrelated_question_abstains_with_no_citations(client: TestClient) -> None:
    body = client.post("/v1/ask", json={"question": "Who won the chess olympiad?"}).json()
    assert body["abstained"] is True and body["citations"] == []
    assert "does not answer" in body["answer"]


@pytest.mark.parametrize(("field", "value"), [
    ("url", "https://example.org/ferry-strike-live"),
    ("title", "Ferry Workers Strike Over Pay, Day Two"),
    ("source", "Harbour Gazette"),
])
def test_reposting_with_only_a_new_detail_says_it_changed(client: TestClient, field: str,
                                                          value: str) -> None:
    # the new url was stored (GET showed it) while the reply said "changed": false
    assert client.post("/v1/articles", json=ARTICLE).status_code == 201
    reply = client.post("/v1/articles", json={**ARTICLE, field: value}).json()
    assert reply["changed"] is True and reply["updated_fields"] == [field]
    assert reply["new_chunks"] == 0 and reply["replaced_sections"] == 0
    assert client.get("/v1/articles/ferry-strike").json()[field] == value
    again = client.post("/v1/articles", json={**ARTICLE, field: value}).json()
    assert again["changed"] is False and again["updated_fields"] == []


INVISIBLE = ["\u200b", "\u200c\u200d", "\ufeff", "\u2060", "\u200b \u200b\n\ufeff", "\u00ad",
             "\u3000\u00a0", "\u3164", "\u2800", "\u0301", "\u180e"]


@pytest.mark.parametrize("text", INVISIBLE)
def test_an_article_of_invisible_characters_is_refused_as_one_without_text(
        client: TestClient, text: str) -> None:
    before = client.get("/healthz").json()
    empty = client.post("/v1/articles", json={"title": "Blank", "body": ""})
    for doc in ({"title": "Blank", "body": text},
                {"title": "Blank", "body": text, "updates": [
                    {"published_at": "2026-03-14T09:00:00Z", "text": text}]}):
        response = client.post("/v1/articles", json=doc)
        assert response.status_code == empty.status_code == 400
        assert response.json()["detail"] == empty.json()["detail"]
        assert "no text" in response.json()["detail"]
    title = client.post("/v1/articles", json={"title": text, "body": "Ferries stopped."})
    assert title.status_code in (400, 422) and "title" in title.json()["detail"]
    assert "is empty" in title.json()["detail"]
    assert client.get("/healthz").json() == before


def test_an_invisible_body_beside_an_update_with_text_stores_no_empty_section(
        client: TestClient) -> None:
    doc = {"id": "zw", "title": "Ferries", "body": "\u200b\u2060",
           "updates": [{"published_at": "2026-03-14T09:00:00Z", "text": "Ferries stopped."}]}
    assert client.post("/v1/articles", json=doc).json()["new_sections"] == 1
    assert client.get("/v1/articles/zw").json()["body"] == ""


@pytest.mark.parametrize("text", ["\u200b", "\ufeff\u2060"])
def test_a_question_of_invisible_characters_is_refused_as_empty(client: TestClient,
                                                                text: str) -> None:
    for response in (client.post("/v1/ask", json={"question": text}),
                     client.post("/v1/chat", json={"messages": [{"role": "user",
                                                                 "content": text}]})):
        assert response.status_code == 400
        assert "the question is empty" in response.json()["detail"]
