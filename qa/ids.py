"""Stable identifiers for articles and their chunks."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from qa.models import Timestamp

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


def slugify(text: str, limit: int = 60) -> str:
    """Lower-case ASCII words of `text` joined by '-'; empty when it has no Latin letter or digit."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-")


def article_id_for(title: str, published: Timestamp | None) -> str:
    """A readable id from the title and publication day, so re-ingesting a file finds it again.

    A title with no Latin letter or digit (Cyrillic, Chinese, emoji) gives a short hash of
    itself instead, so two such articles of one day do not share an id.
    """
    slug = slugify(title) or f"article-{content_hash(' '.join(title.split()))[:10]}"
    return f"{slug}-{published.day.isoformat()}" if published else slug


def is_valid_article_id(value: str) -> bool:
    return bool(_ID.match(value))


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
