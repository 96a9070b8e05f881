"""The store's tables: one schema for SQLite and PostgreSQL (SQLAlchemy Core)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, Connection, Double, Integer, LargeBinary, MetaData, Table, Text
from sqlalchemy.dialects import postgresql, sqlite

# Keys compare byte by byte on both engines (SQLite's BINARY collation; "C" on PostgreSQL), so
# a key-prefix range and the order of listed records are the same everywhere.
KEY = Text().with_variant(Text(collation="C"), "postgresql")

metadata = MetaData()
docs = Table(
    "docs", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("key", KEY, nullable=False, unique=True),
    Column("text", Text, nullable=False),
    Column("search_text", Text, nullable=False),
    Column("time", Double),
    Column("meta", Text, nullable=False),
    Column("vector", LargeBinary, nullable=False),
    sqlite_autoincrement=True,  # ids of deleted documents are never handed out again
)
records = Table(
    "records", metadata,
    Column("collection", KEY, primary_key=True),
    Column("key", KEY, primary_key=True),
    Column("value", Text, nullable=False),
)
state = Table(
    "state", metadata,
    Column("key", KEY, primary_key=True),
    Column("value", Text, nullable=False),
)

# Vectors of a re-embedding in progress (`newsqa reindex`), by run ("<model>|<dim>"): written
# batch by batch so a killed run resumes, and swapped into `docs` in one transaction at the end.
staged_vectors = Table(
    "staged_vectors", metadata,
    Column("run", KEY, primary_key=True),
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("vector", LargeBinary, nullable=False),
)

# Document frequency of each analysed term over the stored documents, kept in the transaction
# that adds or removes them (index/term_stats.py), so idf is a key lookup on any engine.
term_df = Table(
    "term_df", metadata,
    Column("term", KEY, primary_key=True),
    Column("df", BigInteger, nullable=False),
)


def upsert_for(conn: Connection) -> Any:
    """The dialect's INSERT with ON CONFLICT (SQLite and PostgreSQL spell it the same)."""
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
