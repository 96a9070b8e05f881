"""Synthetic corpora of any size for the cost-curve benchmark (eval/bench_scale.py).

A *base* data directory is ingested through the normal path from real articles of a dataset
(read at run time, never copied into the project), with vectors from the embedding cache
where it has them (a cheap hashing embedder where it does not; the benchmark says which share).
A corpus of N chunks repeats the base with changes until it holds N chunks: each copy of an
article gets another id, another time (up to 400 days either way), words swapped for other
words of the same length (so every stored offset stays valid and quotes stay verbatim), and
its vectors moved by noise and renormalised (cosine ~0.9 to the original, so neighbourhoods
keep their shape). Copies are written straight into the store in large transactions; the
indexes are then built from the store as at any start.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from index.collection import Collection
from index.embed import Embedder, HashingEmbedder
from index.embed_cache import CachedEmbedder
from index.store import NewDoc, Store, insert_docs, put_record
from qa.figures.index import FIGURES
from qa.ids import content_hash
from qa.library import ARTICLES, SECTIONS, embed_text

_WORD = re.compile(r"[A-Za-z]{4,}")
SWAP_SHARE = 0.15       # share of an article's distinct words swapped in each copy
VECTOR_COSINE = 0.9     # expected cosine between a copied chunk's vector and its original
SHIFT_DAYS = 400        # a copy's time moves by up to this many days either way


class CacheFirstEmbedder:
    """Vectors from the embedding cache; the hashing embedder (padded to the model's dimension)
    for texts the cache lacks. Never writes to the cache: a hashing vector must not pass for
    the model's."""

    def __init__(self, model: Embedder, cache_path: Path | None) -> None:
        self.model = model
        self.name = model.name
        self._cache = CachedEmbedder(model, cache_path) if cache_path and cache_path.exists() else None
        self._fallback = HashingEmbedder(dim=model.dim)
        self.from_cache = 0
        self.from_fallback = 0

    @property
    def cache_name(self) -> str:
        return self.model.cache_name

    @property
    def dim(self) -> int:
        return self.model.dim

    @property
    def max_tokens(self) -> int:
        return self.model.max_tokens

    def count_tokens(self, text: str) -> int:
        return self.model.count_tokens(text)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        found = self._cache.cached(texts) if self._cache else [None] * len(texts)
        missing = [i for i, v in enumerate(found) if v is None]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, vector in enumerate(found):
            if vector is not None:
                out[i] = vector
        if missing:
            out[missing] = self._fallback.embed([texts[i] for i in missing])
        self.from_cache += len(texts) - len(missing)
        self.from_fallback += len(missing)
        return out

    def close(self) -> None:
        if self._cache:
            self._cache.close()


@dataclass(frozen=True)
class BaseArticle:
    """One ingested article of the base: its records and its chunks, as stored."""

    record: dict[str, Any]
    body: str
    figures: dict[str, Any] | None
    chunks: list[tuple[str, np.ndarray, dict[str, Any]]]  # (text, vector, meta)


def read_base(directory: Path, model_name: str, dim: int,
              lookup: CacheFirstEmbedder | None = None) -> list[BaseArticle]:
    """Every article of a base data directory with its chunks, through the store's API;
    `lookup` finds each chunk's vector again (the cache may have filled since the base
    was built)."""
    collection = Collection(directory, model_name, dim)
    try:
        store = collection.store
        ids = collection.ids()
        docs = collection.get(ids)
        vectors = store.vectors(ids)
        records = dict(store.list_records(ARTICLES))
        sections = dict(store.list_records(SECTIONS))
        figures = dict(store.list_records(FIGURES))
    finally:
        collection.close()
    if lookup is not None:
        texts = [embed_text(docs[i].meta["title"], docs[i].meta["heading"], docs[i].text) for i in ids]
        vectors = dict(zip(ids, lookup.embed(texts), strict=True))
    by_article: dict[str, list[tuple[str, np.ndarray, dict[str, Any]]]] = {}
    for doc_id in ids:
        doc = docs[doc_id]
        if doc.meta["sid"] == "body":  # the base holds bodies only (a dataset's articles)
            by_article.setdefault(doc.meta["article_id"], []).append((doc.text, vectors[doc_id], doc.meta))
    return [BaseArticle(records[a], sections[f"{a}|body"]["text"], figures.get(f"{a}|body"), chunks)
            for a, chunks in sorted(by_article.items())]


def _vocabulary(base: list[BaseArticle]) -> dict[int, list[str]]:
    words: dict[int, set[str]] = {}
    for article in base:
        for word in _WORD.findall(article.body.lower()):
            words.setdefault(len(word), set()).add(word)
    return {n: sorted(ws) for n, ws in words.items()}



def _same_case(word: str, like: str) -> str:
    if like.isupper():
        return word.upper()
    return word.capitalize() if like[0].isupper() else word


@dataclass(frozen=True)
class _Words:
    """Where a base body's swappable words are, found once: each occurrence's start, its
    distinct word, its case (0 lower, 1 capitalised, 2 upper); figure surfaces left out."""

    codepoints: np.ndarray   # the body as UTF-32 code points (offsets are str offsets)
    distinct: list[str]
    lengths: np.ndarray      # of each distinct word
    starts: np.ndarray
    word: np.ndarray
    case: np.ndarray

    @classmethod
    def of(cls, body: str, figures: dict[str, Any] | None) -> _Words:
        protected = _protected(figures)
        spans = [s for s, _ in protected]
        found = []
        for match in _WORD.finditer(body):
            at = bisect.bisect_right(spans, match.start()) - 1
            if at < 0 or protected[at][1] <= match.start():
                found.append(match)
        distinct = sorted({m.group(0).lower() for m in found})
        index = {w: n for n, w in enumerate(distinct)}
        case = [2 if m.group(0).isupper() else 1 if m.group(0)[0].isupper() else 0 for m in found]
        return cls(np.frombuffer(body.encode("utf-32-le"), dtype=np.uint32), distinct,
                   np.asarray([len(w) for w in distinct], dtype=np.int64),
                   np.asarray([m.start() for m in found], dtype=np.int64),
                   np.asarray([index[m.group(0).lower()] for m in found], dtype=np.int64),
                   np.asarray(case, dtype=np.int8))


def _protected(figures: dict[str, Any] | None) -> list[tuple[int, int]]:
    """Spans of the figures' surfaces: swapping a word there would unmake the figure."""
    if not figures:
        return []
    fields = figures["fields"]
    start, end = fields.index("start"), fields.index("end")
    return sorted((f[start], f[end]) for f in figures["figures"])


class Copier:
    """Makes copy number `copy` of a base article (copy 0 is the article itself)."""

    def __init__(self, base: list[BaseArticle], seed: int) -> None:
        self.vocabulary = _vocabulary(base)
        # the vocabulary's words of each length as rows of code points, to swap in whole arrays
        self._rows = {n: np.frombuffer("".join(ws).encode("ascii"), dtype=np.uint8)
                      .reshape(len(ws), n).astype(np.uint32) for n, ws in self.vocabulary.items()}
        self._sizes = np.zeros(max(self._rows) + 1, dtype=np.int64)
        for n, rows in self._rows.items():
            self._sizes[n] = len(rows)
        self.seed = seed
        self.noise = math.sqrt((1 / VECTOR_COSINE**2 - 1) / 384)
        self._words: dict[str, _Words] = {}

    def _swaps(self, words: _Words, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Which distinct words are swapped, and for each the row of its replacement."""
        chosen = rng.random(len(words.distinct)) < SWAP_SHARE
        rows = (rng.random(len(words.distinct)) * self._sizes[words.lengths]).astype(np.int64)
        return chosen, rows

    def _rewrite_body(self, words: _Words, chosen: np.ndarray, rows: np.ndarray) -> str:
        """The body with the chosen words swapped, letter for letter (offsets unchanged)."""
        out = words.codepoints.copy()
        hit = chosen[words.word] if len(words.word) else np.zeros(0, dtype=bool)
        lengths = words.lengths[words.word]
        for n in np.unique(lengths[hit]).tolist():
            at = np.flatnonzero(hit & (lengths == n))
            new = self._rows[n][rows[words.word[at]]]
            case = words.case[at]
            new[case == 2] -= 32                  # ASCII upper case
            new[case == 1, 0] -= 32               # capitalised
            out[words.starts[at, None] + np.arange(n)] = new
        return out.tobytes().decode("utf-32-le")

    def _rewrite_title(self, title: str, words: _Words, chosen: np.ndarray, rows: np.ndarray) -> str:
        index = {w: n for n, w in enumerate(words.distinct)}

        def swap(match: re.Match[str]) -> str:
            n = index.get(match.group(0).lower())
            if n is None or not chosen[n]:
                return match.group(0)
            return _same_case(self.vocabulary[len(words.distinct[n])][rows[n]], match.group(0))

        return _WORD.sub(swap, title)

    def copy(self, article: BaseArticle, copy: int) -> tuple[list[NewDoc], list[tuple[str, str, Any]]]:
        """The documents and records of one copy, ready for the store."""
        record = article.record
        if copy == 0:
            return self._docs(article, record["id"], article.body, record["title"], 0, None), \
                self._records(article, record["id"], article.body, record["title"], 0)
        rng = np.random.default_rng([self.seed, copy, int(content_hash(record["id"])[:8], 16)])
        words = self._words.get(record["id"])
        if words is None:
            words = self._words[record["id"]] = _Words.of(article.body, article.figures)
        chosen, rows = self._swaps(words, rng)
        body = self._rewrite_body(words, chosen, rows)
        title = self._rewrite_title(record["title"], words, chosen, rows)
        new_id = f"{record['id'][:100]}.c{copy}"
        days = int(rng.integers(-SHIFT_DAYS, SHIFT_DAYS + 1))
        docs = self._docs(article, new_id, body, title, days, rng)
        return docs, self._records(article, new_id, body, title, days)

    def _docs(self, article: BaseArticle, new_id: str, body: str, title: str, days: int,
              rng: np.random.Generator | None) -> list[NewDoc]:
        digest = content_hash(body)
        vectors = np.stack([v for _, v, _ in article.chunks])
        if rng is not None:
            vectors = vectors + rng.normal(0, self.noise, size=vectors.shape).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        docs = []
        for (_text, _vector, meta), vector in zip(article.chunks, vectors, strict=True):
            text = body[meta["start"]:meta["end"]]
            stamp = _shifted(meta["timestamp"], days)
            docs.append(NewDoc(
                key=f"{new_id}|body|{digest}|{meta['start']}", text=text, vector=vector,
                search_text=embed_text(title, meta["heading"], text),
                time=None if stamp is None else datetime.fromisoformat(stamp["moment"]).timestamp(),
                meta={**meta, "article_id": new_id, "title": title, "timestamp": stamp}))
        return docs

    def _records(self, article: BaseArticle, new_id: str, body: str, title: str,
                 days: int) -> list[tuple[str, str, Any]]:
        record = {**article.record, "id": new_id, "title": title, "body_hash": content_hash(body),
                  "published_at": _shifted(article.record["published_at"], days)}
        out: list[tuple[str, str, Any]] = [(ARTICLES, new_id, record),
                                           (SECTIONS, f"{new_id}|body", {"text": body})]
        if article.figures is not None:
            out.append((FIGURES, f"{new_id}|body",
                        {**article.figures, "timestamp": _shifted(article.figures["timestamp"], days)}))
        return out


def _shifted(stamp: dict[str, Any] | None, days: int) -> dict[str, Any] | None:
    if stamp is None or days == 0:
        return stamp
    moment = datetime.fromisoformat(stamp["moment"]) + timedelta(days=days)
    return {**stamp, "moment": moment.isoformat()}


def copies_for(base: list[BaseArticle], chunks: int) -> Iterator[tuple[BaseArticle, int]]:
    """(article, copy number) in writing order until `chunks` chunks are reached (copies of one
    round are interleaved with other articles, as a live archive's are)."""
    total, copy = 0, 0
    while True:
        for article in base:
            if total >= chunks:
                return
            yield article, copy
            total += len(article.chunks)
        copy += 1


def write_corpus(base: list[BaseArticle], directory: Path, chunks: int, model_name: str, dim: int,
                 seed: int = 0, batch_chunks: int = 20_000) -> int:
    """A data directory of about `chunks` chunks (whole articles; the last may pass it)."""
    Collection(directory, model_name, dim).close()  # stamps the model, as a first start does
    store = Store.at_path(directory / Collection.STORE_FILE)
    copier = Copier(base, seed)
    written = 0
    docs: list[NewDoc] = []
    records: list[tuple[str, str, Any]] = []

    def commit() -> None:
        with store.transaction() as conn:
            insert_docs(conn, docs)
            for collection, key, value in records:
                put_record(conn, collection, key, value)
        docs.clear()
        records.clear()

    try:
        for article, copy in copies_for(base, chunks):
            new_docs, new_records = copier.copy(article, copy)
            docs.extend(new_docs)
            records.extend(new_records)
            written += len(new_docs)
            if len(docs) >= batch_chunks:
                commit()
        commit()
    finally:
        store.close()
    return written
