"""`python -m eval.bench_embed`: embedding speed of each path side by side, in one run.

Real news chunks (RealTimeQA articles read at run time, cut by newsqa's own chunker, title and
heading included: exactly what ingest embeds) go through each path in turn, the paths interleaved
round after round so a busy machine slows all of them alike. Prints the median chunks/s of each
path, its ratio to a plain fp32 `SentenceTransformer.encode` of the same texts, and its agreement
with those fp32 vectors (min and median cosine). `--compile` adds the compiled bulk path
(bf16 + TorchInductor), compiled on its untimed first pass. `--ingest` adds `newsqa ingest` end to
end (a fresh process and data directory, start-up included) in fp32 and in the automatic path,
without and with the compiled kernels of an earlier ingest.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

Encode = Callable[[list[str]], np.ndarray]


def news_articles(dataset: Path, wanted_chunks: int, workdir: Path) -> tuple[list[Any], list[str]]:
    """Articles of the dataset (in file order) until they give `wanted_chunks` chunks, and the
    texts newsqa embeds for them."""
    from eval.layouts import load_dataset
    from eval.run import to_article
    from qa.service import NewsQA
    from qa.settings import Settings

    settings = Settings(data_dir=workdir / "chunking", embedder="model")
    service = NewsQA(settings)
    articles, texts = [], []
    for item in load_dataset(dataset, max(20, wanted_chunks // 8)).articles:
        if not item.text.strip():
            continue
        article = to_article(item, settings.zone)
        articles.append(article)
        texts += service.texts_to_embed(article)
        if len(texts) >= wanted_chunks:
            break
    service.close()
    return articles, texts


def agreement_with_cache(dataset: Path, cache: Path, wanted: int, every: int,
                         workdir: Path) -> dict[str, Any]:
    """Cosine of the fast CPU path's vectors to the fp32 vectors a benchmark run cached, on
    chunks of every `every`-th article of the dataset: no fp32 embedding needed."""
    from eval.layouts import load_dataset
    from eval.run import to_article
    from index.embed import SentenceTransformerEmbedder
    from index.embed_cache import CachedEmbedder
    from qa.service import NewsQA
    from qa.settings import Settings

    settings = Settings(data_dir=workdir / "agreement")
    service = NewsQA(settings)
    texts: list[str] = []
    for item in load_dataset(dataset).articles[::every]:
        if item.text.strip():
            texts += service.texts_to_embed(to_article(item, settings.zone))
        if len(texts) >= wanted:
            break
    service.close()
    fp32 = CachedEmbedder(SentenceTransformerEmbedder(precision="fp32"), cache / "embeddings.sqlite3")
    kept = [(t, v) for t, v in zip(texts, fp32.cached(texts), strict=True) if v is not None]
    fp32.close()
    fast = SentenceTransformerEmbedder(onnx_for_small_calls=False)
    started = time.perf_counter()
    vectors = fast.embed([t for t, _ in kept])
    seconds = time.perf_counter() - started
    cosine = np.sum(vectors * np.stack([v for _, v in kept]), axis=1)
    return {"chunks": len(kept), "path": f"{fast.bulk_path} ({fast.plan.reason})",
            "cosine_min": float(cosine.min()), "cosine_p001": float(np.quantile(cosine, 0.001)),
            "cosine_median": float(np.median(cosine)),
            "below_0.999": int(np.sum(cosine < 0.999)), "seconds": round(seconds, 1)}


def caches_agree(dataset: Path, fp32_cache: Path, other_cache: Path, precision: str,
                 workdir: Path) -> dict[str, Any]:
    """Cosine, chunk by chunk, between the fp32 vectors of one benchmark cache and the
    `precision` vectors of another, over every chunk of the dataset found in both (read only)."""
    import hashlib
    import sqlite3

    from eval.layouts import load_dataset
    from eval.run import to_article
    from index.embed import DEFAULT_MODEL
    from qa.service import NewsQA
    from qa.settings import Settings

    settings = Settings(data_dir=workdir / "caches")
    service = NewsQA(settings)
    texts: list[str] = []
    for item in load_dataset(dataset).articles:
        if item.text.strip():
            texts += service.texts_to_embed(to_article(item, settings.zone))
    service.close()
    texts = list(dict.fromkeys(texts))

    def read(cache: Path, name: str) -> list[np.ndarray | None]:
        conn = sqlite3.connect(f"file:{cache / 'embeddings.sqlite3'}?mode=ro", uri=True)
        keys = [hashlib.sha256(f"{name}\0{t}".encode()).digest() for t in texts]
        found: dict[bytes, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            part = keys[start:start + 500]
            found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in conn.execute(
                f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(part))})",
                part))
        conn.close()
        return [found.get(k) for k in keys]

    pairs = [(a, b) for a, b in zip(read(fp32_cache, DEFAULT_MODEL),
                                    read(other_cache, f"{DEFAULT_MODEL}@{precision}"), strict=True)
             if a is not None and b is not None]
    cosine = np.sum(_unit(np.stack([a for a, _ in pairs])) * _unit(np.stack([b for _, b in pairs])),
                    axis=1)
    return {"chunk_texts": len(texts), "in_both": len(pairs), "precision": precision,
            "cosine_min": float(cosine.min()), "cosine_p001": float(np.quantile(cosine, 0.001)),
            "cosine_median": float(np.median(cosine)), "below_0.999": int(np.sum(cosine < 0.999))}


def paths_to_measure(device: str | None, batch_size: int | None, with_onnx: bool,
                     gpu_only: bool = False, with_compile: bool = False,
                     kernels: Path | None = None) -> dict[str, Encode]:
    """The paths to time, the reference (a plain fp32 encode) first."""
    from index.bulk_encode import BulkEncoder, choose_plan
    from index.embed import SentenceTransformerEmbedder

    gpu = device or _cuda_device()
    if gpu_only:
        if not gpu:
            raise SystemExit("--gpu-only needs a CUDA device; none is visible")
        from sentence_transformers import SentenceTransformer

        on_gpu = SentenceTransformer(base_path(), device=gpu)
        return {f"fp32, plain encode ({gpu})": _plain(on_gpu, 256),
                "GPU fp16 bulk": BulkEncoder(on_gpu, choose_plan(gpu, "auto", batch_size)).encode}
    model = SentenceTransformerEmbedder(precision="fp32", onnx_for_small_calls=False).model
    paths: dict[str, Encode] = {
        "fp32, plain encode": _plain(model, 32),
        "fp32, length-sorted": BulkEncoder(model, choose_plan("cpu", "fp32", batch_size)).encode,
        "fast CPU (auto), eager": BulkEncoder(model, choose_plan("cpu", "auto", batch_size),
                                              compile_from=2**62).encode,
    }
    if with_onnx:
        paths.update(onnx_paths(model))
    if with_compile:
        paths["fast CPU, compiled (bf16 + TorchInductor, freezing)"] = _compiled(
            model, batch_size, kernels or Path(tempfile.mkdtemp(prefix="newsqa-kernels-")))
    if gpu:
        from sentence_transformers import SentenceTransformer

        on_gpu = SentenceTransformer(base_path(), device=gpu)
        paths["GPU fp16 bulk"] = BulkEncoder(on_gpu, choose_plan(gpu, "auto", batch_size)).encode
    return paths


def _compiled(model: Any, batch_size: int | None, kernels: Path) -> Encode:
    """The shipped compiled path (index/compiled_encode.py), compiled from the first call: the
    untimed first pass pays the compile, and its seconds are printed."""
    from index.bulk_encode import BulkEncoder, choose_plan

    return BulkEncoder(model, choose_plan("cpu", "bf16", batch_size), compile_dir=kernels,
                       compile_from=1).encode


def _plain(model: Any, batch_size: int) -> Encode:
    """sentence-transformers' own encode in fp32 (its default batch of 32 on a CPU)."""
    return lambda texts: np.asarray(model.encode(texts, batch_size=batch_size,
                                                 normalize_embeddings=True))


