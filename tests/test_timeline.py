"""Figure timelines for journalists: when a figure first appeared, how it was revised, what the
coverage said at a given moment, and what changed since then; from NewsQA, the API and the CLI."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import fields
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from index.embed import HashingEmbedder
from qa.errors import ArticleNotFound, InvalidQuestion
from qa.figures.answers import first_appearance_topic
from qa.figures.extract import Figure, extract_figures
from qa.figures.index import FigureAt, figure_record
from qa.figures.timeline import Appearance, FigureTimeline
from qa.figures.topics import restates
from qa.models import Article, Timestamp, Update
from qa.service import NewsQA
from tests.conftest import DEMO, SAMPLE_ID, local_client, require_sample

DAY = datetime(2025, 10, 8, tzinfo=UTC)
AT_1735 = datetime(2025, 10, 8, 17, 35, tzinfo=UTC)
FIRST_QUESTION = "When did the $28.7 billion figure first appear?"


def at(hour: int, minute: int, second: int = 0, day: datetime = DAY) -> Timestamp:
    return Timestamp(day.replace(hour=hour, minute=minute, second=second))


def article(article_id: str, body: str, *updates: tuple[Timestamp, str],
            day: datetime = DAY) -> Article:
    return Article(id=article_id, title=f"Story {article_id}", body=body,
                   published_at=Timestamp(day, date_only=True),
                   updates=tuple(Update(stamp, text) for stamp, text in updates))


@pytest.fixture
def sample(service: NewsQA) -> NewsQA:
    outcomes = list(service.ingest_paths([require_sample(), DEMO]))
    assert all(o.error is None for o in outcomes), outcomes
    return service


def assert_verbatim(service: NewsQA, appearances: tuple[Appearance, ...]) -> None:
    for a in appearances:
        text = service.library.section_of(a.figure.article_id, a.section)
        assert text is not None and text[a.figure.quote_start:a.figure.quote_end] == a.quote
        assert a.figure.surface in a.quote


def moments(timeline: FigureTimeline) -> list[datetime]:
    return [a.timestamp.moment for a in timeline.appearances if a.timestamp]


# -- the shared sample ----------------------------------------------------------------------


def test_sample_figure_first_in_body_then_1740_with_earlier_approximate_form(sample: NewsQA) -> None:
    t = sample.figures("$28.7 billion")
    first = t.appearances[0]
    assert first.section.kind == "body" and first.match == "exact"
    assert first.timestamp == Timestamp(DAY, date_only=True)
    updates = [a for a in t.appearances if a.section.kind == "update"]
    assert updates[0].match == "approximate" and updates[0].stated == "nearly $29 billion"
    assert updates[0].timestamp == at(17, 20, 57)
    assert [a for a in updates if a.match == "exact"][0].timestamp == at(17, 40, 56)
    assert moments(t) == sorted(moments(t))
    assert [a.marker for a in t.appearances] == list(range(1, t.count + 1))
    assert t.first_seen == first.timestamp and t.last_seen == at(18, 51, 19) and t.count == 9
    assert {a.figure.article_id for a in t.appearances} == {SAMPLE_ID}
    assert_verbatim(sample, t.appearances)


def test_other_spellings_find_the_same_figure(sample: NewsQA) -> None:
    expected = [a.quote for a in sample.figures("$28.7 billion").appearances]
    for spelling in ("US$28,700,000,000", "28.7bn dollars", "28.7 billion"):
        assert [a.quote for a in sample.figures(spelling).appearances] == expected


def test_ask_when_first_appeared_answers_from_the_timeline(sample: NewsQA) -> None:
    answer = sample.ask(FIRST_QUESTION).answer
    assert not answer.abstained
    assert answer.text.startswith("$28.7 billion first appeared in the article body, published "
                                  "8 October 2025 (date only) [1].")
    assert "Among the updates it first appeared at 17:40:56 (zone not stated) [2]." in answer.text
    assert "“nearly $29 billion”, appeared at 17:20:57 (zone not stated) [3]." in answer.text
    for sentence in answer.text.split(". "):
        assert "[" in sentence, sentence
    assert [c.timestamp for c in answer.citations[:3]] == [
        Timestamp(DAY, date_only=True), at(17, 40, 56), at(17, 20, 57)]
    assert all(sample.quote_is_verbatim(c) for c in answer.citations)


def test_as_of_1735_excludes_every_later_update(sample: NewsQA) -> None:
    t = sample.figures("$28.7 billion", as_of=AT_1735)
    assert [a.stated for a in t.appearances] == ["$28.7 billion", "nearly $29 billion"]
    assert all(m <= AT_1735 for m in moments(t))
    answer = sample.ask(FIRST_QUESTION, as_of=AT_1735).answer
    assert "17:40:56" not in answer.text and "nearly $29 billion" in answer.text
    assert all(c.timestamp and c.timestamp.moment <= AT_1735 for c in answer.citations)
    ordinary = sample.ask("How much funding did ICE receive?", as_of=AT_1735).answer
    assert all(c.timestamp and c.timestamp.moment <= AT_1735 for c in ordinary.citations)
    topic = sample.figures("ICE budget", as_of=AT_1735)
    assert topic.appearances and all(m <= AT_1735 for m in moments(topic))
    changes = sample.changes(SAMPLE_ID, DAY, as_of=AT_1735)
    assert [u.timestamp for u in changes.updates] == [at(17, 20, 57), at(17, 30, 57)]


def test_changes_since_list_later_updates_and_their_new_figures(sample: NewsQA) -> None:
    changes = sample.changes(SAMPLE_ID, AT_1735)
    assert changes.updates[0].timestamp == at(17, 40, 56) and changes.updates[0].index == 3
    assert len(changes.updates) == 10
    assert [a.stated for a in changes.updates[0].new_figures] == ["$45 billion", "400%"]
    assert changes.updates[1].new_figures == ()  # 17:50 repeats $28.7 billion, nothing new
    new = [a for u in changes.updates for a in u.new_figures]
    assert [a.marker for a in new] == list(range(1, len(new) + 1))
    assert_verbatim(sample, tuple(new))
    with pytest.raises(ArticleNotFound):
        sample.changes("no-such-article", AT_1735)


def test_topic_lists_grouped_figures_without_inventing_revisions(sample: NewsQA) -> None:
    t = sample.figures("ICE budget")
    assert t.figure is None
    money = t.groups[0]
    assert money.label == "amounts in USD" and money.article_id == SAMPLE_ID
    assert [v.stated for v in money.values][:2] == ["$28.7 billion", "nearly $29 billion"]
    assert t.revisions == ()  # $45 billion over four years is stated beside $28.7 billion
    assert_verbatim(sample, t.appearances)


# -- revisions ------------------------------------------------------------------------------


@pytest.mark.parametrize(("topic", "old", "new"), [
    ("bridge contract cost", "$410 million", "$452 million"),
    ("power outages", "about 120,000 customers", "185,000 customers"),
    ("affected households", "about 2,400 households", "3,100"),
])
def test_demo_corpus_revisions(sample: NewsQA, topic: str, old: str, new: str) -> None:
    t = sample.figures(topic)
    assert [(r.old.stated, r.new.stated) for r in t.revisions] == [(old, new)]
    revision = t.revisions[0]
    assert revision.old.timestamp and revision.new.timestamp
    assert revision.old.timestamp.moment < revision.new.timestamp.moment
    assert t.groups[0].label == revision.group
    assert_verbatim(sample, t.appearances)


def test_revisions_on_small_articles(service: NewsQA) -> None:
    service.ingest(article(
        "toll", "Engineers put the tunnel toll at $4.50 per car.",
        (at(9, 0), "The tunnel toll was raised to $5.25 per car, up from $4.50, the authority said."),
        (at(10, 0), "The tunnel authority also expects $300 million in toll revenue.")))
    service.ingest(article(
        "quake", "A strong earthquake struck the valley.",
        (at(9, 0), "Rescuers said 12 people were injured in the earthquake."),
        (at(11, 0), "The number of injured people in the earthquake rose to 19."),
        (at(12, 0), "Officials said 40 schools were closed after the earthquake.")))
    toll = service.figures("tunnel toll")
    assert [(r.old.stated, r.new.stated) for r in toll.revisions] == [("$4.50", "$5.25")]
    quake = service.figures("earthquake injured people")
    assert [(r.old.stated, r.new.stated) for r in quake.revisions] == [("12 people", "19")]
    assert quake.groups[0].label == "people"
    assert all(a.figure.article_id == "quake" for a in quake.appearances)


def stated(text: str) -> FigureAt:
    """The only figure of `text`, as if stored for the body of an article."""
    (f,) = extract_figures(text)
    return FigureAt(*(getattr(f, field.name) for field in fields(Figure)), article_id="a",
                    sid="body", quote_start=0, quote_end=len(text), heading=None, timestamp=None)


@pytest.mark.parametrize(("old", "new", "same"), [
    ("$28.7 billion", "$28.7 billion", True),
    ("$28.7 billion", "nearly $29 billion", True),       # hedged so as to hold it
    ("$28.7 billion", "$29 billion", True),              # rounded to fewer decimals
    ("1,204,000 people", "1.2 million people", True),
    ("1,040 buildings", "about 1,000 buildings", True),
    ("1,040 buildings", "more than 1,000 buildings", True),
    ("20 people", "21 people", False),                   # a later, more precise value
    ("1,000 buildings", "1,040 buildings", False),
    ("about 1,000 buildings", "1,040 buildings", False),
    ("nearly $29 billion", "$28.7 billion", False),
    ("80%", "76%", False),                               # the old value's roundness decides nothing
    ("1,040 buildings", "1,000 buildings", False),       # a whole number's zeros may be exact
    ("20 people", "more than 21 people", False),         # the hedge puts it above the old value
    ("5.8 metres", "5.9 metres", False),
    ("$640 million", "$655 million", False),
])
def test_only_the_new_values_wording_makes_it_a_restatement(old: str, new: str,
                                                             same: bool) -> None:
    assert restates(stated(old), stated(new)) is same


@pytest.fixture
def precise(service: NewsQA) -> NewsQA:
    service.ingest(article(
        "veltra", "A landslide buried part of the hill town of Veltra. Rescue teams said 20 people "
        "were killed.",
        (at(9, 0), "The death toll rose: officials said 21 people were killed in Veltra.")))
    service.ingest(article(
        "orlin", "An earthquake shook Orlin overnight. Engineers said 1,000 buildings were damaged.",
        (at(10, 0), "Inspectors now say 1,040 buildings were damaged in Orlin.")))
    service.ingest(article(
        "carrow", "The Carrow reservoir level stood at 88% last month.",
        (at(9, 0), "The Carrow reservoir level fell to 80%, the water board said."),
        (at(12, 0), "The Carrow reservoir level fell again to 76%, the water board said.")))
    return service


@pytest.mark.parametrize(("question", "steps"), [
    ("Was the number of people killed in Veltra revised?", [("20 people", "21 people")]),
    ("How did the number of damaged buildings in Orlin change?",
     [("1,000 buildings", "1,040 buildings")]),
    ("How did the Carrow reservoir level change?", [("88%", "80%"), ("80%", "76%")]),
])
def test_a_later_more_precise_value_is_a_revision(precise: NewsQA, question: str,
                                                  steps: list[tuple[str, str]]) -> None:
    answer = precise.ask(question).answer
    assert not answer.abstained and "throughout" not in answer.text
    for old, new in steps:
        assert f"revised from {old} [" in answer.text and f"to {new} at" in answer.text
    assert all(precise.quote_is_verbatim(c) for c in answer.citations)


def test_changes_the_change_answer_and_the_timeline_agree(precise: NewsQA) -> None:
    timeline = precise.figures("people killed in Veltra")
    assert [(r.old.stated, r.new.stated) for r in timeline.revisions] == [("20 people",
                                                                          "21 people")]
    (update,) = precise.changes("veltra", DAY).updates
    assert [a.stated for a in update.new_figures] == ["21 people"]
    assert "revised from 20 people [1] to 21 people" in precise.ask(
        "Was the number of people killed in Veltra revised?").answer.text


def test_a_hedged_restatement_is_neither_a_revision_nor_a_new_figure(service: NewsQA) -> None:
    service.ingest(article(
        "orlin", "Engineers said 1,040 buildings were damaged in Orlin.",
        (at(10, 0), "About 1,000 buildings were damaged in Orlin, the mayor said."),
        (at(11, 0), "Inspectors said 1,040 buildings were damaged in Orlin.")))
    assert service.figures("damaged buildings in Orlin").revisions == ()
    assert [u.new_figures for u in service.changes("orlin", DAY).updates] == [(), ()]
    answer = service.ask("Was the number of damaged buildings in Orlin revised?").answer
    assert "1,040 buildings throughout" in answer.text


def test_two_values_in_one_sentence_are_two_things(service: NewsQA) -> None:
    service.ingest(article(
        "budget", "The agency budget is $28.7 billion.",
        (at(9, 0), "The agency budget is $28.7 billion, with $40 billion planned over four years.")))
    assert service.figures("agency budget").revisions == ()


def test_unknown_topic_or_figure(sample: NewsQA) -> None:
    assert sample.figures("$999 trillion").appearances == ()
    answer = sample.ask("When did the $999 trillion figure first appear?").answer
    assert answer.abstained and not answer.citations and "$999 trillion" in answer.text
    with pytest.raises(InvalidQuestion, match="empty"):
        sample.figures("   ")
    with pytest.raises(InvalidQuestion, match="tolerance"):
        sample.figures("$28.7 billion", tolerance=0.9)


def test_first_appearance_questions_are_recognised() -> None:
    assert first_appearance_topic(FIRST_QUESTION) is not None
    assert first_appearance_topic("When was the bridge contract cost first reported?") == \
        "bridge contract cost"
    assert first_appearance_topic("When did the coverage first mention power outages?") == \
        "power outages"
    assert first_appearance_topic("How much funding did ICE receive in 2025?") is None
    assert first_appearance_topic("When did ICE first use facial recognition?") is None


def test_topic_question_answers_first_figure_and_revision(sample: NewsQA) -> None:
    answer = sample.ask("When was the bridge contract cost first reported?").answer
    assert "$410 million" in answer.text and "14 March 2026 (date only)" in answer.text
    assert "revised from $410 million [1] to $452 million at 14:20:00 (zone not stated) [2]" in answer.text
    assert all(sample.quote_is_verbatim(c) for c in answer.citations)


# -- storage --------------------------------------------------------------------------------


def test_figures_survive_a_restart_and_old_data_is_backfilled(sample: NewsQA) -> None:
    settings_ = sample.settings
    expected = [a.quote for a in sample.figures("$28.7 billion").appearances]
    sample.close()
    reopened = NewsQA(settings_, embedder=HashingEmbedder())
    assert [a.quote for a in reopened.figures("$28.7 billion").appearances] == expected
    reopened.close()
    with sqlite3.connect(settings_.data_dir / "newsqa.sqlite3") as conn:
        conn.execute("DELETE FROM records WHERE collection='figures'")
    backfilled = NewsQA(settings_, embedder=HashingEmbedder())
    assert [a.quote for a in backfilled.figures("$28.7 billion").appearances] == expected
    backfilled.close()


def test_a_corrected_update_replaces_its_figures(service: NewsQA) -> None:
    service.ingest(article("fix", "Body.", (at(9, 0), "The fund holds $12 million.")))
    service.ingest(article("fix", "Body.", (at(9, 0), "The fund holds $15 million.")))
    assert service.figures("$12 million").appearances == ()
    assert [a.stated for a in service.figures("$15 million").appearances] == ["$15 million"]


WORDS = st.sampled_from(["The", "budget", "rose", "to", "$28.7 billion", "3,000 arrests per day",
                         "nearly", "12%", "in", "2025.", "Officials", "said", "[5].", "\n",
                         "### Funding", "about", "400", "people", "Mr.", "on", "Oct.", "8"])


@settings(max_examples=150, deadline=None)
@given(st.lists(WORDS, max_size=40))
def test_every_stored_quote_holds_its_figure_verbatim(words: list[str]) -> None:
    text = " ".join(words)
    record = figure_record(text, None)
    for kind, _value, *_, start, end, surface, q_start, q_end, _heading in record["figures"]:
        assert kind in ("money", "count", "percent")
        assert text[start:end] == surface
        assert q_start <= start and end <= q_end and text[q_start:q_end].strip() == \
            text[q_start:q_end]


# -- API and CLI ----------------------------------------------------------------------------


@pytest.fixture
def client(sample: NewsQA) -> Iterator[TestClient]:
    with local_client(create_app(sample.settings, sample), raise_server_exceptions=False) as c:
        yield c


def test_api_figures_timeline(client: TestClient) -> None:
    response = client.get("/v1/figures", params={"q": "$28.7 billion"})
    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "figure" and body["count"] == 9
    assert body["first_seen"] == "2025-10-08" and body["first_seen_precision"] == "date"
    first, second = body["appearances"][:2]
    assert (first["section"], first["match"], first["marker"]) == ("body", "exact", 1)
    assert (second["timestamp"], second["match"], second["stated"]) == (
        "2025-10-08T17:20:57+00:00", "approximate", "nearly $29 billion")
    assert {"timestamp", "section", "quote", "marker", "match"} <= set(first)
    early = client.get("/v1/figures", params={"q": "$28.7 billion",
                                              "as_of": "2025-10-08T17:35:00+00:00"}).json()
    assert early["count"] == 2


def test_api_topic_marks_revisions(client: TestClient) -> None:
    body = client.get("/v1/figures", params={"q": "power outages"}).json()
    assert body["mode"] == "topic"
    (revision,) = body["revisions"]
    assert (revision["old"]["stated"], revision["old"]["timestamp"]) == (
        "about 120,000 customers", "2026-09-21T20:30:00+00:00")
    assert (revision["new"]["stated"], revision["new"]["timestamp"]) == (
        "185,000 customers", "2026-09-21T21:45:00+00:00")


def test_api_changes_and_ask(client: TestClient) -> None:
    changes = client.get(f"/v1/articles/{SAMPLE_ID}/changes",
                         params={"since": "2025-10-08T17:35:00+00:00"}).json()
    assert changes["updates"][0]["published_at"] == "2025-10-08T17:40:56+00:00"
    assert [f["stated"] for f in changes["updates"][0]["new_figures"]] == ["$45 billion", "400%"]
    body = client.post("/v1/ask", json={"question": FIRST_QUESTION,
                                        "as_of": "2025-10-08T17:35:00Z"}).json()
    assert set(body) == {"answer", "abstained", "citations", "window", "took_ms"}
    assert body["window"] == {"since": None, "as_of": "2025-10-08T17:35:00+00:00",
                              "from_question": None}
    assert "17:40:56" not in body["answer"]
    assert [c["timestamp"] for c in body["citations"]] == ["2025-10-08", "2025-10-08T17:20:57+00:00"]
    as_written = client.post("/v1/ask", json={"question": FIRST_QUESTION,  # as the page writes it
                                              "as_of": "10/8/2025, 5:35 PM"}).json()
    assert as_written["citations"] == body["citations"]


@pytest.mark.parametrize(("url", "params", "status", "words"), [
    ("/v1/figures", {"q": ""}, 422, "empty"),
    ("/v1/figures", {"q": "   "}, 422, "empty"),
    ("/v1/figures", {}, 422, "q"),
    ("/v1/figures", {"q": "$1", "as_of": "yesterday-ish"}, 400, "as_of"),
    ("/v1/figures", {"q": "$1", "tolerance": "2"}, 422, "tolerance"),
    ("/v1/articles/no-such-article/changes", {"since": "2025-10-08"}, 404, "no-such-article"),
    (f"/v1/articles/{SAMPLE_ID}/changes", {"since": "soon"}, 400, "since"),
    (f"/v1/articles/{SAMPLE_ID}/changes", {}, 422, "since"),
])
def test_api_bad_inputs(client: TestClient, url: str, params: dict[str, str], status: int,
                        words: str) -> None:
    response = client.get(url, params=params)
    assert response.status_code == status
    assert words in response.json()["detail"]


def test_cli_figures_and_changes(tmp_path: Path) -> None:
    runner = CliRunner(env={"NEWSQA_EMBEDDER": "hashing"})
    data = ["--data-dir", str(tmp_path / "data")]
    assert runner.invoke(cli, ["ingest", str(require_sample()), *data]).exit_code == 0
    shown = runner.invoke(cli, ["figures", "$28.7 billion", *data])
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith("$28.7 billion: 9 appearances, first seen 2025-10-08 (date only)")
    assert ("[2] 2025-10-08 17:20:57 (zone not stated) · update 1 · approximate: nearly $29 billion"
            in shown.output)
    as_json = runner.invoke(cli, ["figures", "$28.7 billion", "--json", "--as-of",
                                  "2025-10-08T17:35", *data])
    assert json.loads(as_json.output)["count"] == 2
    changes = runner.invoke(cli, ["changes", SAMPLE_ID, "--since", "2025-10-08T17:35", *data])
    assert changes.exit_code == 0, changes.output
    assert "update 3 · 2025-10-08 17:40:56 (zone not stated) · new figures: $45 billion [1], 400% [2]" \
        in changes.output
    bad = runner.invoke(cli, ["changes", SAMPLE_ID, "--since", "soon", *data])
    assert bad.exit_code == 2 and "soon" in bad.output


@pytest.mark.e2e
def test_real_model_answers_first_appearance_and_topic(real_service: NewsQA) -> None:
    list(real_service.ingest_paths([require_sample(), DEMO]))
    answer = real_service.ask(FIRST_QUESTION).answer
    assert "17:40:56" in answer.text and "nearly $29 billion" in answer.text
    outages = real_service.figures("power outages")
    assert [(r.old.stated, r.new.stated) for r in outages.revisions] == [
        ("about 120,000 customers", "185,000 customers")]


def test_figure_records_in_an_old_layout_are_extracted_again(settings) -> None:  # type: ignore[no-untyped-def]
    from index.collection import Batch
    from index.embed import HashingEmbedder
    from qa.service import NewsQA
    from tests.conftest import DEMO

    first = NewsQA(settings, embedder=HashingEmbedder())
    list(first.ingest_paths([DEMO]))
    keys = [k for k, _ in first.collection.store.list_records("figures")]
    batch = Batch()
    for key in keys:
        batch.put_record("figures", key, {"old": "layout"})
    first.collection.write(batch)
    first.close()
    again = NewsQA(settings, embedder=HashingEmbedder())
    try:
        assert len(again.library.figures) > 0
        assert all("fields" in v for _, v in again.collection.store.list_records("figures"))
    finally:
        again.close()


@pytest.mark.parametrize(("moment", "expected"), [
    (datetime(2025, 10, 8, 17, 40, 56, 250000, tzinfo=UTC), "17:40:56 +00:00 on 8 October 2025"),
    (datetime(2025, 10, 8, 17, 40, 56, tzinfo=timezone(timedelta(hours=-4))),
     "17:40:56 -04:00 on 8 October 2025"),
])
def test_times_in_answers_read_cleanly(moment: datetime, expected: str) -> None:
    from qa.figures.answers import when_text

    assert when_text(Timestamp(moment)) == expected
