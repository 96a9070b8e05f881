"""Shaping a chat answer into server-sent events: the text in small pieces, each citation right
after its marker first appears, then the complete answer."""

from __future__ import annotations

import re

from pydantic import BaseModel
from sse_starlette import ServerSentEvent

from api.chat_schemas import ChatResponse, TokenEvent
from api.controls import escape_json_controls

WORDS_PER_PIECE = 3
_WORD = re.compile(r"\S+\s*")


def pieces(text: str, words_per_piece: int = WORDS_PER_PIECE) -> list[str]:
    """`text` cut into groups of a few words (with their trailing spaces); joined, they give
    back `text` exactly."""
    lead = text[: len(text) - len(text.lstrip())]
    found = _WORD.findall(text)
    groups = ["".join(found[i:i + words_per_piece]) for i in range(0, len(found), words_per_piece)]
    if lead:
        groups = [lead + groups[0], *groups[1:]] if groups else [lead]
    return groups


def answer_events(response: ChatResponse) -> list[tuple[str, BaseModel]]:
    """The token and citation events of `response`, in the order they are sent (no done)."""
    events: list[tuple[str, BaseModel]] = []
    sent_text = ""
    pending = {c.marker: c for c in response.citations}
    for piece in pieces(response.answer):
        events.append(("token", TokenEvent(text=piece)))
        sent_text += piece
        for marker in [m for m in pending if f"[{m}]" in sent_text]:
            events.append(("citation", pending.pop(marker)))
    events.extend(("citation", c) for c in pending.values())  # a marker the text never shows
    return events


def sse(name: str, payload: BaseModel) -> ServerSentEvent:
    """The event `name` with `payload` as its JSON data; DEL and C1 from article text written as
    `\\u00NN`, as in every JSON reply (api/responses.py), so the stream obeys no control."""
    return ServerSentEvent(data=escape_json_controls(payload.model_dump_json()), event=name)
