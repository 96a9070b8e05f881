"""The cost curve: ask latency, memory, build and start-up time at 100k, 300k and 1M chunks.

    python -m eval.bench_scale --sizes 100k,300k,1m --out runs/scale

Builds each corpus from real articles (eval/scale_corpus.py), then, in fresh processes: builds
the indexes from the store (timed), opens the service as a server does (timed; memory
measured), asks real questions through `NewsQA.ask` in each mode with and without `as_of`,
measures dense recall@10 of the chosen index against an exact scan of the same vectors, and
times an ingested update until a search finds it. Prints one table, writes results.json and
the plots.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from eval.datasets import answerable
from eval.layouts import load_dataset
from eval.run import asked_on, to_article

MODES = ("bm25", "dense", "hybrid")


def parse_size(text: str) -> int:
    """'100k', '1m', '57000'; 'base' (0) is the base corpus itself, unrepeated."""
    text = text.strip().lower()
    if text == "base":
        return 0
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _settings(directory: Path, embedder: str, precision: str = "auto") -> Any:
    from qa.settings import Settings

    return Settings(data_dir=directory, embedder=embedder, embed_precision=precision)


_GRAPH_HOME = Path(tempfile.gettempdir()) / "newsqa-bench-scale"


def _model(embedder: str, precision: str = "auto") -> Any:
    """The embedder a service would make; `precision="fp32"` names its cache as the fp32
    vectors the benchmark's base reuses (a bf16 name would find none of them)."""
    from qa.service import make_embedder

    # the question model's ONNX graph is saved under the data directory: one shared by every
    # run of this benchmark, not the working directory the command ran in
    return make_embedder(_settings(_GRAPH_HOME, embedder, precision))


# -- the base: real articles through the real ingest path ----------------------------------

def build_base(args: argparse.Namespace) -> dict[str, Any]:
    from eval.scale_corpus import CacheFirstEmbedder
    from qa.service import NewsQA

    base = args.out / "base"
    info_path = base / "base.json"
    if info_path.exists():
        return dict(json.loads(info_path.read_text()))
    shutil.rmtree(base, ignore_errors=True)
    if args.base is not None:  # a data directory `newsqa eval` built: its store, copied
        base.mkdir(parents=True)
        shutil.copy(args.base / "newsqa.sqlite3", base / "newsqa.sqlite3")
        info: dict[str, Any] = {"from": str(args.base)}
        info_path.write_text(json.dumps(info))
        return info
    dataset = load_dataset(args.dataset, args.base_questions)
    cache = args.cache_dir / "embeddings.sqlite3"
    vectors = CacheFirstEmbedder(_model("model", "fp32"), cache)
    service = NewsQA(_settings(base, "model", "fp32"), embedder=vectors)
    started = time.perf_counter()
    zone = service.settings.zone
    service.ingest_many(to_article(item, zone) for item in dataset.articles if item.text.strip())
    service.close()
    vectors.close()
    info = {"articles": len(dataset.articles), "chunks": vectors.from_cache + vectors.from_fallback,
            "vectors_from_cache": vectors.from_cache, "vectors_from_hashing": vectors.from_fallback,
            "cache": str(cache) if cache.exists() else None,
            "seconds": round(time.perf_counter() - started, 1)}
    info_path.write_text(json.dumps(info))
    return info


# -- workers (each a fresh process) ---------------------------------------------------------

def worker_build(directory: Path) -> dict[str, Any]:
    """Open the collection over a store without indexes: it builds them; then save them."""
    from index.collection import Collection
    from index.vectors import index_kind

    model = _model("model")
    started = time.perf_counter()
    collection = Collection(directory, model.name, model.dim)
    built = time.perf_counter() - started
    engine: Any = collection.engine  # the embedded engine: the benchmark reports its index kind
    kind = index_kind(engine.vectors)
    collection.close()
    return {"build_s": round(built, 1), "save_s": round(time.perf_counter() - started - built, 1),
            "index": kind, "chunks": len(collection), "build_peak_mb": round(peak_mb())}