def base_path() -> str:
    from index.embed import DEFAULT_MODEL, resolve_model_path

    return resolve_model_path(os.environ.get("NEWSQA_MODEL", DEFAULT_MODEL))


def _cuda_device() -> str | None:
    import torch

    return "cuda" if torch.cuda.is_available() else None


def onnx_paths(model: Any) -> dict[str, Encode]:
    """ONNX Runtime on the exported graph, in fp32 and dynamically quantised to int8."""
    from index.onnx_encoder import export

    with tempfile.TemporaryDirectory(prefix="newsqa-bench-onnx-") as folder:
        fp32 = export(model, model_dir=Path(base_path()), graph_dir=Path(folder))
        assert fp32 is not None, "the model could not be exported to ONNX"
        int8 = _quantised(Path(folder))
    return {"ONNX Runtime fp32": _batched(fp32.embed), "ONNX Runtime int8 (dynamic)": _batched(int8)}


def _quantised(folder: Path) -> Encode:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from index.onnx_encoder import OnnxEncoder, _session, fast_tokenizer

    graph = next(folder.glob("*.onnx"))
    quantised = folder / "int8.onnx"
    quantize_dynamic(str(graph), str(quantised), weight_type=QuantType.QInt8, per_channel=True)
    encoder = OnnxEncoder(_session(quantised.read_bytes(), None), fast_tokenizer(Path(base_path()), 256))
    return _batched(encoder.embed)


