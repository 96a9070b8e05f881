"""Dependencies routes receive: the NewsQA service the app owns."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from qa.service import NewsQA


def get_newsqa(request: Request) -> NewsQA:
    return request.app.state.newsqa  # type: ignore[no-any-return]


NewsQADep = Annotated[NewsQA, Depends(get_newsqa)]