def _latencies(service: Any, questions: list[Any], mode: str, filtered: bool) -> list[float]:
    zone = service.settings.zone
    service.forget_queries()  # each pass pays for its own question embeddings
    out = []
    for q in questions:
        as_of = asked_on(q, zone) if filtered else None
        started = time.perf_counter()
        service.ask(q.question, top_k=5, mode=mode, as_of=as_of)
        out.append((time.perf_counter() - started) * 1000)
    return out


def worker_recall(directory: Path, dataset: Path, n_questions: int, embedder: str) -> dict[str, float]:
    """Dense recall@10 of the collection's vector index against an exact scan of the stored
    vectors, on the same questions, without and with each question's `as_of` window."""
    from index.collection import Collection

    model = _model(embedder)
    questions = _questions(dataset, n_questions)
    queries = model.embed([q.question for q in questions])
    zone = _settings(directory, embedder).zone
    limits = [asked_on(q, zone) for q in questions]
    cuts = np.asarray([np.inf if t is None else t.timestamp() for t in limits])
    collection = Collection(directory, model.name, model.dim)
    best: list[list[tuple[float, int]]] = [[] for _ in questions]
    best_window: list[list[tuple[float, int]]] = [[] for _ in questions]
    for part in collection.store.iter_vectors(batch=20_000):
        ids, scores = part.ids, queries @ part.vectors.T
        known = np.asarray([np.nan if t is None else t for t in part.times])
        for row, cut in enumerate(cuts):
            _keep_top(best[row], scores[row], ids)
            _keep_top(best_window[row], np.where(known <= cut, scores[row], -np.inf), ids)
    hits = hits_window = asked_window = 0
    for row, limit in enumerate(limits):
        got = {h.id for h in collection.search("", queries[row], 10, "dense")}
        hits += len(got & {i for _, i in best[row]})
        if limit is not None:
            exact = {i for s, i in best_window[row] if s > -np.inf}
            got = {h.id for h in collection.search("", queries[row], 10, "dense", cuts[row])}
            hits_window += len(got & exact)
            asked_window += len(exact)
    collection.close()
    return {"recall_at_10": round(hits / (10 * len(questions)), 4),
            "recall_at_10_as_of": round(hits_window / max(asked_window, 1), 4)}


def _questions(dataset: Path, n: int) -> list[Any]:
    """The same `n` answerable questions in every worker (a fixed random choice)."""
    questions, _ = answerable(load_dataset(dataset))
    rng = np.random.default_rng(1)
    return [questions[i] for i in sorted(rng.choice(len(questions), min(n, len(questions)),
                                                    replace=False))]


def _keep_top(best: list[tuple[float, int]], scores: np.ndarray, ids: np.ndarray) -> None:
    top = np.argpartition(-scores, 10)[:10] if len(scores) > 10 else np.arange(len(scores))
    best.extend((float(scores[i]), int(ids[i])) for i in top)
    best.sort(key=lambda pair: (-pair[0], pair[1]))
    del best[10:]


def _time_to_searchable(service: Any, tries: int = 5) -> list[float]:
    """Seconds from handing a new update to `ingest` until a search returns it."""
    from qa.models import Timestamp, Update

    out = []
    for n in range(tries):
        article = service.article(service.article_ids()[n * 7])
        word = f"zqx{n}marker{int(time.time())}"
        update = Update(Timestamp(datetime.now(UTC).replace(microsecond=0), False),
                        f"Officials confirmed the {word} figure rose to 3,{100 + n} riders today.")
        changed = replace(article, updates=(*article.updates, update))
        started = time.perf_counter()
        service.ingest(changed)
        found = service.search(word, 5, "bm25")
        out.append(time.perf_counter() - started)
        if not found or word not in found[0].chunk.text:
            raise RuntimeError(f"the update with {word!r} was not found after ingest")
    return out


