"""What the coverage reported in a window ("What was reported about the Dunmore evacuation on
November 3?"): the window's updates about the topic, in the order they were published, not the
one sentence that best repeats the question's words (qa/digest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eval.journalist import ARTICLES
from index.embed import HashingEmbedder
from qa.answer import AnswerSettings
from qa.digest import asks_what_was_reported, digest_answer, topic_terms
from qa.question_time import Window
from qa.service import NewsQA
from qa.settings import Settings


@pytest.fixture
def desk(settings: Settings) -> Iterator[NewsQA]:
    service = NewsQA(settings, embedder=HashingEmbedder(),
                     answer_settings=AnswerSettings(min_confidence=0.0))
    assert not [o for o in service.ingest_paths([ARTICLES]) if o.error]
    yield service
    service.close()


def quotes(service: NewsQA, question: str) -> list[str]:
    return [c.quote for c in service.ask(question).answer.citations]


def test_the_days_updates_about_the_story_are_quoted_though_they_repeat_none_of_its_words(
        desk: NewsQA) -> None:
    found = quotes(desk, "What was reported about the Dunmore evacuation on November 3?")
    assert any("ordered about 1,200 residents" in q for q in found), found
    assert not any("3,900" in q or "8,000 homes" in q for q in found), found


def test_a_digest_reads_in_the_order_the_updates_were_published(desk: NewsQA) -> None:
    answer = desk.ask("What has been reported about the Dunmore evacuation since 11:30 PM?").answer
    moments = [c.timestamp.moment for c in answer.citations if c.timestamp]
    assert len(moments) == len(answer.citations) >= 2
    assert moments == sorted(moments)
    assert "3,900" in answer.text and "1,200" not in answer.text


def test_only_updates_about_the_topic_are_quoted(desk: NewsQA) -> None:
    assert quotes(desk, "What did the health regulator say since 2 PM?") == [
        "The regulator said it had received 120 public comments in the first hours after the "
        "announcement."]


def test_no_digest_when_no_update_of_the_window_is_about_the_topic(desk: NewsQA) -> None:
    window, text, _ = desk.window_of("What did the Halden mayor say since midnight?", Window())
    passages = desk.search(text, None, None, window.as_of, window.since, window.story)
    assert passages  # the window has updates, none about a mayor
    assert digest_answer(text, passages, desk.collection.idf) is None


@pytest.mark.parametrize(("question", "digest"), [
    ("What was reported about the Dunmore evacuation on November 3?", True),
    ("What has Northline Power said since midnight?", True),
    ("What did the coverage say about the Dunmore shelters between midnight and 3 AM?", True),
    ("How many homes had Northline Power reported without power since midnight?", False),
    ("Who said the evacuation order would stay in place?", False),
    ("What is the average pay for an author, according to a new report?", True),
])
def test_which_questions_ask_what_was_reported(question: str, digest: bool) -> None:
    assert asks_what_was_reported(question) is digest


def test_the_framing_words_are_not_the_topic() -> None:
    assert topic_terms("What has been reported about the Dunmore evacuation?") == {
        "dunmor", "evacu"}



def test_a_window_that_never_mentions_the_topic_says_so_instead_of_quoting_another_story(
        desk: NewsQA) -> None:
    """Review finding: with nothing about the topic in the window, the usual answer quoted
    another story's updates ('the storm since noon' answered from a bridge story). The fares
    are covered in May; November 3 has only the Dunmore floods."""
    answer = desk.ask("What has been reported about the Lakeport fares on November 3, 2026?").answer
    assert answer.abstained and not answer.citations, answer.text
    assert "mentions what you asked about" in answer.text
    # 'officials' is in every story, the fares in none of that day's: not enough
    answer = desk.ask("What did officials say about the Lakeport fares on November 3, 2026?").answer
    assert answer.abstained and not answer.citations, answer.text
    # a topic the window does mention is still answered
    assert desk.ask("What did officials say about the evacuation on November 3, 2026?").answer.citations
