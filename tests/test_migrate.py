"""`newsqa migrate`: an embedded data directory copied into PostgreSQL answers as it did."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from index.embed import HashingEmbedder
from index.errors import MigrationRefused
from index.migrate import copy_store, store_counts
from index.store import Store, insert_docs
from qa.models import Article, Timestamp, Update
from qa.service import NewsQA
from qa.settings import Settings

QUESTION = "How much did the council approve for the library?"


def _article(updates: tuple[Update, ...] = ()) -> Article:
    stamp = Timestamp(datetime(2026, 3, 1, 9, 0, tzinfo=UTC), False)
    return Article(id="city-budget", title="City budget", published_at=stamp, updates=updates,
                   body="The council approved $4.2 million for the new library on Tuesday.")


def _embedded(data_dir: Path) -> NewsQA:
    qa = NewsQA(Settings(data_dir=data_dir, embedder="hashing"), embedder=HashingEmbedder())
    qa.ingest(_article())
    fix = Update(Timestamp(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), False), "Turnout was 4,100.")
    qa.ingest(_article((fix,)))
    qa.ingest(_article((Update(fix.published_at, "Turnout was 4,300."),)))  # a correction
    return qa


def test_a_migrated_store_answers_as_the_embedded_one(tmp_path: Path, postgres_url: str) -> None:
    embedded = _embedded(tmp_path / "data")
    before = embedded.ask(QUESTION).answer
    source = embedded.collection.store
    report = copy_store(source, Store(postgres_url), batch=2)
    assert report.source == report.target and report.target.docs == source.count()
    assert dict(report.target.records)["articles"] == 1
    migrated = NewsQA(Settings(data_dir=tmp_path / "fresh", embedder="hashing",
                               database_url=postgres_url), embedder=HashingEmbedder())
    after = migrated.ask(QUESTION).answer
    assert [c.quote for c in after.citations] == [c.quote for c in before.citations]
    assert after.citations and "$4.2 million" in after.citations[0].quote
    # the correction removed a chunk: its id is not handed out again in the copy either
    with migrated.collection.store.transaction() as conn:
        from index.store import NewDoc
        (new_id,) = insert_docs(conn, [NewDoc("x", "x", HashingEmbedder().embed(["x"])[0])])
    with source.transaction() as conn:
        (same,) = insert_docs(conn, [NewDoc("x", "x", HashingEmbedder().embed(["x"])[0])])
    assert new_id == same
    embedded.close()
    migrated.close()


def test_migrating_into_a_database_that_holds_data_is_refused(tmp_path: Path,
                                                              postgres_url: str) -> None:
    embedded = _embedded(tmp_path / "data")
    target = Store(postgres_url)
    copy_store(embedded.collection.store, target)
    with pytest.raises(MigrationRefused, match="already holds .* documents"):
        copy_store(embedded.collection.store, target)
    assert store_counts(target) == store_counts(embedded.collection.store)
    embedded.close()


def test_the_migrate_command_prints_counts_and_checks_them(tmp_path: Path, postgres_url: str) -> None:
    _embedded(tmp_path / "data").close()
    result = CliRunner().invoke(app, ["migrate", "--data-dir", str(tmp_path / "data"),
                                      "--to-database-url", postgres_url])
    assert result.exit_code == 0, result.output
    assert "counts match" in result.output and "articles 1" in result.output
    again = CliRunner().invoke(app, ["migrate", "--data-dir", str(tmp_path / "data"),
                                     "--to-database-url", postgres_url])
    assert again.exit_code == 1 and "already holds" in again.output


def test_migrate_can_fill_milvus_from_the_copy(tmp_path: Path, postgres_url: str) -> None:
    pytest.importorskip("milvus_lite")
    embedded = _embedded(tmp_path / "data")
    chunks = embedded.collection.store.count()
    embedded.close()
    uri = str(tmp_path / "milvus" / "newsqa.db")
    (tmp_path / "milvus").mkdir()
    result = CliRunner().invoke(app, ["migrate", "--data-dir", str(tmp_path / "data"),
                                      "--to-database-url", postgres_url, "--to-milvus-uri", uri,
                                      "--milvus-collection", "migrated"])
    assert result.exit_code == 0, result.output
    assert f"{chunks:,} documents" in result.output and "matches the store" in result.output
    served = NewsQA(Settings(data_dir=tmp_path / "served", embedder="hashing",
                             database_url=postgres_url, milvus_uri=uri,
                             milvus_collection="migrated"), embedder=HashingEmbedder())
    answer = served.ask(QUESTION).answer
    assert answer.citations and "$4.2 million" in answer.citations[0].quote
    served.close()
