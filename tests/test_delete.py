"""Deleting an article: through the facade, DELETE /v1/articles/{id} and `newsqa delete`; its
chunks, vectors, keyword postings, sections and figures all go, in one write."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from index.embed import HashingEmbedder
from qa.errors import ArticleNotFound
from qa.service import NewsQA
from tests.conftest import DEMO, local_client

BRIDGE = "harbor-city-awards-bridge-replacement-contract-after-months-2026-03-14"


def _traces(service: NewsQA, article_id: str, chunk_ids: set[int]) -> dict[str, int]:
    """What of the article (whose chunks had `chunk_ids`) any part of the index still holds."""
    store = service.collection.store
    collection = service.collection
    found = {h.id for h in collection.search("bridge contract council", None, 10_000, "bm25")}
    vector = service.embedder.embed(["bridge contract"])[0]
    dense = {h.id for h in collection.search("", vector, 10_000, "dense")}
    return {"chunks": len(store.ids_with_key_prefix(f"{article_id}|")),
            "keyword": len(found & chunk_ids), "vectors": len(dense & chunk_ids),
            "ids": len(set(collection.ids()) & chunk_ids),
            "records": sum(1 for c in ("articles", "sections", "figures")
                           for k, _ in store.list_records(c) if k.split("|")[0] == article_id),
            "figures": len(service.library.figures.article(article_id))}


def test_deleting_removes_every_trace_and_answers_stop_quoting_it(service: NewsQA) -> None:
    list(service.ingest_paths([DEMO]))
    assert "$452 million" in service.ask("How much is the bridge contract worth?").answer.text
    chunk_ids = set(service.collection.store.ids_with_key_prefix(f"{BRIDGE}|"))
    assert all(_traces(service, BRIDGE, chunk_ids).values())
    result = service.delete(BRIDGE)
    assert result.removed_chunks == len(chunk_ids) and result.removed_sections == 5
    assert BRIDGE not in service.article_ids()
    assert set(_traces(service, BRIDGE, chunk_ids).values()) == {0}
    answer = service.ask("How much is the bridge contract worth?").answer
    assert all(c.article_id != BRIDGE for c in answer.citations)
    assert not service.figures("$452 million").appearances
    service.close()
    reopened = NewsQA(service.settings, embedder=HashingEmbedder())
    try:  # gone for good: the vector file and the keyword index are rebuilt without it
        assert BRIDGE not in reopened.article_ids()
        assert len(reopened.collection) == len(service.collection)
        assert not reopened.figures("$452 million").appearances
    finally:
        reopened.close()


def test_an_unknown_article_cannot_be_deleted(service: NewsQA) -> None:
    with pytest.raises(ArticleNotFound):
        service.delete("nope")


def test_a_deleted_article_can_be_ingested_again(service: NewsQA) -> None:
    list(service.ingest_paths([DEMO]))
    chunks = len(service.collection)
    service.delete(BRIDGE)
    again = [o for o in service.ingest_paths([DEMO]) if o.result and o.result.changed]
    assert [o.result.article_id for o in again if o.result] == [BRIDGE]
    assert len(service.collection) == chunks


def test_delete_over_http(service: NewsQA) -> None:
    list(service.ingest_paths([DEMO]))
    with local_client(create_app(service.settings, service)) as c:
        deleted = c.delete(f"/v1/articles/{BRIDGE}")
        again = c.delete(f"/v1/articles/{BRIDGE}")
        listed = [a["id"] for a in c.get("/v1/articles").json()]
        bad = c.delete("/v1/articles/bad%0Aid")
    assert deleted.status_code == 200 and deleted.json()["article_id"] == BRIDGE
    assert again.status_code == 404 and BRIDGE not in listed
    assert bad.status_code == 422


def test_newsqa_delete(tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSQA_EMBEDDER", "hashing")
    data = str(tmp_path / "data")  # type: ignore[operator]
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", str(DEMO), "--data-dir", data]).exit_code == 0
    result = runner.invoke(cli, ["delete", BRIDGE, "--data-dir", data])
    assert result.exit_code == 0 and f"deleted {BRIDGE}" in result.output
    missing = runner.invoke(cli, ["delete", BRIDGE, "--data-dir", data])
    assert missing.exit_code == 2 and "no article with id" in missing.output
    listed = subprocess.run([sys.executable, "-m", "api.cli", "articles", "--data-dir", data],
                            capture_output=True, text=True, check=True,
                            env={"NEWSQA_EMBEDDER": "hashing", "PATH": "/usr/bin:/bin",
                                 "HF_HUB_OFFLINE": "1"})
    assert BRIDGE not in listed.stdout and len(listed.stdout.splitlines()) == 2
