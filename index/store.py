"""SQLite store: the source of truth for texts, metadata, vectors and small JSON records.

Every write happens in one transaction that also bumps a generation counter; derived indexes
(FAISS file, in-memory BM25) record the generation they were built from, so a crash between
the commit and the index save is detected and repaired at the next start.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    text TEXT NOT NULL,
    search_text TEXT NOT NULL,
    time REAL,
    meta TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    collection TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (collection, key)
);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class NewDoc:
    """A document to add: `key` is the caller's unique identity for it (adding a key twice is a no-op)."""

    key: str
    text: str
    vector: np.ndarray
    search_text: str | None = None
    time: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredDoc:
    id: int
    key: str
    text: str
    time: float | None
    meta: dict[str, Any]


class Store:
    """One SQLite file. Safe to share between threads: one connection behind a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing: commits and bumps the generation on success, rolls back on any error."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute(
                    "INSERT INTO state(key, value) VALUES ('generation', '1') "
                    "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1")
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def generation(self) -> int:
        with self._lock:
            row = self._conn.execute("SELECT value FROM state WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM docs").fetchone()[0])

    def existing_keys(self, keys: list[str]) -> set[str]:
        found: set[str] = set()
        with self._lock:
            for start in range(0, len(keys), 500):
                part = keys[start:start + 500]
                marks = ",".join("?" * len(part))
                rows = self._conn.execute(f"SELECT key FROM docs WHERE key IN ({marks})", part)
                found.update(r[0] for r in rows)
        return found

    def get(self, ids: list[int]) -> dict[int, StoredDoc]:
        out: dict[int, StoredDoc] = {}
        with self._lock:
            for start in range(0, len(ids), 500):
                part = ids[start:start + 500]
                marks = ",".join("?" * len(part))
                rows = self._conn.execute(
                    f"SELECT id, key, text, time, meta FROM docs WHERE id IN ({marks})", part)
                for doc_id, key, text, time, meta in rows:
                    out[doc_id] = StoredDoc(doc_id, key, text, time, json.loads(meta))
        return out

    def vectors(self, ids: list[int]) -> dict[int, np.ndarray]:
        with self._lock:
            marks = ",".join("?" * len(ids))
            rows = self._conn.execute(f"SELECT id, vector FROM docs WHERE id IN ({marks})", ids)
            return {int(i): np.frombuffer(v, dtype=np.float32) for i, v in rows}

    def ids_with_key_prefix(self, prefix: str) -> list[int]:
        """Ids of the documents whose key starts with `prefix`, exactly (case included).

        A range on the key's index: with SQLite's binary collation, the keys that start with
        `prefix` are those from `prefix` up to, not including, `prefix` with its last character
        raised by one. (LIKE would ignore ASCII case and match "storm|" for "STORM|".)
        """
        if not prefix:
            raise ValueError("a key prefix must not be empty")
        last = ord(prefix[-1])
        with self._lock:
            if last == 0x10FFFF:  # no character above it: compare the key's start (a full scan)
                rows = self._conn.execute(
                    "SELECT id FROM docs WHERE substr(key, 1, length(?)) = ? ORDER BY id",
                    (prefix, prefix))
            else:
                upper = prefix[:-1] + chr(0xE000 if last == 0xD7FF else last + 1)  # skip surrogates
                rows = self._conn.execute(
                    "SELECT id FROM docs WHERE key >= ? AND key < ? ORDER BY id", (prefix, upper))
            return [int(r[0]) for r in rows]

    def iter_all(self, with_vectors: bool = True, batch: int = 2048, *, with_texts: bool = True,
                 after_id: int = 0
                 ) -> Iterator[tuple[np.ndarray, list[str], list[float | None], np.ndarray | None]]:
        """(ids, search texts, times, vectors) in id order, in batches, of the rows whose id is
        above `after_id`; texts are empty strings unless `with_texts`. Reads one batch at a time."""
        columns = ("id, time" + (", search_text" if with_texts else ", ''")
                   + (", vector" if with_vectors else ""))
        last = after_id
        while True:
            with self._lock:
                part = self._conn.execute(f"SELECT {columns} FROM docs WHERE id > ? ORDER BY id "
                                          "LIMIT ?", (last, batch)).fetchall()
            if not part:
                return
            last = part[-1][0]
            ids = np.asarray([r[0] for r in part], dtype=np.int64)
            vectors = (np.frombuffer(bytearray().join(r[3] for r in part), dtype=np.float32)
                       .reshape(len(part), -1) if with_vectors else None)
            yield ids, [r[2] for r in part], [r[1] for r in part], vectors

    # -- records: small JSON values by (collection, key) --------------------------------------

    def get_record(self, collection: str, key: str) -> Any | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM records WHERE collection=? AND key=?",
                                     (collection, key)).fetchone()
        return json.loads(row[0]) if row else None

    def list_records(self, collection: str) -> list[tuple[str, Any]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT key, value FROM records WHERE collection=? ORDER BY key", (collection,))
            return [(k, json.loads(v)) for k, v in rows]


def insert_docs(conn: sqlite3.Connection, docs: list[NewDoc]) -> list[int]:
    """Insert inside an open transaction; returns the new ids in order."""
    ids = []
    for doc in docs:
        vector = np.ascontiguousarray(doc.vector, dtype=np.float32)
        cursor = conn.execute(
            "INSERT INTO docs(key, text, search_text, time, meta, vector) VALUES (?,?,?,?,?,?)",
            (doc.key, doc.text, doc.search_text if doc.search_text is not None else doc.text,
             doc.time, json.dumps(doc.meta, ensure_ascii=False), vector.tobytes()))
        assert cursor.lastrowid is not None
        ids.append(int(cursor.lastrowid))
    return ids


def delete_docs(conn: sqlite3.Connection, ids: list[int]) -> None:
    conn.executemany("DELETE FROM docs WHERE id=?", [(i,) for i in ids])


def put_record(conn: sqlite3.Connection, collection: str, key: str, value: Any) -> None:
    conn.execute(
        "INSERT INTO records(collection, key, value) VALUES (?,?,?) "
        "ON CONFLICT(collection, key) DO UPDATE SET value=excluded.value",
        (collection, key, json.dumps(value, ensure_ascii=False, sort_keys=True)))
