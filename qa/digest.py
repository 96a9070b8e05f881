"""What the coverage reported in a window: "What was reported about the Dunmore evacuation on
November 3?", "What did the regulator say since 2 PM?".

Such a question asks for the updates of that time, not for the one sentence that best repeats
its words: its words are a framing verb ("reported", "said") and a topic, and the topic is often
the story's own name ("the Dunmore evacuation", in the title "... Force Evacuations in Dunmore"),
which every update of the story shares and few of its sentences repeat ("County officials
ordered about 1,200 residents to leave"). So the answer is a digest of the window's passages:

- a passage is about the topic when it, with its article's title, holds every term of it;
- from each, the sentence holding most of the topic terms its title lacks, else its first
  sentence (an update leads with its news);
- the best-ranked such passages, at most `max_sentences`, quoted in the order they were published.

When no passage of the window is about the topic, or the question asks for something more
definite (a number, a name, a time), the usual answer (qa/answer.py) is composed instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from index.text import analyze
from qa.answer import display_sentence
from qa.answer_kind import expected_kind
from qa.models import Answer, Citation, Passage
from qa.sentences import split_sentences

# "What was reported / has been said / did the coverage say ... about X": the coverage asked about.
_ASKS_WHAT_WAS_REPORTED = re.compile(
    r"^\s*what\b(?:(?!\b(?:how|which|who|whom|when|where|why)\b).)*?"
    r"\b(?:report(?:s|ed)?|sa(?:y|ys|id)|stated?|announced?|published|written|wrote|covered)\b",
    re.IGNORECASE)
# Words that frame the question, not its topic (analysed as the index analyses text).
_FRAMING = frozenset(analyze(
    "report reports reported say says said state stated announce announced publish published "
    "write wrote written cover covered coverage news article story update updates"))


def asks_what_was_reported(question: str) -> bool:
    """True for an open question about what the coverage said ("What has Northline Power said
    since midnight?"), not one asking for a number, a name or a time."""
    return (_ASKS_WHAT_WAS_REPORTED.search(question) is not None
            and expected_kind(question) is None)


def topic_terms(question: str) -> frozenset[str]:
    """The question's terms without the words that frame it ("reported", "say", "coverage")."""
    return frozenset(analyze(question)) - _FRAMING


def mentions_topic(question: str, passages: list[Passage], idf: Callable[[str], float]) -> bool:
    """True when every word of the question's topic that the coverage holds anywhere (idf above
    0) is held by some passage (with its article's title): False for "What did officials say
    about the storm on March 14?" when that day's updates are all about a bridge. Words no
    stored text holds (a paraphrase) are left to the usual answer, which reads by meaning."""
    held: set[str] = set()
    for passage in passages:
        held.update(analyze(passage.chunk.title))
        held.update(analyze(passage.chunk.text))
    return all(t in held for t in topic_terms(question) if idf(t) > 0)


def _published(passage: Passage) -> datetime | None:
    stamp = passage.chunk.timestamp
    return stamp.moment if stamp is not None else None


def _best_sentence(passage: Passage, wanted: frozenset[str],
                   idf: Callable[[str], float]) -> tuple[int, int] | None:
    """The span of the sentence holding most of `wanted` (by weight); the first on a tie."""
    text = passage.chunk.text
    best: tuple[float, int, int] | None = None
    for span in split_sentences(text):
        if span.heading or not analyze(text[span.start:span.end]):
            continue
        weight = sum(idf(t) for t in wanted & set(analyze(text[span.start:span.end])))
        if best is None or weight > best[0]:
            best = (weight, span.start, span.end)
    return None if best is None else (best[1], best[2])


def digest_answer(question: str, passages: list[Passage], idf: Callable[[str], float],
                  max_sentences: int = 3) -> Answer | None:
    """A digest of what `passages` (the window's, best first) reported about the question's
    topic, or None when none of them is about it."""
    topic = topic_terms(question)
    chosen: list[tuple[Passage, int, int]] = []
    for passage in passages:
        title = frozenset(analyze(passage.chunk.title))
        held = title | frozenset(analyze(passage.chunk.text))
        if not topic <= held:
            continue
        span = _best_sentence(passage, topic - title, idf)
        if span is not None:
            chosen.append((passage, *span))
        if len(chosen) == max_sentences:
            break
    if not chosen:
        return None
    chosen.sort(key=lambda c: (_published(c[0]) is None, _published(c[0]) or datetime.min,
                               c[0].chunk.start + c[1]))
    parts, citations = [], []
    for marker, (passage, start, end) in enumerate(chosen, start=1):
        chunk = passage.chunk
        quote = chunk.text[start:end]
        citations.append(Citation(
            marker=marker, quote=quote, article_id=chunk.article_id, title=chunk.title,
            url=chunk.url, section=chunk.section, timestamp=chunk.timestamp,
            score=round(passage.score, 4), start=chunk.start + start, end=chunk.start + end))
        parts.append(f"{display_sentence(quote)} [{marker}]")
    return Answer(" ".join(parts), abstained=False, citations=tuple(citations),
                  passages=tuple(passages))
