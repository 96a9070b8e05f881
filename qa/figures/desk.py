"""The figure desk: timelines of figures and topics, article changes, and first-appearance
answers, over the library's stored figures. NewsQA hands its work here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from qa.errors import InvalidQuestion
from qa.figures.answers import figure_answer, first_appearance_topic, topic_answer
from qa.figures.changes import ArticleChanges, article_changes
from qa.figures.extract import DEFAULT_REL_TOLERANCE, parse_figure_query
from qa.figures.timeline import FigureTimeline, figure_timeline
from qa.figures.topics import TOPIC_PASSAGES, topic_timeline
from qa.library import Library
from qa.models import Answer, Passage

# (query, top_k, as_of) -> passages, as NewsQA.search retrieves them
SearchFn = Callable[[str, int, datetime | None], list[Passage]]


class FigureDesk:
    """Looks figures up by value or topic; every result quotes the stored text verbatim.
    Reads the library's figures only: the Library is the one writer."""

    def __init__(self, library: Library, search: SearchFn, max_query_chars: int = 1000) -> None:
        self.library = library
        self.search = search
        self.max_query_chars = max_query_chars

    def _checked(self, query: str) -> str:
        text = query.strip()
        if not text:
            raise InvalidQuestion("the figure query is empty; give a figure (\"$28.7 billion\") "
                                  "or a topic (\"ICE budget\")")
        if len(text) > self.max_query_chars:
            raise InvalidQuestion(f"the figure query has {len(text):,} characters, over the limit "
                                  f"of {self.max_query_chars:,}; shorten it")
        return text

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

    def answer(self, question: str, as_of: datetime | None = None) -> Answer | None:
        """The answer to a "when did X first appear?" question, or None for other questions
        (and for a topic with no figures), which the ordinary answer path takes."""
        topic = first_appearance_topic(question)
        if topic is None:
            return None
        figure = parse_figure_query(question)
        if figure is not None:
            return figure_answer(figure_timeline(self.library.figures, self.library,
                                                 figure.surface, figure, as_of))
        passages = self.search(topic, TOPIC_PASSAGES, as_of)
        return topic_answer(topic_timeline(self.library.figures, self.library, topic, passages,
                                           as_of))
