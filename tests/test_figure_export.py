"""The journalist's desk: a figure timeline as spreadsheet-safe CSV and as an SVG chart, from
the API and the CLI; article text stays text in both."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from api.figure_export import safe_cell, timeline_csv
from api.schemas_figures import FiguresResponse
from qa.models import Article, Timestamp, Update
from qa.service import NewsQA
from tests.conftest import SAMPLE_ID, require_sample

DAY = datetime(2026, 5, 12, tzinfo=UTC)
HOSTILE_TITLE = '=HYPERLINK("http://evil.example","x") <script>alert(1)</script>'


@pytest.fixture
def client(service: NewsQA) -> Iterator[TestClient]:
    service.ingest(Article(
        id="toll", title=HOSTILE_TITLE, published_at=Timestamp(DAY, True),
        body="+1 Engineers put the tunnel toll at $4.50 per car.",
        updates=(Update(Timestamp(DAY.replace(hour=9)),
                        "@here The tunnel toll was raised to $5.25 per car, up from $4.50."),
                 Update(Timestamp(DAY.replace(hour=11)),
                        "-Later, the tunnel toll rose to $5.75 per car & <b>more</b>."))))
    with TestClient(create_app(service.settings, service=service)) as test_client:
        yield test_client


@pytest.mark.parametrize(("cell", "shown"), [
    ("=1+2", "'=1+2"), ("+1", "'+1"), ("-5", "'-5"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("plain", "plain"), (None, ""), (4.5, "4.5"),
    # numbers our code computed stay numbers, a negative one too; text an article wrote does not
    (-5.0, "-5.0"), (-3, "-3"), ("-5.0", "'-5.0"), (float("-inf"), "'-inf"),
    # control characters are shown, not obeyed: a CR cannot hide the formula after it
    ("\rx", "\\x0dx"), ("a\x1b[2Jb\x9b2J\x07", "a\\x1b[2Jb\\x9b2J\\x07"), ("a\tb\nc", "a\tb\nc"),
])
def test_cells_that_start_a_formula_get_an_apostrophe(cell: object, shown: str) -> None:
    assert safe_cell(cell) == shown


def test_csv_rows_are_the_appearances_and_no_cell_is_a_formula(client: TestClient) -> None:
    response = client.get("/v1/figures", params={"q": "$4.50", "format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["stated"] for r in rows] == ["$4.50", "$4.50"]
    for row in rows:
        assert not any(v.startswith(("=", "+", "-", "@")) for v in row.values())
        assert row["title"] == "'" + HOSTILE_TITLE
    assert rows[0]["quote"] == "'+1 Engineers put the tunnel toll at $4.50 per car."
    assert rows[1]["timestamp"] == "2026-05-12T09:00:00+00:00"
    assert client.get("/v1/figures", params={"q": "$4.50"}).json()["count"] == 2


def test_csv_body_holds_no_control_character_and_numbers_stay_numbers(service: NewsQA) -> None:
    """The bytes a spreadsheet (or `curl` in a terminal) gets: article text's controls written
    as \\xNN, a formula-like quote neutralised, and the value column a number even when negative."""
    service.ingest(Article(
        id="ferry", title="Ferry\x9b2J fares", published_at=Timestamp(DAY, True),
        body="-The ferry fare is $3.25 a ride\x1b[2J\x07 now.\x7f"))
    with TestClient(create_app(service.settings, service=service)) as test_client:
        response = test_client.get("/v1/figures", params={"q": "$3.25", "format": "csv"})
        reply = test_client.get("/v1/figures", params={"q": "$3.25"}).json()
    assert response.status_code == 200
    body = response.content.decode("utf-8")
    assert [c for c in body.replace("\r\n", "") if ord(c) < 32 or 0x7f <= ord(c) <= 0x9f] == []
    row = next(csv.DictReader(io.StringIO(body)))
    assert row["title"] == r"Ferry\x9b2J fares"
    assert row["quote"] == r"'-The ferry fare is $3.25 a ride\x1b[2J\x07 now.\x7f"
    assert row["value"] == "3.25" and row["marker"] == "1"
    assert reply["appearances"][0]["title"] == "Ferry\x9b2J fares"  # the JSON keeps the text
    reply["appearances"][0]["value"] = -3.25  # a negative figure, as the code may one day read
    shown = next(csv.DictReader(io.StringIO(timeline_csv(FiguresResponse.model_validate(reply)))))
    assert shown["value"] == "-3.25" and shown["quote"].startswith("'-The")


def test_chart_plots_the_values_across_updates_as_escaped_text(client: TestClient) -> None:
    response = client.get("/v1/figures/chart.svg", params={"q": "tunnel toll"})
    assert response.status_code == 200 and response.headers["content-type"] == "image/svg+xml"
    svg = response.text
    assert "<script" not in svg and "<b>" not in svg
    root = ET.fromstring(svg)  # well-formed: every text escaped
    labels = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert any(label.startswith("$4.50 [") for label in labels)
    assert any(label.startswith("$5.25 [") for label in labels)
    assert any(label.startswith("$5.75 [") for label in labels)
    assert len(list(root.iter("{http://www.w3.org/2000/svg}circle"))) == 3
    empty = client.get("/v1/figures/chart.svg", params={"q": "power outages"}).text
    assert "no figure" in empty and ET.fromstring(empty) is not None


def test_cli_prints_csv(tmp_path: Path) -> None:
    runner = CliRunner(env={"NEWSQA_EMBEDDER": "hashing"})
    data = ["--data-dir", str(tmp_path / "data")]
    assert runner.invoke(cli, ["ingest", str(require_sample()), *data]).exit_code == 0
    shown = runner.invoke(cli, ["figures", "$28.7 billion", "--csv", *data])
    assert shown.exit_code == 0, shown.output
    rows = list(csv.DictReader(io.StringIO(shown.output)))
    assert len(rows) == 9 and {r["article_id"] for r in rows} == {SAMPLE_ID}
    assert rows[0]["timestamp_precision"] == "date" and "$28.7 billion" in rows[0]["quote"]


def test_times_without_a_zone_are_shown_as_written_and_marked_assumed(tmp_path: Path) -> None:
    runner = CliRunner(env={"NEWSQA_EMBEDDER": "hashing"})
    data = ["--data-dir", str(tmp_path / "data")]
    assert runner.invoke(cli, ["ingest", str(require_sample()), *data]).exit_code == 0
    shown = runner.invoke(cli, ["ask", "When did the $28.7 billion figure first appear?", *data])
    assert shown.exit_code == 0, shown.output
    assert "17:40:56 (zone not stated)" in shown.output and "+00:00" not in shown.output
    as_json = runner.invoke(cli, ["ask", "When did the $28.7 billion figure first appear?",
                                  "--json", *data])
    timed = [c for c in json.loads(as_json.output)["citations"] if c["timestamp_precision"] == "second"]
    assert timed and all(c["timestamp"].endswith("+00:00") and c["timestamp_zone"] == "assumed"
                         for c in timed)
