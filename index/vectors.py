"""Dense vector indexes. `VectorIndex` is the seam a bigger deployment swaps (another FAISS
factory, or a vector database).

The index is chosen by size (`vector_index_for`): up to `FLAT_LIMIT` vectors an exact flat
inner-product scan; above it an inverted-file index (IVF), which is **approximate**: it scans
the `nprobe` cells nearest the query, tuned so that recall@10 against the flat scan stays at
least 0.98 (`python -m eval.bench_scale` measures it; docs/performance.md has the figures).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import numpy as np

# Above this many vectors an exact scan costs more than an ask may (see docs/performance.md).
FLAT_LIMIT = 200_000
IVF_TRAIN_PER_CELL = 40      # k-means training points per cell (FAISS warns below 39)
IVF_PROBE_FRACTION = 1 / 32  # share of the cells scanned for an unfiltered query


class VectorIndex(Protocol):
    """Unit vectors under int64 ids, searched by inner product (cosine)."""

    dim: int

    def __len__(self) -> int: ...

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    def remove(self, ids: np.ndarray) -> None: ...

    def search(self, query: np.ndarray, k: int,
               allowed_ids: np.ndarray | None = None) -> list[tuple[int, float]]: ...

    def save(self, path: Path) -> None: ...

    def ids(self) -> np.ndarray:
        """Every id held (lets a saved index catch up with the store at start)."""
        ...


def _checked(ids: np.ndarray, vectors: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.shape != (len(ids), dim):
        raise ValueError(f"expected {len(ids)} vectors of dimension {dim}, "
                         f"got an array of shape {vectors.shape}")
    return np.ascontiguousarray(ids, dtype=np.int64), vectors


def _selector(allowed_ids: np.ndarray) -> tuple[Any, np.ndarray]:
    """A FAISS bitmap selector over ids, and the bitmap it reads (keep it alive while searching)."""
    import faiss

    allowed = np.asarray(allowed_ids, dtype=np.int64)
    mask = np.zeros(int(allowed.max()) + 1, dtype=bool)
    mask[allowed] = True
    bitmap = np.packbits(mask, bitorder="little")
    # FAISS takes the bitmap's size in bytes: a size in bits would let it read past the end of
    # the array and admit whatever ids the memory there happens to mark
    return faiss.IDSelectorBitmap(bitmap.nbytes, faiss.swig_ptr(bitmap)), bitmap


@contextmanager
def _one_thread() -> Iterator[None]:
    """One query runs on the calling thread: OpenMP workers only wait for each other on a
    busy machine (a flat scan of 100,000 vectors took 3-4x longer on two threads than on one,
    measured on two loaded cores). The setting is the calling thread's own."""
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _pairs(scores: np.ndarray, ids: np.ndarray) -> list[tuple[int, float]]:
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i != -1]


def _write(index: Any, path: Path) -> None:
    """Write the index next to `path` and rename it into place, so a crash leaves the old file."""
    import faiss

    tmp = path.with_name(path.name + ".tmp")
    faiss.write_index(index, str(tmp))
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class _FaissBacked:
    """What the flat and the IVF index share: the FAISS index they wrap, its size, removal,
    saving, and how a search starts and runs."""

    dim: int
    _index: Any

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def remove(self, ids: np.ndarray) -> None:
        import faiss

        if len(ids):
            self._index.remove_ids(faiss.IDSelectorBatch(np.ascontiguousarray(ids, dtype=np.int64)))

    def save(self, path: Path) -> None:
        _write(self._index, path)

    def _prepare(self, query: np.ndarray, k: int, allowed_ids: np.ndarray | None
                 ) -> tuple[np.ndarray, Any, np.ndarray | None] | None:
        """The query as FAISS takes it, and the id selector with the bitmap it reads (keep it
        alive while searching); None when nothing can be found."""
        if len(self) == 0 or k <= 0 or (allowed_ids is not None and len(allowed_ids) == 0):
            return None
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dim)
        if allowed_ids is None:
            return query, None, None
        selector, bitmap = _selector(allowed_ids)
        return query, selector, bitmap

    def _run(self, query: np.ndarray, k: int, params: Any) -> list[tuple[int, float]]:
        with _one_thread():
            scores, ids = self._index.search(query, min(k, len(self)), params=params)
        return _pairs(scores, ids)


