"""`python -m eval.bench_startup`: how long a journalist waits for the CLI and the server.

In one run, on a fresh data directory holding the shared sample article: `newsqa --help` and
`newsqa ask` are timed alternately, as a user starts them (a new process each), and their
medians and ratio printed; then `newsqa serve --demo` is started several times and timed until
/healthz answers. The first ask and the first start of the server are shown apart: they save
the ONNX graph of the model that every later one loads.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

QUESTION = "How much was the Clearview AI contract worth?"


def _newsqa(*args: str, data: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "api.cli", *args], check=True, capture_output=True,
                   env={**os.environ, "NEWSQA_DATA_DIR": str(data)})
    return time.perf_counter() - started


def serve_ready_seconds(data: Path, port: int, timeout: float = 120.0) -> float:
    """Seconds from starting `newsqa serve --demo` to /healthz answering 200."""
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--demo", "--host",
                               "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env={**os.environ, "NEWSQA_DATA_DIR": str(data)})
    try:
        while time.perf_counter() - started < timeout:
            if server.poll() is not None:
                raise RuntimeError(f"newsqa serve exited with {server.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as reply:
                    if reply.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"newsqa serve was not ready within {timeout} s")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=Path("../shared/data/sample-live-article.txt"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--port", type=int, default=8601)
    args = parser.parse_args(argv)
    print(f"load average before {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="newsqa-bench-startup-") as tmp:
        data = Path(tmp) / "sample"
        print(f"ingest of the sample: {_newsqa('ingest', str(args.sample), data=data):.2f} s")
        print(f"first ask (saves the ONNX graph): {_newsqa('ask', QUESTION, data=data):.2f} s")
        helps, asks = [], []
        for _ in range(args.rounds):
            helps.append(_newsqa("--help", data=data))
            asks.append(_newsqa("ask", QUESTION, data=data))
        help_s, ask_s = statistics.median(helps), statistics.median(asks)
        print(f"| command | median s | runs |\n|---|---|---|\n"
              f"| newsqa --help | {help_s:.2f} | {' '.join(f'{t:.2f}' for t in helps)} |\n"
              f"| newsqa ask | {ask_s:.2f} | {' '.join(f'{t:.2f}' for t in asks)} |")
        print(f"ask / --help = {ask_s / help_s:.1f}x (target <= 4x)")
        demo = Path(tmp) / "demo"
        first = serve_ready_seconds(demo, args.port)
        starts = [serve_ready_seconds(demo, args.port) for _ in range(args.rounds)]
        print(f"newsqa serve --demo: first start {first:.2f} s (ingests the demo, saves the graph); "
              f"later starts median {statistics.median(starts):.2f} s "
              f"({' '.join(f'{t:.2f}' for t in starts)}; target <= 2 s)")
    print(f"load average after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
