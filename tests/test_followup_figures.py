"""Chat follow-ups that lean on what the last answer was about: its figure ("When was it first
reported?", "Was that figure revised?"), its story ("What changed since 2 PM?"), or a subject of
their own ("What about the storm?"). POST /v1/chat over the demo corpus, hashing embedder."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from qa.followup import Turn, is_followup, resolve
from qa.service import NewsQA
from tests.conftest import DEMO, local_client

BRIDGE_ID = "harbor-city-awards-bridge-replacement-contract-after-months-2026-03-14"
STORM_ID = "storm-elena-makes-landfall-leaving-thousands-without-power-2026-09-21"
BRIDGE = "Which firm won the Quay Street Bridge contract?"
WORTH = "How much is it worth?"
POWER = "How many customers were without power?"
FIRST = "When was it first reported?"


@pytest.fixture
def client(service: NewsQA) -> Iterator[TestClient]:
    assert not [o for o in service.ingest_paths([DEMO]) if o.error]
    settings = service.settings.model_copy(update={"stream_pause_ms": 0})
    with local_client(create_app(settings, service)) as c:
        yield c


def chat(client: TestClient, *questions: str, remembered: bool = True,
         stream: bool = False) -> list[dict[str, Any]]:
    """Ask `questions` as one conversation, each sent with the answers before it, as the widget
    does; `remembered=False` sends no conversation_id, so the server rebuilds the turns from
    the messages. The replies, in order (the last streamed when `stream`)."""
    messages: list[dict[str, str]] = []
    replies: list[dict[str, Any]] = []
    cid = None
    for i, question in enumerate(questions):
        messages.append({"role": "user", "content": question})
        body: dict[str, Any] = {"messages": messages}
        if cid is not None:
            body["conversation_id"] = cid
        if stream and i == len(questions) - 1:
            response = client.post("/v1/chat", json={**body, "stream": True})
            assert response.headers["content-type"].startswith("text/event-stream")
            assert "event: error" not in response.text, response.text
            assert "event: done" in response.text
            body["stream"] = False  # the same question, asked again for its JSON
        response = client.post("/v1/chat", json=body)
        assert response.status_code == 200, response.text
        replies.append(response.json())
        cid = replies[-1]["conversation_id"] if remembered else None
        messages.append({"role": "assistant", "content": replies[-1]["answer"]})
    return replies


def stories(reply: dict[str, Any]) -> set[str]:
    return {c["article_id"] for c in reply["citations"]}


# -- a figure the last answer stated -------------------------------------------------------

@pytest.mark.parametrize("remembered", [True, False])
def test_when_was_it_first_reported_is_about_the_figure_just_given(
        client: TestClient, remembered: bool) -> None:
    *_, worth, first = chat(client, BRIDGE, WORTH, FIRST, remembered=remembered)
    assert "$452 million" in worth["answer"]
    assert not first["abstained"]
    assert first["answer"].startswith("$452 million first appeared in an update")
    assert first["citations"][0]["update_index"] == 2 and stories(first) == {BRIDGE_ID}
    assert first["follows_up"] == WORTH


def test_the_streamed_figure_follow_up_ends_with_its_answer(client: TestClient) -> None:
    *_, first = chat(client, BRIDGE, WORTH, FIRST, stream=True)
    assert "$452 million first appeared" in first["answer"]


def test_was_that_figure_revised_is_about_the_count_just_given(client: TestClient) -> None:
    power, revised = chat(client, POWER, "Was that figure revised?")
    assert "about 120,000 customers" in power["answer"]
    assert not revised["abstained"] and stories(revised) == {STORM_ID}
    assert "revised from about 120,000 customers [1] to 185,000 customers" in revised["answer"]


def test_was_it_revised_is_about_the_contract_value_just_given(client: TestClient) -> None:
    *_, revised = chat(client, BRIDGE, WORTH, "Was it revised?")
    assert "revised from $410 million [1] to $452 million" in revised["answer"]
    assert stories(revised) == {BRIDGE_ID}


def test_a_figure_question_pointing_at_no_figure_abstains_politely(client: TestClient) -> None:
    _, first = chat(client, BRIDGE, FIRST)  # the last answer named a firm, not a figure
    assert first["abstained"] and first["citations"] == []
    assert "I can't tell which figure “it” means" in first["answer"]
    for question in (FIRST, "Was that figure revised?", "When was the number first reported?"):
        response = client.post("/v1/ask", json={"question": question})
        assert response.status_code == 200, response.text
        assert response.json()["abstained"]
        assert "I can't tell which figure" in response.json()["answer"]


# -- a subject of its own ------------------------------------------------------------------

PREVIOUS = Turn(BRIDGE, BRIDGE, "...", ("The Harbor City council voted 7-2 on Saturday to award "
                                        "the contract to Northwind Engineering.",))


def test_what_about_a_lower_case_subject_leaves_the_last_story_behind(
        client: TestClient) -> None:
    query = resolve("What about the storm?", [PREVIOUS])
    assert "Quay" not in query and "Northwind" not in query and "Harbor" not in query
    _, storm = chat(client, BRIDGE, "What about the storm?")
    assert not any(name in storm["query"] for name in ("Quay", "Northwind", "Mairi"))
    assert not storm["abstained"] and stories(storm) == {STORM_ID}


# -- the story a conversation is on --------------------------------------------------------

def test_a_time_question_in_a_chat_stays_on_the_story(client: TestClient) -> None:
    assert is_followup("What changed since 6 PM?", PREVIOUS)
    _, since = chat(client, BRIDGE, "What changed since 2 PM?")
    assert since["follows_up"] == BRIDGE
    assert stories(since) == {BRIDGE_ID} and "$452 million" in since["answer"]
    _, late = chat(client, BRIDGE, "What changed since 6 PM?")  # the bridge's last: 4:05 PM
    assert late["abstained"]
    assert "No update of “Harbor City Awards Bridge Replacement Contract" in late["answer"]
    _, new = chat(client, BRIDGE, "What's new?")
    assert stories(new) == {BRIDGE_ID} and "350 local workers" in new["answer"]


def test_a_time_question_naming_its_own_story_or_asked_alone_is_not_kept_on_it(
        client: TestClient) -> None:
    _, named = chat(client, BRIDGE, "What changed in the storm story since 9 PM?")
    assert stories(named) == {STORM_ID}
    alone = client.post("/v1/ask", json={"question": "What changed since 9 PM?"}).json()
    assert stories(alone) == {STORM_ID}  # the story updated last, as before
