"""Bringing a search engine held in this process up to a store that other processes write.

Another process on the same store (`newsqa ingest` or `delete` on a server's data directory, a
second service on one database) commits documents this process's FAISS + BM25 never saw. The
Collection notices that the store's generation moved and calls `catch_up`, which copies in what
the engine lacks and drops what the store no longer has. An engine every process writes itself
(Milvus) needs none of this.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.engine import DocSource, IndexedDoc, SearchEngine, missing_and_gone
from index.store import Store


@dataclass(frozen=True)
class CaughtUp:
    added: int
    removed: int
    in_line_up_to: int  # the engine holds exactly the store's ids up to this one


def catch_up(engine: SearchEngine, store: Store, documents: DocSource,
             in_line_up_to: int) -> CaughtUp:
    """Make `engine` hold the ids `store` holds, given that it held exactly the store's ids
    up to `in_line_up_to` when the two last agreed (and has had the same writes of this
    process since).

    Where ids commit in increasing order (SQLite), whatever was committed since has a larger
    id: those rows are read by an id range, and equal counts then prove nothing was deleted.
    Otherwise (a deletion, or PostgreSQL, whose concurrent writers may commit a smaller id
    later) the store's ids are read whole and compared with the engine's as arrays.
    """
    added = 0
    if store.ids_in_commit_order:
        held = engine.ids()
        top = in_line_up_to
        for docs in documents(True, after_id=in_line_up_to):
            top = docs[-1].id
            fresh = _not_held(docs, held)  # this process's own writes since are held already
            engine.upsert(fresh)
            added += len(fresh)
        if len(engine) == store.count():
            return CaughtUp(added, 0, top)
    stored = store.ids()
    missing, gone = missing_and_gone(engine.ids(), stored)
    for docs in documents(True, ids=missing):
        engine.upsert(docs)
    engine.delete(gone.tolist())
    return CaughtUp(added + len(missing), len(gone), int(stored[-1]) if len(stored) else 0)


def _not_held(docs: list[IndexedDoc], held: np.ndarray) -> list[IndexedDoc]:
    fresh = np.isin(np.asarray([d.id for d in docs], dtype=np.int64), held, invert=True)
    return [d for d, new in zip(docs, fresh.tolist(), strict=True) if new]