def worker_measure(directory: Path, dataset: Path, n_questions: int, embedder: str) -> dict[str, Any]:
    from qa.service import NewsQA

    started = time.perf_counter()
    model = _model(embedder)
    getattr(model, "warm_up", lambda: None)()
    model.embed(["warm the model"])
    model_s = time.perf_counter() - started
    rss_before = rss_mb()
    started = time.perf_counter()
    service = NewsQA(_settings(directory, embedder), embedder=model)
    startup = time.perf_counter() - started
    rss_after = rss_mb()
    chunks = service.health().chunks
    picked = _questions(dataset, n_questions)
    for q in picked[:5]:
        service.ask(q.question, mode="hybrid")  # first calls pay one-time costs
    modes = {}
    for mode in MODES:
        plain = _latencies(service, picked, mode, filtered=False)
        as_of = _latencies(service, picked, mode, filtered=True)
        modes[mode] = {"p50_ms": _pct(plain, 50), "p95_ms": _pct(plain, 95),
                       "as_of_p50_ms": _pct(as_of, 50), "as_of_p95_ms": _pct(as_of, 95)}
    searchable = _time_to_searchable(service)
    service.close()
    load = os.getloadavg()[1]  # the machine's 5-minute load average: context for the figures
    return {"chunks": chunks, "startup_s": round(startup, 1), "model_s": round(model_s, 1),
            "rss_mb": round(rss_after - rss_before), "bytes_per_chunk": round(
                (rss_after - rss_before) * 2**20 / max(chunks, 1)),
            "searchable_s_median": round(float(np.median(searchable)), 3),
            "searchable_s_max": round(max(searchable), 3), "modes": modes,
            "measure_peak_mb": round(peak_mb()), "load_average": round(load, 1)}


def _pct(values: list[float], q: int) -> float:
    return round(float(np.percentile(values, q)), 1)


# -- driver ---------------------------------------------------------------------------------

