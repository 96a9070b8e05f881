"""Two processes on one data directory: `newsqa ingest` (or `delete`) writes while a server has
it open. The server answers from what the other process wrote, counts it in /healthz, stops
finding what it deleted, and a restart keeps all of it searchable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from api.app import create_app
from index.embed import HashingEmbedder
from index.vectors import FaissVectorIndex
from qa.service import NewsQA
from qa.settings import Settings
from tests.conftest import DEMO, ROOT, local_client

STORM = {
    "id": "storm-mara-outages", "title": "Storm Mara cuts power across the valley",
    "published_at": "2026-03-15T06:00:00+00:00",
    "body": "Storm Mara knocked out power to 52,000 customers across the Tern valley overnight. "
            "Valley Power said repair crews would work through Monday.",
    "updates": [{"published_at": "2026-03-15T11:00:00+00:00",
                 "text": "Valley Power said 31,000 customers were still without power by noon."}],
}
QUESTION = "How many customers did Storm Mara leave without power?"
MODES = ("hybrid", "bm25", "dense")
OTHER_NEWS = [DEMO / "harbor-bridge-contract.txt", DEMO / "riverton-water-advisory.txt"]


def newsqa(*args: str, data: Path) -> str:
    """Run the `newsqa` CLI as a second process on the data directory `data`."""
    done = subprocess.run([sys.executable, "-m", "api.cli", *args, "--data-dir", str(data)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
                               "NEWSQA_EMBEDDER": "hashing", "NEWSQA_SERVER": ""})
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def storm_file(tmp_path: Path) -> Path:
    path = tmp_path / "storm.json"
    path.write_text(json.dumps(STORM), encoding="utf-8")
    return path


def quotes(client: TestClient, mode: str) -> str:
    response = client.post("/v1/ask", json={"question": QUESTION, "mode": mode})
    assert response.status_code == 200, response.text
    return " ".join(c["quote"] for c in response.json()["citations"])


def test_a_running_server_answers_from_what_newsqa_ingest_wrote(service: NewsQA,
                                                                tmp_path: Path) -> None:
    list(service.ingest_paths(OTHER_NEWS))
    data = service.settings.data_dir
    with local_client(create_app(service.settings, service)) as client:
        assert all("52,000" not in quotes(client, mode) for mode in MODES)
        served = client.get("/healthz").json()["chunks"]

        newsqa("ingest", str(storm_file(tmp_path)), data=data)  # while the server runs

        assert client.get("/healthz").json()["chunks"] == service.collection.store.count() > served
        for mode in MODES:
            assert "52,000 customers" in quotes(client, mode), mode

        newsqa("delete", STORM["id"], data=data)
        assert client.get("/healthz").json()["chunks"] == served
        for mode in MODES:
            assert "52,000" not in quotes(client, mode), mode


def test_a_restart_searches_everything_another_process_wrote_while_it_ran(
        settings: Settings, tmp_path: Path) -> None:
    """The reviewer's run: a server open, `newsqa ingest` on its data directory, an article
    POSTed to the server, the server stopped and started again."""
    first = NewsQA(settings, embedder=HashingEmbedder())
    list(first.ingest_paths(OTHER_NEWS[:1]))
    newsqa("ingest", str(storm_file(tmp_path)), data=settings.data_dir)
    list(first.ingest_paths(OTHER_NEWS[1:]))  # a POST to the server
    first.close()  # Ctrl-C: the indexes are saved

    again = NewsQA(settings, embedder=HashingEmbedder())
    try:
        store = again.collection.store
        stored = np.concatenate([b.ids for b in store.iter_times()])
        assert again.health().chunks == store.count() == len(stored)
        with local_client(create_app(settings, again)) as client:
            for mode in MODES:
                assert "52,000 customers" in quotes(client, mode), mode
        held = FaissVectorIndex.load(settings.data_dir / "vectors.faiss").ids()
        assert np.array_equal(np.sort(held), stored)  # what the stopped server saved
    finally:
        again.close()


def test_a_search_that_finds_an_article_the_cache_has_not_loaded_answers_from_it(
        settings: Settings) -> None:
    """The search engine caught up with another process's write before the article cache's
    next reload: the answer still cites the new article (it was a 404 for the question)."""
    server = NewsQA(settings, embedder=HashingEmbedder())
    other = NewsQA(settings, embedder=HashingEmbedder())
    try:
        list(server.ingest_paths(OTHER_NEWS))
        server.library.check_interval_s = 3600  # its cache would reload an hour from now
        server.collection.check_interval_s = 0  # its search engine before every search
        server.library.refresh(force=True)
        list(other.ingest_paths([DEMO / "storm-elena-landfall.txt"]))
        answer = server.ask("How many customers were without electricity after Storm Elena?").answer
        assert any("customers" in c.quote for c in answer.citations)
        assert all(c.article_id.startswith("storm-elena-") for c in answer.citations)
    finally:
        other.close()
        server.close()
