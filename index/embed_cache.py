"""An on-disk embedding cache: a second run over the same texts with the same model embeds nothing.

Keyed by (the embedder's `cache_name`: the model and, when not fp32, the precision its vectors
were computed in; the exact text embedded). The text a chunk embeds already encodes the chunking
settings that produced it, so the key covers them without tying the cache to one chunking: a
rerun with other retrieval settings reuses every vector, a rerun with another chunk size reuses
the chunks that come out the same.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from index.embed import Embedder

Progress = Callable[[int], None]


class CachedEmbedder:
    """Wraps an Embedder; vectors are looked up in, and added to, an SQLite file."""

    def __init__(self, inner: Embedder, path: Path, batch_size: int = 256) -> None:
        self.inner = inner
        self.name = inner.name
        self.batch_size = batch_size
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB)")
        self.hits = 0
        self.misses = 0

    @property
    def cache_name(self) -> str:
        return self.inner.cache_name

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def max_tokens(self) -> int:
        return self.inner.max_tokens

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def _key(self, text: str) -> bytes:
        return hashlib.sha256(f"{self.inner.cache_name}\0{text}".encode()).digest()

    def _lookup(self, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            part = keys[start:start + 500]
            marks = ",".join("?" * len(part))
            for key, blob in self._conn.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({marks})", part):
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def cached(self, texts: Sequence[str]) -> list[np.ndarray | None]:
        """The stored vector of each text, None where there is none; nothing is embedded."""
        keys = [self._key(t) for t in texts]
        found = self._lookup(keys)
        return [found.get(k) for k in keys]

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        found = self._lookup(keys)
        missing = sorted({i for i, k in enumerate(keys) if k not in found},
                         key=lambda i: len(texts[i]))  # similar lengths batch faster
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        for start in range(0, len(missing), self.batch_size):
            part = missing[start:start + self.batch_size]
            vectors = self.inner.embed([texts[i] for i in part])
            with self._conn:
                self._conn.executemany(
                    "INSERT OR REPLACE INTO vectors(key, vector) VALUES (?, ?)",
                    [(keys[i], v.astype(np.float32).tobytes()) for i, v in zip(part, vectors, strict=True)])
            for i, v in zip(part, vectors, strict=True):
                found[keys[i]] = v
            if progress:
                progress(len(part))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)

    def close(self) -> None:
        self._conn.close()
