"""POST /v1/chat: follow-ups resolved from earlier turns, bounded conversation state, the SSE
stream, CORS, the rate limit and the widget bundle's headers. Hashing embedder throughout."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from api.app import create_app
from api.chat_schemas import ChatResponse
from api.routes_chat import chat_stream
from api.sse import answer_events, pieces
from eval.multiturn import demo_service, load_conversations, run, score
from index.embed import HashingEmbedder
from qa.conversation import Chat, ChatLimits, ConversationStore, Message, turns_from_messages
from qa.followup import Turn, is_followup, names_in, resolve
from qa.service import NewsQA
from qa.settings import Settings
from tests.conftest import DEMO, local_client

BRIDGE = "Which firm won the Quay Street Bridge contract?"
WORTH = "How much is it worth?"


@pytest.fixture
def demo(service: NewsQA) -> NewsQA:
    assert not [o for o in service.ingest_paths([DEMO]) if o.error]
    return service


def make_client(service: NewsQA, **settings: Any) -> TestClient:
    app_settings = service.settings.model_copy(update={"stream_pause_ms": 0, **settings})
    return local_client(create_app(app_settings, service))


@pytest.fixture
def client(demo: NewsQA) -> Iterator[TestClient]:
    with make_client(demo) as c:
        yield c


def events_of(body: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            out.append((fields["event"], json.loads(fields["data"])))
    return out


def ask(client: TestClient, *questions: str, **extra: Any) -> dict[str, Any]:
    messages = [{"role": "user", "content": q} for q in questions]
    response = client.post("/v1/chat", json={"messages": messages, **extra})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


# -- resolving follow-ups ------------------------------------------------------------------

PREVIOUS = Turn(BRIDGE, BRIDGE, "...", ("Northwind Engineering, a Glasgow-based firm, beat two "
                                        "rival bidders, including Atlas Civil Works.",))


def test_a_followup_borrows_the_topic_and_the_names_it_was_answered_with() -> None:
    query = resolve(WORTH, [PREVIOUS])
    assert query.startswith(WORTH)
    assert "Quay Street Bridge contract" in query and "Northwind Engineering" in query


def test_a_question_that_stands_alone_is_searched_as_asked() -> None:
    question = "How many customers lost power in Storm Elena?"
    assert resolve(question, [PREVIOUS]) == question
    assert resolve(WORTH, []) == WORTH


@pytest.mark.parametrize(("question", "followup"), [
    ("How much is it worth?", True), ("And the outages?", True), ("When?", True),
    ("Who said that?", True), ("What about the Eastbrook bus depot?", True),
    ("Where did Storm Elena come ashore?", False),
    ("How many households are affected by the Riverton advisory?", False)])
def test_followups_are_recognised(question: str, followup: bool) -> None:
    assert is_followup(question) is followup


def test_names_skip_sentence_openers_days_and_a_leading_the() -> None:
    text = ("Outages rose to 185,000 customers, Coastline Energy said on Monday. The Harbor City "
            "council met. Mayor Leon Okafor spoke.")
    assert names_in(text) == ["Coastline Energy", "Harbor City", "Mayor Leon Okafor"]


def test_a_followup_naming_a_new_subject_drops_the_old_one() -> None:
    query = resolve("What about the Eastbrook bus depot?", [PREVIOUS])
    assert "won" in query and "Quay" not in query and "Northwind" not in query


def test_turns_rebuilt_from_messages_resolve_in_order() -> None:
    messages = [Message("user", BRIDGE), Message("assistant", PREVIOUS.quotes[0] + " [1]"),
                Message("user", WORTH), Message("assistant", "The contract is worth $452 million.")]
    turns = turns_from_messages(messages)
    assert [t.question for t in turns] == [BRIDGE, WORTH]
    assert "Northwind Engineering" in turns[1].query and "[1]" not in turns[0].quotes[0]


def test_rewriting_answers_followups_the_plain_question_gets_wrong() -> None:
    chosen = {"depot-site", "fire-power", "switch-outages", "water-supplies"}
    conversations = [c for c in load_conversations() if c.id in chosen]
    assert len(conversations) == len(chosen)
    with demo_service(HashingEmbedder(), Settings(embedder="hashing")) as service:
        plain = score(run(service, conversations, rewrite=False))
        rewritten = score(run(service, conversations, rewrite=True))
    # the hashing embedder is a crude stand-in for the model; it still gets 4 of 5 right
    assert rewritten.followups_right >= rewritten.followups - 1
    assert plain.followups_right < rewritten.followups_right


# -- the bounded store ---------------------------------------------------------------------

def turn(i: int, size: int = 10) -> Turn:
    return Turn(f"q{i}", f"q{i}", "a" * size)


def test_the_store_keeps_the_last_turns_of_the_most_recent_conversations() -> None:
    store = ConversationStore(ChatLimits(max_turns=3, max_chars=10_000, max_conversations=2))
    for i in range(5):
        store.append("a", turn(i))
    assert [t.question for t in store.get("a")] == ["q2", "q3", "q4"]
    store.append("b", turn(0))
    store.get("a")  # a is now the most recently used
    store.append("c", turn(0))
    assert len(store) == 2 and store.get("b") == () and store.get("a")


def test_the_store_bounds_characters_per_conversation() -> None:
    store = ConversationStore(ChatLimits(max_turns=6, max_chars=1_000))
    for i in range(4):
        store.append("a", turn(i, size=400))
    assert [t.question for t in store.get("a")] == ["q2", "q3"]
    store.append("b", Turn("q", "q", "x" * 50_000, ("y" * 50_000,)))
    kept = store.get("b")[0]
    assert len(kept.question) + len(kept.query) + len(kept.answer) + sum(map(len, kept.quotes)) \
        <= 1_000


def test_idle_conversations_expire() -> None:
    now = [0.0]
    store = ConversationStore(ChatLimits(ttl_s=60), clock=lambda: now[0])
    store.append("a", turn(0))
    now[0] = 59
    assert store.get("a")
    now[0] = 200
    assert store.get("a") == () and len(store) == 0


# -- POST /v1/chat as JSON -----------------------------------------------------------------

def test_a_followup_in_the_same_conversation_gets_the_contract_value(client: TestClient) -> None:
    first = ask(client, BRIDGE)
    assert "Northwind Engineering" in first["answer"] and first["conversation_id"]
    followup = client.post("/v1/chat", json={
        "messages": [{"role": "user", "content": BRIDGE},
                     {"role": "assistant", "content": first["answer"]},
                     {"role": "user", "content": WORTH}],
        "conversation_id": first["conversation_id"]}).json()
    assert "$452 million" in followup["answer"]
    assert followup["conversation_id"] == first["conversation_id"]
    assert followup["query"].startswith(WORTH) and "Northwind" in followup["query"]
    assert followup["follows_up"] == BRIDGE  # what the widget shows, not the borrowed words
    assert followup["citations"][0]["update_index"] == 2
    storm = "How strong were Storm Elena's winds when it came ashore?"
    new = client.post("/v1/chat", json={
        "messages": [{"role": "user", "content": WORTH}, {"role": "assistant", "content": "..."},
                     {"role": "user", "content": storm}],
        "conversation_id": first["conversation_id"]}).json()
    assert new["follows_up"] is None and new["query"] == storm


def test_a_followup_without_server_state_is_resolved_from_the_messages(
        client: TestClient) -> None:
    first = ask(client, BRIDGE)
    reply = client.post("/v1/chat", json={"messages": [
        {"role": "user", "content": BRIDGE}, {"role": "assistant", "content": first["answer"]},
        {"role": "user", "content": WORTH}]}).json()
    assert "$452 million" in reply["answer"]
    assert reply["conversation_id"] != first["conversation_id"]


def test_a_short_followup_after_a_long_answer_is_answered(client: TestClient) -> None:
    """"Who said that?" borrows the previous answer's words to choose sentences; that text is
    the service's own and may run past the 1,000 characters a reader's question may have."""
    names = [f"{a}{b}" for a in ("Alder", "Birch", "Cedar", "Dover", "Elm", "Fern", "Glen",
                                 "Holly", "Ivy", "Juniper", "Kestrel", "Larch")
             for b in ("ton", "ford", "wick", "ham", "by", "stead", "worth", "bury", "combe")]
    long_answer = (f"The council heard from {', '.join(names)} before the vote on the Quay Street "
                   "Bridge contract, worth $452 million. [1]")
    assert 1_000 < len(long_answer) < 4_000
    response = client.post("/v1/chat", json={"messages": [
        {"role": "user", "content": BRIDGE}, {"role": "assistant", "content": long_answer},
        {"role": "user", "content": "Who said that?"}]})
    assert response.status_code == 200, response.text


def test_a_long_answer_sent_back_does_not_stall_the_conversation(client: TestClient) -> None:
    """The widget sends earlier answers back; three long quoted sentences can pass the 4,000
    characters a reader's own message may have, and the conversation must go on."""
    answer = ("Officials said the bridge repairs, " + "and the detours around them, " * 150
              + "would take a year. [1]")
    assert 4_000 < len(answer) < 16_000
    response = client.post("/v1/chat", json={"messages": [
        {"role": "user", "content": BRIDGE}, {"role": "assistant", "content": answer},
        {"role": "user", "content": WORTH}]})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("body", "status", "says"), [
    ({"messages": [{"role": "assistant", "content": "hi"}]}, 400, "end messages with the user"),
    ({"messages": []}, 422, "messages"),
    ({"messages": [{"role": "user", "content": "   "}]}, 400, "question is empty"),
    ({"messages": [{"role": "user", "content": "x"}] * 51}, 422, "messages"),
    ({"messages": [{"role": "user", "content": "x" * 4_001}]}, 400, "over the limit of 1,000"),
    ({"messages": [{"role": "assistant", "content": "x" * 16_001},
                   {"role": "user", "content": "and?"}]}, 422, "content"),
    ({"messages": [{"role": "system", "content": "x"}]}, 422, "role"),
    ({"messages": [{"role": "user", "content": "hi"}], "conversation_id": "../etc"}, 400,
     "conversation_id"),
])
def test_bad_conversations_are_refused_with_a_clear_message(
        client: TestClient, body: dict[str, Any], status: int, says: str) -> None:
    response = client.post("/v1/chat", json=body)
    assert response.status_code == status
    assert says in response.json()["detail"]


