"""Dependencies routes receive: the NewsQA service and the Chat the app owns."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from qa.conversation import Chat
from qa.service import NewsQA


def get_newsqa(request: Request) -> NewsQA:
    return request.app.state.newsqa


NewsQADep = Annotated[NewsQA, Depends(get_newsqa)]


def get_chat(request: Request) -> Chat:
    return request.app.state.chat


ChatDep = Annotated[Chat, Depends(get_chat)]
