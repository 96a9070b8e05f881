"""An Embedder whose `embed` runs on Ray: actors that each load the model once (one GPU per
actor on a GPU cluster) embed the texts batch by batch, in order. What bulk ingest from an
archive folder hands its chunks to; the driver keeps a local copy of the model for counting
tokens and naming the vectors."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from index.embed import Embedder
from index.reindex import EmbedderFactory, ReindexPlan, start_ray


class EmbedActor:
    """A Ray actor holding one model."""

    def __init__(self, factory: EmbedderFactory) -> None:
        self.embedder = factory()

    def ready(self) -> int:
        """Once the model is loaded: its dimension."""
        return int(self.embedder.dim)

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.embedder.embed(texts), dtype=np.float32)


class RayEmbedder:
    """`local`'s vectors, computed by `plan.workers` Ray actors built by `factory`."""

    def __init__(self, local: Embedder, factory: EmbedderFactory, plan: ReindexPlan) -> None:
        self.local = local
        self.name = local.name
        self._factory = factory
        self._plan = plan
        self._actors: list[Any] = []
        self.ray_start_seconds = 0.0  # Ray, and each worker loading the model
        self.embedded = 0  # texts embedded on Ray so far
        self.seconds = 0.0  # spent waiting for them, model loading excluded

    @property
    def cache_name(self) -> str:
        return self.local.cache_name

    @property
    def dim(self) -> int:
        return self.local.dim

    @property
    def max_tokens(self) -> int:
        return self.local.max_tokens

    def count_tokens(self, text: str) -> int:
        return self.local.count_tokens(text)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        from ray.util import ActorPool

        pool = ActorPool(self._started())
        started = time.perf_counter()
        size = self._plan.batch
        batches = [list(texts[i:i + size]) for i in range(0, len(texts), size)]
        parts = list(pool.map(lambda actor, batch: actor.embed.remote(batch), batches))
        self.seconds += time.perf_counter() - started
        self.embedded += len(texts)
        vectors = np.concatenate(parts)
        if vectors.shape != (len(texts), self.dim):
            raise ValueError(f"the Ray workers gave vectors of shape {vectors.shape}, expected "
                             f"({len(texts)}, {self.dim})")
        return vectors

    def _started(self) -> list[Any]:
        if not self._actors:
            import ray

            started = time.perf_counter()
            start_ray(self._plan)
            actor = ray.remote(num_cpus=1, num_gpus=self._plan.gpus_per_worker)(EmbedActor)
            self._actors = [actor.remote(self._factory) for _ in range(self._plan.workers)]
            ray.get([a.ready.remote() for a in self._actors])
            self.ray_start_seconds = time.perf_counter() - started
        return self._actors

    def close(self) -> None:
        """Let the actors go (Ray itself stays up for whoever started it)."""
        import ray

        for actor in self._actors:
            ray.kill(actor)
        self._actors = []
