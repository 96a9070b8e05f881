"""Times written in a question bound the evidence, and change questions are answered from the
update timeline; on the shared sample and the demo corpus, through NewsQA and the API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from api.app import create_app
from qa.models import Article, Timestamp, Update
from qa.service import NewsQA
from tests.conftest import DEMO, SAMPLE_ID, require_sample

AT_1735 = datetime(2025, 10, 8, 17, 35, 59, 999999, tzinfo=UTC)
AT_1830 = datetime(2025, 10, 8, 18, 30, tzinfo=UTC)


@pytest.fixture
def sample(service: NewsQA) -> NewsQA:
    outcomes = list(service.ingest_paths([require_sample(), DEMO]))
    assert all(o.error is None for o in outcomes), outcomes
    return service


def test_as_of_written_in_the_question_bounds_the_quotes(sample: NewsQA) -> None:
    timed = sample.ask("What did the coverage say about ICE's budget as of 5:35 PM?")
    assert timed.window.as_of == AT_1735 and timed.window.phrase == "as of 5:35 PM"
    assert not timed.answer.abstained and timed.answer.citations
    assert all(c.timestamp and c.timestamp.moment <= AT_1735 for c in timed.answer.citations)


@pytest.fixture
def ice_only(service: NewsQA) -> NewsQA:
    assert all(o.error is None for o in service.ingest_paths([require_sample()]))
    return service


def test_what_changed_since_lists_the_updates_after_that_time(ice_only: NewsQA) -> None:
    sample = ice_only
    timed = sample.ask("What changed since 6:30 PM?")
    answer = timed.answer
    assert timed.window.since is not None and timed.window.since < AT_1830
    assert not answer.abstained and answer.citations
    assert all(c.article_id == SAMPLE_ID and c.timestamp and c.timestamp.moment >= AT_1830
               for c in answer.citations)
    changes = sample.changes(SAMPLE_ID, AT_1830)
    for u in changes.updates:
        assert f"(update {u.index})" in answer.text
    assert all(sample.quote_is_verbatim(c) for c in answer.citations)


def test_an_unrevised_figure_is_stated_throughout(sample: NewsQA) -> None:
    answer = sample.ask("How did the ICE budget figure change across updates?").answer
    assert "$28.7 billion throughout, first reported" in answer.text
    assert "DOGE" not in answer.text
    assert all("$28.7 billion" in c.quote for c in answer.citations)


def test_was_it_revised_gives_both_values_and_times(sample: NewsQA) -> None:
    answer = sample.ask("Was the bridge contract cost revised?").answer
    assert "revised from $410 million [1] to $452 million at 14:20:00" in answer.text
    assert [c.timestamp.iso() for c in answer.citations if c.timestamp] == [
        "2026-03-14", "2026-03-14T14:20:00+00:00"]


def test_window_the_question_and_as_of_disagree_on(sample: NewsQA) -> None:
    early = datetime(2025, 10, 8, 17, 25, tzinfo=UTC)
    timed = sample.ask("What did the coverage say about ICE's budget as of 6:45 PM?", as_of=early)
    assert timed.window.as_of == early   # the stricter bound wins
    assert all(c.timestamp and c.timestamp.moment <= early for c in timed.answer.citations)
    empty = sample.ask("What changed since 6:30 PM?", as_of=early)
    assert empty.answer.abstained and not empty.answer.citations
    assert "Nothing in the coverage was published" in empty.answer.text


def test_no_updates_in_the_window_says_so(sample: NewsQA) -> None:
    answer = sample.ask("What changed in the ICE deportation story since 7:30 PM?").answer
    assert answer.abstained and not answer.citations and "No update" in answer.text


def test_api_and_chat_carry_the_window(sample: NewsQA) -> None:
    app = create_app(sample.settings, service=sample)
    with TestClient(app) as client:
        body = client.post("/v1/ask", json={
            "question": "What did the coverage say about ICE's budget as of 5:35 PM?"}).json()
        chat = client.post("/v1/chat", json={"messages": [
            {"role": "user", "content": "What changed in the ICE story since 6:30 PM?"}]}).json()
    assert body["window"] == {"since": None, "as_of": AT_1735.isoformat(),
                              "from_question": "as of 5:35 PM"}
    assert chat["window"]["from_question"] == "since 6:30 PM"
    assert all(c["article_id"] == SAMPLE_ID for c in chat["citations"])
    assert chat["window"]["since"].startswith("2025-10-08T18:29:59")




@pytest.fixture
def harbour(service: NewsQA) -> NewsQA:
    path = Path(__file__).parent / "fixtures" / "harbour-wall-rebuilt.txt"
    assert all(o.error is None for o in service.ingest_paths([path]))
    return service


def test_a_date_the_event_happened_on_does_not_bound_the_coverage(harbour: NewsQA) -> None:
    # Nothing was published on March 12, 2019: the date says when the wall collapsed, so it is
    # searched for, not read as "coverage published that day" (which answered with nothing).
    timed = harbour.ask("How many homes were flooded when the harbour wall collapsed on "
                        "March 12, 2019?")
    assert timed.window.since is None and timed.window.as_of is None
    assert not timed.answer.abstained and "46 homes" in timed.answer.text
    assert all(harbour.quote_is_verbatim(c) for c in timed.answer.citations)


def test_a_date_asked_of_the_coverage_still_bounds_it(harbour: NewsQA) -> None:
    before = harbour.ask("What was reported about the harbour wall on March 12, 2019?").answer
    assert before.abstained and "Nothing in the coverage was published" in before.text
    during = harbour.ask("What did the council say the harbour wall cost on April 2, 2026?")
    assert during.window.as_of is not None and not during.answer.abstained
    assert "£8.4 million" in during.answer.text


# -- a zone the question names, and times past the calendar's ends, through the API ----------

def _power_story() -> Article:
    def at(hour: int, minute: int) -> Timestamp:
        return Timestamp(datetime(2026, 3, 14, hour, minute, tzinfo=UTC))

    return Article(id="valley-power", title="Storm Cuts Power Across the Valley",
                   published_at=Timestamp(datetime(2026, 3, 14, tzinfo=UTC), date_only=True),
                   body="A winter storm brought down power lines across the valley on Saturday.",
                   updates=(Update(at(21, 0), "About 40,000 customers were without power, the "
                                   "utility said."),
                            Update(at(22, 15), "About 65,000 customers were without power after "
                                   "a second transmission line failed.")))


@pytest.fixture
def power_client(service: NewsQA) -> Iterator[TestClient]:
    service.ingest(_power_story())
    with TestClient(create_app(service.settings, service), raise_server_exceptions=False) as c:
        yield c


def _ask_and_chat(client: TestClient, question: str) -> list[Response]:
    return [client.post("/v1/ask", json={"question": question}),
            client.post("/v1/chat", json={"messages": [{"role": "user", "content": question}]})]


def test_a_zone_abbreviation_in_the_question_sets_its_clock(power_client: TestClient) -> None:
    # 10:30 PM CET on 14 March is 21:30 UTC: the 22:15 UTC update is after it. The zone was
    # dropped, and the window read as 22:30 UTC, quoting the 65,000 of 22:15.
    for response in _ask_and_chat(power_client, "How many customers were without power as of "
                                                "10:30 PM CET?"):
        body = response.json()
        assert response.status_code == 200
        assert body["window"]["as_of"] == "2026-03-14T22:30:59.999999+01:00"
        assert body["window"]["from_question"] == "as of 10:30 PM CET"
        assert "40,000" in body["answer"] and "65,000" not in body["answer"]
        assert all(c["timestamp"] <= "2026-03-14T21:30" for c in body["citations"]
                   if c["section"] == "update")


@pytest.mark.parametrize(("question", "zone", "problem"), [
    ("How many customers were without power as of 10:30 PM XYZT?", "XYZT", "not a zone"),
    ("How many customers were without power as of 10:30 PM IST?", "IST", "ambiguous"),
])
def test_a_zone_word_that_cannot_be_read_is_a_400_saying_how_to_write_it(
        power_client: TestClient, question: str, zone: str, problem: str) -> None:
    for response in _ask_and_chat(power_client, question):
        detail = response.json()["detail"]
        assert response.status_code == 400, detail
        assert repr(zone) in detail and problem in detail and "+01:00" in detail


@pytest.mark.parametrize(("question", "phrase"), [
    ("What was reported on 12/31/9999?", "on 12/31/9999"),
    ("What was reported on 9999-12-31?", "on 9999-12-31"),
    ("What changed since 1/1/0001?", "since 1/1/0001"),
    ("What was reported on December 31, 9999 at 11 PM?", "on December 31, 9999"),
])
def test_a_time_at_the_calendars_end_is_a_400_naming_it_not_a_500(
        power_client: TestClient, question: str, phrase: str) -> None:
    for response in _ask_and_chat(power_client, question):
        detail = response.json()["detail"]
        assert response.status_code == 400, detail
        assert repr(phrase) in detail and "0001-01-02 to 9999-12-30" in detail


def test_yesterday_asked_as_of_the_first_day_is_a_400(power_client: TestClient) -> None:
    response = power_client.post("/v1/ask", json={"question": "What changed since yesterday?",
                                                  "as_of": "0001-01-01T00:00:00+00:00"})
    assert response.status_code == 400
    assert "'since yesterday'" in response.json()["detail"]
