"""Answering for a figure's newest value: "What is the latest Marrow river crest?", "... as of
11:30 AM?", "How many customers lost power?" about a figure the coverage revised.

Rules, so a reader need not reverse-engineer them:
- A question asks for the newest value when it says "latest", "now", "current" (and the like),
  when a time it writes ends its window ("as of 11:30 AM", "before the 2:30 update"), or when
  it asks "how many" / "how much"; not when it asks for an earlier moment ("first", "before",
  "when it came ashore") or for what was reported since a time.
- A latest question that names a figure the coverage revised by the end of the window (the
  figures about its words are its own: qa/figures/topics.py `tracks`, "the Marrow river crest
  reached 5.1 metres") is answered from the figure's revisions (`latest_answer`).
- Otherwise the answer composed from the passages is kept unless its first sentence states a
  figure about the question (qa/figures/topics.py `figure_history`) that the coverage revised by
  the end of the window, and the question asks for that figure: "how many", "how much" and other
  questions for a number (qa/answer_kind.py), or one naming the figure's thing ("the latest
  crest"); "What is the latest on Storm Elena?" asks for news, not the wind speed
  (`newest_answer`).
- Either way such an answer leads with the newest value, with its time and citation, and the
  value it was revised from (and the first one, when there were more): leading with an old
  value when a newer one was published is a confident wrong answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime

from index.text import analyze
from qa.answer_kind import expected_kind
from qa.figures.answers import Writer, when_text
from qa.figures.index import FigureIndex
from qa.figures.subject import head_term
from qa.figures.timeline import Appearance, Articles, FigureTimeline
from qa.figures.topics import figure_history, is_figure_of
from qa.models import Answer, Citation
from qa.question_time import Window

_LATEST = re.compile(
    r"\b(?:latest|newest|most\s+recent(?:ly)?|now|current(?:ly)?|so\s+far|to\s+date|at\s+present"
    r"|presently)\b", re.IGNORECASE)
_COUNT = re.compile(r"\bhow\s+(?:many|much)\b", re.IGNORECASE)
# Words that ask about an earlier moment than the window's end, or about a span.
_EARLIER = re.compile(
    r"\b(?:first|initial(?:ly)?|original(?:ly)?|earli(?:er|est)|previous(?:ly)?|before|when"
    r"|while|after|during|until|once|at\s+the\s+(?:start|outset|time)|back\s+then)\b",
    re.IGNORECASE)
# Question words that name no part of what the figure is of.
_FRAMING = frozenset(analyze(
    "how many much what which is was are were be been being has have had do does did the a an "
    "latest newest most recent recently now current currently so far to date at present "
    "presently figure number"))


def asks_latest(question: str, window: Window) -> bool:
    """Whether `question` asks how things stand at the end of its window: "latest", "now",
    "current", or a time it writes that ends the window ("as of 11:30 AM"), and no earlier
    moment ("first", "before", "when")."""
    if window.since is not None or _EARLIER.search(question):
        return False
    return bool(_LATEST.search(question)) or (window.phrase is not None
                                              and window.as_of is not None)


def asks_newest(question: str, window: Window) -> bool:
    """Whether an answer to `question` should give a revised figure's newest value: a latest
    question (`asks_latest`), or "how many" / "how much" asking of no earlier moment."""
    if asks_latest(question, window):
        return True
    return (window.since is None and not _EARLIER.search(question)
            and bool(_COUNT.search(question)))


def question_topic(question: str) -> str:
    """What `question` asks a figure of, in its own words and capitals: "customers lost power
    Storm Elena" of "How many customers lost power in Storm Elena?"."""
    words = re.findall(r"[\w'’.-]+", question)
    return " ".join(w for w in words if not set(analyze(w)) <= _FRAMING)


def latest_answer(timeline: FigureTimeline, index: FigureIndex, articles: Articles
                  ) -> Answer | None:
    """The newest value of the figure a topic look-up found first, when it was revised by the
    timeline's `as_of`; None when it was not (the passages answer)."""
    if not timeline.groups:
        return None
    group = timeline.groups[0]
    revisions = [r for r in timeline.revisions
                 if r.article_id == group.article_id and r.group == group.label]
    if not revisions:
        return None
    newest = max(revisions, key=lambda r: r.new.figure.order_key()).new
    history = figure_history(index, articles, newest.figure, timeline.query, timeline.as_of)
    return _written(history) if len(history) >= 2 else None


def newest_answer(answer: Answer, question: str, index: FigureIndex, articles: Articles,
                  as_of: datetime | None) -> Answer | None:
    """`answer` led by the newest value of the figure its first sentence states, when the
    coverage revised that figure by `as_of`; None when it did not (the answer stands)."""
    if answer.abstained or not answer.citations:
        return None
    history = _history(answer.citations[0], question, index, articles, as_of)
    if len(history) < 2 or not (expected_kind(question) == "number" or any(
            is_figure_of(a, head_term(question_topic(question))) for a in history)):
        return None
    written = _written(history)
    return replace(answer, text=written.text, citations=written.citations)


def _written(history: Sequence[Appearance]) -> Answer:
    """The newest value of `history` (oldest first), with its time, the value it was revised
    from and, when there were more, the first; every value cited."""
    w = Writer([], [])
    newest, previous, first = history[-1], history[-2], history[0]
    day = newest.timestamp.day if newest.timestamp else None
    text = (f"The latest figure is {_stated(newest)}, {_published(newest, None)} "
            f"{w.cite(newest)}; it was revised from {_stated(previous)}, "
            f"{_published(previous, day)} {w.cite(previous)}")
    if len(history) > 2:
        text += (f", and first reported as {_stated(first)}, {_published(first, day)} "
                 f"{w.cite(first)}")
    w.sentences.append(text + ".")
    return w.answer()


def _history(lead: Citation, question: str, index: FigureIndex, articles: Articles,
             as_of: datetime | None) -> tuple[Appearance, ...]:
    """The history, by `as_of`, of the first figure with one that the sentence `lead` quotes
    states."""
    topic = question_topic(question)
    stated = sorted((f for f in index.article(lead.article_id)
                     if f.published_by(as_of) and lead.start <= f.start < lead.end
                     and articles.section_ref(f.article_id, f.sid) == lead.section),
                    key=lambda f: f.start)
    for f in stated:
        history = figure_history(index, articles, f, topic, as_of)
        if len(history) >= 2:
            return history
    return ()


def _stated(a: Appearance) -> str:
    """The value as stated, with what it counts when its words do not say ("3,100 (households)")."""
    bare = a.figure.kind == "count" and a.figure.noun is None and a.group
    return f"{a.stated} ({a.group})" if bare else a.stated


def _published(a: Appearance, day: date | None) -> str:
    stamp = a.timestamp
    if stamp is None or stamp.date_only:
        return f"published {when_text(stamp)}"
    return f"published at {when_text(stamp, day)}"