# -- the messages sent decide what a follow-up leans on -------------------------------------

STORM_DEATHS = "Has anyone died in Storm Elena?"
STORM_ID = "storm-elena-makes-landfall-leaving-thousands-without-power-2026-09-21"


def post(client: TestClient, messages: list[tuple[str, str]], **extra: Any) -> dict[str, Any]:
    body = {"messages": [{"role": r, "content": c} for r, c in messages], **extra}
    response = client.post("/v1/chat", json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_reused_conversation_id_follows_the_messages_sent_not_its_memory(
        client: TestClient) -> None:
    """The reviewer's case: the id of a chat about the bridge, sent with storm messages ending
    in "Who said that?", is about the storm, and follows up a question the request holds."""
    bridge = ask(client, BRIDGE)
    storm = ask(client, STORM_DEATHS)
    who = post(client, [("user", STORM_DEATHS), ("assistant", storm["answer"]),
                        ("user", "Who said that?")],
               conversation_id=bridge["conversation_id"])
    assert who["follows_up"] == STORM_DEATHS
    assert "Storm Elena" in who["query"] and "Quay" not in who["query"]
    assert "Northwind" not in who["answer"] and "bridge" not in who["answer"].lower()
    assert {c["article_id"] for c in who["citations"]} == {STORM_ID}
    assert who["conversation_id"] == bridge["conversation_id"]
    # from then on the id remembers the storm turns: a client sending only the new question
    # gets a follow-up to what it was last shown, never the bridge
    when = post(client, [("user", "When?")], conversation_id=bridge["conversation_id"])
    assert when["follows_up"] == "Who said that?" and "Quay" not in when["query"]


def test_remembered_turns_serve_when_they_are_the_ones_sent(demo: NewsQA) -> None:
    """Memory also knows which articles each answer quoted; it is used when the messages agree
    with it, or when the client sends only the new question."""
    chat = Chat(demo)
    first = chat.reply([Message("user", BRIDGE)])
    cid, answer = first.conversation_id, first.timed.answer.text
    agreeing = chat.plan([Message("user", BRIDGE), Message("assistant", answer + "\n"),
                          Message("user", WORTH)], cid)
    assert agreeing.history[-1].stories  # the remembered turn, with the articles it quoted
    assert chat.plan([Message("user", WORTH)], cid).history == agreeing.history
    edited = chat.plan([Message("user", BRIDGE), Message("assistant", "Atlas Civil Works."),
                        Message("user", WORTH)], cid)
    assert edited.history[-1].answer == "Atlas Civil Works." and not edited.history[-1].stories


# -- a follow-up answered as asked says so -------------------------------------------------

STORM_AFTER_BRIDGE = [("user", BRIDGE), ("assistant", "Northwind Engineering won. [1]"),
                      ("user", "What about the storm?")]


def test_a_follow_up_answered_as_asked_shows_the_question_it_searched(
        client: TestClient) -> None:
    """'What about the storm?' after the bridge borrows 'firm won contract', which finds nothing
    about the storm; it is answered as typed, and the reply no longer claims the borrowed words
    or the bridge question."""
    reply = post(client, STORM_AFTER_BRIDGE)
    assert {c["article_id"] for c in reply["citations"]} == {STORM_ID} and not reply["abstained"]
    assert reply["query"] == "What about the storm?" and reply["follows_up"] is None
    response = client.post("/v1/chat", json={
        "messages": [{"role": r, "content": c} for r, c in STORM_AFTER_BRIDGE], "stream": True})
    events = events_of(response.text)
    assert events[0][0] == "meta" and events[-1][0] == "done"
    meta, done = events[0][1], events[-1][1]
    assert meta["query"] == done["query"] == "What about the storm?"
    assert meta["follows_up"] is done["follows_up"] is None


def test_a_follow_up_answered_as_asked_is_remembered_as_searched(demo: NewsQA) -> None:
    chat = Chat(demo)
    messages = [Message(r, c) for r, c in STORM_AFTER_BRIDGE]  # type: ignore[arg-type]
    reply = chat.reply(messages)
    last = chat.store.get(reply.conversation_id)[-1]
    assert last.question == last.query == "What about the storm?"


# -- streaming -----------------------------------------------------------------------------

def test_the_stream_sends_meta_tokens_citations_after_their_markers_then_done(
        client: TestClient) -> None:
    response = client.post("/v1/chat", json={
        "messages": [{"role": "user", "content": BRIDGE}], "stream": True})
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    events = events_of(response.text)
    names = [name for name, _ in events]
    assert names[0] == "meta" and names[-1] == "done" and names.count("token") > 2
    done = events[-1][1]
    text = ""
    for name, data in events:
        if name == "token":
            text += data["text"]
        if name == "citation":
            assert f"[{data['marker']}]" in text
    assert text == done["answer"] and "Northwind Engineering" in text
    assert [d for n, d in events if n == "citation"] == done["citations"]
    assert done["conversation_id"] == events[0][1]["conversation_id"]


def test_the_accept_header_asks_for_a_stream_too(client: TestClient) -> None:
    response = client.post("/v1/chat", headers={"Accept": "text/event-stream"},
                           json={"messages": [{"role": "user", "content": BRIDGE}]})
    assert [n for n, _ in events_of(response.text)][-1] == "done"


def test_a_failure_inside_the_stream_ends_it_with_an_error_event(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Chat, plan: object) -> None:
        raise RuntimeError("index on fire")

    monkeypatch.setattr(Chat, "answer", broken)
    response = client.post("/v1/chat", json={
        "messages": [{"role": "user", "content": BRIDGE}], "stream": True})
    events = events_of(response.text)
    assert [n for n, _ in events] == ["error"]  # meta waits for the answer, which never came
    assert "internal error" in events[-1][1]["detail"] and "fire" not in response.text


class LeavingClient:
    """A request whose client goes away after `stay` disconnect checks."""

    def __init__(self, stay: int) -> None:
        self.stay = stay

    async def is_disconnected(self) -> bool:
        self.stay -= 1
        return self.stay < 0


@pytest.mark.anyio
async def test_a_client_that_leaves_stops_the_stream_and_records_nothing(demo: NewsQA) -> None:
    chat = Chat(demo)
    plan = chat.plan([Message("user", BRIDGE)])
    sent = [e async for e in chat_stream(LeavingClient(2), chat, plan, 0)]  # type: ignore[arg-type]
    assert [e.event for e in sent] == ["meta", "token", "token"]
    assert chat.store.get(plan.conversation_id) == ()


@given(st.text(alphabet=st.sampled_from("ab [1]2.\n "), max_size=60))
def test_pieces_give_back_the_text_exactly(text: str) -> None:
    assert "".join(pieces(text)) == text


def test_a_citation_follows_the_piece_that_completes_its_marker() -> None:
    response = ChatResponse(answer="One two three four [1] five [2]", abstained=False,
                            citations=[citation(1), citation(2)], took_ms=1.0,
                            conversation_id="c", query="q")
    kinds = [(n, getattr(p, "text", getattr(p, "marker", None))) for n, p in
             answer_events(response)]
    assert kinds == [("token", "One two three "), ("token", "four [1] five "), ("citation", 1),
                     ("token", "[2]"), ("citation", 2)]


def citation(marker: int) -> Any:
    from api.schemas import CitationOut

    return CitationOut(marker=marker, quote="q", article_id="a", title="t", url=None,
                       section="body", update_index=None, timestamp=None,
                       timestamp_precision=None, score=1.0)


# -- rate limit, CORS, static bundle, OpenAPI ----------------------------------------------

def test_too_many_questions_get_429_with_the_wait(demo: NewsQA) -> None:
    with make_client(demo, chat_rate_per_minute=2) as c:
        body = {"messages": [{"role": "user", "content": BRIDGE}]}
        statuses = [c.post("/v1/chat", json=body).status_code for _ in range(3)]
        refused = c.post("/v1/chat", json=body)
    assert statuses == [200, 200, 429]
    assert "too many questions" in refused.json()["detail"]
    assert int(refused.headers["retry-after"]) >= 1


def test_retry_after_is_never_shorter_than_the_wait(demo: NewsQA) -> None:
    with make_client(demo, chat_rate_per_minute=2) as c:
        c.app.state.limits["chat"].wait_s = lambda client: 2.5  # type: ignore[attr-defined]
        refused = c.post("/v1/chat", json={"messages": [{"role": "user", "content": BRIDGE}]})
    assert refused.status_code == 429 and refused.headers["retry-after"] == "3"


def test_cors_allows_only_the_configured_origins(demo: NewsQA) -> None:
    preflight = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}
    with make_client(demo, cors_origins=["https://news.example"]) as c:
        ok = c.options("/v1/chat", headers={"Origin": "https://news.example", **preflight})
        bad = c.options("/v1/chat", headers={"Origin": "https://evil.example", **preflight})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://news.example"
    assert "POST" in ok.headers["access-control-allow-methods"]
    assert "access-control-allow-origin" not in bad.headers


