"""Reading the live-article text format.

    Title line
    📅 Published: 10/8/2025
    🔄 Updated: 10/8/2025, 7:11:11 PM      <- page header: when the page last changed
    📊 12 updates / ⏱️ 9 min read / 📱 ...  <- page header, not content
    ## Heading / ### Heading / paragraphs   <- the body; "teaser..." lines are dropped
    🔄 Updated: 10/8/2025, 5:20:57 PM      <- one block per update, with its own time
    text of the update (may hold markdown, may stop mid-sentence)
    ← Back to all articles / Latest News    <- page footer, not content

A page may have no "last updated" header stamp: an "Updated:" line right after the publication
date, followed by text and older than a later update, is the first update's stamp.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import tzinfo

from qa.errors import ArticleParseError, InvalidTime
from qa.ids import article_id_for
from qa.models import Article, Timestamp, Update
from qa.timeparse import parse_timestamp

# Emoji may carry the variation selector U+FE0F; the words are matched in any case.
_PUBLISHED = re.compile(r"^\s*📅\ufe0f?\s*published\s*:?\s*(.+?)\s*$", re.IGNORECASE)
_UPDATED = re.compile(r"^\s*🔄\ufe0f?\s*updated\s*:?\s*(.+?)\s*$", re.IGNORECASE)
_UPDATE_MARK = re.compile(r"^\s*🔄")
_HEADER = re.compile(r"^\s*(📊|⏱|📱)")
_FOOTER_START = re.compile(r"^\s*←\s*Back to all articles\s*$")
_TEASER = re.compile(r"^(.*\S)\s*(\.\.\.|…)\s*$")


@dataclass(frozen=True)
class _Line:
    number: int  # 1-based
    text: str


def _drop_teasers(lines: list[_Line]) -> list[_Line]:
    """Drop "start of the next paragraph..." lines that repeat what follows."""
    kept = []
    for i, line in enumerate(lines):
        match = _TEASER.match(line.text)
        if match:
            following = next((x.text for x in lines[i + 1:] if x.text.strip()), "")
            if following.strip().startswith(match[1].strip()) and following.strip() != line.text.strip():
                continue
        kept.append(line)
    return kept


def _join(lines: list[_Line]) -> str:
    """The lines' text, trimmed, with runs of blank lines collapsed to one."""
    text = "\n".join(x.text.rstrip() for x in lines).strip()
    return re.sub(r"\n{3,}", "\n\n", text)


def _stamp(line: _Line, value: str, source: str, zone: tzinfo) -> Timestamp:
    try:
        return parse_timestamp(value, zone)
    except InvalidTime as exc:
        raise ArticleParseError(source, str(exc), line.number) from exc


def _split_content(lines: list[_Line], source: str, zone: tzinfo
                   ) -> tuple[list[_Line], list[tuple[Timestamp, list[_Line]]]]:
    body: list[_Line] = []
    updates: list[tuple[Timestamp, list[_Line]]] = []
    for line in lines:
        if _FOOTER_START.match(line.text):
            break
        match = _UPDATED.match(line.text)
        if match:
            updates.append((_stamp(line, match[1], source, zone), []))
        elif _UPDATE_MARK.match(line.text):
            raise ArticleParseError(source, "a line starts with 🔄 but is not an update stamp; "
                                    "write it as '🔄 Updated: 10/8/2025, 5:40:56 PM'", line.number)
        elif updates:
            updates[-1][1].append(line)
        else:
            body.append(line)
    return body, updates


def _is_page_stamp(stamp: Timestamp, after: list[_Line], source: str, zone: tzinfo) -> bool:
    """Whether an "Updated:" stamp right after the publication date is the page's "last
    updated" header rather than the first update's stamp. It is the header when 📊/⏱️/📱 lines,
    another stamp or nothing follows it, or when no later update is newer (the header names the
    page's last change). Followed by text and older than a later update, it stamps that text."""
    following = next((x for x in after if x.text.strip()), None)
    if following is None or _HEADER.match(following.text) or _UPDATE_MARK.match(following.text):
        return True
    later = []
    for line in after:
        if _FOOTER_START.match(line.text):
            break
        if match := _UPDATED.match(line.text):
            later.append(_stamp(line, match[1], source, zone).moment)
    return not later or stamp.moment >= max(later)


def parse_live_article(text: str, source: str, zone: tzinfo) -> Article:
    """Parse one live article; raise ArticleParseError with the source, line and reason."""
    lines = [_Line(i + 1, t) for i, t in enumerate(text.replace("\r\n", "\n").split("\n"))]
    content = [x for x in lines if x.text.strip()]
    if not content:
        raise ArticleParseError(source, "the file is empty; a live article starts with its "
                                "title line")
    title_line = content[0]
    if _PUBLISHED.match(title_line.text) or _UPDATED.match(title_line.text):
        raise ArticleParseError(source, "the first line must be the article's title, not a "
                                "timestamp", title_line.number)
    published: Timestamp | None = None
    rest = lines[title_line.number:]
    # The header: the publication date, one "last updated" stamp, then 📊/⏱️/📱 lines. An
    # update stamp after those, or a second one, or one that is the first update's (see
    # _is_page_stamp), opens an update block (a page with no body).
    header_updated = header_meta = False
    while rest:
        line = rest[0]
        if (match := _PUBLISHED.match(line.text)) and published is None:
            published = _stamp(line, match[1], source, zone)
        elif (match := _UPDATED.match(line.text)) and not (header_updated or header_meta):
            if not _is_page_stamp(_stamp(line, match[1], source, zone), rest[1:], source, zone):
                break  # the first update's own stamp, on a page with no body
            header_updated = True
        elif _HEADER.match(line.text):
            header_meta = True
        elif line.text.strip():
            break
        rest = rest[1:]
    body_lines, blocks = _split_content(rest, source, zone)
    body = _join(_drop_teasers(body_lines))
    updates = tuple(Update(stamp, _join(block)) for stamp, block in blocks if _join(block))
    if not body and not updates:
        raise ArticleParseError(source, "the article has a title but no body and no updates: "
                                "there is no text to ingest", title_line.number)
    title = title_line.text.strip().lstrip("#").strip()
    return Article(id=article_id_for(title, published), title=title, body=body,
                   published_at=published, updates=updates)
