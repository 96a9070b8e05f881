"""End to end with the real model: the CLI and the served API on the shared sample article."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from qa.service import NewsQA
from tests.conftest import SAMPLE_ID, local_client, require_sample

pytestmark = pytest.mark.e2e
FUNDING = "How much funding did ICE receive in 2025?"
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2})?$")


def test_cli_ingest_then_ask_json(tmp_path: Path) -> None:
    sample = require_sample()
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path / "data")]
    ingested = runner.invoke(cli, ["ingest", str(sample), *data])
    assert ingested.exit_code == 0, ingested.output
    assert "+13 sections" in ingested.output
    again = runner.invoke(cli, ["ingest", str(sample), *data])
    assert "unchanged" in again.output and "+0 chunks" in again.output
    asked = runner.invoke(cli, ["ask", FUNDING, "--json", *data])
    assert asked.exit_code == 0, asked.output
    body = json.loads(asked.output[asked.output.index("{"):])
    assert not body["abstained"]
    funding = [c for c in body["citations"] if "$28.7 billion" in c["quote"]]
    assert funding, body
    text = sample.read_text(encoding="utf-8")
    for c in body["citations"]:
        assert c["quote"] in text and ISO.match(c["timestamp"])
        assert c["article_id"] == SAMPLE_ID


def test_cli_reports_a_bad_file_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("Title\n📅 Published: 10/8/2025\nBody.\n🔄 Updated: 99/99/2025, 1:00 PM\nx\n")
    result = CliRunner().invoke(cli, ["ingest", str(bad), "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 1
    assert "bad.txt, line 4" in result.output and "99/99/2025" in result.output


def test_served_api_answers_the_same_and_abstains_when_unrelated(real_service: NewsQA) -> None:
    list(real_service.ingest_paths([require_sample()]))
    with local_client(create_app(real_service.settings, real_service)) as client:
        body = client.post("/v1/ask", json={"question": FUNDING}).json()
        assert any("$28.7 billion" in c["quote"] for c in body["citations"])
        first = body["citations"][0]
        assert first["section"] == "update" or first["timestamp_precision"] == "date"
        unrelated = client.post("/v1/ask", json={
            "question": "What is the best recipe for sourdough bread?"}).json()
        assert unrelated["abstained"] is True and unrelated["citations"] == []


def test_opening_a_data_dir_for_figures_does_not_load_the_model(tmp_path: Path) -> None:
    from index.embed import SentenceTransformerEmbedder
    from qa.settings import Settings

    embedder = SentenceTransformerEmbedder()
    service = NewsQA(Settings(data_dir=tmp_path / "d"), embedder=embedder)
    try:
        assert embedder.dim == 384
        service.figures("$28.7 billion", None, 0.05)
        assert "model" not in embedder.__dict__
    finally:
        service.close()
    assert embedder.dim == embedder.model.get_embedding_dimension()
