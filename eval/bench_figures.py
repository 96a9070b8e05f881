"""How fast a figure look-up is over many chunks: `python -m eval.bench_figures` or
`newsqa bench-figures`.

Writes synthetic articles (a body and four updates each; every section is one chunk of about
three sentences holding two to three figures) to a temporary store through the same records
ingest writes, opens a Library on it as the service does, then times full look-ups: the
binary search, the unit checks, ordering and reading each quote from the store.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from index.collection import Collection
from index.embed import HashingEmbedder
from index.store import put_record
from qa.figures.desk import FigureDesk
from qa.figures.index import FIGURES, figure_record
from qa.ids import content_hash
from qa.library import ARTICLES, SECTIONS, Library
from qa.models import Timestamp
from qa.records import BODY, ArticleRecord, UpdateRecord, stamp_to_json, update_sid

QUERIES = ("$28.7 billion", "3,000 arrests per day", "12%")
SECTIONS_PER_ARTICLE = 5


def _sentence(rng: random.Random) -> str:
    money = round(rng.lognormvariate(4, 2), 1)
    count = rng.randrange(10, 500_000)
    pick = rng.random()
    if pick < 0.0001:
        return "Congress allocated $28.7 billion to the agency, officials said."
    if pick < 0.0002:
        return "The budget has grown to nearly $29 billion this year."
    if pick < 0.0004:
        return "Agents made 3,000 arrests per day over the summer."
    return rng.choice([
        f"The city said the project will cost ${money} million over five years.",
        f"About {count:,} residents were affected, and {rng.randrange(1, 99)}% of them left.",
        f"Officials reported {count:,} customers without power on the coast.",
        f"The contract is worth ${money} million, up from an earlier estimate.",
    ])


def _section_text(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(3))


def _article(conn: Any, rng: random.Random, number: int, start: datetime) -> None:
    article_id = f"bench-{number}"
    stamps = [start + timedelta(minutes=10 * i) for i in range(SECTIONS_PER_ARTICLE)]
    updates = []
    for i, moment in enumerate(stamps):
        stamp = Timestamp(moment)
        sid = BODY if i == 0 else update_sid(stamp)
        text = _section_text(rng)
        put_record(conn, SECTIONS, f"{article_id}|{sid}", {"text": text})
        put_record(conn, FIGURES, f"{article_id}|{sid}", figure_record(text, stamp_to_json(stamp)))
        if i:
            updates.append(UpdateRecord(sid, stamp, content_hash(text)))
    record = ArticleRecord(article_id, f"Synthetic story {number}", None, None,
                           Timestamp(stamps[0]), "synthetic", tuple(updates))
    put_record(conn, ARTICLES, article_id, record.to_row())


def _write_corpus(directory: Path, chunks: int, seed: int) -> Collection:
    embedder = HashingEmbedder()
    collection = Collection(directory, embedder.name, embedder.dim)
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with collection.store.transaction() as conn:
        for number in range(chunks // SECTIONS_PER_ARTICLE):
            _article(conn, rng, number, start + timedelta(hours=number))
    return collection


def run_benchmark(chunks: int = 100_000, runs: int = 7, seed: int = 7,
                  log: Callable[[str], None] = print) -> dict[str, float]:
    """Median look-up time in ms per query over `chunks` synthetic chunks; logs a report."""
    with tempfile.TemporaryDirectory(prefix="newsqa-bench-") as tmp:
        started = time.perf_counter()
        collection = _write_corpus(Path(tmp), chunks, seed)
        log(f"wrote {chunks:,} synthetic chunks in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        library = Library(collection, HashingEmbedder(), 200)
        desk = FigureDesk(library, lambda query, k, as_of: [])
        desk.timeline(QUERIES[0])  # the first look-up sorts the values once
        log(f"loaded {len(library.figures):,} figures and sorted them in "
            f"{time.perf_counter() - started:.1f} s")
        medians = {}
        for query in QUERIES:
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                found = desk.timeline(query)
                times.append((time.perf_counter() - t0) * 1000)
            medians[query] = statistics.median(times)
            log(f"{query!r}: {found.count} appearances; median {medians[query]:.2f} ms "
                f"(min {min(times):.2f}, max {max(times):.2f}) over {runs} runs")
        collection.close()
    log(f"figure look-up over {chunks:,} chunks: median {statistics.median(medians.values()):.2f} ms")
    return medians


if __name__ == "__main__":
    run_benchmark()