def _run_worker(args: argparse.Namespace, *extra: str, timed: bool = False) -> dict[str, Any]:
    """Run one job in a fresh process; a `timed` one waits for `--lock` (so no other heavy job
    shares the machine while it measures) and runs in a session of its own (so at the default
    priority, whatever the priority of the builds around it). A failed job's error is shown."""
    command = [sys.executable, "-m", "eval.bench_scale", "--worker", *extra,
               "--dataset", str(args.dataset), "--questions", str(args.questions),
               "--embedder", args.embedder]
    if timed and args.lock is not None:
        command = ["flock", str(args.lock), *command]
    done = subprocess.run(command, capture_output=True, text=True, start_new_session=timed)
    if done.returncode != 0:
        raise SystemExit(f"the {extra[0]} job on {extra[1]} failed (exit {done.returncode}):\n"
                         f"{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every size in turn (`--phase all`), or only the corpora and their indexes (`build`:
    kept for a later `measure`), or only the measurements of corpora built before."""
    args.out.mkdir(parents=True, exist_ok=True)
    results_path = args.out / "results.json"
    if args.phase == "measure":
        if not results_path.exists():
            raise SystemExit(f"no built corpora in {args.out}: run --phase build first")
        results = json.loads(results_path.read_text())
        for size, row in results["sizes"].items():
            _measure(args, args.out / f"corpus-{size}", row)
            results_path.write_text(json.dumps(results, indent=2))
    else:
        results = _build_all(args, results_path)
    from eval.scale_report import plot, table

    if args.phase != "build":
        print(table(results))
        plot(results, args.out)
    return results


def _build_all(args: argparse.Namespace, results_path: Path) -> dict[str, Any]:
    from eval.scale_corpus import CacheFirstEmbedder, read_base, write_corpus

    base_info = build_base(args)
    model = _model("model", "fp32")
    lookup = CacheFirstEmbedder(model, args.cache_dir / "embeddings.sqlite3")
    base = read_base(args.out / "base", model.name, model.dim, lookup)
    lookup.close()
    if lookup.from_cache == 0 and (args.cache_dir / "embeddings.sqlite3").exists():
        raise SystemExit(f"the embedding cache in {args.cache_dir} holds none of the base's "
                         f"vectors under {model.cache_name!r}: the corpus would be hashing "
                         "vectors only")
    base_info.update(vectors_from_cache=lookup.from_cache, vectors_from_hashing=lookup.from_fallback,
                     chunks=sum(len(a.chunks) for a in base), articles=len(base))
    print(f"base: {base_info['chunks']} chunks of {base_info['articles']} real articles; vectors: "
          f"{lookup.from_cache} from the embedding cache, {lookup.from_fallback} from the hashing "
          "embedder (where the cache has none)", flush=True)
    results: dict[str, Any] = {"base": base_info, "sizes": {}}
    for size in args.sizes:
        size = size or base_info["chunks"]
        directory = args.out / f"corpus-{size}"
        shutil.rmtree(directory, ignore_errors=True)
        started = time.perf_counter()
        chunks = write_corpus(base, directory, size, model.name, model.dim)
        generate = round(time.perf_counter() - started, 1)
        print(f"{size:,}: wrote {chunks:,} chunks in {generate} s; building", flush=True)
        row = {"generate_s": generate, **_run_worker(args, "build", str(directory))}
        print(f"{size:,}: built a {row['index']} index in {row['build_s']} s", flush=True)
        results["sizes"][str(size)] = row
        if args.phase == "all":
            _measure(args, directory, row)
            if not args.keep:
                shutil.rmtree(directory, ignore_errors=True)
        results_path.write_text(json.dumps(results, indent=2))
    return results


def _measure(args: argparse.Namespace, directory: Path, row: dict[str, Any]) -> None:
    print(f"{row['chunks']:,}: measuring", flush=True)
    row.update(_run_worker(args, "measure", str(directory), timed=True))
    row.update(_run_worker(args, "recall", str(directory)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m eval.bench_scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100k,300k,1m",
                        help="corpus sizes in chunks, comma-separated (100k, 1m, 57000)")
    parser.add_argument("--out", type=Path, default=Path("runs/scale"))
    parser.add_argument("--dataset", type=Path, default=Path("../shared/data/realtimeqa-2022"))
    parser.add_argument("--cache-dir", type=Path, default=Path(".newsqa/cache"),
                        help="embedding cache folder (vectors of the base's chunks)")
    parser.add_argument("--base", type=Path, default=None,
                        help="use this data directory's store as the base (e.g. the index "
                             "`newsqa eval` built) instead of ingesting one")
    parser.add_argument("--base-questions", type=int, default=60,
                        help="the base is the articles of this many questions")
    parser.add_argument("--questions", type=int, default=100, help="questions asked per mode")
    parser.add_argument("--embedder", default="model", choices=("model", "hashing"),
                        help="what embeds the questions")
    parser.add_argument("--lock", type=Path, default=None,
                        help="a lock file the latency measurement takes (flock), so that it never "
                             "shares the machine with another heavy job; corpus writing and "
                             "index builds run without it")
    parser.add_argument("--phase", choices=("all", "build", "measure"), default="all",
                        help="build: write the corpora and build their indexes, and keep them; "
                             "measure: measure the corpora a build phase left in --out (e.g. "
                             "under one lock, after building them at low priority)")
    parser.add_argument("--keep", action="store_true", help="keep the corpora's data directories")
    parser.add_argument("--worker", nargs=2, metavar=("JOB", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        job, directory = args.worker
        if job == "build":
            result = worker_build(Path(directory))
        elif job == "recall":
            result = worker_recall(Path(directory), args.dataset, args.questions, args.embedder)
        else:
            result = worker_measure(Path(directory), args.dataset, args.questions, args.embedder)
        print(json.dumps(result))
        return
    args.sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    run(args)


if __name__ == "__main__":
    main()
