"""`python -m eval.bench_ask`: how long a question takes against an index an eval run built,
and what it answered, to compare two versions of the code on the same index.

It opens the data directory as `newsqa eval --reuse-index` does (questions embedded by the
model each time, ONNX Runtime when saved), asks the dataset's questions (answerable first,
then those whose answer is in no article, as the eval does) in each mode as of the end of
their day, and prints p50/p95/mean of `ask` per mode with the load average, and the CPU time
the process spent a question (both runtimes' threads counted; less swayed by other jobs on a
shared machine than wall time). With `--answers` it writes every answer (text, cited quotes,
abstention, confidence, passages and their scores) as JSON Lines; with `--profile` it prints
where the asks' time went (cProfile). `--compare A B` prints how many answers two such files
differ in, and where.
Run it on each version in turn, on one index, under the heavy-job lock.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from eval.datasets import partition
from eval.layouts import load_dataset
from eval.run import asked_on
from index.modes import SEARCH_MODES
from qa.models import Answer
from qa.service import NewsQA, make_embedder
from qa.settings import Settings


def answer_row(question_id: str, mode: str, answer: Answer) -> dict[str, Any]:
    """What a reader of `answer` sees, and what it was built from."""
    return {"question_id": question_id, "mode": mode, "text": answer.text,
            "abstained": answer.abstained, "confidence": answer.confidence,
            "quotes": [c.quote for c in answer.citations],
            "passages": [[p.chunk_id, p.score, p.dense_score, p.keyword_score]
                         for p in answer.passages]}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def bench(index: Path, dataset: Path, modes: list[str], limit: int | None,
          answers: Path | None, profile: Path | None = None) -> None:
    data = load_dataset(dataset, None)
    answerable, unanswerable, _ = partition(data)
    questions = [*answerable, *unanswerable][:limit]
    settings = Settings(data_dir=index)
    model = make_embedder(settings)
    service = NewsQA(settings, query_embedder=model)
    service.warm_up()
    rows = []
    print(f"{len(questions)} questions, {service.health().chunks} chunks, questions embedded by "
          f"{'onnxruntime' if getattr(model, 'fast_path', False) else model.name}")
    try:
        for mode in modes:
            service.forget_queries()  # each mode pays for its own question embeddings
            before = os.getloadavg()[0]
            cpu = time.process_time()
            took = []
            profiler = cProfile.Profile() if profile is not None else None
            for q in questions:
                as_of = asked_on(q, service.settings.zone)
                if profiler is not None:
                    profiler.enable()
                timed = service.ask(q.question, top_k=20, mode=mode, as_of=as_of)
                if profiler is not None:
                    profiler.disable()
                took.append(timed.took_ms)
                rows.append(answer_row(q.id, mode, timed.answer))
            cpu_ms = (time.process_time() - cpu) * 1000 / len(questions)
            print(f"{mode:7s} p50 {percentile(took, 0.5):6.1f} ms  p95 {percentile(took, 0.95):6.1f} ms"
                  f"  mean {statistics.fmean(took):6.1f} ms  CPU {cpu_ms:5.1f} ms a question"
                  f"  load average {before:.1f} -> "
                  f"{os.getloadavg()[0]:.1f}", flush=True)
            if profiler is not None and profile is not None:
                profiler.dump_stats(f"{profile}.{mode}")
                pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(25)
    finally:
        service.close()
    if answers is not None:
        with open(answers, "w") as out:
            out.writelines(json.dumps(row) + "\n" for row in rows)


def compare(first: Path, second: Path) -> int:
    """Print how many answers differ between two `--answers` files; 1 when any does."""
    def read(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
        with open(path) as rows:
            return {(r["mode"], r["question_id"]): r for r in map(json.loads, rows)}

    a, b = read(first), read(second)
    fields: Counter[str] = Counter()
    differing: Counter[str] = Counter()
    for key in sorted(a.keys() | b.keys()):
        left, right = a.get(key), b.get(key)
        if left is None or right is None:
            fields["missing"] += 1
            differing[key[0]] += 1
            continue
        changed = [f for f in left if left[f] != right.get(f)]
        fields.update(changed)
        differing[key[0]] += bool(changed)
    per_mode = Counter(mode for mode, _ in a)
    for mode in sorted(per_mode):
        print(f"{mode:7s} {per_mode[mode]} answers, {differing[mode]} differ")
    if fields:
        print("fields that differ: " + ", ".join(f"{f} ({n})" for f, n in fields.most_common()))
    return 1 if fields else 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="a data directory an eval run built")
    parser.add_argument("--dataset", type=Path, default=Path("../shared/data/realtimeqa-2022"))
    parser.add_argument("--modes", default=",".join(sorted(SEARCH_MODES)))
    parser.add_argument("--limit", type=int, default=None, help="ask only the first N questions")
    parser.add_argument("--answers", type=Path, help="write every answer here (JSON Lines)")
    parser.add_argument("--profile", type=Path, metavar="PREFIX",
                        help="profile the asks (cProfile, which slows them): PREFIX.<mode> "
                             "holds the stats, the top functions are printed")
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("A", "B"),
                        help="compare two --answers files instead of asking")
    args = parser.parse_args(argv)
    if args.compare:
        sys.exit(compare(*args.compare))
    if args.index is None:
        parser.error("--index is required (or --compare A B)")
    bench(args.index, args.dataset, args.modes.split(","), args.limit, args.answers, args.profile)


if __name__ == "__main__":
    main()
