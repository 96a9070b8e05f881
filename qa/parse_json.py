"""Reading the JSON article document (also what POST /v1/articles accepts):

    {"id": str?, "title": str, "url": str?, "source": str?, "published_at": str?,
     "body": str, "updates": [{"published_at": str, "text": str}, ...]}
"""

from __future__ import annotations

import json
from datetime import tzinfo
from typing import Any

from qa.errors import ArticleParseError, InvalidTime
from qa.ids import ID_RULE, article_id_for, article_id_for_url, is_valid_article_id
from qa.models import Article, Timestamp, Update
from qa.textcheck import surrogate_problem, visible
from qa.timeparse import parse_timestamp

_FIELDS = {"id", "title", "url", "source", "published_at", "body", "updates"}


def _text(doc: dict[str, Any], name: str, source: str, required: bool = False) -> str | None:
    value = doc.get(name)
    if value is None:
        if required:
            raise ArticleParseError(source, f"field {name!r} is missing; give the article's {name}")
        return None
    if not isinstance(value, str):
        raise ArticleParseError(source, f"field {name!r} must be a string, got "
                                f"{type(value).__name__}")
    problem = surrogate_problem(f"field {name!r}", value)
    if problem:
        raise ArticleParseError(source, problem)
    return value


def _time(value: str | None, where: str, source: str, zone: tzinfo) -> Timestamp | None:
    if value is None or not value.strip():
        return None
    try:
        return parse_timestamp(value, zone)
    except InvalidTime as exc:
        raise ArticleParseError(source, f"{where}: {exc}") from exc


def _updates(raw: Any, source: str, zone: tzinfo) -> tuple[Update, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ArticleParseError(source, "field 'updates' must be a list of "
                                "{published_at, text} objects")
    updates = []
    for i, item in enumerate(raw):
        where = f"updates[{i}]"
        if not isinstance(item, dict):
            raise ArticleParseError(source, f"{where} must be an object with published_at and text")
        text = _text(item, "text", f"{source} {where}", required=True) or ""
        stamp = _time(_text(item, "published_at", f"{source} {where}", required=True),
                      f"{where}.published_at", source, zone)
        if stamp is None:
            raise ArticleParseError(source, f"{where}.published_at is empty; every update needs "
                                    "its time")
        if visible(text):
            updates.append(Update(stamp, text.strip()))
    return tuple(updates)


def article_from_dict(doc: Any, source: str, zone: tzinfo) -> Article:
    """Build an Article from a decoded JSON document, or raise ArticleParseError naming the field."""
    if not isinstance(doc, dict):
        raise ArticleParseError(source, "an article must be a JSON object with title, body and "
                                "updates")
    unknown = sorted(set(doc) - _FIELDS)
    if unknown:
        raise ArticleParseError(source, f"unknown field(s) {unknown}; allowed: {sorted(_FIELDS)}")
    title = (_text(doc, "title", source, required=True) or "").strip()
    if not visible(title):
        raise ArticleParseError(source, "field 'title' is empty")
    published = _time(_text(doc, "published_at", source), "published_at", source, zone)
    body = (_text(doc, "body", source) or "").strip()
    body = body if visible(body) else ""  # zero-width characters only: no body
    updates = _updates(doc.get("updates"), source, zone)
    if not body and not updates:
        raise ArticleParseError(source, "the article has no text: give a non-empty 'body' or "
                                "at least one update with text")
    url = _text(doc, "url", source)
    article_id = article_identity(_text(doc, "id", source), url, title, published)
    if not is_valid_article_id(article_id):
        raise ArticleParseError(source, f"id {article_id!r} is not valid: {ID_RULE}")
    return Article(id=article_id, title=title, body=body, published_at=published,
                   url=url, source=_text(doc, "source", source), updates=updates)


def article_identity(given: str | None, url: str | None, title: str,
                     published: Timestamp | None) -> str:
    """An article is known by its `id`; without one, by its canonical `url` (a live page that is
    retitled or re-dated stays one article); without either, by its title and date."""
    if given:
        return given
    return (article_id_for_url(url) if url else None) or article_id_for(title, published)


def parse_json_article(text: str, source: str, zone: tzinfo) -> Article:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArticleParseError(source, f"malformed JSON: {exc.msg} (column {exc.colno})",
                                exc.lineno) from exc
    return article_from_dict(doc, source, zone)
