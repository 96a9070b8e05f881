"""The figure desk: timelines of figures and topics, article changes, and first-appearance
answers, over the library's stored figures. NewsQA hands its work here."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from index.text import analyze
from qa.answer_kind import expected_kind
from qa.figures.answers import figure_answer, first_appearance_topic, topic_answer
from qa.figures.change_answers import (
    NOT_SUBJECT,
    ChangeQuestion,
    change_question,
    revision_answer,
    timeline_answer,
)
from qa.figures.changes import ArticleChanges, article_changes
from qa.figures.extract import DEFAULT_REL_TOLERANCE, Figure, extract_figures, parse_figure_query
from qa.figures.index import published_by
from qa.figures.latest import (
    asks_latest,
    asks_newest,
    latest_answer,
    newest_answer,
    question_topic,
)
from qa.figures.subject import head_term, topic_of
from qa.figures.timeline import Appearance, FigureTimeline, SectionTexts, figure_timeline
from qa.figures.topics import (
    TOPIC_PASSAGES,
    article_terms,
    same_thing_timeline,
    topic_timeline,
    tracks,
)
from qa.library import Library
from qa.limits import checked_text
from qa.models import Answer, LastAnswer, Passage
from qa.question_time import TICK, Window

# (query, top_k, as_of) -> passages, as NewsQA.search retrieves them
SearchFn = Callable[[str, int, datetime | None], list[Passage]]
STORY_PASSAGES = 5  # a question's story: of these passages' articles, the one naming most of it


class FigureDesk:
    """Looks figures up by value or topic; every result quotes the stored text verbatim.
    Reads the library's figures only: the Library is the one writer."""

    def __init__(self, library: Library, search: SearchFn, max_query_chars: int = 1000) -> None:
        self.library = library
        self.search = search
        self.max_query_chars = max_query_chars

    def _checked(self, query: str) -> str:
        return checked_text(query, self.max_query_chars, "figure query",
                            "give a figure (\"$28.7 billion\") or a topic (\"ICE budget\")")

    def timeline(self, query: str, as_of: datetime | None = None,
                 tolerance: float = DEFAULT_REL_TOLERANCE) -> FigureTimeline:
        """Every appearance of the figure in `query`, or the figures about the topic it names."""
        text = self._checked(query)
        figure = parse_figure_query(text)
        if figure is not None:
            return figure_timeline(self.library.figures, self.library, text, figure, as_of,
                                   tolerance)
        passages = self.search(text, TOPIC_PASSAGES, as_of)
        return topic_timeline(self.library.figures, self.library, text, passages, as_of)

    def changes(self, article_id: str, since: datetime,
                as_of: datetime | None = None) -> ArticleChanges:
        return article_changes(self.library.figures, self.library, article_id, since, as_of)

    def answer(self, question: str, window: Window | None = None,
               last: LastAnswer | None = None) -> Answer | None:
        """The answer to a "when did X first appear?" or a change question ("what changed since
        …", "how did X change", "was X revised"), or None for other questions (and for a topic
        named in the coverage but with no figure), which the ordinary answer path takes. "How
        did X change" asks about a figure when X says so ("contract", "number of homes") or
        when the coverage tracks X's own figure (`tracks`: "the Marrow river crest reached 5.1
        metres", stated more than once); otherwise it asks what changed in the story. A latest
        question ("What is the latest Marrow river crest?", "... as of 11:30 AM?") naming a
        figure the coverage revised is answered with its newest value (qa/figures/latest.py).

        `last` is the turn a conversation's question leans on: a figure it calls "it", "that
        figure" or "the cost" is the one that turn's answer stated, and a change question that
        names no story is about the story it quoted."""
        window = window or Window()
        topic = first_appearance_topic(question)
        if topic is not None:
            return self._first_answer(question, topic, window.as_of, last)
        change = change_question(question)
        if change is None:
            return self._latest(question, window) if asks_latest(question, window) else None
        return self._change_answer(change, window, last)

    def _first_answer(self, question: str, topic: str, as_of: datetime | None,
                      last: LastAnswer | None) -> Answer | None:
        figure = parse_figure_query(question)
        if figure is not None:
            return figure_answer(figure_timeline(self.library.figures, self.library,
                                                 figure.surface, figure, as_of))
        if _points_back(topic, last):
            found = self._first_of_last(topic, last, as_of)
            if found is not None or _names_nothing(topic):
                return found or unresolved(topic, last)
        passages = self.search(topic, TOPIC_PASSAGES, as_of)
        return topic_answer(topic_timeline(self.library.figures, self.library, topic,
                                           passages, as_of))

    def _change_answer(self, change: ChangeQuestion, window: Window,
                       last: LastAnswer | None) -> Answer | None:
        as_of = window.as_of
        if change.topic and _points_back(change.topic, last):
            found = self._revisions_of_last(change.topic, last, as_of)
            if found is not None:
                return found
            if change.kind == "figure" and _names_nothing(change.topic):
                return unresolved(change.topic, last)
        named = bool(change.topic) and not _names_nothing(change.topic)  # not "How did it change?"
        if named and topic_of(change.topic).terms:
            passages = self.search(change.topic, TOPIC_PASSAGES, as_of)
            timeline = topic_timeline(self.library.figures, self.library, change.topic,
                                      passages, as_of)
            if change.kind == "figure" or tracks(timeline, head_term(change.topic)):
                return revision_answer(timeline)
        if not change.timeline:
            return None
        article_id = self.story_of(change.subject, as_of, last.story if last else None)
        if article_id is None:
            return None
        since = window.since if window.since is not None else self._before_latest(article_id,
                                                                                  as_of)
        changes = article_changes(self.library.figures, self.library, article_id, since, as_of)
        return timeline_answer(changes, self.library.record(article_id).url)

    def _first_of_last(self, topic: str, last: LastAnswer | None,
                       as_of: datetime | None) -> Answer | None:
        """When the figure the last answer stated first appeared ("When was it first
        reported?"), or None when that answer stated none."""
        stated = self._last_figure(topic, last, as_of)
        if stated is None:
            return None
        figure = stated.figure
        return figure_answer(figure_timeline(self.library.figures, self.library, figure.surface,
                                             figure, as_of))

    def _revisions_of_last(self, topic: str, last: LastAnswer | None,
                           as_of: datetime | None) -> Answer | None:
        """How the figure the last answer stated was revised ("Was that figure revised?"), or
        None when that answer stated none."""
        stated = self._last_figure(topic, last, as_of)
        if stated is None:
            return None
        return revision_answer(same_thing_timeline(self.library.figures, self.library,
                                                   stated.figure, stated.stated, as_of))

    def _last_figure(self, topic: str, last: LastAnswer | None,
                    as_of: datetime | None) -> Appearance | None:
        """The stored figure that the last answer stated and `topic` ("it", "that figure", "the
        cost") can mean: the first, in the order quoted, of the kind the last question asked for
        ("How much": money), else of any kind `topic` admits; None when the answer stated none
        (or its question asked for no number)."""
        if last is None or not _asks_figure(last.question):
            return None
        admits = topic_of(topic)
        stated = [(quote, f) for quote in last.quotes for f in extract_figures(quote)
                  if admits.admits_kind(f.kind)]
        wanted = _asked_kind(last.question)
        stated.sort(key=lambda pair: pair[1].kind != wanted)  # stable: quoted order otherwise
        for quote, figure in stated:
            found = self._stored(quote, figure, last.story, as_of)
            if found is not None:
                return found
        return None

    def _stored(self, quote: str, figure: Figure, story: str | None,
                as_of: datetime | None) -> Appearance | None:
        """Where the coverage states `figure` as the sentence `quote` does: that sentence (the
        answer may have quoted it with a neighbour, or without its reference marks), else the
        first exact appearance in `story`, else the first exact one anywhere."""
        exact = [a for a in figure_timeline(self.library.figures, self.library, figure.surface,
                                            figure, as_of, 0.0).appearances
                 if a.match == "exact"]
        ranked = sorted(exact, key=lambda a: (not _same_sentence(a.quote, quote),
                                              a.figure.article_id != story))
        return ranked[0] if ranked else None

    def _latest(self, question: str, window: Window) -> Answer | None:
        """The newest value of the revised figure a latest question names, or None; from the
        story whose clock a time in the question was read on, when it was."""
        topic = question_topic(question)
        if not topic_of(topic).terms:
            return None
        passages = [p for p in self.search(topic, TOPIC_PASSAGES, window.as_of)
                    if window.story is None or p.chunk.article_id == window.story]
        timeline = topic_timeline(self.library.figures, self.library, topic, passages,
                                  window.as_of)
        if not tracks(timeline, head_term(topic)):
            return None
        return latest_answer(timeline, self.library.figures, self.library)

    def newest(self, answer: Answer, question: str, window: Window) -> Answer:
        """`answer` led by the newest value of the figure it leads with, when the coverage
        revised that figure by the window's end (qa/figures/latest.py); else `answer`."""
        if not asks_newest(question, window):
            return answer
        return newest_answer(answer, question, self.library.figures, self.library,
                             window.as_of) or answer

    def story_of(self, subject: str, as_of: datetime | None,
                 conversation: str | None = None) -> str | None:
        """The article a question is about: that of its best passage, or, when it names nothing
        ("What changed since 6:30 PM?"), the story the `conversation` is on (when it is stored
        and published to by `as_of`), else the one updated last by `as_of`."""
        terms = set(analyze(subject)) - NOT_SUBJECT
        if terms:
            texts = SectionTexts(self.library)
            found = list(dict.fromkeys(p.chunk.article_id
                                       for p in self.search(subject, STORY_PASSAGES, as_of)))
            if found:
                return max(found, key=lambda a: (len(terms & article_terms(
                    self.library, texts, a, as_of)), -found.index(a)))
        if conversation in self.library.article_ids() and self.latest_moment(conversation, as_of):
            return conversation
        latest = [(moment, a) for a in self.library.article_ids()
                  if (moment := self.latest_moment(a, as_of)) is not None]
        return max(latest)[1] if latest else None

    def latest_moment(self, article_id: str, by: datetime | None) -> datetime | None:
        """When the article was last published to, up to `by`."""
        stamps = self._stamps(article_id, by)
        return stamps[-1] if stamps else None

    def _stamps(self, article_id: str, by: datetime | None) -> list[datetime]:
        found = []
        for _, stamp in self.library.record(article_id).section_stamps():
            if stamp is not None and published_by(stamp, by):
                found.append(stamp.moment)
        return sorted(found)

    def _before_latest(self, article_id: str, as_of: datetime | None) -> datetime:
        """`since` for "what's new" with no time: just before the latest update."""
        updates = [u.published_at for u in self.library.record(article_id).updates]
        moments = sorted(s.moment for s in updates if published_by(s, as_of))
        if len(moments) >= 2:
            return moments[-2]
        return (moments[-1] if moments else as_of or datetime.now(UTC)) - TICK


