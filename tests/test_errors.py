"""Every domain error reaches a user as one message: a line and an exit status from the CLI, a
JSON `detail` with a 4xx/503 from the API; never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from api.app import create_app
from index.embed import HashingEmbedder
from index.errors import EmbedderUnavailable
from qa.service import NewsQA
from qa.settings import Settings
from tests.conftest import DEMO, ROOT


def test_a_missing_model_is_one_line_and_a_failing_status(tmp_path: Path) -> None:
    env = {**os.environ, "NEWSQA_MODEL": "/nonexistent", "NEWSQA_DATA_DIR": str(tmp_path / "d"),
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "api.cli", "ask", "x"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "/nonexistent" in lines[0]


class _BrokenModel(HashingEmbedder):
    """Opens a data directory, then cannot embed: a model whose weights went missing."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        raise EmbedderUnavailable("could not load embedding model 'gone'; set NEWSQA_MODEL")


def test_the_api_says_503_with_the_reason_when_the_model_cannot_load(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", embedder="hashing")
    service = NewsQA(settings, embedder=HashingEmbedder(), query_embedder=_BrokenModel())
    list(service.ingest_paths([DEMO]))
    with TestClient(create_app(settings, service), raise_server_exceptions=False) as client:
        response = client.post("/v1/ask", json={"question": "How much is the contract worth?"})
    service.close()
    assert response.status_code == 503
    assert "NEWSQA_MODEL" in response.json()["detail"]
