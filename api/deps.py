"""Dependencies routes receive: the NewsQA service and the Chat the app owns."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Annotated

from fastapi import Depends, Request

from qa.conversation import Chat
from qa.errors import InvalidTime
from qa.service import NewsQA
from qa.timeparse import parse_timestamp


def get_newsqa(request: Request) -> NewsQA:
    return request.app.state.newsqa


NewsQADep = Annotated[NewsQA, Depends(get_newsqa)]


def get_chat(request: Request) -> Chat:
    return request.app.state.chat


ChatDep = Annotated[Chat, Depends(get_chat)]


def moment_of(name: str, value: str | None, zone: tzinfo) -> datetime | None:
    """The moment a request parameter names, read as the CLI reads it; the error names `name`."""
    if value is None:
        return None
    try:
        return parse_timestamp(value, zone).moment
    except InvalidTime as exc:
        raise InvalidTime(f"{name}: {exc}") from exc
