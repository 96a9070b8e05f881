"""Dense vector indexes. `VectorIndex` is the seam a bigger deployment swaps (another FAISS
factory, or a vector database); the FAISS flat inner-product index is the embedded default."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np


class VectorIndex(Protocol):
    """Unit vectors under int64 ids, searched by inner product (cosine)."""

    dim: int

    def __len__(self) -> int: ...

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    def remove(self, ids: np.ndarray) -> None: ...

    def search(self, query: np.ndarray, k: int,
               allowed_ids: np.ndarray | None = None) -> list[tuple[int, float]]: ...

    def save(self, path: Path) -> None: ...


class FaissVectorIndex:
    """FAISS index behind an id map: exact search by default (`IDMap2,Flat` over inner product)."""

    def __init__(self, dim: int, factory: str = "Flat") -> None:
        import faiss

        self.dim = dim
        self.factory = factory
        self._index: Any = faiss.IndexIDMap2(faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(ids), self.dim):
            raise ValueError(f"expected {len(ids)} vectors of dimension {self.dim}, "
                             f"got an array of shape {vectors.shape}")
        self._index.add_with_ids(vectors, np.ascontiguousarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray) -> None:
        import faiss

        if len(ids):
            self._index.remove_ids(faiss.IDSelectorBatch(np.ascontiguousarray(ids, dtype=np.int64)))

    def search(self, query: np.ndarray, k: int,
               allowed_ids: np.ndarray | None = None) -> list[tuple[int, float]]:
        import faiss

        if len(self) == 0 or k <= 0:
            return []
        k = min(k, len(self))
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dim)
        params = None
        if allowed_ids is not None:
            if len(allowed_ids) == 0:
                return []
            # a bitmap selector is built with one vectorised numpy call and answers in O(1)
            allowed = np.asarray(allowed_ids, dtype=np.int64)
            mask = np.zeros(int(allowed.max()) + 1, dtype=bool)
            mask[allowed] = True
            bitmap = np.packbits(mask, bitorder="little")
            # FAISS takes the bitmap's size in bytes: a size in bits would let it read past the
            # end of the array and admit whatever ids the memory there happens to mark
            selector = faiss.IDSelectorBitmap(bitmap.nbytes, faiss.swig_ptr(bitmap))
            params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        scores, ids = self._index.search(query, k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i != -1]

    def save(self, path: Path) -> None:
        """Write the index next to `path` and rename it into place, so a crash leaves the old file."""
        import faiss

        tmp = path.with_name(path.name + ".tmp")
        faiss.write_index(self._index, str(tmp))
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> FaissVectorIndex:
        import faiss

        index = faiss.read_index(str(path))
        self = cls.__new__(cls)
        self.dim = int(index.d)
        self.factory = "loaded"
        self._index = index
        return self
