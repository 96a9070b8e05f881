"""Milvus as the search engine (pymilvus `MilvusClient`): Milvus Lite from a file path, or a
Milvus server from an http:// URI, with the same code.

One Milvus collection holds, per stored document: its id, the search text as our analyzer's
terms joined by spaces (a BM25 `Function` makes the sparse vector from it with a whitespace
tokenizer, so Milvus scores exactly the terms the embedded BM25 scores), the dense vector and
the time. Reads see every write acknowledged before them: at Session consistency within one
process (Milvus Lite from a file), at Strong where several processes share a server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.engine import (
    DocSource,
    FusionSettings,
    Hit,
    IndexedDoc,
    Query,
    StoreStamp,
    fuse,
    missing_and_gone,
    single,
    vectors_of,
)
from index.errors import CollectionMismatch
from index.text import analyze

log = logging.getLogger(__name__)

# A time beyond any real one stands for "unknown": a window "time <= t" leaves it out, as the
# embedded engine does; with no window every document is searched.
UNKNOWN_TIME = 1.0e300
MAX_TEXT_BYTES = 65_535  # Milvus's VARCHAR limit
CONSISTENCY_LEVELS = ("Strong", "Session", "Bounded", "Eventually")


def default_consistency(uri: str) -> str:
    """Session for Milvus Lite in this process (its own writes are all there is, and Strong
    waits for Lite's time tick: 75-330 ms a call, measured here); Strong for a server, which
    other replicas write to."""
    return "Strong" if uri.startswith(("http://", "https://", "tcp://", "grpc://")) else "Session"
_BATCH = 1000


@dataclass(frozen=True)
class MilvusTarget:
    """Where the chunks live: `uri` a Milvus Lite file or a server; None consistency = default."""

    uri: str
    collection: str = "newsqa_chunks"
    consistency: str | None = None


def analysed(text: str, analyzer: Callable[[str], list[str]] = analyze) -> str:
    """The text Milvus indexes: our terms, space-separated (the spaces at each end are kept so
    collections written before keep matching what is written now)."""
    return f" {' '.join(analyzer(text))} "


class MilvusEngine:
    """A Milvus collection searched by `search` (dense, BM25) and `hybrid_search` (RRF)."""

    shared = True  # every process on the store writes this collection itself

    def __init__(self, uri: str, collection: str, dim: int, owner: str,
                 fusion: FusionSettings | None = None, token: str = "",
                 analyzer: Callable[[str], list[str]] = analyze,
                 consistency: str | None = None, model: str = "") -> None:
        """`owner` names the records store whose documents the collection holds: a collection
        filled from another store (another data directory, a benchmark run before) is refused,
        as its ids mean other documents. One filled from this store with another model's
        vectors (before `newsqa reindex`) is emptied, and refilled from the store by `sync`."""
        from pymilvus import MilvusClient

        self.uri = uri
        self.name = collection
        self.dim = dim
        self.owner = f"newsqa store {owner}"
        self.model = f"model {model} dim {dim}"
        self.consistency = consistency or default_consistency(uri)
        if self.consistency not in CONSISTENCY_LEVELS:
            raise ValueError(f"Milvus consistency {self.consistency!r} is unknown; use one of "
                             f"{', '.join(CONSISTENCY_LEVELS)}")
        self.fusion = fusion or FusionSettings()
        self.analyzer = analyzer
        self._client: Any = MilvusClient(uri=uri, token=token)
        if self._client.has_collection(collection):
            self._check_collection()
        else:
            self._create()
        self._client.load_collection(collection)

    # -- opening ----------------------------------------------------------------------------

    def _create(self) -> None:
        from pymilvus import DataType, Function, FunctionType

        schema = self._client.create_schema(auto_id=False, enable_dynamic_field=False,
                                            description=f"{self.owner}; {self.model}")
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("text", DataType.VARCHAR, max_length=MAX_TEXT_BYTES, enable_analyzer=True,
                         analyzer_params={"tokenizer": "whitespace"})
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=self.dim)
        schema.add_field("time", DataType.DOUBLE)
        schema.add_function(Function(name="text_bm25", function_type=FunctionType.BM25,
                                     input_field_names=["text"], output_field_names=["sparse"]))
        index = self._client.prepare_index_params()
        index.add_index("dense", index_type="FLAT", metric_type="IP")  # exact, as FAISS Flat
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                        params={"bm25_k1": 1.2, "bm25_b": 0.75})
        # no scalar index on time: Milvus Lite 2.5.1 has none (STL_SORT is refused); the window
        # is then a scan of the time column inside Milvus, still applied before the top k
        self._client.create_collection(self.name, schema=schema, index_params=index,
                                       consistency_level="Strong")

    def _check_collection(self) -> None:
        described = self._client.describe_collection(self.name)
        owner, _, model = str(described.get("description") or "not newsqa").partition("; ")
        if owner != self.owner:
            raise CollectionMismatch(
                f"the Milvus collection {self.name!r} at {self.uri} was filled from another "
                f"records store ({owner!r}; this data directory's is {self.owner!r}). Set "
                "NEWSQA_MILVUS_COLLECTION to another name, or drop that collection if nothing "
                "needs it.")
        dims = [int(f["params"]["dim"]) for f in described["fields"] if f["name"] == "dense"]
        if model != self.model or dims != [self.dim]:
            log.warning("Milvus collection %r holds vectors of %s, the store those of %s (it was "
                        "re-embedded): emptying it to refill it from the store", self.name,
                        model or f"dimension {dims}", self.model)
            self._client.drop_collection(self.name)
            self._create()

    def sync(self, stamp: StoreStamp, source: DocSource) -> None:
        """Catch up with the store: add what it committed and Milvus lacks (a writer killed
        between the commit and Milvus, or Milvus Lite killed before it persisted), remove what
        it no longer has (a delete Milvus missed). Writers commit to the store before Milvus,
        so an id Milvus holds and the store lacks is never one being committed: Milvus's ids
        are read first, and any of them the store does not hold then is gone for good."""
        held = self.ids()
        stored = np.asarray([d.id for docs in source(False, with_texts=False) for d in docs],
                            dtype=np.int64)
        missing, gone = missing_and_gone(held, stored)
        left_out = 0
        for docs in source(True, ids=missing):
            left_out += self._upsert_what_fits(docs)
        orphans = gone.tolist()
        self.delete(orphans)
        if len(missing) > left_out or orphans:
            log.warning("Milvus collection %r was behind the store (at generation %d): added %d "
                        "documents, removed %d", self.name, stamp.generation,
                        len(missing) - left_out, len(orphans))

    def flush(self, stamp: StoreStamp) -> None:
        """Nothing to do: Milvus acknowledges a write once it is durable in its own log."""

    def close(self) -> None:
        self._client.close()

    def drop(self) -> None:
        """Remove the whole collection (tests, and re-creating it for another model)."""
        self._client.drop_collection(self.name)

    # -- writing ----------------------------------------------------------------------------

    def upsert(self, docs: Sequence[IndexedDoc]) -> None:
        for start in range(0, len(docs), _BATCH):
            part = docs[start:start + _BATCH]
            vectors = vectors_of(part).astype(np.float32)
            self._client.upsert(self.name, [self._row(d, vector, self._text(d))
                                            for d, vector in zip(part, vectors, strict=True)])

    def _upsert_what_fits(self, docs: Sequence[IndexedDoc]) -> int:
        """Upsert the documents Milvus can hold; one it cannot (stored before such documents were
        refused, or by the embedded engine, which holds any length) is left out, named in the
        log on every catch-up, so that the rest opens and answers. Returns how many were left out."""
        if not docs:
            return 0
        rows, left_out = [], 0
        for d, vector in zip(docs, vectors_of(docs).astype(np.float32), strict=True):
            try:
                rows.append(self._row(d, vector, self._text(d)))
            except ValueError as exc:
                left_out += 1
                log.warning("Milvus collection %r leaves out %s (text %r…): it cannot be searched "
                            "until its article is deleted (newsqa delete ID) and ingested again "
                            "with a shorter title or smaller chunks", self.name, exc,
                            d.text[:60])
        for start in range(0, len(rows), _BATCH):
            self._client.upsert(self.name, rows[start:start + _BATCH])
        return left_out

    @staticmethod
    def _row(doc: IndexedDoc, vector: np.ndarray, text: str) -> dict[str, Any]:
        return {"id": doc.id, "text": text, "dense": vector,
                "time": UNKNOWN_TIME if doc.time is None else float(doc.time)}

    def check(self, text: str) -> None:
        self._analysed(text)

    def _text(self, doc: IndexedDoc) -> str:
        try:
            return self._analysed(doc.text)
        except ValueError as exc:
            raise ValueError(f"document {doc.id}: {exc}") from exc

    def _analysed(self, text: str) -> str:
        terms = analysed(text, self.analyzer)
        size = len(terms.encode("utf-8"))
        if size > MAX_TEXT_BYTES:
            raise ValueError(f"its search text has {size:,} bytes of search terms, over Milvus's "
                             f"limit of {MAX_TEXT_BYTES:,}; use smaller chunks (NEWSQA_CHUNK_TOKENS)"
                             " or a shorter title")
        return terms

    def delete(self, ids: Sequence[int]) -> None:
        for start in range(0, len(ids), _BATCH):
            part = [int(i) for i in ids[start:start + _BATCH]]
            self._client.delete(self.name, filter=f"id in {part}")

    # -- reading ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._count("")

    def _count(self, expression: str) -> int:
        rows = self._client.query(self.name, filter=expression, output_fields=["count(*)"],
                                  consistency_level=self.consistency)
        return int(rows[0]["count(*)"])

    def ids(self) -> np.ndarray:
        iterator = self._client.query_iterator(self.name, batch_size=_BATCH * 10, filter="",
                                               output_fields=["id"], consistency_level=self.consistency)
        found: list[int] = []
        try:
            while rows := iterator.next():
                found.extend(int(r["id"]) for r in rows)
        finally:
            iterator.close()
        return np.sort(np.asarray(found, dtype=np.int64))

    def search(self, query: Query) -> list[Hit]:
        from pymilvus.exceptions import MilvusException

        try:
            return self._search(query)
        except MilvusException as exc:  # BM25 over no documents divides by zero in Milvus 2.5
            if "NaN or Inf" in str(exc) and len(self) == 0:
                return []
            raise

    def _search(self, query: Query) -> list[Hit]:
        window = "" if query.time_max is None else f"time <= {float(query.time_max)!r}"
        terms = " ".join(self.analyzer(query.text))
        if query.mode == "bm25":
            return single(self._keyword(terms, query.k, window), "bm25")
        if query.vector is None:
            raise ValueError("dense and hybrid search need a query vector")
        vector = np.asarray(query.vector, dtype=np.float32)
        if query.mode == "dense":
            return single(self._dense(vector, query.k, window), "dense")
        depth = max(query.k, self.fusion.depth)
        if self._server_fusion() and terms:
            return self._hybrid(vector, terms, query.k, depth, window)
        return fuse(self._dense(vector, depth, window), self._keyword(terms, depth, window),
                    query.k, self.fusion)

    def _server_fusion(self) -> bool:
        """Milvus's RRFRanker fuses unweighted, with an integer k: used when the settings ask
        for exactly that; weighted fusion is done here over Milvus's two rankings."""
        f = self.fusion
        return f.dense_weight == f.keyword_weight > 0 and float(f.rrf_k).is_integer()

    def _dense(self, vector: np.ndarray, k: int, window: str) -> list[tuple[int, float]]:
        result = self._client.search(self.name, data=[vector], anns_field="dense", limit=k,
                                     filter=window, search_params={"metric_type": "IP"},
                                     consistency_level=self.consistency)
        return [(int(h["id"]), float(h["distance"])) for h in result[0]]

    def _keyword(self, terms: str, k: int, window: str) -> list[tuple[int, float]]:
        if not terms:
            return []
        result = self._client.search(self.name, data=[terms], anns_field="sparse", limit=k,
                                     filter=window, search_params={"metric_type": "BM25"},
                                     consistency_level=self.consistency)
        return [(int(h["id"]), float(h["distance"])) for h in result[0] if h["distance"] > 0]

    def _hybrid(self, vector: np.ndarray, terms: str, k: int, depth: int,
                window: str) -> list[Hit]:
        from pymilvus import AnnSearchRequest, RRFRanker

        requests = [AnnSearchRequest(data=[vector], anns_field="dense", limit=depth,
                                     param={"metric_type": "IP"}, expr=window),
                    AnnSearchRequest(data=[terms], anns_field="sparse", limit=depth,
                                     param={"metric_type": "BM25"}, expr=window)]
        result = self._client.hybrid_search(self.name, requests, ranker=RRFRanker(int(self.fusion.rrf_k)),
                                            limit=k, consistency_level=self.consistency)
        return [Hit(int(h["id"]), float(h["distance"])) for h in result[0]]
