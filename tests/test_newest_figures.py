"""A figure the coverage revised is answered with its newest value: "the latest", "now", "as of
11:30 AM" and "how many" questions lead with the value published last in their window, cited
with its time, and say what it was revised from; change questions about a measurement ("the
river crest") are answered from its revisions. Hashing embedder, articles written here."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from qa.figures.latest import asks_latest, asks_newest, question_topic
from qa.figures.subject import head_term
from qa.models import Answer, Article, Timestamp, Update
from qa.question_time import Window
from qa.service import NewsQA

DAY = datetime(2026, 5, 4, tzinfo=UTC)


def at(hour: int, minute: int = 0) -> Timestamp:
    return Timestamp(DAY.replace(hour=hour, minute=minute))


def article(article_id: str, title: str, body: str, *updates: tuple[Timestamp, str]) -> Article:
    return Article(id=article_id, title=title, body=body,
                   published_at=Timestamp(DAY, date_only=True),
                   updates=tuple(Update(stamp, text) for stamp, text in updates))


@pytest.fixture
def river(service: NewsQA) -> NewsQA:
    service.ingest(article(
        "marrow", "Marrow river floods Osk", "Heavy rain swelled the Marrow river near Osk.",
        (at(10), "The Marrow river crest reached 5.1 metres at Osk bridge."),
        (at(11), "The Marrow river crest reached 5.5 metres at Osk bridge."),
        (at(12), "The Marrow river crest reached 5.9 metres at Osk bridge.")))
    service.ingest(article(
        "veltra", "Landslide hits Veltra", "A landslide buried part of the hill town of Veltra. "
        "Rescue teams said 20 people were killed.",
        (at(9), "The death toll rose: officials said 21 people were killed in Veltra.")))
    return service


def cited_hours(answer: Answer) -> list[int]:
    return [c.timestamp.moment.hour for c in answer.citations if c.timestamp]


@pytest.mark.parametrize("question", [
    "What is the latest Marrow river crest?",
    "What is the Marrow river crest now?",
    "What is the current Marrow river crest?",
])
def test_the_latest_value_leads_with_its_time_and_what_it_was_revised_from(
        river: NewsQA, question: str) -> None:
    answer = river.ask(question).answer
    assert answer.text.startswith("The latest figure is 5.9 metres, published at 12:00:00")
    assert "revised from 5.5 metres, published at 11:00:00" in answer.text
    assert "5.9 metres" in answer.citations[0].quote and cited_hours(answer)[:2] == [12, 11]
    assert all(river.quote_is_verbatim(c) for c in answer.citations)


def test_as_of_a_time_the_newest_value_published_by_then_leads(river: NewsQA) -> None:
    timed = river.ask("What was the Marrow river crest as of 11:30 AM?")
    assert timed.window.as_of is not None
    answer = timed.answer
    assert answer.text.startswith("The latest figure is 5.5 metres, published at 11:00:00")
    assert "revised from 5.1 metres" in answer.text and "5.9" not in answer.text
    assert all(c.timestamp and c.timestamp.moment <= timed.window.as_of
               for c in answer.citations)


def test_how_did_a_measurement_change_gives_each_revision(river: NewsQA) -> None:
    answer = river.ask("How did the Marrow river crest change?").answer
    assert "revised from 5.1 metres [1] to 5.5 metres at 11:00:00" in answer.text
    assert "revised from 5.5 metres [2] to 5.9 metres at 12:00:00" in answer.text


def test_how_many_about_a_revised_figure_leads_with_the_newest(river: NewsQA) -> None:
    answer = river.ask("How many people were killed in Veltra?").answer
    assert answer.text.startswith("The latest figure is 21 people, published at 09:00:00")
    assert "revised from 20 people" in answer.text
    assert "21 people" in answer.citations[0].quote


def test_a_question_about_an_earlier_moment_keeps_the_passage_answer(river: NewsQA) -> None:
    answer = river.ask("How many people did rescue teams first say were killed in Veltra?").answer
    assert not answer.abstained and "latest figure" not in answer.text
    assert "20 people" in answer.text


def test_an_amount_of_another_kind_is_not_the_newest_value_of_the_one_asked(
        service: NewsQA) -> None:
    service.ingest(article(
        "tolla", "Tolla bus depot approved", "Transit planners had budgeted $75 million for the "
        "Tolla bus depot.",
        (at(11), "The Tolla bus depot contract is worth $88 million after a second hall was "
                 "added.")))
    answer = service.ask("How much had transit planners budgeted for the Tolla bus depot?").answer
    assert "$75 million" in answer.text and "latest figure" not in answer.text


def test_a_policy_question_is_not_answered_with_figures(service: NewsQA) -> None:
    service.ingest(article(
        "brant", "Brant changes parking rules", "The Brant council changed its parking policy "
        "after a long debate. Parking fines in Brant will be $60.",
        (at(10), "Parking fines in Brant will be $70, the council said.")))
    answer = service.ask("How did the Brant parking policy change?").answer
    assert "revised from" not in answer.text and "latest figure" not in answer.text


def test_for_the_latest_the_newest_of_equally_relevant_sentences_leads(service: NewsQA) -> None:
    service.ingest(article(
        "osk", "Osk bridge traffic", "Police are directing traffic near Osk bridge.",
        (at(9), "Police said traffic on Osk bridge is stopped in both directions."),
        (at(10), "Police said traffic on Osk bridge is moving in one direction."),
        (at(11), "Police said traffic on Osk bridge is moving in both directions.")))
    answer = service.ask("What is the latest on traffic on Osk bridge?").answer
    assert cited_hours(answer)[0] == 11
    timed = service.ask("What was the traffic on Osk bridge as of 10:30 AM?").answer
    assert cited_hours(timed)[0] == 10


@pytest.mark.parametrize(("question", "window", "latest", "newest"), [
    ("What is the latest Marrow river crest?", Window(), True, True),
    ("What is the crest now?", Window(), True, True),
    ("What was the crest?", Window(as_of=DAY, phrase="as of 11:30 AM"), True, True),
    ("How many customers lost power?", Window(), False, True),
    ("How much is the contract worth?", Window(), False, True),
    ("How many households did the advisory first cover?", Window(), False, False),
    ("How fast were the winds when the storm came ashore?", Window(), False, False),
    ("How many residents left before the storm?", Window(), False, False),
    ("How many people have been rescued?", Window(since=DAY, phrase="since 2 PM"), False, False),
    ("What was the crest?", Window(), False, False),
])
def test_which_questions_ask_for_the_newest_value(question: str, window: Window, latest: bool,
                                                   newest: bool) -> None:
    assert asks_latest(question, window) is latest
    assert asks_newest(question, window) is newest


def test_what_a_question_asks_a_figure_of() -> None:
    assert question_topic("How many customers lost power in Storm Elena?") == \
        "customers lost power Storm Elena"
    assert question_topic("What is the latest Marrow river crest?") == "Marrow river crest"
    assert head_term("Marrow river crest") == "crest"
    assert head_term("death toll in Veltra") == "toll"
    assert head_term("Brant parking policy") == "polici"
