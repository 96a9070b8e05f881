"""Input that once gave a 500 gets a 4xx naming the field: lone surrogates, times that overflow
in UTC, ids that only look like another; and an article keeps its identity when retitled."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from qa.errors import InvalidArticle, InvalidQuestion, InvalidTime
from qa.ids import canonical_url, is_valid_article_id
from qa.models import Article, Timestamp, Update
from qa.service import NewsQA
from qa.timeparse import parse_timestamp
from tests.conftest import DEMO, local_client

HUNT = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def client(service: NewsQA) -> Iterator[TestClient]:
    list(service.ingest_paths([DEMO]))
    app_settings = service.settings.model_copy(update={"rate_limits": {"*": 0}})
    with local_client(create_app(app_settings, service), raise_server_exceptions=False) as c:
        yield c


def post_json(client: TestClient, path: str, doc: object) -> object:
    """Send `doc` as JSON the way a client may: lone surrogates as \\uD800 escapes."""
    return client.post(path, content=json.dumps(doc).encode(),
                       headers={"Content-Type": "application/json"})


def article(**fields: object) -> dict[str, object]:
    return {"id": "dam-repair", "title": "Dam repair", "body": "The dam repair costs $4 million.",
            **fields}


# -- 1. lone surrogates and overflowing times ---------------------------------------------

@pytest.mark.parametrize("mode", ["dense", "hybrid", "bm25"])
def test_a_lone_surrogate_in_a_question_is_a_400_naming_the_question(client: TestClient,
                                                                     mode: str) -> None:
    response = post_json(client, "/v1/ask", {"question": "harbor \ud800 cost?", "mode": mode})
    assert response.status_code in (400, 422), response.text
    assert "question: has a lone surrogate" in response.json()["detail"]


def test_the_service_refuses_a_lone_surrogate_in_a_question(service: NewsQA) -> None:
    with pytest.raises(InvalidQuestion, match=r"lone surrogate \(U\+D800\) at character 8"):
        service.ask("harbor \ud800 cost?")


@pytest.mark.parametrize(("doc", "field"), [
    (article(title="Dam \udc00 repair"), "title: has a lone surrogate"),
    (article(body="Costs \ud83d climb."), "field 'body' has a lone surrogate"),
    (article(updates=[{"published_at": "2026-03-14T09:00:00Z", "text": "x \udfff"}]),
     "field 'text' has a lone surrogate"),
    (article(url="https://news.example/\ud800"), "field 'url' has a lone surrogate"),
])
def test_a_lone_surrogate_in_an_article_is_a_4xx_naming_the_field(client: TestClient, doc: dict,
                                                                  field: str) -> None:
    before = client.get("/healthz").json()
    response = post_json(client, "/v1/articles", doc)
    assert response.status_code in (400, 422), response.text
    assert field in response.json()["detail"]
    assert client.get("/healthz").json() == before


def test_chat_messages_with_a_lone_surrogate_are_refused(client: TestClient) -> None:
    response = post_json(client, "/v1/chat", {"messages": [
        {"role": "user", "content": "Who won?"}, {"role": "assistant", "content": "A \ud800 firm."},
        {"role": "user", "content": "How much?"}]})
    assert response.status_code in (400, 422), response.text
    assert "messages.1.content: has a lone surrogate" in response.text


def test_the_library_refuses_a_lone_surrogate_in_an_article(service: NewsQA) -> None:
    with pytest.raises(InvalidArticle, match="title has a lone surrogate"):
        service.ingest(Article(id="a", title="Dam \udc00", body="Text."))
    assert service.article_ids() == []


def test_a_figure_query_with_a_lone_surrogate_is_refused(client: TestClient) -> None:
    response = client.get("/v1/figures", params={"q": "$452 million"})
    assert response.status_code == 200
    refused = client.get("/v1/figures?q=%24452%20%ED%A0%80")  # not UTF-8: decoded with a U+FFFD
    assert refused.status_code < 500


@pytest.mark.parametrize("stamp", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_an_update_time_that_overflows_in_utc_is_a_400_naming_the_field(client: TestClient,
                                                                        stamp: str) -> None:
    doc = article(updates=[{"published_at": stamp, "text": "Repairs begin."}])
    response = client.post("/v1/articles", json=doc)
    assert response.status_code == 400, response.text
    assert "updates[0].published_at" in response.json()["detail"]
    assert "out of range" in response.json()["detail"]
    asked = client.post("/v1/ask", json={"question": "Cost?", "as_of": stamp})
    assert asked.status_code == 400 and "as_of" in asked.json()["detail"]
    body = client.post("/v1/articles", json=article(published_at=stamp))
    assert body.status_code == 400 and "published_at" in body.json()["detail"]


def test_a_date_that_overflows_in_the_configured_zone_is_refused() -> None:
    with pytest.raises(InvalidTime, match="out of range"):
        parse_timestamp("0001-01-01", timezone(timedelta(hours=14)))


# Every code point, lone surrogates among them often (a JSON client sends one as a \uD800 escape;
# hypothesis draws them only rarely from the whole of Unicode).
ANY_CHAR = st.one_of(st.characters(codec=None), st.characters(categories=["Cs"]))


def text_ending_oddly(*plain: str, max_size: int = 8) -> st.SearchStrategy[str]:
    """Random text, or plain text with random characters after it (so that it gets past the
    checks random text fails and reaches the code behind them)."""
    return st.one_of(st.text(ANY_CHAR, min_size=1, max_size=max_size * 4),
                     st.tuples(st.sampled_from(plain), st.text(ANY_CHAR, max_size=max_size))
                     .map("".join))


@HUNT
@given(question=text_ending_oddly("Who won the contract?", "How much is it worth? "),
       mode=st.sampled_from(["dense", "hybrid", "bm25"]))
def test_no_question_in_all_of_unicode_gets_a_500(client: TestClient, question: str,
                                                   mode: str) -> None:
    response = post_json(client, "/v1/ask", {"question": question, "mode": mode})
    assert response.status_code < 500, (question, response.text)


EXTREME_TIMES = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat() + st_offset_text(d)),
    st.sampled_from(["9999-12-31", "0001-01-01", "9999-12-31T23:59:59+14:00",
                     "0001-01-01T00:00:00-14:00", "12/31/9999, 11:59:59 PM", "1/1/0001",
                     "2026-02-30", "2026-03-14T25:00:00", "2026-03-14T09:00:00+24:00"]),
    st.text(ANY_CHAR, max_size=30))


def st_offset_text(moment: datetime) -> str:
    return "+14:00" if moment.microsecond % 2 else "-14:00"


@HUNT
@given(title=text_ending_oddly("Dam repair", "Harbor bridge: costs climb "),
       body=text_ending_oddly("The dam repair costs $4 million. ", "Work began on Monday."),
       stamp=EXTREME_TIMES,
       number=st.one_of(st.integers(), st.floats(), st.none()))
def test_no_article_in_all_of_unicode_with_extreme_times_gets_a_500(
        client: TestClient, title: str, body: str, stamp: str, number: object) -> None:
    doc = {"title": title, "body": body, "published_at": stamp,
           "updates": [{"published_at": stamp, "text": body or "x"}]}
    response = post_json(client, "/v1/articles", doc)
    assert response.status_code < 500, (doc, response.text)
    asked = post_json(client, "/v1/ask", {"question": title, "as_of": stamp, "top_k": number})
    assert asked.status_code < 500, (stamp, asked.text)
    # a lone surrogate cannot be written as UTF-8: send the bytes a raw client would (surrogatepass)
    query = urlencode({"q": title, "as_of": stamp, "tolerance": "" if number is None else number},
                      encoding="utf-8", errors="surrogatepass")
    figures = client.get(f"/v1/figures?{query}")
    assert figures.status_code < 500, (stamp, figures.text)


# -- 2. ids -------------------------------------------------------------------------------

def test_an_id_with_a_final_newline_is_not_an_id(client: TestClient) -> None:
    assert not is_valid_article_id("s00-00\n") and is_valid_article_id("s00-00")
    assert client.post("/v1/articles", json=article(id="s00-00")).status_code == 201
    response = client.post("/v1/articles", json=article(id="s00-00\n"))
    assert response.status_code == 422 and "id" in response.json()["detail"]
    assert [a["id"] for a in client.get("/v1/articles").json()].count("s00-00") == 1


def test_the_library_refuses_an_id_with_a_final_newline(service: NewsQA) -> None:
    with pytest.raises(InvalidArticle, match="not valid"):
        service.ingest(Article(id="s00-00\n", title="T", body="Some text."))


@pytest.mark.parametrize("twin", ["S00-00", "s00-00".upper(), "\uff53" + "00-00"])
def test_an_id_that_differs_only_by_case_or_unicode_form_is_refused(service: NewsQA,
                                                                    twin: str) -> None:
    service.ingest(Article(id="s00-00", title="Dam repair", body="Costs $4 million."))
    with pytest.raises(InvalidArticle):
        service.ingest(Article(id=twin, title="Dam repair", body="Costs $5 million."))
    assert service.article_ids() == ["s00-00"]


def test_an_id_that_differs_only_by_case_is_a_400_over_http(client: TestClient) -> None:
    assert client.post("/v1/articles", json=article(id="s00-00")).status_code == 201
    response = client.post("/v1/articles", json=article(id="S00-00"))
    assert response.status_code == 400
    assert "differs from the stored 's00-00' only in case" in response.json()["detail"]


# -- 7. identity: id, else canonical url, else title and date -----------------------------

def test_a_retitled_live_page_with_the_same_url_is_the_same_article(client: TestClient) -> None:
    url = "https://news.example/live/dam-repair"
    first = {"title": "Dam repair", "url": url, "published_at": "2026-03-14",
             "body": "The dam repair will cost $4 million, the council said."}
    later = {"title": "Dam repair: costs climb", "url": url + "/?utm_source=feed#top",
             "published_at": "2026-03-15",
             "body": "The dam repair will now cost $9 million, the council said."}
    one = client.post("/v1/articles", json=first).json()
    two = client.post("/v1/articles", json=later).json()
    assert one["article_id"] == two["article_id"] and two["replaced_sections"] == 1
    stored = client.get(f"/v1/articles/{one['article_id']}").json()
    assert stored["title"] == "Dam repair: costs climb" and stored["published_at"] == "2026-03-15"
    answer = client.post("/v1/ask", json={"question": "How much will the dam repair cost?",
                                          "mode": "bm25"}).json()
    quotes = " ".join(c["quote"] for c in answer["citations"])
    assert "$9 million" in quotes and "$4 million" not in quotes


def test_canonical_urls_ignore_what_does_not_name_the_page() -> None:
    same = ["https://News.Example/live/dam/", "http://news.example:80/live/dam#latest",
            "https://news.example/live/dam?utm_medium=x&fbclid=y"]
    assert {canonical_url(u) for u in same} == {"https://news.example/live/dam"}
    assert canonical_url("https://news.example/live/dam?page=2") != canonical_url(same[0])
    assert canonical_url("ftp://x/y") is None and canonical_url("http://[::1") is None


def test_an_explicit_id_wins_over_the_url(client: TestClient) -> None:
    doc = article(url="https://news.example/a")
    assert client.post("/v1/articles", json=doc).json()["article_id"] == "dam-repair"


def test_a_repeated_update_reposted_later_is_stored_once(service: NewsQA) -> None:
    base = Article(id="dam", title="Dam repair", body="The repair began on Monday.",
                   updates=(Update(Timestamp(datetime(2026, 3, 14, 9, tzinfo=UTC)),
                                   "Crews closed the east road."),))
    service.ingest(base)
    repost = dataclasses.replace(base, updates=(*base.updates, Update(
        Timestamp(datetime(2026, 3, 14, 9, 7, tzinfo=UTC)), "Crews  closed the East road.")))
    result = service.ingest(repost)
    assert not result.changed
    stored = service.article("dam")
    assert [u.published_at.moment.minute for u in stored.updates] == [0]
    both_new = dataclasses.replace(base, id="dam2", updates=(
        Update(Timestamp(datetime(2026, 3, 14, 10, tzinfo=UTC)), "Water levels fell."),
        Update(Timestamp(datetime(2026, 3, 14, 9, tzinfo=UTC)), "Water levels fell.")))
    service.ingest(both_new)
    assert [u.published_at.moment.hour for u in service.article("dam2").updates] == [9]