class FaissVectorIndex(_FaissBacked):
    """FAISS index behind an id map: exact search by default (`IDMap2,Flat` over inner product)."""

    def __init__(self, dim: int, factory: str = "Flat") -> None:
        import faiss

        self.dim = dim
        self.factory = factory
        self._index: Any = faiss.IndexIDMap2(faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT))

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        ids, vectors = _checked(ids, vectors, self.dim)
        self._index.add_with_ids(vectors, ids)

    def search(self, query: np.ndarray, k: int,
               allowed_ids: np.ndarray | None = None) -> list[tuple[int, float]]:
        import faiss

        prepared = self._prepare(query, k, allowed_ids)
        if prepared is None:
            return []
        query, selector, _bitmap = prepared
        params = None if selector is None else faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        return self._run(query, k, params)

    def ids(self) -> np.ndarray:
        """Every id held, in insertion order."""
        import faiss

        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        """Read an index `save` wrote, flat or IVF (the file says which)."""
        import faiss

        index = faiss.read_index(str(path))
        if isinstance(index, faiss.IndexIVF):
            return IvfVectorIndex.wrap(index)
        self = cls.__new__(cls)
        self.dim = int(index.d)
        self.factory = "loaded"
        self._index = index
        return self


class IvfVectorIndex(_FaissBacked):
    """Approximate inner-product search over k-means cells (FAISS `IVF<nlist>,Flat`).

    Vectors are stored whole (no compression), so a score is the exact cosine; only which
    documents are looked at is approximate. A filtered search scans more cells, in proportion
    to the share of documents the filter keeps out, so it finds as many candidates as an
    unfiltered one; a narrow enough filter scans every cell, which is exact.
    """

    def __init__(self, dim: int, nlist: int, nprobe: int | None = None) -> None:
        import faiss

        self.dim = dim
        self._quantizer: Any = faiss.IndexFlatIP(dim)  # the IVF index borrows it
        index = faiss.IndexIVFFlat(self._quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.nprobe = nprobe or max(1, round(nlist * IVF_PROBE_FRACTION))
        self._index: Any = index

    @classmethod
    def wrap(cls, index: Any) -> IvfVectorIndex:
        self = cls.__new__(cls)
        self.dim = int(index.d)
        self._quantizer = None  # the loaded index owns its quantizer
        self._index = index
        return self

    @property
    def nlist(self) -> int:
        return int(self._index.nlist)

    @property
    def nprobe(self) -> int:
        return int(self._index.nprobe)

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        self._index.nprobe = max(1, min(int(value), self.nlist))

    @property
    def is_trained(self) -> bool:
        return bool(self._index.is_trained)

    def train_size(self) -> int:
        return self.nlist * IVF_TRAIN_PER_CELL

    def train(self, sample: np.ndarray) -> None:
        """Place the cells with k-means on a sample of the vectors (done once, before `add`)."""
        sample = np.ascontiguousarray(sample, dtype=np.float32)
        if len(sample) < self.nlist:
            raise ValueError(f"an IVF index of {self.nlist} cells needs at least {self.nlist} "
                             f"training vectors, got {len(sample)}")
        self._index.train(sample)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        if not self.is_trained:
            raise RuntimeError("train the IVF index before adding vectors")
        ids, vectors = _checked(ids, vectors, self.dim)
        self._index.add_with_ids(vectors, ids)

    def search(self, query: np.ndarray, k: int,
               allowed_ids: np.ndarray | None = None) -> list[tuple[int, float]]:
        import faiss

        prepared = self._prepare(query, k, allowed_ids)
        if prepared is None:
            return []
        query, selector, _bitmap = prepared
        nprobe = self.nprobe
        if allowed_ids is not None:
            share = min(1.0, len(allowed_ids) / len(self))
            nprobe = min(self.nlist, math.ceil(nprobe / share))
        params = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)  # type: ignore[call-arg]
        return self._run(query, k, params)

    def ids(self) -> np.ndarray:
        """Every id held (cell by cell)."""
        import faiss

        lists = self._index.invlists
        parts = [faiss.rev_swig_ptr(lists.get_ids(c), lists.list_size(c)).copy()
                 for c in range(self.nlist) if lists.list_size(c)]
        return np.concatenate(parts).astype(np.int64) if parts else np.empty(0, dtype=np.int64)


def ivf_cells_for(count: int) -> int:
    """About 4·√n cells, a power of two: ~1,000 vectors a cell at a million."""
    return 1 << max(6, round(math.log2(4 * math.sqrt(max(count, 1)))))


def vector_index_for(dim: int, count: int) -> FaissVectorIndex | IvfVectorIndex:
    """The index for a collection of `count` vectors: exact up to FLAT_LIMIT, IVF above."""
    if count <= FLAT_LIMIT:
        return FaissVectorIndex(dim)
    return IvfVectorIndex(dim, ivf_cells_for(count))


def index_kind(index: VectorIndex) -> str:
    return "ivf" if isinstance(index, IvfVectorIndex) else "flat"
