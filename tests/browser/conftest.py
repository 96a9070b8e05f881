"""The app served by uvicorn on a free localhost port, over the demo corpus with the real model,
and Debian's Chromium driven by Playwright (no browser download)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from index.embed import SentenceTransformerEmbedder
from qa.service import NewsQA
from qa.settings import Settings
from tests.conftest import DEMO, ROOT
from tests.live_server import live_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def base_url(tmp_path_factory: pytest.TempPathFactory,
             real_embedder: SentenceTransformerEmbedder) -> Iterator[str]:
    """http://127.0.0.1:PORT of the app, with the demo corpus ingested."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("browser") / "data",
                        stream_pause_ms=60, chat_rate_per_minute=0)
    service = NewsQA(settings, embedder=real_embedder)
    assert not [o.error for o in service.ingest_paths([DEMO]) if o.error]
    with live_server(create_app(settings, service)) as base:
        yield base
    service.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Module-scoped: Playwright's sync API keeps an event loop running while it is open,
    which async tests elsewhere cannot share."""
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        pytest.skip(f"{CHROMIUM} is missing; install it with `bash scripts/install-browser.sh`")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is missing; install it with "
                                      "`bash scripts/install-browser.sh`")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 900, "height": 1100}, locale="en-GB",
                                  timezone_id="UTC")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
