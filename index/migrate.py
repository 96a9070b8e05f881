"""Copy one store into another (an embedded SQLite file into PostgreSQL, or back), ids kept, in
one transaction on the target, then check that both hold the same documents and records."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Table, func, insert, select, text

from index.errors import MigrationRefused
from index.store import Store, docs, records, state, term_df

Progress = Callable[[str, int], None]  # (table, rows copied so far)


@dataclass(frozen=True)
class StoreCounts:
    """What must agree between a store and its copy."""

    docs: int
    id_sum: int
    max_id: int
    records: tuple[tuple[str, int], ...]  # (collection, count), by collection

    def describe(self) -> str:
        listed = ", ".join(f"{name} {n:,}" for name, n in self.records)
        return f"{self.docs:,} documents (ids up to {self.max_id:,}); records: {listed or 'none'}"


@dataclass(frozen=True)
class CopyReport:
    source: StoreCounts
    target: StoreCounts
    seconds: float


def store_counts(store: Store) -> StoreCounts:
    with store.engine.connect() as conn:
        n, id_sum, max_id = conn.execute(select(func.count(), func.coalesce(func.sum(docs.c.id), 0),
                                                func.coalesce(func.max(docs.c.id), 0))).one()
        per = conn.execute(select(records.c.collection, func.count()).group_by(records.c.collection)
                           .order_by(records.c.collection)).all()
    return StoreCounts(int(n), int(id_sum), int(max_id), tuple((str(c), int(k)) for c, k in per))


def _high_water(conn: Connection) -> int:
    """The largest document id ever handed out (deleted ones included), so the copy never
    hands an id out again."""
    if conn.dialect.name == "sqlite":
        seq = conn.execute(text("SELECT seq FROM sqlite_sequence WHERE name = 'docs'")).scalar()
    else:
        seq = conn.execute(text("SELECT last_value FROM docs_id_seq WHERE is_called")).scalar()
    top = conn.execute(select(func.coalesce(func.max(docs.c.id), 0))).scalar()
    return max(int(seq or 0), int(top or 0))


def _set_high_water(conn: Connection, value: int) -> None:
    if value <= 0:
        return
    if conn.dialect.name == "sqlite":
        conn.execute(text("DELETE FROM sqlite_sequence WHERE name = 'docs'"))
        conn.execute(text("INSERT INTO sqlite_sequence(name, seq) VALUES ('docs', :n)"), {"n": value})
    else:
        conn.execute(text("SELECT setval(pg_get_serial_sequence('docs', 'id'), :n)"), {"n": value})


def _copy_table(source: Store, conn: Connection, table: Table, batch: int,
                progress: Progress | None) -> None:
    copied = 0
    stmt = select(table).order_by(*table.primary_key.columns)
    with source.engine.connect() as read:
        result = read.execution_options(yield_per=batch).execute(stmt)
        for rows in result.partitions():
            conn.execute(insert(table), [row._asdict() for row in rows])
            copied += len(rows)
            if progress:
                progress(table.name, copied)


def copy_store(source: Store, target: Store, batch: int = 1000,
               progress: Progress | None = None) -> CopyReport:
    """Copy everything in `source` into the empty `target`: all of it, or (on any error) none."""
    before = store_counts(source)
    held = store_counts(target)
    if held.docs or held.records:
        raise MigrationRefused(f"the target database {target.url} already holds {held.describe()}; "
                               "migrate into an empty database (or drop its tables docs, records "
                               "and state first)")
    started = time.perf_counter()
    with source.engine.connect() as read:
        high_water = _high_water(read)
    with target.transaction() as conn:
        conn.execute(state.delete())
        conn.execute(term_df.delete())
        for table in (state, records, docs, term_df):
            _copy_table(source, conn, table, batch, progress)
        _set_high_water(conn, high_water)
    seconds = time.perf_counter() - started
    after = store_counts(target)
    if after != before:
        raise MigrationRefused(f"the copy in {target.url} does not match its source: source "
                               f"{before.describe()}, copy {after.describe()}")
    return CopyReport(before, after, seconds)
