"""Shared fixtures: a NewsQA on a deterministic hashing embedder for unit tests, the real
model (loaded once per session) for the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.embed import HashingEmbedder, SentenceTransformerEmbedder
from qa.service import NewsQA
from qa.settings import Settings

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
