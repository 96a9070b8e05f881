"""Figures tied to their subject: a figure counts for "the Palantir contract" only when its own
clause names Palantir, and a topic no passage is about gets an empty look-up that says so."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from qa.figures.subject import clause_at, topic_of
from qa.models import Article, Timestamp, Update
from qa.service import NewsQA
from tests.conftest import DEMO, require_sample

DAY = datetime(2026, 5, 12, tzinfo=UTC)


def at(hour: int, minute: int = 0) -> Timestamp:
    return Timestamp(DAY.replace(hour=hour, minute=minute))


@pytest.fixture
def sample(service: NewsQA) -> NewsQA:
    outcomes = list(service.ingest_paths([require_sample(), DEMO]))
    assert all(o.error is None for o in outcomes), outcomes
    return service


@pytest.fixture
def ice_only(service: NewsQA) -> NewsQA:
    assert all(o.error is None for o in service.ingest_paths([require_sample()]))
    return service


def vendors_article(*updates: Update) -> Article:
    """Two vendors' figures in one body sentence, then `updates`."""
    return Article(
        id="vendors", title="City Picks Vendors for Fare Cards", published_at=Timestamp(DAY, True),
        body=("Acme Pay will supply the readers under a contract worth $18.2 million, while "
              "Orbis Data will run the website for $4.6 million."),
        updates=updates)


@pytest.fixture
def vendors(service: NewsQA) -> NewsQA:
    service.ingest(vendors_article(
        Update(at(9), "The city signed a $2 million deal with Kestrel Labs and a $7 million "
                      "contract with Halden Systems for the back office."),
        Update(at(11), "The Acme Pay contract was revised to $19.5 million.")))
    return service


def test_palantir_contract_is_palantirs_figure_not_the_ice_budget(sample: NewsQA) -> None:
    answer = sample.ask("When was the Palantir contract first reported?").answer
    assert "$30 million" in answer.text
    assert "$29 billion" not in answer.text and "$3.75 million" not in answer.text
    assert all("Palantir" in c.quote for c in answer.citations)
    assert all(sample.quote_is_verbatim(c) for c in answer.citations)


def test_a_contract_the_coverage_never_names_has_no_figure(sample: NewsQA) -> None:
    answer = sample.ask("When was the Microsoft contract first reported?").answer
    assert answer.abstained and not answer.citations
    assert "$3.75 million" not in answer.text and "Microsoft contract" in answer.text


def test_topic_no_passage_is_about_is_empty_and_says_so(ice_only: NewsQA) -> None:
    t = ice_only.figures("power outages")
    assert t.appearances == () and t.groups == ()
    assert t.note is not None and "no figure" in t.note and "power outages" in t.note


def test_api_and_cli_say_none(ice_only: NewsQA) -> None:
    app = create_app(ice_only.settings, service=ice_only)
    with TestClient(app) as client:
        body = client.get("/v1/figures", params={"q": "power outages"}).json()
    assert body["count"] == 0 and body["appearances"] == [] and "no figure" in body["note"]


@pytest.mark.parametrize(("topic", "wanted", "unwanted"), [
    ("Acme Pay contract", "$18.2 million", "$4.6 million"),
    ("Orbis Data contract", "$4.6 million", "$18.2 million"),
    ("Kestrel Labs deal", "$2 million", "$7 million"),
    ("Halden Systems contract", "$7 million", "$2 million"),
])
def test_two_figures_about_two_subjects_in_one_sentence(vendors: NewsQA, topic: str, wanted: str,
                                                        unwanted: str) -> None:
    stated = [a.stated for a in vendors.figures(topic).appearances]
    assert wanted in stated and unwanted not in stated
    answer = vendors.ask(f"When was the {topic} first reported?").answer
    assert wanted in answer.text and unwanted not in answer.text


def test_revision_follows_its_own_subject(vendors: NewsQA) -> None:
    acme = vendors.figures("Acme Pay contract")
    assert [(r.old.stated, r.new.stated) for r in acme.revisions] == [("$18.2 million",
                                                                      "$19.5 million")]
    assert vendors.figures("Orbis Data contract").revisions == ()


def test_clause_and_topic_rules() -> None:
    sentence = "ICE uses Palantir's system, contributing to a budget of nearly $29 billion."
    assert clause_at(sentence, sentence.index("$29")) == "contributing to a budget of nearly $29 billion."
    joined = "a $3.75 million contract with Clearview and a $30 million Palantir contract"
    assert "Palantir" in clause_at(joined, joined.index("$30"), [joined.index("$3.75")])
    assert "Palantir" not in clause_at(joined, joined.index("$3.75"), [joined.index("$30")])
    topic = topic_of("the number of Palantir contracts")
    assert topic.subject == frozenset({"palantir"}) and topic.kind == "money"


@pytest.fixture
def staffed(service: NewsQA) -> NewsQA:
    service.ingest(vendors_article(
        Update(at(9), "A spokesperson for Acme Pay said the company will open an office with 30 "
                      "staff.")))
    return service


def test_a_figure_of_the_thing_asked_but_of_another_owner_is_not_the_owners(
        staffed: NewsQA) -> None:
    # Acme Pay's 30 staff are not Orbis Data's, nor is Orbis Data's $4.6 million a staff count
    assert staffed.figures("Orbis Data staff count").appearances == ()
    answer = staffed.ask("How did the Orbis Data staff count change?").answer
    assert answer.abstained and "30 staff" not in answer.text and "$4.6" not in answer.text
    assert [a.stated for a in staffed.figures("Acme Pay staff").appearances] == ["30 staff"]


def test_a_topic_led_by_a_capitalised_common_word_still_names_its_owner(staffed: NewsQA) -> None:
    # "Staff" leads the topic, it names no one: Orbis Data still owns it, so Acme Pay's 30 staff
    # and Orbis Data's $4.6 million are no Orbis Data staff count; "Contract" still asks for money
    assert staffed.figures("Staff count at Orbis Data").appearances == ()
    assert [a.stated for a in staffed.figures("Staff at Acme Pay").appearances] == ["30 staff"]
    assert [a.stated for a in staffed.figures("Contract of Acme Pay").appearances] == [
        "$18.2 million"]
    possessive = topic_of("Corvane's cleanup budget")
    assert possessive.owner and possessive.kind == "money"
    assert topic_of("Orbis Data staff count").owner == topic_of("staff count at Orbis Data").owner
