"""Answering change questions from the update timeline.

Two kinds, so a reader need not reverse-engineer them:
- "What changed since 6:30 PM?", "What's new in the flood story?": the updates of the story in
  the window (after `since`; "what's new" without a time means the latest update), each quoted
  by the sentences stating its new figures (or its first sentence), and the figures new in them.
- "How did the ICE budget change?", "Was the Veridian contract revised?": the revisions of the
  figure asked about (qa/figures/topics.py), old and new value each cited with its time; a figure
  never revised is "$28.7 billion throughout, first reported …".
Every sentence of an answer cites the verbatim sentence it rests on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.text import analyze
from qa.answer import display_sentence
from qa.figures.answers import Writer, no_figure, place, published, when_text
from qa.figures.changes import ArticleChanges, ChangedUpdate
from qa.figures.subject import FILLER_TERMS, MONEY_TERMS, PERCENT_TERMS
from qa.figures.timeline import Appearance, FigureTimeline
from qa.models import Answer, Citation, SectionRef, Timestamp
from qa.question_time import TICK
from qa.sentences import split_sentences

MAX_UPDATES = 6
MAX_QUOTES_PER_UPDATE = 2

_FIGURE_CHANGE = re.compile(
    r"\bhow\s+(?:did|has|have|had|does|do)\s+(?P<a>.+?)\s+(?:chang|evolv|develop|shift|mov)\w*\b"
    r"|\b(?:was|were|has|have|had|is|are)\s+(?P<b>.+?)\s+(?:been\s+)?"
    r"(?:revised|updated|changed|corrected|raised|lowered)\b",
    re.IGNORECASE)
_TIMELINE_CHANGE = re.compile(
    r"\bwhat(?:'s|’s|\s+is|\s+has)?\s+(?:been\s+)?(?:changed|new)\b|\bwhat\s+(?:has\s+)?changed\b"
    r"|\bany(?:thing)?\s+(?:changes?|new|revisions?)\b|\b(?:latest|recent)\s+(?:changes|updates)\b"
    r"|\bwhat\s+(?:has\s+)?been\s+updated\b",
    re.IGNORECASE)
NOT_SUBJECT = frozenset(analyze(
    "what whats what's changed change changes new is has been any anything latest recent updates "
    "update updated in on the story coverage article news report reports reported about so far "
    "across over throughout time say said tell told coverage"))
# Words that say X in "how did X change" is a figure of some kind ("contract", "share",
# "number"); any other X is one when the figures about it are its own (FigureDesk.answer).
_FIGURE_WORDS = MONEY_TERMS | PERCENT_TERMS | FILLER_TERMS


@dataclass(frozen=True)
class ChangeQuestion:
    """A change question. `kind` "figure": it asks how the figure `topic` changed ("the bridge
    contract", "the number of homes"); "maybe": it does if the figure index holds figures of
    what `topic` names ("the Marrow river crest", "job cuts"), else it is about a policy or a
    plan and not a figure; "timeline": what changed in the story `subject` names."""

    kind: str
    topic: str
    subject: str
    timeline: bool  # whether it also reads as "what changed" (the fallback for "maybe")


def change_question(question: str) -> ChangeQuestion | None:
    """The change question `question` asks, or None."""
    timeline = bool(_TIMELINE_CHANGE.search(question))
    subject = " ".join(w for w in re.findall(r"[\w'’.-]+", question)
                       if not set(analyze(w)) <= NOT_SUBJECT)
    m = _FIGURE_CHANGE.search(question)
    if m:
        topic = _clean(m["a"] or m["b"])
        kind = "figure" if set(analyze(topic)) & _FIGURE_WORDS else "maybe"
        return ChangeQuestion(kind, topic, subject, timeline)
    return ChangeQuestion("timeline", "", subject, True) if timeline else None


def _clean(text: str) -> str:
    return re.sub(r"^(?:the|a|an)\s+", "", " ".join(text.split()), flags=re.IGNORECASE)


# -- "what changed since …" ------------------------------------------------------------------


def _update_quotes(update: ChangedUpdate) -> list[tuple[int, int]]:
    """Offsets of the sentences to quote from an update: those stating its new figures, else its
    first sentence."""
    spans = [(a.figure.quote_start, a.figure.quote_end) for a in update.new_figures]
    unique = list(dict.fromkeys(spans))[:MAX_QUOTES_PER_UPDATE]
    if unique:
        return unique
    first = next((s for s in split_sentences(update.text) if not s.heading), None)
    return [] if first is None else [(first.start, first.end)]


def _update_citation(changes: ArticleChanges, update: ChangedUpdate, start: int, end: int,
                     marker: int, url: str | None) -> Citation:
    while end > start and update.text[end - 1] in " [(":
        end -= 1
    return Citation(marker=marker, quote=update.text[start:end], article_id=changes.article_id,
                    title=changes.title, url=url, section=SectionRef("update", update.index),
                    timestamp=update.timestamp, score=1.0, start=start, end=end)


def timeline_answer(changes: ArticleChanges, url: str | None = None) -> Answer:
    """The updates of `changes`, each quoted and timed, and the figures new in them."""
    if not changes.updates:
        since = when_text(Timestamp(changes.since + TICK))
        by = "" if changes.as_of is None else f" up to {when_text(Timestamp(changes.as_of))}"
        return Answer(f"No update of “{changes.title}” was published from {since}{by}, so the "
                      "coverage reports no change in that time.", True)
    w = Writer([], [])
    shown = changes.updates[:MAX_UPDATES]
    day = changes.updates[0].timestamp.day
    new: list[str] = []
    for update in shown:
        parts = []
        for start, end in _update_quotes(update):
            marker = w.add(_update_citation(changes, update, start, end, len(w.citations) + 1, url))
            parts.append(f"{display_sentence(update.text[start:end])} {marker}")
        w.sentences.append(f"At {when_text(update.timestamp, day)} (update {update.index}): "
                           + " ".join(parts))
        new += [f"{a.stated} {w.cite(a)}" for a in update.new_figures]
    if new:
        w.sentences.append(f"New figures: {', '.join(new)}.")
    left = len(changes.updates) - len(shown)
    if left:
        w.sentences.append(f"{left} later updates are not shown; `newsqa changes "
                           f"{changes.article_id} --since …` lists them all.")
    return w.answer()


# -- "how did X change" ----------------------------------------------------------------------


def revision_answer(timeline: FigureTimeline) -> Answer:
    """How the figure asked about changed: each revision with both values and times, or one
    value stated throughout."""
    if not timeline.groups:
        return no_figure(timeline) if not timeline.covered else Answer(
            timeline.note or f"The coverage states no figure about “{timeline.query}”.", True)
    group = timeline.groups[0]
    by_marker = {a.marker: a for a in timeline.appearances}
    several = len({a.figure.article_id for a in timeline.appearances}) > 1
    revisions = [r for r in timeline.revisions
                 if r.article_id == group.article_id and r.group == group.label]
    w = Writer([], [])
    if revisions:
        first = by_marker[group.values[0].markers[0]]
        w.sentences.append(f"“{timeline.query}” ({group.label}) was first reported as "
                           f"{first.stated}, {place(first, several)}, {published(first)} "
                           f"{w.cite(first)}.")
        day = first.timestamp.day if first.timestamp else None
        for r in revisions:
            w.sentences.append(f"It was revised from {r.old.stated} {w.cite(r.old)} to "
                               f"{r.new.stated} at {when_text(r.new.timestamp, day)} "
                               f"{w.cite(r.new)}.")
        return w.answer()
    value = max(group.values, key=lambda v: len(v.markers))
    stated = [by_marker[m] for m in value.markers]
    _throughout(w, timeline, stated, several)
    return w.answer()


def _throughout(w: Writer, timeline: FigureTimeline, stated: list[Appearance],
                several: bool) -> None:
    first, last = stated[0], stated[-1]
    day = first.timestamp.day if first.timestamp else None
    text = (f"“{timeline.query}”: {first.stated} throughout, first reported {place(first, several)}, "
            f"{published(first)} {w.cite(first)}")
    if len(stated) > 1:
        text += (f"; stated {len(stated)} times, most recently at {when_text(last.timestamp, day)} "
                 f"{w.cite(last)}")
    w.sentences.append(text + ". The coverage gives no revision of it.")