def test_cors_origins_read_as_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSQA_CORS_ORIGINS", "https://a.example, https://b.example/")
    assert Settings().cors_origins == ["https://a.example", "https://b.example"]
    monkeypatch.setenv("NEWSQA_CORS_ORIGINS", "a.example")
    with pytest.raises(ValueError, match="not an origin"):
        Settings()


def test_the_demo_page_and_bundle_are_served_with_a_strict_policy(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and 'src="/widget.js"' in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "object-src 'none'" in csp and "unsafe" not in csp
    for name, kind in (("widget.js", "javascript"), ("widget.css", "css"), ("demo.js", "javascript")):
        asset = client.get(f"/{name}")
        assert asset.status_code == 200 and kind in asset.headers["content-type"]
        assert asset.headers["x-content-type-options"] == "nosniff"
    assert client.get("/docs").status_code == 200


def test_openapi_documents_the_stream_events(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/chat"]["post"]
    content = operation["responses"]["200"]["content"]
    assert "text/event-stream" in content and "application/json" in content
    for event in ("`meta`", "`token`", "`citation`", "`done`", "`error`"):
        assert event in operation["description"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _long_question(size: int) -> str:
    question = "Which firm won the Quay Street Bridge contract"
    return question + " and" * ((size - len(question) - 1) // 4) + "?" + "?" * (
        (size - len(question) - 1) % 4)


def test_a_user_message_is_held_to_the_question_limit_the_schema_states(
        client: TestClient) -> None:
    # the README and the schema said 4,000 characters; 1,001 was refused at 1,000
    assert len(_long_question(1_000)) == 1_000 and len(_long_question(1_001)) == 1_001
    assert ask(client, _long_question(1_000))["answer"]
    refused = client.post("/v1/chat", json={"messages": [
        {"role": "user", "content": _long_question(1_001)}]})
    assert refused.status_code == 400
    assert "1,001 characters, over the limit of 1,000" in refused.json()["detail"]
    earlier = client.post("/v1/chat", json={"messages": [
        {"role": "user", "content": _long_question(1_001)}, {"role": "assistant", "content": "x"},
        {"role": "user", "content": WORTH}]})
    assert earlier.status_code == 400
    assert earlier.json()["detail"].startswith("message 1, from the user, has 1,001 characters, "
                                               "over the limit of 1,000 for a question")
    schema = client.get("/openapi.json").json()["components"]["schemas"]["ChatMessageIn"]
    described = schema["properties"]["content"]["description"]
    assert "NEWSQA_MAX_QUESTION_CHARS" in described and "4,000" not in described


def test_a_raised_question_limit_holds_for_chat_too(tmp_path: Any) -> None:
    # the schema's own 4,000 refused a message the service's NEWSQA_MAX_QUESTION_CHARS allowed
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing", max_question_chars=5_000)
    service = NewsQA(settings, embedder=HashingEmbedder())
    try:
        assert not [o for o in service.ingest_paths([DEMO]) if o.error]
        with make_client(service) as c:
            reply = ask(c, _long_question(4_500))
            assert reply["answer"]
            refused = c.post("/v1/chat", json={"messages": [
                {"role": "user", "content": _long_question(5_001)}]})
            assert refused.status_code == 400
            assert "over the limit of 5,000" in refused.json()["detail"]
    finally:
        service.close()
