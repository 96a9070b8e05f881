"""What the HTTP API sends when article text holds control characters: `curl` printing a reply
to a terminal must not obey them. Every JSON body and every event of a chat stream writes DEL
and the C1 controls (U+007F-U+009F; U+009B is a terminal's CSI) as \\u00NN, as JSON writes C0,
so a client's parser reads back the very text ingested; the SVG chart shows them as \\xNN and
stays well-formed XML. The HTTP twin of tests/test_cli_terminal.py."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from qa.service import NewsQA
from tests.conftest import local_client
from tests.test_chat import events_of

# C1 CSI (clear the screen), DEL, ESC CSI: in the title, the body and an update
TITLE = "Quay Crane Fault\x9b2J Report"
BODY = "The crane operator reported a fault worth $2.5 million\x9b2J the day before\x7f."
UPDATE = "The quay crane repair bill was put at $3 million\x1b[2J by the port\x7f."
ARTICLE = {"id": "quay-crane", "title": TITLE, "published_at": "2026-03-15T09:00:00+00:00",
           "body": BODY, "updates": [{"published_at": "2026-03-15T14:00:00+00:00", "text": UPDATE}]}


def raw_controls(body: bytes) -> list[str]:
    """The control characters `body` holds raw, but the CR LF of HTTP and SSE framing."""
    text = body.decode("utf-8").replace("\r\n", "")
    return [c for c in text if (ord(c) < 32 and c != "\n") or 0x7f <= ord(c) <= 0x9f]


@pytest.fixture
def client(service: NewsQA) -> Iterator[TestClient]:
    app_settings = service.settings.model_copy(update={"rate_limits": {"*": 0},
                                                       "stream_pause_ms": 0})
    with local_client(create_app(app_settings, service), raise_server_exceptions=False) as c:
        stored = c.post("/v1/articles", json=ARTICLE)
        assert stored.status_code == 201, stored.text
        yield c


def sent(response: Any, status: int = 200) -> Any:
    """The reply parsed, once its bytes are checked to hold no raw control character."""
    assert response.status_code == status, response.text
    assert raw_controls(response.content) == [], response.content
    return json.loads(response.content)


def test_answers_carry_article_text_escaped_and_exact(client: TestClient) -> None:
    stored = sent(client.get("/v1/articles/quay-crane"))
    assert stored["title"] == TITLE and stored["body"] == BODY
    assert stored["updates"][0]["text"] == UPDATE
    assert sent(client.post("/v1/articles", json=ARTICLE), 201)["title"] == TITLE
    assert [a["title"] for a in sent(client.get("/v1/articles"))] == [TITLE]
    response = client.post("/v1/ask", json={"question": "How much was the crane repair bill?"})
    answer = sent(response)
    assert UPDATE in [c["quote"] for c in answer["citations"]]
    assert {c["title"] for c in answer["citations"]} == {TITLE}
    assert b"\\u009b2J" in response.content and b"\\u007f" in response.content  # JSON's escapes
    changes = sent(client.get("/v1/articles/quay-crane/changes",
                              params={"since": "2026-03-15T12:00:00+00:00"}))
    assert changes["title"] == TITLE and changes["updates"][0]["text"] == UPDATE


def test_plain_non_ascii_text_stays_readable_utf8(client: TestClient) -> None:
    article = {"id": "cafe", "title": "Café owners — and a fee", "body": "The café fee is $9."}
    assert client.post("/v1/articles", json=article).status_code == 201
    response = client.get("/v1/articles/cafe")
    assert "Café owners — and a fee".encode() in response.content
    assert response.headers["content-type"] == "application/json"


def test_line_separators_and_bidi_overrides_are_sent_as_escapes(client: TestClient) -> None:
    """U+2028/U+2029 end a line for JavaScript before ES2019 and for many log viewers; U+202E
    would make a terminal show "12" as "21". JSON sends them as escapes; the parsed text is exact."""
    body = "The ferry fare rose to $12\u202e21\u202c on Monday.\u2028The ferry\u2029port said so."
    assert client.post("/v1/articles", json={"id": "ferry", "title": "Ferry\u2066 fares\u2069",
                                             "body": body}).status_code == 201
    response = client.get("/v1/articles/ferry")
    for raw in "\u2028\u2029\u202e\u202c\u2066\u2069":
        assert raw.encode() not in response.content
    assert b"\\u2028" in response.content and b"\\u202e" in response.content
    assert json.loads(response.content)["body"] == body
    stream = client.post("/v1/chat", json={"stream": True, "messages": [
        {"role": "user", "content": "How much is the ferry fare?"}]})
    quotes = [d["quote"] for n, d in events_of(stream.content.decode("utf-8")) if n == "citation"]
    assert quotes and all(q in body for q in quotes)
    assert "\u202e".encode() not in stream.content


def test_figures_carry_article_text_escaped_and_exact(client: TestClient) -> None:
    figure = sent(client.get("/v1/figures", params={"q": "$3 million"}))
    assert [(a["quote"], a["title"]) for a in figure["appearances"]] == [(UPDATE, TITLE)]
    topic = sent(client.get("/v1/figures", params={"q": "crane repair bill"}))
    assert {a["title"] for a in topic["appearances"]} == {TITLE}


def test_chat_json_and_every_event_of_its_stream_carry_the_text_escaped(
        client: TestClient) -> None:
    question = {"messages": [{"role": "user", "content": "How much was the crane repair bill?"}]}
    reply = sent(client.post("/v1/chat", json=question))
    assert UPDATE in [c["quote"] for c in reply["citations"]]
    stream = client.post("/v1/chat", json={**question, "stream": True})
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert raw_controls(stream.content) == [], stream.content
    events = events_of(stream.content.decode("utf-8"))
    assert [name for name, _ in events][-1] == "done"
    quotes = [data["quote"] for name, data in events if name == "citation"]
    assert UPDATE in quotes
    done = events[-1][1]
    assert "".join(d["text"] for n, d in events if n == "token") == done["answer"]
    assert done["citations"] == reply["citations"]


def test_a_refusal_that_quotes_the_path_escapes_its_controls(client: TestClient) -> None:
    refusal = sent(client.get("/v1/%C2%9B2J%7F%1B[2J"), 404)
    assert "/v1/\x9b2J\x7f\x1b[2J" in refusal["detail"]


def test_a_refusal_that_names_a_field_escapes_its_controls(client: TestClient) -> None:
    refusal = sent(client.post("/v1/articles", json={**ARTICLE, "\x9b2J\x7f": 1}), 422)
    assert "\x9b2J\x7f" in refusal["detail"]


def test_the_guards_refusal_escapes_the_host_it_quotes(client: TestClient) -> None:
    host = "evil\x9b2J\x7f.example".encode()
    refusal = sent(client.get("/healthz", headers={"Host": host}), 400)
    assert "evil" in refusal["detail"]


def test_the_chart_shows_controls_as_escapes_and_stays_well_formed(client: TestClient) -> None:
    """XML 1.0 has no way to write ESC, BEL or U+FFFF, even as &#x1b;: the chart shows them."""
    for q in ["$3 million", "$3 million\x1b[2J\x07\x9b2J\x7f\uffff"]:
        response = client.get("/v1/figures/chart.svg", params={"q": q})
        assert response.status_code == 200
        assert raw_controls(response.content) == [], response.content
        root = ET.fromstring(response.content)  # well-formed
        title = next(root.iter("{http://www.w3.org/2000/svg}text")).text or ""
        assert title.startswith("$3 million") and root.get("aria-label") == title
        assert len(list(root.iter("{http://www.w3.org/2000/svg}circle"))) == 1
    assert title == r"$3 million\x1b[2J\x07\x9b2J\x7f\uffff"
