"""Term statistics kept in the store: how many documents hold each analysed term, and how many
documents there are, changed in the transaction that adds or removes the documents.

What weighs a question's words (BM25's idf) is then a key lookup on SQLite or PostgreSQL, the
same whichever search engine runs: Milvus Lite could only count a term by scanning its stored
texts (350-520 ms a term at 53,103 chunks).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Connection, bindparam, delete, select, update

from index.keyword import analyzer_fingerprint
from index.schema import docs, state, term_df, upsert_for
from index.text import analyze

DOC_COUNT = ""  # the row under the empty term (never an analysed term) counts the documents
STAMP = "term_stats_analyzer"  # state key: the analyzer the counts were made with
IN_CHUNK = 500


@dataclass(frozen=True)
class TermStats:
    """Document frequencies of some terms over `docs` documents."""

    docs: int
    df: dict[str, int]

    def idf(self, term: str) -> float:
        """Lucene's BM25 idf (0 for a term no document holds), as the keyword index computes it."""
        df = self.df.get(term, 0)
        if df <= 0 or self.docs <= 0:
            return 0.0
        return float(np.log1p((self.docs - df + 0.5) / (df + 0.5)))


def stamp() -> str:
    return analyzer_fingerprint(analyze)


def _counts(texts: Iterable[str]) -> Counter[str]:
    """Per term, how many of `texts` hold it; under DOC_COUNT, how many texts there are."""
    counts: Counter[str] = Counter()
    n = 0
    for text in texts:
        counts.update(set(analyze(text)))
        n += 1
    counts[DOC_COUNT] = n
    return counts


def added(conn: Connection, texts: Sequence[str]) -> None:
    """Count documents with these search texts in, inside the transaction that inserts them."""
    if not texts:
        return
    upsert = upsert_for(conn)(term_df)
    stmt = upsert.on_conflict_do_update(index_elements=[term_df.c.term],
                                        set_={"df": term_df.c.df + upsert.excluded.df})
    # in term order: two writers on PostgreSQL lock the rows they share in the same order
    conn.execute(stmt, [{"term": t, "df": n} for t, n in sorted(_counts(texts).items())])


def removed(conn: Connection, ids: Sequence[int]) -> None:
    """Count these stored documents out, inside the transaction that deletes them (before it)."""
    texts: list[str] = []
    for start in range(0, len(ids), IN_CHUNK):
        part = list(ids[start:start + IN_CHUNK])
        texts.extend(conn.execute(select(docs.c.search_text).where(docs.c.id.in_(part))).scalars())
    if not texts:
        return
    counts = sorted(_counts(texts).items())
    conn.execute(update(term_df).where(term_df.c.term == bindparam("t"))
                 .values(df=term_df.c.df - bindparam("n")), [{"t": t, "n": n} for t, n in counts])
    terms = [t for t, _ in counts if t != DOC_COUNT]
    for start in range(0, len(terms), IN_CHUNK):
        conn.execute(delete(term_df).where(term_df.c.term.in_(terms[start:start + IN_CHUNK])
                                           & (term_df.c.df <= 0)))


def read(conn: Connection, terms: Sequence[str]) -> TermStats:
    wanted = sorted({*terms, DOC_COUNT})
    found: dict[str, int] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        rows = conn.execute(select(term_df.c.term, term_df.c.df)
                            .where(term_df.c.term.in_(wanted[start:start + IN_CHUNK])))
        found.update((str(t), int(n)) for t, n in rows)
    total = found.pop(DOC_COUNT, 0)
    return TermStats(total, found)


def is_current(conn: Connection) -> bool:
    return conn.execute(select(state.c.value).where(state.c.key == STAMP)).scalar() == stamp()


def rebuild(conn: Connection, batch: int = 2048) -> None:
    """Count every stored document afresh (a store written before the counts were kept, or by
    another analyzer), inside an open write transaction."""
    conn.execute(delete(term_df))
    result = conn.execute(select(docs.c.search_text).execution_options(yield_per=batch))
    counts = _counts(text for rows in result.partitions() for (text,) in rows)
    rows = [{"term": t, "df": n} for t, n in sorted(counts.items())]
    for start in range(0, len(rows), 10_000):
        conn.execute(upsert_for(conn)(term_df), rows[start:start + 10_000])
    upsert = upsert_for(conn)(state).values(key=STAMP, value=stamp())
    conn.execute(upsert.on_conflict_do_update(index_elements=[state.c.key],
                                              set_={"value": upsert.excluded.value}))
