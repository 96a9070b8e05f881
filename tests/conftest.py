"""Shared fixtures: a NewsQA on a deterministic hashing embedder for unit tests, the real
model (loaded once per session) for the end-to-end tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from index.embed import HashingEmbedder, SentenceTransformerEmbedder
from index.store import sqlite_url
from qa.service import NewsQA
from qa.settings import Settings
from tests import postgres

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
SAMPLE = SHARED / "sample-live-article.txt"
DEMO = ROOT / "qa" / "demo_corpus"
SAMPLE_ID = "tech-innovations-drive-ices-intensified-deportation-efforts-2025-10-08"


def require_sample() -> Path:
    if not SAMPLE.exists():
        pytest.skip(f"shared sample {SAMPLE} is not present")
    return SAMPLE


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", embedder="hashing")


@pytest.fixture
def service(settings: Settings) -> Iterator[NewsQA]:
    qa = NewsQA(settings, embedder=HashingEmbedder())
    yield qa
    qa.close()


@pytest.fixture(scope="session")
def real_embedder() -> SentenceTransformerEmbedder:
    embedder = SentenceTransformerEmbedder()
    embedder.model  # noqa: B018 - load once for the session
    return embedder


@pytest.fixture
def real_service(tmp_path: Path, real_embedder: SentenceTransformerEmbedder) -> Iterator[NewsQA]:
    qa = NewsQA(Settings(data_dir=tmp_path / "data"), embedder=real_embedder)
    yield qa
    qa.close()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[postgres.Cluster]:
    """A real PostgreSQL server for the session (skipped where it is not installed, unless
    NEWSQA_REQUIRE_POSTGRES is set, as `make test` does)."""
    try:
        cluster = postgres.start()
    except postgres.PostgresMissing as exc:
        if os.environ.get("NEWSQA_REQUIRE_POSTGRES"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: postgres.Cluster) -> str:
    """An empty PostgreSQL database of this test's own."""
    return postgres_cluster.new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store on each engine: the embedded SQLite file, and PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "store" / "newsqa.sqlite3")
    return str(request.getfixturevalue("postgres_url"))
@pytest.fixture(autouse=True, scope="session")
def _test_clients_call_from_this_machine() -> Iterator[None]:
    """Every TestClient calls as a browser on this machine does: Host localhost, from 127.0.0.1
    (the app answers to the names of its bind address only, and, with no API key configured,
    takes writes from loopback only). A test of other hosts or addresses passes its own."""
    defaults = TestClient.__init__.__defaults__
    assert defaults is not None and defaults[0] == "http://testserver"
    TestClient.__init__.__defaults__ = ("http://localhost", *defaults[1:-1], ("127.0.0.1", 50000))
    yield
    TestClient.__init__.__defaults__ = defaults


def local_client(app: FastAPI, **options: Any) -> TestClient:
    """A test client that calls as a browser on this machine would: Host localhost, from
    127.0.0.1 (the server takes writes from loopback when no API key is configured)."""
    return TestClient(app, base_url="http://localhost", client=("127.0.0.1", 50000), **options)
