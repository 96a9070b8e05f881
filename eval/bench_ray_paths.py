"""`python -m eval.bench_ray_paths`: why `newsqa reindex --from DIR` embeds on a Ray actor pool
and not on Ray Data (not a CI test; starts a local Ray on 127.0.0.1 and stops it).

Ingesting an archive embeds each group of files' new chunks in one call, between the driver's
planning (what is new in each article) and its atomic writes. The same groups of texts are
embedded, on the hashing embedder so that only Ray's own cost shows, by:
- the actor pool `index/ray_embed.py` uses: actors built once, each group mapped over them;
- Ray Data, `map_batches` with an actor pool strategy (`concurrency=N`), one dataset a group.
It prints each path's time per group and how many models its actors built meanwhile.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from index.embed import HashingEmbedder
from index.ray_embed import RayEmbedder
from index.reindex import ReindexPlan, start_ray


class CountingFactory:
    """Builds the embedder, and writes a line to `log` each time (once per actor's model)."""

    def __init__(self, log: Path) -> None:
        self.log = log

    def __call__(self) -> HashingEmbedder:
        with self.log.open("a") as f:
            f.write(f"{os.getpid()}\n")
        return HashingEmbedder()

    def built(self) -> int:
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0


class DataEmbed:
    """The Ray Data callable class: one model per actor."""

    def __init__(self, factory: CountingFactory) -> None:
        self.embedder = factory()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        return {"vector": np.asarray(self.embedder.embed(texts), dtype=np.float32)}


def _times(values: list[float]) -> str:
    return (f"median {statistics.median(values) * 1000:.0f} ms "
            f"({' '.join(f'{v * 1000:.0f}' for v in values)})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=5)
    parser.add_argument("--texts", type=int, default=256, help="texts a group")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args(argv)
    import ray

    print(f"load average before {os.getloadavg()[0]:.1f}")
    plan = ReindexPlan(workers=args.workers, batch=args.batch)
    print(f"Ray started in {start_ray(plan):.1f} s")
    texts = [f"chunk {i} about the harbor bridge contract and its cost" for i in range(args.texts)]
    with tempfile.TemporaryDirectory(prefix="newsqa-ray-paths-") as tmp:
        factory = CountingFactory(Path(tmp) / "built")
        try:
            pool = RayEmbedder(HashingEmbedder(), factory, plan)
            pool.embed(texts)  # the actors are built once, before the timed groups
            before, pool_s = factory.built(), []
            for _ in range(args.groups):
                started = time.perf_counter()
                pool.embed(texts)
                pool_s.append(time.perf_counter() - started)
            print(f"actor pool: a group of {args.texts} texts {_times(pool_s)}; models built "
                  f"during {args.groups} groups: {factory.built() - before}")
            pool.close()
            before, data_s = factory.built(), []
            for _ in range(args.groups):
                started = time.perf_counter()
                rows = ray.data.from_items([{"text": t} for t in texts]).map_batches(
                    DataEmbed, fn_constructor_kwargs={"factory": factory},
                    batch_size=args.batch, concurrency=args.workers, num_cpus=1).take_all()
                data_s.append(time.perf_counter() - started)
                assert len(rows) == len(texts)
            print(f"Ray Data map_batches: a group {_times(data_s)}; models built during "
                  f"{args.groups} groups: {factory.built() - before}")
        finally:
            ray.shutdown()
    print(f"load average after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
