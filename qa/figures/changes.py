"""What changed in an article since a given time: its later updates, and the figures that first
appear in them: stated nowhere earlier in the article, neither in the same words nor in words
that restate an earlier value (qa/figures/topics.py `restates`: "nearly $29 billion" after $28.7
billion is not new, "21 people" after "20 people" is), so a figure new here is one the topic
timeline counts as a revision or a first statement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from qa.figures.extract import EXACT_REL_TOLERANCE, figure_matches
from qa.figures.index import FigureAt, FigureIndex
from qa.figures.timeline import Appearance, Articles, SectionTexts, appearances
from qa.figures.topics import restates
from qa.models import Timestamp


@dataclass(frozen=True)
class ChangedUpdate:
    index: int  # 1-based, in time order
    timestamp: Timestamp
    text: str
    new_figures: tuple[Appearance, ...]


@dataclass(frozen=True)
class ArticleChanges:
    article_id: str
    title: str
    since: datetime
    as_of: datetime | None
    updates: tuple[ChangedUpdate, ...]


def _is_new(f: FigureAt, earlier: list[FigureAt]) -> bool:
    return not any(figure_matches(f, g, EXACT_REL_TOLERANCE) == "exact"
                   or figure_matches(f, g) is not None and restates(g, f) for g in earlier)


def _published_before(f: FigureAt, stamp: Timestamp) -> bool:
    """Whether `f` was published before an update at `stamp` (a same-time body counts)."""
    if f.timestamp is None:
        return f.sid == "body"
    return f.timestamp.moment < stamp.moment or (f.timestamp.moment == stamp.moment
                                                 and f.sid == "body")


def article_changes(index: FigureIndex, articles: Articles, article_id: str, since: datetime,
                    as_of: datetime | None = None) -> ArticleChanges:
    """Updates published after `since` (and by `as_of`), each with its first-time figures."""
    record = articles.record(article_id)
    texts = SectionTexts(articles)
    figures = index.article(article_id)
    changed: list[tuple[int, Timestamp, str, list[FigureAt]]] = []
    for number, update in enumerate(record.updates, start=1):
        stamp = update.published_at
        if stamp.moment <= since or (as_of is not None and stamp.moment > as_of):
            continue
        sid = update.sid
        seen = [f for f in figures if _published_before(f, stamp)]
        new: list[FigureAt] = []
        for f in (f for f in figures if f.sid == sid):
            if _is_new(f, seen + new):
                new.append(f)
        changed.append((number, stamp, texts.get(article_id, sid), new))
    shown = iter(appearances([f for *_, new in changed for f in new], texts))
    updates = tuple(ChangedUpdate(number, stamp, text, tuple(next(shown) for _ in new))
                    for number, stamp, text, new in changed)
    return ArticleChanges(article_id, record.title, since, as_of, updates)
