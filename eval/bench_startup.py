"""`python -m eval.bench_startup`: how long a journalist waits for the CLI and the server.

In one run, on a fresh data directory holding the shared sample article: `newsqa --help`,
`newsqa ask` answering from the data directory, and `newsqa ask --server URL` asking a
`newsqa serve` already running on a copy of it are timed in turn, as a user starts them (a new
process each), and their medians and ratios to `--help` printed; then `newsqa serve --demo`
is started several times and timed until /healthz answers. The first ask and the first start
of the server are shown apart: they save the ONNX graph of the model that every later one loads.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

QUESTION = "How much was the Clearview AI contract worth?"


def _newsqa(*args: str, data: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "api.cli", *args], check=True, capture_output=True,
                   env={**os.environ, "NEWSQA_DATA_DIR": str(data), "NEWSQA_SERVER": ""})
    return time.perf_counter() - started


@contextlib.contextmanager
def running_server(data: Path, port: int, *options: str,
                   timeout: float = 120.0) -> Iterator[float]:
    """`newsqa serve` on 127.0.0.1:port, stopped on leaving; yields the seconds it took from
    starting to /healthz answering 200."""
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", *options, "--host",
                               "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env={**os.environ, "NEWSQA_DATA_DIR": str(data)})
    try:
        yield _ready_after(server, port, started, timeout)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _ready_after(server: subprocess.Popen[bytes], port: int, started: float,
                 timeout: float) -> float:
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


def serve_ready_seconds(data: Path, port: int) -> float:
    """Seconds from starting `newsqa serve --demo` to /healthz answering 200."""
    with running_server(data, port, "--demo") as seconds:
        return seconds


def _row(name: str, times: list[float]) -> str:
    return f"| {name} | {statistics.median(times):.2f} | {' '.join(f'{t:.2f}' for t in times)} |"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=Path("../shared/data/sample-live-article.txt"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--port", type=int, default=8701,
                        help="serve starts are timed on PORT; the server asked on PORT + 1")
    args = parser.parse_args(argv)
    print(f"load average before {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="newsqa-bench-startup-") as tmp:
        data = Path(tmp) / "sample"
        print(f"ingest of the sample: {_newsqa('ingest', str(args.sample), data=data):.2f} s")
        print(f"first ask (saves the ONNX graph): {_newsqa('ask', QUESTION, data=data):.2f} s")
        served = Path(tmp) / "served"
        shutil.copytree(data, served)  # the same coverage, for a server of its own
        helps, asks, remote = [], [], []
        with running_server(served, args.port + 1):
            url = f"http://127.0.0.1:{args.port + 1}"
            _newsqa("ask", QUESTION, "--server", url, data=data)  # the server's first answer
            for _ in range(args.rounds):
                helps.append(_newsqa("--help", data=data))
                asks.append(_newsqa("ask", QUESTION, data=data))
                remote.append(_newsqa("ask", QUESTION, "--server", url, data=data))
        help_s = statistics.median(helps)
        print("| command | median s | runs |\n|---|---|---|\n" + "\n".join((
            _row("newsqa --help", helps), _row("newsqa ask", asks),
            _row("newsqa ask --server (a running newsqa serve)", remote))))
        print(f"ask / --help = {statistics.median(asks) / help_s:.1f}x; "
              f"ask --server / --help = {statistics.median(remote) / help_s:.1f}x (target <= 4x)")
        demo = Path(tmp) / "demo"
        first = serve_ready_seconds(demo, args.port)
        starts = [serve_ready_seconds(demo, args.port) for _ in range(args.rounds)]
        print(f"newsqa serve --demo: first start {first:.2f} s (ingests the demo, saves the graph); "
              f"later starts median {statistics.median(starts):.2f} s "
              f"({' '.join(f'{t:.2f}' for t in starts)}; target <= 2 s)")
    print(f"load average after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
