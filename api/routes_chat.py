"""POST /v1/chat: a conversation's last question, answered as JSON or streamed as server-sent
events. Composing an answer is CPU work and runs in the thread pool, never on the event loop."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import anyio
from fastapi import APIRouter, Depends, Request, Response
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from api.chat_schemas import ChatRequest, ChatResponse, MetaEvent
from api.deps import ChatDep, NewsQADep
from api.errors import stream_error
from api.ratelimit import rate_limited
from api.responses import SafeJSONResponse
from api.schemas import responses
from api.security import require_read_key
from api.sse import answer_events, sse
from qa.conversation import Chat, ChatPlan

log = logging.getLogger(__name__)
router = APIRouter()

STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no",
                  "X-Content-Type-Options": "nosniff"}

STREAM_DOC = """
Answers the last user message of a conversation. A follow-up ("How much is it worth?") is
resolved from the earlier turns: the search carries the previous question's words and the names
in the passages it cited (`query` shows what was searched; `follows_up` is the earlier question
it was read with). A question with a subject of its own (a name the last turn never mentioned)
is answered as asked. So is an ellipsis naming a new thing ("What about the storm?") when the
words it borrowed find nothing about that thing: its `query` is then the question as typed and
`follows_up` is null. Only the last 6 turns count.

**The messages decide.** The earlier turns a follow-up leans on are the ones in `messages`,
which are what the reader sees. The server remembers at most 6 turns (8,000 characters) of each
of its 1,000 most recent conversations, for an hour, and uses what it remembers of a
`conversation_id` only where it agrees with the messages sent (the same questions and answers;
it also knows which articles each answer quoted) or where the messages hold no earlier question
(a client that sends only the new one). A `conversation_id` whose remembered turns differ from
the messages is read by the messages, and from then on remembers them.

**Streaming.** With `"stream": true`, or the header `Accept: text/event-stream`, the reply is a
`text/event-stream` of these events, each a JSON object in `data`:

| event | data | sent |
|---|---|---|
| `meta` | `{conversation_id, query, follows_up}`, as in `done` | first, once answered |
| `token` | `{text}`: the next piece of the answer | in order; a marker `[1]` may span pieces |
| `citation` | a `CitationOut`, as in `/v1/ask` | right after its marker first appears |
| `done` | a `ChatResponse`: answer, citations, took_ms, conversation_id, query, ... | last |
| `error` | `{detail}` | instead of `done` if the answer failed (alone: no `meta` first) |

A stream always ends with `done` or `error`. `meta` is sent after the search is settled, so its
`query` and `follows_up` are those of `done`, never a reading given up on. A client that
disconnects stops the server's work on that answer. Errors found before the stream starts (no
user message last, an empty question, too many requests) come back as JSON `{"detail": ...}`
with a 4xx status.
"""

STREAM_EXAMPLE = (
    'event: meta\r\ndata: {"conversation_id": "5f0c...", "query": "How much is it worth? '
    '(firm won Quay Street Bridge contract Northwind Engineering)", "follows_up": "Which firm won '
    'the Quay Street Bridge contract?"}\r\n\r\n'
    'event: token\r\ndata: {"text": "The contract is "}\r\n\r\n'
    'event: token\r\ndata: {"text": "worth $452 million, "}\r\n\r\n'
    "...\r\n\r\n"
    'event: citation\r\ndata: {"marker": 1, "quote": "The contract is worth $452 million, ...", '
    '"section": "update", "update_index": 2, "timestamp": "2026-03-14T14:20:00+00:00", ...}'
    "\r\n\r\n"
    'event: done\r\ndata: {"answer": "The contract is worth $452 million, ... [1]", '
    '"abstained": false, "citations": [...], "took_ms": 41.2, "conversation_id": "5f0c...", '
    '"query": "..."}\r\n\r\n')

# one event of the stream: its name and its data, a JSON object as the table above says
SSE_EVENT = {"type": "object", "required": ["data"], "properties": {
    "event": {"type": "string", "enum": ["meta", "token", "citation", "done", "error"]},
    "data": {"type": "string", "contentMediaType": "application/json"},
    "id": {"type": "string"}, "retry": {"type": "integer"}}}
RESPONSES: dict[int | str, dict[str, object]] = {
    **responses(400, 401, 413, 422, 429),
    200: {"description": "The answer: JSON, or a stream of server-sent events when asked for.",
          "content": {"text/event-stream": {"schema": SSE_EVENT, "example": STREAM_EXAMPLE}}},
}
RESPONSES[400] = {**RESPONSES[400], "description": (
    "A conversation that cannot be answered (last message not the user's, empty or over-long "
    "question, bad conversation_id).")}


def wants_stream(body: ChatRequest, request: Request) -> bool:
    return body.stream or "text/event-stream" in request.headers.get("accept", "")


@router.post("/v1/chat", response_model=ChatResponse, responses=RESPONSES, tags=["answers"],
             summary="Answer the next question of a conversation, optionally streamed",
             description=STREAM_DOC,
             dependencies=[Depends(rate_limited("chat")), Depends(require_read_key)])
async def post_chat(body: ChatRequest, request: Request, chat: ChatDep,
                    newsqa: NewsQADep) -> Response:
    plan = chat.plan(body.to_messages(), body.conversation_id)
    if wants_stream(body, request):
        pause_s = newsqa.settings.stream_pause_ms / 1000
        return EventSourceResponse(chat_stream(request, chat, plan, pause_s),
                                   headers=STREAM_HEADERS, ping=15)
    reply = await run_in_threadpool(chat.answer, plan)
    chat.record(plan, reply)
    return SafeJSONResponse(ChatResponse.of_reply(reply).model_dump(mode="json"))


async def chat_stream(request: Request, chat: Chat, plan: ChatPlan,
                      pause_s: float) -> AsyncIterator[ServerSentEvent]:
    """Once the answer is found: meta (what was searched), then the answer's tokens and
    citations as it is written out, then done; or error alone. Stops as soon as the client has
    gone."""
    try:
        reply = await run_in_threadpool(chat.answer, plan)
    except Exception as exc:  # the stream has begun: the failure is its last event
        yield sse("error", stream_error(exc, plan.query))
        return
    yield sse("meta", MetaEvent(conversation_id=reply.conversation_id, query=reply.query,
                                follows_up=reply.follows_up))
    response = ChatResponse.of_reply(reply)
    for name, payload in answer_events(response):
        if await request.is_disconnected():
            log.info("chat client left; stopped streaming conversation %s", plan.conversation_id)
            return
        yield sse(name, payload)
        if name == "token" and pause_s:
            await anyio.sleep(pause_s)
    chat.record(plan, reply)
    yield sse("done", response)
