"""The figure desk: timelines of figures and topics, article changes, and first-appearance
answers, over the library's stored figures. NewsQA hands its work here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from index.text import analyze
from qa.figures.answers import figure_answer, first_appearance_topic, topic_answer
from qa.figures.change_answers import (
    NOT_SUBJECT,
    change_question,
    revision_answer,
    timeline_answer,
)
from qa.figures.changes import ArticleChanges, article_changes
from qa.figures.extract import DEFAULT_REL_TOLERANCE, parse_figure_query
from qa.figures.index import published_by
from qa.figures.timeline import FigureTimeline, SectionTexts, figure_timeline
from qa.figures.topics import TOPIC_PASSAGES, article_terms, topic_timeline
from qa.library import Library
from qa.limits import checked_text
from qa.models import Answer, Passage
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

    def answer(self, question: str, window: Window | None = None) -> Answer | None:
        """The answer to a "when did X first appear?" or a change question ("what changed since
        …", "how did X change", "was X revised"), or None for other questions (and for a topic
        named in the coverage but with no figure), which the ordinary answer path takes."""
        window = window or Window()
        as_of = window.as_of
        topic = first_appearance_topic(question)
        if topic is not None:
            figure = parse_figure_query(question)
            if figure is not None:
                return figure_answer(figure_timeline(self.library.figures, self.library,
                                                     figure.surface, figure, as_of))
            passages = self.search(topic, TOPIC_PASSAGES, as_of)
            return topic_answer(topic_timeline(self.library.figures, self.library, topic,
                                               passages, as_of))
        change = change_question(question)
        if change is None:
            return None
        if change.kind == "figure" or change.topic and self._counts(change.topic, as_of):
            passages = self.search(change.topic, TOPIC_PASSAGES, as_of)
            return revision_answer(topic_timeline(self.library.figures, self.library,
                                                  change.topic, passages, as_of))
        if not change.timeline:
            return None
        article_id = self.story_of(change.subject, as_of)
        if article_id is None:
            return None
        since = window.since if window.since is not None else self._before_latest(article_id,
                                                                                  as_of)
        changes = article_changes(self.library.figures, self.library, article_id, since, as_of)
        return timeline_answer(changes, self.library.record(article_id).url)

    def _counts(self, topic: str, as_of: datetime | None) -> bool:
        """Whether `topic` names a noun that the figures of its best article count ("job cuts")."""
        article_id = self.story_of(topic, as_of)
        if article_id is None:
            return False
        nouns = {f.noun for f in self.library.figures.article(article_id) if f.noun}
        return bool(set(analyze(topic)) & set(analyze(" ".join(nouns))))

    def story_of(self, subject: str, as_of: datetime | None) -> str | None:
        """The article a question is about: that of its best passage, or, when it names nothing
        ("What changed since 6:30 PM?"), the one updated last by `as_of`."""
        terms = set(analyze(subject)) - NOT_SUBJECT
        if terms:
            texts = SectionTexts(self.library)
            found = list(dict.fromkeys(p.chunk.article_id
                                       for p in self.search(subject, STORY_PASSAGES, as_of)))
            if found:
                return max(found, key=lambda a: (len(terms & article_terms(
                    self.library, texts, a, as_of)), -found.index(a)))
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
