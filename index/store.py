"""The store: the source of truth for texts, metadata, vectors and small JSON records.

One schema and one set of queries on SQLAlchemy Core: a SQLite file in the data directory by
default, a PostgreSQL database when given its URL (`postgresql+psycopg://...`). Every write
happens in one transaction that also bumps a generation counter; derived indexes (FAISS file,
in-memory BM25) and in-process caches record the generation they were built from, so a crash
between the commit and the index save, or a write by another process, is noticed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Integer,
    Row,
    Text,
    cast,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.exc import OperationalError

from index import term_stats
from index.errors import StoreUnavailable
from index.schema import KEY, docs, metadata, records, staged_vectors, state, term_df, upsert_for
from index.term_stats import TermStats

__all__ = ["KEY", "DocBatch", "NewDoc", "Store", "StoredDoc", "TermStats", "TextBatch",
           "TimeBatch", "VectorBatch", "delete_docs", "delete_record", "docs", "insert_docs",
           "metadata", "put_record", "records", "staged_vectors", "state", "term_df"]

AnyRow: TypeAlias = Row[*tuple[Any, ...]]  # a row of any columns, read by name
IN_CHUNK = 500  # ids or keys per IN (...) list
DELETED_MAX = "deleted_max_id"  # state key: the highest id ever deleted


@dataclass(frozen=True)
class NewDoc:
    """A document to add: `key` is the caller's unique identity for it (adding a key twice is a no-op)."""

    key: str
    text: str
    vector: np.ndarray
    search_text: str | None = None
    time: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_row(self) -> dict[str, Any]:
        return {"key": self.key, "text": self.text,
                "search_text": self.search_text if self.search_text is not None else self.text,
                "time": self.time, "meta": json.dumps(self.meta, ensure_ascii=False),
                "vector": vector_bytes(self.vector)}


@dataclass(frozen=True)
class StoredDoc:
    id: int
    key: str
    text: str
    time: float | None
    meta: dict[str, Any]

    @classmethod
    def from_row(cls, row: AnyRow) -> StoredDoc:
        return cls(int(row.id), row.key, row.text, row.time, json.loads(row.meta))


def _ids(rows: Sequence[AnyRow]) -> np.ndarray:
    return np.asarray([r.id for r in rows], dtype=np.int64)


def _vectors(rows: Sequence[AnyRow]) -> np.ndarray:
    """One (n, dim) array from the rows' vector bytes, joined once (not an array per row)."""
    return np.frombuffer(bytearray().join(r.vector for r in rows), dtype=np.float32).reshape(
        len(rows), -1)


@dataclass(frozen=True)
class TimeBatch:
    """Ids (ascending) and times of a run of stored documents."""

    ids: np.ndarray
    times: list[float | None]

    @classmethod
    def from_rows(cls, rows: Sequence[AnyRow]) -> TimeBatch:
        return cls(_ids(rows), [r.time for r in rows])


@dataclass(frozen=True)
class TextBatch:
    """Ids (ascending), times and the texts BM25 indexes of a run of stored documents."""

    ids: np.ndarray
    times: list[float | None]
    texts: list[str]

    @classmethod
    def from_rows(cls, rows: Sequence[AnyRow]) -> TextBatch:
        return cls(_ids(rows), [r.time for r in rows], [r.search_text for r in rows])


@dataclass(frozen=True)
class VectorBatch:
    """Ids (ascending), times and vectors (one row per id) of a run of stored documents."""

    ids: np.ndarray
    times: list[float | None]
    vectors: np.ndarray

    @classmethod
    def from_rows(cls, rows: Sequence[AnyRow]) -> VectorBatch:
        return cls(_ids(rows), [r.time for r in rows], _vectors(rows))


@dataclass(frozen=True)
class DocBatch:
    """Ids (ascending), times, search texts and vectors of a run of stored documents."""

    ids: np.ndarray
    times: list[float | None]
    texts: list[str]
    vectors: np.ndarray

    @classmethod
    def from_rows(cls, rows: Sequence[AnyRow]) -> DocBatch:
        return cls(_ids(rows), [r.time for r in rows], [r.search_text for r in rows],
                   _vectors(rows))


