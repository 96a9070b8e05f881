"""Answering "when did this first appear?" questions from the figure timeline.

"When did the $28.7 billion figure first appear?" is answered from every appearance of the
figure; "When was the bridge contract cost first reported?" from the figures about the topic.
Every sentence of the answer carries a marker [n] whose quote states the figure verbatim, and a
time known only to the day says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from qa.figures.timeline import Appearance, FigureTimeline
from qa.models import Answer, Citation, Timestamp

_FIRST_QUESTION = re.compile(
    r"^\s*(?:when|at what time|what time|on what (?:date|day))\b.*\bfirst\b.*?"
    r"\b(?:appear\w*|report\w*|mention\w*|cited|show\w* up|surfac\w*|emerg\w*|publish\w*"
    r"|stated|given|come up|came up)\b"
    r"|^\s*(?:when|what) (?:was|is) the first (?:time|report|mention|appearance)\b",
    re.IGNORECASE | re.DOTALL)
_NOT_TOPIC = re.compile(
    r"\b(?:when|at what time|what time|on what (?:date|day)|did|was|were|is|are|has|have|had|does"
    r"|do|the first time|first|time|appear\w*|report\w*|mention\w*|cited|show\w* up|surfac\w*"
    r"|emerg\w*|publish\w*|stated|given|come up|came up|in the (?:coverage|articles?|story|news"
    r"|updates?)|the coverage|figures?|numbers?)\b|[?!.]", re.IGNORECASE)
MAX_FORMS = 3
MAX_REVISIONS = 3


def first_appearance_topic(question: str) -> str | None:
    """What a "when did X first appear / when was X first reported" question asks about, or None
    for any other question."""
    if not _FIRST_QUESTION.search(question):
        return None
    topic = " ".join(_NOT_TOPIC.sub(" ", question).split())
    return re.sub(r"^(?:the|a|an)\s+", "", topic, flags=re.IGNORECASE) or None


def day_text(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def when_text(stamp: Timestamp | None, day_known: date | None = None) -> str:
    """"8 October 2025 (date only)", "17:40:56 +00:00 on 8 October 2025", or just the time when
    the day is `day_known` already."""
    if stamp is None:
        return "an unknown time"
    if stamp.date_only:
        return f"{day_text(stamp.day)} (date only)"
    offset = stamp.moment.replace(microsecond=0).isoformat()[19:] or "+00:00"
    clock = f"{stamp.moment:%H:%M:%S} {offset if stamp.zone_stated else '(zone not stated)'}"
    return clock if stamp.day == day_known else f"{clock} on {day_text(stamp.day)}"


@dataclass
class Writer:
    """Sentences with markers, and the citations they point to, numbered in order of use."""

    sentences: list[str]
    citations: list[Citation]

    def cite(self, appearance: Appearance) -> str:
        for c in self.citations:
            if (c.article_id, c.section, c.start) == (appearance.figure.article_id,
                                                      appearance.section, appearance.figure.quote_start):
                return f"[{c.marker}]"
        marker = len(self.citations) + 1
        self.citations.append(appearance.citation(marker))
        return f"[{marker}]"

    def add(self, citation: Citation) -> str:
        """The marker of a quote not from the figure index (an update's sentence)."""
        for c in self.citations:
            if (c.article_id, c.section, c.start) == (citation.article_id, citation.section,
                                                      citation.start):
                return f"[{c.marker}]"
        self.citations.append(replace(citation, marker=len(self.citations) + 1))
        return f"[{len(self.citations)}]"

    def answer(self) -> Answer:
        return Answer(" ".join(self.sentences), False, tuple(self.citations))


def place(a: Appearance, several_articles: bool) -> str:
    of = f" of “{a.title}”" if several_articles else ""
    if a.section.kind == "body":
        return f"in the body{of}" if several_articles else "in the article body"
    return f"in an update{of}"


def published(a: Appearance) -> str:
    stamp = a.timestamp
    if stamp is not None and not stamp.date_only:
        return f"published at {when_text(stamp)}"
    return f"published {when_text(stamp)}"


def _unknown(timeline: FigureTimeline) -> Answer:
    scope = "" if timeline.as_of is None else f" published by {timeline.as_of.isoformat()}"
    return Answer(f"The coverage{scope} does not state {timeline.query.strip()}, exactly or within "
                  f"{timeline.tolerance:.0%}, so I cannot say when it first appeared.", True)


def no_figure(timeline: FigureTimeline) -> Answer:
    """"Not in the coverage", in the words of the topic look-up's note."""
    return Answer(timeline.note or f"The coverage has no figure about “{timeline.query}”.", True)


def figure_answer(timeline: FigureTimeline) -> Answer:
    """When the asked-for figure first appeared, first among the updates when the body's time is
    only a date, and the approximate forms that came before it."""
    shown = timeline.appearances
    if not shown:
        return _unknown(timeline)
    assert timeline.figure is not None, "a figure answer needs the figure asked about"
    asked = timeline.figure.surface
    several = len({a.figure.article_id for a in shown}) > 1
    exact = [a for a in shown if a.match == "exact"]
    w = Writer([], [])
    first = exact[0] if exact else shown[0]
    if exact:
        w.sentences.append(f"{asked} first appeared {place(first, several)}, "
                           f"{published(first)} {w.cite(first)}.")
    else:
        w.sentences.append(f"{asked} does not appear in those words; the closest form, "
                           f"“{first.stated}”, first appeared {place(first, several)}, "
                           f"{published(first)} {w.cite(first)}.")
    day = first.timestamp.day if first.timestamp else None
    reference = first
    if first.timestamp is not None and first.timestamp.date_only:
        timed = [a for a in exact if a.timestamp and not a.timestamp.date_only]
        if timed:
            reference = timed[0]
            w.sentences.append(f"Among the updates it first appeared at "
                               f"{when_text(reference.timestamp, day)} {w.cite(reference)}.")
    _approximate_forms(w, shown, reference, day)
    if exact and exact[-1] is not reference and exact[-1] is not first:
        w.sentences.append(f"It was stated exactly {len(exact)} times in all, most recently at "
                           f"{when_text(exact[-1].timestamp, day)} {w.cite(exact[-1])}.")
    return w.answer()


def _approximate_forms(w: Writer, shown: tuple[Appearance, ...], reference: Appearance,
                       day: date | None) -> None:
    """Name the approximate forms stated before `reference` (or, when its time is only a date,
    the same day), one appearance per distinct wording."""
    ref = reference.timestamp
    before = [a for a in shown if a.match == "approximate" and a.timestamp is not None
              and ref is not None and (a.timestamp.moment < ref.moment
                                       or ref.date_only and a.timestamp.day == ref.day)]
    forms: dict[str, Appearance] = {}
    for a in before:
        forms.setdefault(a.stated, a)
    listed = list(forms.values())[:MAX_FORMS]
    if not listed:
        return
    earlier = "earlier " if ref is not None and not ref.date_only else ""
    if len(listed) == 1:
        a = listed[0]
        w.sentences.append(f"An {earlier}approximate form, “{a.stated}”, appeared at "
                           f"{when_text(a.timestamp, day)} {w.cite(a)}.")
        return
    parts = "; ".join(f"“{a.stated}” at {when_text(a.timestamp, day)} {w.cite(a)}" for a in listed)
    w.sentences.append(f"{earlier.capitalize() or 'Other '}approximate forms: {parts}.")


def topic_answer(timeline: FigureTimeline) -> Answer | None:
    """The first figure of the group most about the topic, and how it was revised. When no
    article names the topic, an abstention saying so; None when one does but states no figure
    about it (the ordinary answer path then quotes the passages)."""
    if not timeline.groups:
        return None if timeline.covered else no_figure(timeline)
    group = timeline.groups[0]
    markers = group.values[0].markers
    first = next(a for a in timeline.appearances if a.marker == markers[0])
    several = len({a.figure.article_id for a in timeline.appearances}) > 1
    w = Writer([], [])
    w.sentences.append(f"The first figure reported on “{timeline.query.strip()}” ({group.label}) "
                       f"was {first.stated}, {place(first, several)}, {published(first)} "
                       f"{w.cite(first)}.")
    day = first.timestamp.day if first.timestamp else None
    revisions = [r for r in timeline.revisions
                 if r.article_id == group.article_id and r.group == group.label][:MAX_REVISIONS]
    for r in revisions:
        w.sentences.append(f"It was revised from {r.old.stated} {w.cite(r.old)} to "
                           f"{r.new.stated} at {when_text(r.new.timestamp, day)} {w.cite(r.new)}.")
    return w.answer()

