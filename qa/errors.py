"""The few named errors of newsqa. Each message says what was wrong, with the value, and the fix.

The CLI and the API translate these in one place each (api/cli.py, api/errors.py).
"""

from __future__ import annotations


class NewsqaError(Exception):
    """Base of every error a user can cause and fix."""


class ArticleParseError(NewsqaError):
    """A file or document that cannot be read as an article."""

    def __init__(self, source: str, reason: str, line: int | None = None) -> None:
        self.source = source
        self.line = line
        self.reason = reason
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(f"{where}: {reason}")


class InvalidArticle(NewsqaError):
    """An article that parses but cannot be ingested (no text, bad id, ...)."""


class ArticleNotFound(NewsqaError):
    def __init__(self, article_id: str) -> None:
        self.article_id = article_id
        super().__init__(f"no article with id {article_id!r}; list the ingested ones with "
                         "`newsqa articles` or GET /v1/articles")


class InvalidQuestion(NewsqaError):
    """An empty, whitespace-only or over-long question, or bad search options."""


class InvalidTime(NewsqaError):
    """A timestamp that cannot be read."""


class InvalidConversation(NewsqaError):
    """Chat messages that cannot be answered (no user question last, bad conversation id...)."""


class ConfigError(NewsqaError):
    """Settings that cannot work together (a key file that cannot be read, reads that need a key
    with none configured, an unknown rate-limit group)."""