def vector_bytes(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()


def vector_from_bytes(value: bytes) -> np.ndarray:
    return np.frombuffer(value, dtype=np.float32)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # transactions are begun below, not by pysqlite
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=FULL")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # a writer takes the write lock at BEGIN, so two writers wait instead of failing mid-way
        writing = conn.get_execution_options().get("newsqa_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    return engine


def open_engine(url: str) -> Engine:
    """An engine for `url`; the PostgreSQL driver is loaded only when asked for."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return _sqlite_engine(url)
    try:
        return create_engine(url, pool_pre_ping=True)
    except ModuleNotFoundError as exc:
        raise StoreUnavailable(
            f"the database URL {url.split('@')[-1]!r} needs the driver {exc.name!r}: install "
            "newsqa with its scale extra (pip install 'newsqa[scale]')") from exc


class Store:
    """Documents, records and the generation counter in one database. Safe to share between
    threads: each call takes a pooled connection; writes go one at a time per process."""

    def __init__(self, url: str) -> None:
        self.engine = open_engine(url)
        self.url = self.engine.url.render_as_string(hide_password=True)
        self._write_lock = threading.RLock()
        self.committed_generation = 0  # of this process's last write (read it under the lock)
        try:
            metadata.create_all(self.engine)
        except OperationalError as exc:
            self.engine.dispose()
            raise StoreUnavailable(f"cannot open the database {self.url}: {exc.orig}. Check "
                                   "NEWSQA_DATABASE_URL (or the data directory)") from exc
        self._count_terms()

    def _count_terms(self) -> None:
        """A store written before term statistics were kept (or with another analyzer) has its
        documents counted once, here."""
        with self.engine.connect() as conn:
            if term_stats.is_current(conn):
                return
        with self.transaction() as conn:
            if conn.dialect.name == "postgresql":  # another process counting: wait, then see
                conn.exec_driver_sql("LOCK TABLE term_df IN SHARE ROW EXCLUSIVE MODE")
            if not term_stats.is_current(conn):
                term_stats.rebuild(conn)

    @classmethod
    def at_path(cls, path: Path) -> Store:
        """The embedded store: one SQLite file."""
        return cls(sqlite_url(path))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def ids_in_commit_order(self) -> bool:
        """Whether a document committed later always has a larger id than every one committed
        before: true of SQLite (one writer at a time holds the database from its first insert
        to its commit), not of PostgreSQL (concurrent writers draw ids from one sequence and
        may commit in another order)."""
        return self.dialect == "sqlite"

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """All-or-nothing: commits and bumps the generation on success, rolls back on any error."""
        with self._write_lock, self.engine.connect() as conn:
            conn.execution_options(newsqa_write=True)
            with conn.begin():
                yield conn
                upsert = upsert_for(conn)
                bumped = conn.execute(upsert(state).values(key="generation", value="1")
                                      .on_conflict_do_update(
                                          index_elements=[state.c.key],
                                          set_={"value": cast(cast(state.c.value, Integer) + 1, Text)})
                                      .returning(state.c.value)).scalar_one()
            self.committed_generation = int(bumped)

    def _read(self, stmt: Any) -> list[AnyRow]:
        with self.engine.connect() as conn:
            return list(conn.execute(stmt))

    def generation(self) -> int:
        """Bumped by every committed write, by any process: cheap to ask before each request."""
        rows = self._read(select(state.c.value).where(state.c.key == "generation"))
        return int(rows[0].value) if rows else 0

    def count(self) -> int:
        return int(self._read(select(func.count()).select_from(docs))[0][0])

    def high_water(self) -> int:
        """The largest id of a committed document, deleted ones included: an engine holding an
        id up to it that the store lacks holds a deleted document, not one being committed."""
        top = self._read(select(func.coalesce(func.max(docs.c.id), 0)))[0][0]
        rows = self._read(select(state.c.value).where(state.c.key == DELETED_MAX))
        return max(int(top), int(rows[0].value) if rows else 0)

    def term_stats(self, terms: Sequence[str]) -> TermStats:
        """How many documents hold each of `terms`, and how many documents there are."""
        with self.engine.connect() as conn:
            return term_stats.read(conn, terms)

    def existing_keys(self, keys: list[str]) -> set[str]:
        found: set[str] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(keys), IN_CHUNK):
                part = keys[start:start + IN_CHUNK]
                found.update(conn.execute(select(docs.c.key).where(docs.c.key.in_(part))).scalars())
        return found

    def get(self, ids: list[int]) -> dict[int, StoredDoc]:
        out: dict[int, StoredDoc] = {}
        columns = (docs.c.id, docs.c.key, docs.c.text, docs.c.time, docs.c.meta)
        with self.engine.connect() as conn:
            for start in range(0, len(ids), IN_CHUNK):
                part = ids[start:start + IN_CHUNK]
                for row in conn.execute(select(*columns).where(docs.c.id.in_(part))):
                    out[int(row.id)] = StoredDoc.from_row(row)
        return out

    def vectors(self, ids: list[int]) -> dict[int, np.ndarray]:
        out: dict[int, np.ndarray] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(ids), IN_CHUNK):
                part = ids[start:start + IN_CHUNK]
                for row in conn.execute(select(docs.c.id, docs.c.vector).where(docs.c.id.in_(part))):
                    out[int(row.id)] = vector_from_bytes(row.vector)
        return out

    def ids_with_key_prefix(self, prefix: str) -> list[int]:
        """Ids of the documents whose key starts with `prefix`, exactly (case included).

        A range on the key's index: with byte-wise collation, the keys that start with `prefix`
        are those from `prefix` up to, not including, `prefix` with its last character raised
        by one. (LIKE would ignore ASCII case in SQLite and match "storm|" for "STORM|".)
        """
        if not prefix:
            raise ValueError("a key prefix must not be empty")
        last = ord(prefix[-1])
        if last == 0x10FFFF:  # no character above it: compare the key's start (a full scan)
            where = func.substr(docs.c.key, 1, len(prefix)) == prefix
        else:
            upper = prefix[:-1] + chr(0xE000 if last == 0xD7FF else last + 1)  # skip surrogates
            where = (docs.c.key >= prefix) & (docs.c.key < upper)
        return [int(r.id) for r in self._read(select(docs.c.id).where(where).order_by(docs.c.id))]

    def _stream(self, stmt: Any, batch: int) -> Iterator[Sequence[AnyRow]]:
        """Rows of `stmt` in runs of `batch`, read as they come (a server-side cursor on
        PostgreSQL, SQLite's stepping cursor): memory stays bounded by one run."""
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=batch).execute(stmt)
            yield from result.partitions()

    def _iter(self, columns: tuple[Any, ...], batch: int, after_id: int,
              ids: np.ndarray | None) -> Iterator[Sequence[AnyRow]]:
        stmt = select(docs.c.id, docs.c.time, *columns)
        if ids is None:
            return self._stream(stmt.where(docs.c.id > after_id).order_by(docs.c.id), batch)
        return self._of_ids(stmt, ids)

    def _of_ids(self, stmt: Any, ids: np.ndarray) -> Iterator[Sequence[AnyRow]]:
        """Rows of `stmt` for these ids, ascending, one IN (...) list at a time (an id no
        longer stored is skipped)."""
        wanted = np.sort(np.asarray(ids, dtype=np.int64)).tolist()  # a repeated id: one row
        for start in range(0, len(wanted), IN_CHUNK):
            part = wanted[start:start + IN_CHUNK]
            rows = self._read(stmt.where(docs.c.id.in_(part)).order_by(docs.c.id))
            if rows:
                yield rows

    def iter_times(self, batch: int = 2048, after_id: int = 0,
                   ids: np.ndarray | None = None) -> Iterator[TimeBatch]:
        """Ids and times of the documents whose id is above `after_id` (or, given `ids`, of
        those of them still stored), in id order, in batches."""
        for rows in self._iter((), batch, after_id, ids):
            yield TimeBatch.from_rows(rows)

    def iter_texts(self, batch: int = 2048, after_id: int = 0,
                   ids: np.ndarray | None = None) -> Iterator[TextBatch]:
        """As `iter_times`, with each document's search text."""
        for rows in self._iter((docs.c.search_text,), batch, after_id, ids):
            yield TextBatch.from_rows(rows)

    def iter_vectors(self, batch: int = 2048, after_id: int = 0,
                     ids: np.ndarray | None = None) -> Iterator[VectorBatch]:
        """As `iter_times`, with each document's vector."""
        for rows in self._iter((docs.c.vector,), batch, after_id, ids):
            yield VectorBatch.from_rows(rows)

    def iter_docs(self, batch: int = 2048, after_id: int = 0,
                  ids: np.ndarray | None = None) -> Iterator[DocBatch]:
        """As `iter_times`, with each document's search text and vector."""
        for rows in self._iter((docs.c.search_text, docs.c.vector), batch, after_id, ids):
            yield DocBatch.from_rows(rows)

    def ids(self, batch: int = 65_536) -> np.ndarray:
        """Every stored document's id, ascending, as one array (read in runs of `batch`, no
        row kept): what an engine compares its own ids with. Unordered in SQL, so SQLite may
        read a small index rather than every row, and sorted here."""
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=batch).execute(select(docs.c.id))
            parts = [np.fromiter(part, dtype=np.int64, count=len(part))
                     for part in result.scalars().partitions()]
        return np.sort(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)

    # -- records: small JSON values by (collection, key) --------------------------------------

    def get_record(self, collection: str, key: str) -> Any | None:
        rows = self._read(select(records.c.value).where(
            (records.c.collection == collection) & (records.c.key == key)))
        return json.loads(rows[0].value) if rows else None

    def list_records(self, collection: str) -> list[tuple[str, Any]]:
        stmt = (select(records.c.key, records.c.value)
                .where(records.c.collection == collection).order_by(records.c.key))
        return [(r.key, json.loads(r.value)) for r in self._read(stmt)]

    def iter_records(self, collection: str, batch: int = 2048) -> Iterator[tuple[str, Any]]:
        """Every (key, record) of `collection`, by key, read `batch` at a time (each run its
        own query after the last key seen, so no cursor stays open while the caller works): a
        start builds its caches without holding every record's JSON at once."""
        after: str | None = None
        while True:
            stmt = select(records.c.key, records.c.value).where(records.c.collection == collection)
            if after is not None:
                stmt = stmt.where(records.c.key > after)
            rows = self._read(stmt.order_by(records.c.key).limit(batch))
            for r in rows:
                yield r.key, json.loads(r.value)
            if len(rows) < batch:
                return
            after = rows[-1].key


def insert_docs(conn: Connection, new: list[NewDoc]) -> list[int]:
    """Insert inside an open transaction; returns the new ids in order."""
    if not new:
        return []
    stmt = insert(docs).returning(docs.c.id, sort_by_parameter_order=True)
    rows = [doc.to_row() for doc in new]
    ids = [int(i) for i in conn.execute(stmt, rows).scalars()]
    term_stats.added(conn, [row["search_text"] for row in rows])
    return ids


def delete_docs(conn: Connection, ids: list[int]) -> None:
    term_stats.removed(conn, ids)
    for start in range(0, len(ids), IN_CHUNK):
        conn.execute(delete(docs).where(docs.c.id.in_(ids[start:start + IN_CHUNK])))
    if ids:  # remembered in the same transaction, so `high_water` still counts the newest one
        stmt = upsert_for(conn)(state).values(key=DELETED_MAX, value=str(max(ids)))
        larger = func.greatest if conn.dialect.name == "postgresql" else func.max
        conn.execute(stmt.on_conflict_do_update(index_elements=[state.c.key], set_={
            "value": cast(larger(cast(state.c.value, BigInteger),
                                 cast(stmt.excluded.value, BigInteger)), Text)}))


def put_record(conn: Connection, collection: str, key: str, value: Any) -> None:
    stmt = upsert_for(conn)(records).values(
        collection=collection, key=key, value=json.dumps(value, ensure_ascii=False, sort_keys=True))
    conn.execute(stmt.on_conflict_do_update(index_elements=[records.c.collection, records.c.key],
                                            set_={"value": stmt.excluded.value}))


def delete_record(conn: Connection, collection: str, key: str) -> None:
    conn.execute(records.delete().where(records.c.collection == collection,
                                        records.c.key == key))
