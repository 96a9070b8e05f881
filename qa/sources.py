"""Finding and reading article files: live-format `.txt`/`.md` and JSON `.json` documents."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import tzinfo
from pathlib import Path

from qa.errors import ArticleParseError
from qa.models import Article
from qa.parse_json import parse_json_article
from qa.parse_live import parse_live_article

SUFFIXES = (".txt", ".md", ".json")


def find_article_files(paths: list[Path]) -> Iterator[Path]:
    """The files named, and the article files inside folders named (sorted), in order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
        elif path.is_file():
            yield path
        else:
            raise ArticleParseError(str(path), "no such file or folder")


def read_article_file(path: Path, zone: tzinfo, max_chars: int) -> Article:
    """Parse one file by its suffix (.json is a JSON document, anything else the live format)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ArticleParseError(str(path), f"cannot read the file: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ArticleParseError(str(path), "the file is not UTF-8 text; save it as UTF-8",
                                line) from exc
    if len(text) > max_chars:
        raise ArticleParseError(str(path), f"the file has {len(text):,} characters, over the "
                                f"limit of {max_chars:,} (NEWSQA_MAX_ARTICLE_CHARS)")
    if path.suffix == ".json":
        return parse_json_article(text, str(path), zone)
    return parse_live_article(text, str(path), zone)
