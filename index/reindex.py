"""Re-embed every stored text on a Ray cluster: Ray Data reads the texts from the store,
`map_batches` runs them through actors that each load the model once (one GPU per actor on a
GPU cluster), and the driver writes the vectors back in batches. A killed run resumes where it
stopped; the new vectors replace the old ones in one transaction once every text has one."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import delete, exists, func, insert, select, update

from index.store import Store, docs, put_record, staged_vectors, vector_bytes

if TYPE_CHECKING:  # pragma: no cover
    from index.embed import Embedder

EmbedderFactory = Callable[[], "Embedder"]
Progress = Callable[[int, int, float], None]  # (embedded so far, to embed, seconds)
EMBEDDER_RECORD = ("_collection", "embedder")


@dataclass(frozen=True)
class ReindexPlan:
    """Where Ray runs and how the work is cut."""

    ray_address: str | None = None  # None: a local Ray on 127.0.0.1
    workers: int = 2  # embedding actors
    gpus_per_worker: float = 0.0
    batch: int = 256  # texts per model call
    write_batch: int = 1024  # vectors per write to the store


@dataclass(frozen=True)
class ReindexReport:
    run: str
    total: int
    embedded: int  # in this run (the rest were staged by an earlier, interrupted one)
    seconds: float  # embedding and staging, Ray start excluded
    ray_start_seconds: float
    workers: int

    @property
    def per_second(self) -> float:
        return self.embedded / self.seconds if self.seconds > 0 else 0.0


class Embed:
    """A Ray Data actor: loads the model once, then embeds batch after batch."""

    def __init__(self, factory: EmbedderFactory) -> None:
        self.embedder = factory()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.embedder.embed([str(t) for t in batch["search_text"]])
        return {"id": batch["id"].astype(np.int64), "vector": np.asarray(vectors, dtype=np.float32)}


def _pending_sql(run: str) -> Any:
    staged = exists().where((staged_vectors.c.run == run) & (staged_vectors.c.id == docs.c.id))
    return select(docs.c.id, docs.c.search_text).where(~staged).order_by(docs.c.id)


def pending_count(store: Store, run: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(_pending_sql(run).subquery()))
                   .scalar_one())


def _connection_factory(store: Store) -> Callable[[], Any]:
    """A DB-API connection for Ray's read_sql, on the store's own database."""
    url = store.engine.url
    if url.get_backend_name() == "sqlite":
        import sqlite3

        path = str(url.database)
        return lambda: sqlite3.connect(path)
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)

    def connect() -> Any:
        import psycopg

        return psycopg.connect(conninfo)
    return connect


def start_ray(plan: ReindexPlan) -> float:
    """Connect to `plan.ray_address`, or start a local Ray on 127.0.0.1; seconds it took."""
    import ray

    started = time.perf_counter()
    if not ray.is_initialized():
        if plan.ray_address:
            ray.init(address=plan.ray_address, runtime_env={"py_modules": [str(Path(__file__).parent)]})
        else:
            root = str(Path(__file__).resolve().parent.parent)
            ray.init(num_cpus=plan.workers + 1, include_dashboard=False,  # +1: the reading task
                     _node_ip_address="127.0.0.1", log_to_driver=False,
                     runtime_env={"env_vars": {"PYTHONPATH": root}})
    return time.perf_counter() - started


def _stage(store: Store, run: str, ids: np.ndarray, vectors: np.ndarray) -> None:
    # outside store.transaction(): staging is no change readers see, so no generation bump
    with store.engine.begin() as conn:
        conn.execute(insert(staged_vectors), [{"run": run, "id": int(i), "vector": vector_bytes(v)}
                                              for i, v in zip(ids, vectors, strict=True)])


def _swap(store: Store, run: str, name: str, dim: int) -> None:
    """Every staged vector into `docs`, and the new model's stamp, in one transaction."""
    staged = (select(staged_vectors.c.vector)
              .where((staged_vectors.c.run == run) & (staged_vectors.c.id == docs.c.id))
              .scalar_subquery())
    with store.transaction() as conn:
        missing = conn.execute(select(func.count()).select_from(_pending_sql(run).subquery()))
        if missing.scalar_one():  # written since the count: the next run embeds them first
            raise RuntimeError("documents were added while re-embedding; run reindex again")
        conn.execute(update(docs).values(vector=staged))
        put_record(conn, *EMBEDDER_RECORD, {"name": name, "dim": dim})
        conn.execute(delete(staged_vectors).where(staged_vectors.c.run == run))


def reindex(store: Store, factory: EmbedderFactory, name: str, dim: int,
            plan: ReindexPlan = ReindexPlan(), progress: Progress | None = None) -> ReindexReport:
    """Embed every stored text with the model `factory` builds (called once per actor) and
    make its vectors, and `name`/`dim` as the store's model stamp, the store's own."""
    import ray

    run = f"{name}|{dim}"
    total = store.count()
    todo = pending_count(store, run)
    ray_start = start_ray(plan) if todo else 0.0
    started = time.perf_counter()
    done = 0
    if todo:
        sql = str(_pending_sql(run).compile(store.engine, compile_kwargs={"literal_binds": True}))
        dataset = ray.data.read_sql(sql, _connection_factory(store)).map_batches(
            Embed, fn_constructor_kwargs={"factory": factory}, batch_size=plan.batch,
            concurrency=plan.workers, num_cpus=1, num_gpus=plan.gpus_per_worker or None)
        for out in dataset.iter_batches(batch_size=plan.write_batch, batch_format="numpy"):
            vectors = np.asarray(out["vector"], dtype=np.float32).reshape(len(out["id"]), -1)
            if vectors.shape[1] != dim:
                raise ValueError(f"the model gave vectors of dimension {vectors.shape[1]}, "
                                 f"expected {dim}")
            _stage(store, run, out["id"], vectors)
            done += len(out["id"])
            if progress:
                progress(done, todo, time.perf_counter() - started)
    seconds = time.perf_counter() - started
    if pending_count(store, run) == 0:
        _swap(store, run, name, dim)
    return ReindexReport(run, total, done, seconds, ray_start, plan.workers)
