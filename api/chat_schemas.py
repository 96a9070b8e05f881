"""Request, response and stream-event models of POST /v1/chat (pydantic lives only at the edge)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import AskResponse
from qa.conversation import ChatReply, Message

MAX_MESSAGES = 50
MAX_ANSWER_CHARS = 16_000   # an answer sent back: up to three quoted sentences and their markers


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    # A user message is a question, held to the question's limit by the service (a setting, so
    # not a schema bound); the schema bounds what any message may be.
    content: str = Field(..., max_length=MAX_ANSWER_CHARS, description=(
        "A user message is a question: at most NEWSQA_MAX_QUESTION_CHARS characters (1,000 by "
        f"default), as in /v1/ask; an answer the client sends back, at most {MAX_ANSWER_CHARS:,}."))

    def to_message(self) -> Message:
        return Message(self.role, self.content)


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "messages": [
            {"role": "user", "content": "Which firm won the Quay Street Bridge contract?"},
            {"role": "assistant", "content": "Northwind Engineering, a Glasgow-based firm, beat "
                                             "two rival bidders, including Atlas Civil Works. [1]"},
            {"role": "user", "content": "How much is it worth?"}],
        "conversation_id": None, "stream": False}]})
    messages: list[ChatMessageIn] = Field(
        ..., min_length=1, max_length=MAX_MESSAGES,
        description="The conversation so far, oldest first, ending with the user's question. "
                    "Only the last few turns are used.")
    conversation_id: str | None = Field(
        None, max_length=64, description="From an earlier reply, to continue that conversation; "
                                         "leave it out to start a new one.")
    stream: bool = Field(False, description="Stream the answer as server-sent events (as does "
                                            "the header `Accept: text/event-stream`).")

    def to_messages(self) -> list[Message]:
        return [m.to_message() for m in self.messages]


class ChatResponse(AskResponse):
    conversation_id: str = Field(..., description="Send it back with the next question.")
    query: str = Field(..., description=(
        "The question as searched: a follow-up carries, in brackets, the words it borrowed from "
        "earlier turns; a question answered as asked (also a follow-up whose borrowed words "
        "found nothing about its own subject) is the question as typed."))
    follows_up: str | None = Field(None, description=(
        "The earlier question this one was read with, when it was answered as a follow-up (it "
        "leans on the last turn in the messages sent: a pronoun, an ellipsis, no subject of its "
        "own); else null."))

    @classmethod
    def of_reply(cls, reply: ChatReply) -> ChatResponse:
        return cls(**AskResponse.of(reply.timed).model_dump(),
                   conversation_id=reply.conversation_id, query=reply.query,
                   follows_up=reply.follows_up)


class MetaEvent(BaseModel):
    """Sent once the search is settled: the query and follows_up of the `done` to come."""

    conversation_id: str
    query: str
    follows_up: str | None = None


class TokenEvent(BaseModel):
    text: str


class ErrorEvent(BaseModel):
    detail: str