def _batched(embed: Encode, size: int = 32) -> Encode:
    def run(texts: list[str]) -> np.ndarray:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for start in range(0, len(order), size):
            rows = order[start:start + size]
            out[rows] = embed([texts[i] for i in rows])
        return out
    return run


def measure(paths: dict[str, Encode], texts: list[str], rounds: int) -> list[dict[str, Any]]:
    speeds: dict[str, list[float]] = {name: [] for name in paths}
    vectors: dict[str, np.ndarray] = {}
    first: dict[str, float] = {}
    for name, encode in paths.items():  # one untimed pass each: lazy loads, compiles, caches
        started = time.perf_counter()
        vectors[name] = encode(texts)
        first[name] = time.perf_counter() - started
    for _ in range(rounds):
        for name, encode in paths.items():
            started = time.perf_counter()
            vectors[name] = encode(texts)
            speeds[name].append(len(texts) / (time.perf_counter() - started))
    reference_name = next(iter(paths))  # the reference: a plain fp32 encode
    reference = vectors[reference_name]
    base = statistics.median(speeds[reference_name])
    rows = []
    for name, runs in speeds.items():
        cosine = np.sum(_unit(vectors[name]) * reference, axis=1)
        rows.append({"path": name, "chunks_per_s": round(statistics.median(runs), 1),
                     "runs": [round(r, 1) for r in runs],
                     "first_pass_s": round(first[name], 1),
                     "ratio_to_fp32": round(statistics.median(runs) / base, 2),
                     "cosine_min": float(cosine.min()), "cosine_median": float(np.median(cosine))})
    return rows


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def ingest_end_to_end(articles: list[Any], texts: list[str], rounds: int,
                      workdir: Path) -> list[dict[str, Any]]:
    """`newsqa ingest` of the articles, as a user runs it (a fresh process and data directory),
    in fp32, in the automatic path, and in the automatic path with the compiled kernels an
    earlier ingest left (a data directory's second bulk ingest); against a plain fp32 encode of
    the same texts in this process, interleaved."""
    import shutil

    from index.embed import SentenceTransformerEmbedder
    from qa.service import COMPILE_FOLDER

    folder = workdir / "articles"
    folder.mkdir(exist_ok=True)
    for n, article in enumerate(articles):
        (folder / f"{n:05d}.json").write_text(json.dumps(
            {"id": article.id, "title": article.title, "body": article.body}))
    model = SentenceTransformerEmbedder(precision="fp32", onnx_for_small_calls=False).model
    model.encode(texts[:8])
    plain = "plain fp32 encode (in process)"
    runs = {"fp32": "newsqa ingest, fp32", "auto": "newsqa ingest, auto (first ingest: compiles)",
            "auto-kept": "newsqa ingest, auto (kernels kept from an earlier ingest)"}
    times: dict[str, list[float]] = {plain: [], **{name: [] for name in runs.values()}}
    chunks = 0
    for n in range(rounds):
        started = time.perf_counter()
        model.encode(texts, normalize_embeddings=True)
        times[plain].append(time.perf_counter() - started)
        for kind, name in runs.items():
            data = workdir / f"ingest-{kind}-{n}"
            kept = workdir / f"ingest-auto-{n}" / COMPILE_FOLDER
            if kind == "auto-kept" and kept.is_dir():  # absent when that ingest did not compile
                shutil.copytree(kept, data / COMPILE_FOLDER)
            precision = "fp32" if kind == "fp32" else "auto"
            env = {**os.environ, "NEWSQA_EMBED_PRECISION": precision, "NEWSQA_DATA_DIR": str(data)}
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "api.cli", "ingest", str(folder)],
                                  env=env, check=True, capture_output=True, text=True)
            times[name].append(time.perf_counter() - started)
            chunks = sum(int(n) for n in re.findall(r"\+(\d+) chunks", done.stdout))
    base = len(texts) / statistics.median(times[plain])
    rows = []
    for name, seconds in times.items():
        count = chunks if name != plain else len(texts)
        rows.append({"path": name, "chunks": count,
                     "seconds_median": round(statistics.median(seconds), 2),
                     "chunks_per_s": round(count / statistics.median(seconds), 1),
                     "ratio_to_plain_fp32": round(count / statistics.median(seconds) / base, 2),
                     "runs_s": [round(t, 1) for t in seconds]})
    return rows


