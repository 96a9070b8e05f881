"""Write-side figures of a search engine on a built index (not a CI test):

    python -m eval.bench_engines --data-dir runs/milvus/index [--milvus-uri FILE]

Opens the index a benchmark run left (`newsqa eval --out DIR` keeps it in DIR/index), with the
embedded engine or with Milvus, and prints how long opening took (and, of it, the catch-up
with the store every start runs), then medians over `--rounds`:
- write latency of one 10-chunk article (store + engine, no embedding: vectors are random),
- delete latency of that article (a correction's removal),
- with Milvus: ingest-to-searchable across processes: another process, connected to the same
  Milvus through a Milvus Lite server, polls BM25 until the article's unique word is found.
Nothing it writes stays: each round deletes what it added.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np

from index.collection import Batch, Collection, MilvusTarget
from index.milvus_server import wait_for_port
from index.store import NewDoc, Store

READER = """
import sys, time
from index.milvus import MilvusEngine
from index.engine import Query
engine = MilvusEngine(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], model=sys.argv[5])
print("ready", flush=True)
for word in sys.stdin:
    word = word.strip()
    while not engine.search(Query(word, None, 1, "bm25")):
        pass
    print(time.time(), flush=True)
"""


def article(dim: int, word: str, rng: np.random.Generator) -> list[NewDoc]:
    vectors = rng.standard_normal((10, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return [NewDoc(f"bench-{word}|body|h|{i}", f"Benchmark chunk {i} about {word} and the harbour.",
                   vectors[i], time=time.time()) for i in range(10)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--milvus-uri", help="the Milvus Lite file the run used (unset: embedded)")
    parser.add_argument("--collection", default="newsqa_chunks")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--port", type=int, default=19538)
    args = parser.parse_args()
    store = Store.at_path(args.data_dir / Collection.STORE_FILE)
    stamp = store.get_record("_collection", "embedder")
    store.close()
    if stamp is None:
        raise SystemExit(f"{args.data_dir} holds no newsqa index")
    server = reader = None
    milvus = None
    if args.milvus_uri:  # both this process and the reader go through one Milvus Lite server
        server = subprocess.Popen([sys.executable, "-m", "index.milvus_server", args.milvus_uri,
                                   str(args.port)], stdout=subprocess.DEVNULL)
        wait_for_port("127.0.0.1", args.port)
        milvus = MilvusTarget(f"http://127.0.0.1:{args.port}", args.collection)
    try:
        started = time.perf_counter()
        collection = Collection(args.data_dir, stamp["name"], int(stamp["dim"]), milvus=milvus)
        print(f"opened {len(collection):,} chunks ({'Milvus' if milvus else 'embedded'}) in "
              f"{time.perf_counter() - started:.1f} s")
        checks = []
        for _ in range(3):  # the catch-up every start runs, alone (here with nothing to catch up)
            started = time.perf_counter()
            collection.engine.sync(collection._stamp(), collection._documents)
            checks.append(time.perf_counter() - started)
        print(f"of which the catch-up with the store at start: median "
              f"{statistics.median(checks):.2f} s ({' '.join(f'{t:.2f}' for t in checks)})")
        collection.close()
        started = time.perf_counter()
        collection = Collection(args.data_dir, stamp["name"], int(stamp["dim"]), milvus=milvus)
        print(f"opened again in {time.perf_counter() - started:.1f} s")
        if milvus is not None:
            reader = subprocess.Popen(
                [sys.executable, "-c", READER, milvus.uri, milvus.collection, str(stamp["dim"]),
                 collection._store_id(), stamp["name"]], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                text=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)})
            assert reader.stdout is not None and reader.stdout.readline().strip() == "ready"
        rng = np.random.default_rng(0)
        writes, deletes, visible = [], [], []
        for _ in range(args.rounds):
            word = "zq" + uuid.uuid4().hex[:10]
            docs = article(int(stamp["dim"]), word, rng)
            if reader is not None:
                assert reader.stdin is not None and reader.stdout is not None
                reader.stdin.write(word + "\n")
                reader.stdin.flush()
            t0_wall, t0 = time.time(), time.perf_counter()
            collection.write(Batch(docs=docs))
            writes.append(time.perf_counter() - t0)
            if reader is not None and reader.stdout is not None:
                visible.append(float(reader.stdout.readline()) - t0_wall)
            t0 = time.perf_counter()
            collection.write(Batch(remove_prefixes=[f"bench-{word}|"]))
            deletes.append(time.perf_counter() - t0)
        print(f"write one 10-chunk article: median {statistics.median(writes) * 1000:.0f} ms")
        print(f"delete that article: median {statistics.median(deletes) * 1000:.0f} ms")
        if visible:
            print(f"ingest to searchable in another process: median "
                  f"{statistics.median(visible) * 1000:.0f} ms, max {max(visible) * 1000:.0f} ms")
        collection.close()
    finally:
        for process in (reader, server):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)


if __name__ == "__main__":
    main()
