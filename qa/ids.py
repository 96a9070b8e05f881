"""Stable identifiers for articles and their chunks."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from qa.models import Timestamp

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


def slugify(text: str, limit: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "article"


def article_id_for(title: str, published: Timestamp | None) -> str:
    """A readable id from the title and publication day, so re-ingesting a file finds it again."""
    slug = slugify(title)
    return f"{slug}-{published.day.isoformat()}" if published else slug


def is_valid_article_id(value: str) -> bool:
    return bool(_ID.match(value))


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
