"""Stable identifiers for articles and their chunks."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from qa.models import Timestamp

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
ID_RULE = "use 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit"
# query parameters that only say where a reader came from: the same page without them
_TRACKING = re.compile(r"^(utm_[a-z]+|fbclid|gclid|mc_[a-z]+|ref|cmpid)$", re.IGNORECASE)


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
    """The whole of `value` is an id (a full match: "a1\\n" is not "a1")."""
    return _ID.fullmatch(value) is not None


def id_fold(article_id: str) -> str:
    """What two ids that a reader cannot tell apart share: NFKC-normalised and case-folded."""
    return unicodedata.normalize("NFKC", article_id).casefold()


def canonical_url(url: str) -> str | None:
    """The page a URL names, written one way: scheme and host in lower case, no default port, no
    fragment, no tracking parameters (utm_*, fbclid...), no trailing '/'; None for no http(s) URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port if parts.port not in (None, 80, 443) else None
    except ValueError:  # a bad port or bracketed host: no page we can name
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower() + (f":{port}" if port else "")
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not _TRACKING.match(k)))
    return urlunsplit(("https", host, parts.path.rstrip("/") or "/", query, ""))


def article_id_for_url(url: str) -> str | None:
    """A readable id from the page's canonical URL (host and path, then a short hash of the
    whole), so a page re-posted with a new title or date keeps its id; None for no http(s) URL."""
    canonical = canonical_url(url)
    if canonical is None:
        return None
    where = urlsplit(canonical)
    slug = slugify(f"{where.hostname} {where.path}", limit=100) or "page"
    return f"{slug}-{content_hash(canonical)[:10]}"


def content_hash(text: str) -> str:
    """A short digest of `text` (lone surrogates, which no client should send, are escaped)."""
    return hashlib.sha256(text.encode("utf-8", "backslashreplace")).hexdigest()[:16]


def text_key(text: str) -> str:
    """The digest of what a reader sees in `text`: NFKC, case and runs of spaces ignored, so
    the same update re-posted with other spacing is recognised as the same."""
    return content_hash(" ".join(unicodedata.normalize("NFKC", text).casefold().split()))