def print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(_cell(c, row[c]) for c in columns) + " |")


def _cell(column: str, value: Any) -> str:
    return f"{value:.5f}" if column.startswith("cosine") else str(value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=Path("../shared/data/realtimeqa-2022"))
    parser.add_argument("--chunks", type=int, default=256, help="News chunks to embed per round.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--device", default=None, help="A CUDA device for the GPU path "
                        "(default: the first one, when there is one).")
    parser.add_argument("--gpu-only", action="store_true", help="Only the GPU paths (fp32 encode "
                        "on the GPU as the reference, then the fp16 bulk path).")
    parser.add_argument("--onnx", action="store_true", help="Also ONNX Runtime fp32 and int8.")
    parser.add_argument("--ingest", action="store_true", help="Also `newsqa ingest` end to end.")
    parser.add_argument("--ingest-chunks", type=int, default=None,
                        help="Chunks for the ingest rows (default: --chunks); the compiled path "
                        "starts after 2,048, so a few thousand show it.")
    parser.add_argument("--ingest-rounds", type=int, default=None,
                        help="Rounds of the ingest rows (default: --rounds).")
    parser.add_argument("--compile", action="store_true",
                        help="Also the compiled bulk path (bf16 + TorchInductor) from the first "
                        "call; its compile is in the first_pass_s column.")
    parser.add_argument("--json", type=Path, default=None, help="Write the figures here too.")
    parser.add_argument("--agreement-with", type=Path, default=None, metavar="CACHE_DIR",
                        help="Only compare the fast path with the fp32 vectors in this embedding "
                        "cache (a benchmark run's), on --chunks chunks of every 10th article.")
    parser.add_argument("--caches-agree", type=Path, nargs=2, default=None,
                        metavar=("FP32_CACHE_DIR", "BF16_CACHE_DIR"),
                        help="Only compare, chunk by chunk, the fp32 vectors of one benchmark "
                        "cache with the bf16 vectors of another, over the whole dataset.")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="newsqa-bench-embed-") as tmp:
        workdir = Path(tmp)
        if args.caches_agree is not None:
            agree = caches_agree(args.dataset, args.caches_agree[0], args.caches_agree[1],
                                 "bf16", workdir)
            print_table([agree], list(agree))
            return
        if args.agreement_with is not None:
            agreement = agreement_with_cache(args.dataset, args.agreement_with, args.chunks, 10,
                                             workdir)
            print_table([agreement], list(agreement))
            return
        wanted = max(args.chunks, args.ingest_chunks or 0) if args.ingest else args.chunks
        articles, texts = news_articles(args.dataset, wanted, workdir)
        import torch

        print(f"{min(len(texts), args.chunks)} chunks from the first articles (of {len(texts)} "
              f"from {len(articles)}); torch threads {torch.get_num_threads()}; load average "
              f"before {os.getloadavg()[0]:.1f}")
        paths = paths_to_measure(args.device, args.batch_size, args.onnx, args.gpu_only,
                                 args.compile, workdir / "kernels")
        rows = measure(paths, texts[:args.chunks], args.rounds)
        print_table(rows, ["path", "chunks_per_s", "ratio_to_fp32", "cosine_min", "cosine_median",
                           "runs", "first_pass_s"])
        print(f"load average {os.getloadavg()[0]:.1f}")
        result: dict[str, Any] = {"chunks": min(len(texts), args.chunks), "paths": rows}
        if args.ingest:
            ingest = ingest_end_to_end(articles, texts, args.ingest_rounds or args.rounds, workdir)
            print_table(ingest, ["path", "chunks", "seconds_median", "chunks_per_s",
                                 "ratio_to_plain_fp32", "runs_s"])
            result["ingest"] = ingest
        print(f"load average after {os.getloadavg()[0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