def _names_nothing(topic: str) -> bool:
    """"it", "that figure", "the number": words that point back, never a topic to look up."""
    about = topic_of(topic)
    return not about.subject and not about.kind_words


def _points_back(topic: str, last: LastAnswer | None) -> bool:
    """Whether a figure question's `topic` leans on the last answer instead of naming a subject:
    one that names nothing always does; a kind of figure alone ("the cost") does in a
    conversation."""
    return _names_nothing(topic) or last is not None and not topic_of(topic).subject


def _asks_figure(question: str) -> bool:
    """Whether `question` asked for a figure, so its answer's figures are what it was about: a
    number ("How much is it worth?") or a figure's history ("When was it first reported?")."""
    return (expected_kind(question) == "number" or first_appearance_topic(question) is not None
            or change_question(question) is not None)


def _asked_kind(question: str) -> str | None:
    """The kind of figure a number question asks for: money for "how much", a count for "how
    many", a percentage for "what percent(age)/share/rate"; None when it does not say."""
    lowered = question.lower()
    if re.search(r"\bhow many\b", lowered):
        return "count"
    if re.search(r"\b(?:percent|percentage|share|rate)\b", lowered):
        return "percent"
    return "money" if re.search(r"\bhow much\b|\bworth\b|\bcost\b", lowered) else None


def _same_sentence(stored: str, quoted: str) -> bool:
    """Whether the stored sentence `stored` is the one an answer quoted as `quoted` (which may
    hold a neighbour too, or lack the source's reference marks)."""
    a, b = (" ".join(analyze(t)) for t in (stored, quoted))
    return bool(a) and bool(b) and (a in b or b in a)


def unresolved(topic: str, last: LastAnswer | None) -> Answer:
    """The abstention for a figure question whose "it" or "that figure" points at nothing."""
    said = " ".join(topic.split())
    why = ("the last answer states no figure it could be" if last is not None
           else "the question names no figure or subject")
    return Answer(f"I can't tell which figure “{said}” means: {why}. Name the figure or what it "
                  "is about, as in “When was $28.7 billion first reported?” or “Was the ICE "
                  "budget revised?”.", abstained=True)
