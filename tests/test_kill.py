"""SIGKILL at any moment of an ingest or a delete: nothing acknowledged is lost, and no article
is half-present (every section with its chunks, vectors, postings and figures, or none of it)."""

from __future__ import annotations

import dataclasses
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from index.embed import HashingEmbedder
from qa.models import Article, Timestamp, Update
from qa.service import NewsQA
from qa.settings import Settings
from tests.conftest import ROOT

KILLS = 10
ARTICLES = 200
CHILD = """
import sys
from index.embed import HashingEmbedder
from qa.service import NewsQA
from qa.settings import Settings
from tests.test_kill import article, retitled
mode, data = sys.argv[1], sys.argv[2]
service = NewsQA(Settings(data_dir=data, embedder="hashing"), embedder=HashingEmbedder())
print("READY", flush=True)
for i in range(int(sys.argv[3]), 10_000):
    if mode == "ingest":
        service.ingest(article(i))
    elif mode == "retitle":
        service.ingest(retitled(i))
    elif f"kill-{i}" in service.article_ids():  # the last run may have deleted it unacknowledged
        service.delete(f"kill-{i}")
    print(f"ACK {i}", flush=True)
"""


def article(i: int) -> Article:
    day = Timestamp(datetime(2026, 3, 14, tzinfo=UTC), date_only=True)
    return Article(
        id=f"kill-{i}", title=f"Harbour works phase {i}", published_at=day,
        body=" ".join(f"Phase {i} of the harbour works will cost ${i + n} million, the council "
                      f"said in statement {n}." for n in range(6)),
        updates=tuple(Update(Timestamp(datetime(2026, 3, 14, 9 + n, tzinfo=UTC)),
                             f"Update {n} on phase {i}: {n * 100 + i} workers are on site.")
                      for n in range(3)))


def retitled(i: int) -> Article:
    """article(i) re-posted with only a new title, which every one of its chunks embeds."""
    return dataclasses.replace(article(i), title=f"Harbour dredging phase {i}")


def _settings(data: Path) -> Settings:
    return Settings(data_dir=data, embedder="hashing")


def _run_and_kill(mode: str, data: Path, start: int, rng: random.Random) -> list[int]:
    """Start a writer, SIGKILL it at a random moment once it is writing; the ids it acknowledged."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, mode, str(data), str(start)],
                             cwd=ROOT, stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"})
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "READY"
    first = child.stdout.readline()  # it is writing: the next write is under way
    time.sleep(rng.uniform(0.0, 0.15))
    child.send_signal(signal.SIGKILL)
    output, _ = child.communicate(timeout=30)
    return [int(line.split()[1]) for line in [first, *output.splitlines()]
            if line.startswith("ACK")]


def _whole_or_gone(service: NewsQA, i: int) -> bool:
    """True when present and whole, False when gone; fails the test when half-present."""
    article_id = f"kill-{i}"
    store = service.collection.store
    chunks = store.ids_with_key_prefix(f"{article_id}|")
    records = [c for c in ("sections", "figures")
               for k, _ in service.collection.records(c) if k.split("|")[0] == article_id]
    if article_id not in service.article_ids():
        assert chunks == [] and records == [], f"{article_id}: half-present after a kill"
        return False
    expected = len(service.texts_to_embed(article(i)))  # one chunk for each text embedded
    assert len(chunks) == expected, f"{article_id}: {len(chunks)} chunks of {expected}"
    assert len(records) == 2 * 4 and len(service.article(article_id).updates) == 3
    assert {h.id for h in service.collection.search(f"phase {article_id[5:]}", None, 500, "bm25")
            } >= set(chunks)
    return True


def _check(data: Path, upto: int) -> tuple[set[str], int]:
    """Reopen the data directory (as a restart would) and check every article below `upto`:
    those present, and how many articles there are in all."""
    service = NewsQA(_settings(data), embedder=HashingEmbedder())
    try:
        assert len(service.collection) == service.collection.store.count()
        present = {f"kill-{i}" for i in range(upto) if _whole_or_gone(service, i)}
        return present, len(service.article_ids())
    finally:
        service.close()


def test_kills_during_ingest_lose_nothing_acknowledged(tmp_path: Path) -> None:
    rng = random.Random(11)
    data = tmp_path / "data"
    acknowledged: set[str] = set()
    start = 0
    for _ in range(KILLS):
        acked = _run_and_kill("ingest", data, start, rng)
        acknowledged |= {f"kill-{i}" for i in acked}
        start = max([start, *acked]) + 1
        present, _ = _check(data, start + 2)
        assert acknowledged <= present
    assert len(acknowledged) >= KILLS


def _ingested(data: Path) -> Path:
    """`data` holding every test article, ingested and closed, for a child to be killed over."""
    service = NewsQA(_settings(data), embedder=HashingEmbedder())
    service.ingest_many(article(i) for i in range(ARTICLES))
    service.close()
    return data


def test_kills_during_delete_leave_articles_whole_or_gone(tmp_path: Path) -> None:
    rng = random.Random(12)
    data = _ingested(tmp_path / "data")
    deleted: set[str] = set()
    in_flight: set[str] = set()  # the delete each kill interrupted: it may or may not have landed
    start = 0
    for _ in range(KILLS):
        acked = _run_and_kill("delete", data, start, rng)
        deleted |= {f"kill-{i}" for i in acked}
        start = max([start - 1, *acked]) + 1
        in_flight.add(f"kill-{start}")
        assert start < ARTICLES, "the deletes outran the articles; ingest more"
        present, count = _check(data, min(ARTICLES, start + 2))
        assert not deleted & present
        # only a delete under way when killed may have gone through unacknowledged
        assert ARTICLES - len(deleted | in_flight) <= count <= ARTICLES - len(deleted)
    assert len(deleted) >= KILLS


def _one_title(service: NewsQA, i: int) -> str:
    """The title article i shows, checked to be the one all its chunks embed; fails the test
    when some chunks hold the old title and some the new."""
    article_id = f"kill-{i}"
    title = service.article(article_id).title
    chunks = set(service.collection.store.ids_with_key_prefix(f"{article_id}|"))
    assert len(chunks) == len(service.texts_to_embed(article(i))), f"{article_id}: chunks lost"
    docs = service.collection.get(sorted(chunks))
    assert {d.meta["title"] for d in docs.values()} == {title}, f"{article_id}: half-retitled"
    everywhere = len(service.collection)
    found = {h.id for h in service.collection.search("dredging", None, everywhere, "bm25")}
    assert (chunks <= found) if title == retitled(i).title else not chunks & found, article_id
    return title


def test_kills_during_a_retitle_leave_each_article_under_one_title(tmp_path: Path) -> None:
    rng = random.Random(13)
    data = _ingested(tmp_path / "data")
    acknowledged: set[int] = set()
    start = 0
    for _ in range(KILLS):
        acked = _run_and_kill("retitle", data, start, rng)
        acknowledged |= set(acked)
        start = max([start, *acked]) + 1
        assert start < ARTICLES, "the re-posts outran the articles; ingest more"
        service = NewsQA(_settings(data), embedder=HashingEmbedder())
        try:
            titles = {i: _one_title(service, i) for i in range(min(ARTICLES, start + 2))}
        finally:
            service.close()
        assert all(titles[i] == retitled(i).title for i in acknowledged)
    assert len(acknowledged) >= KILLS
