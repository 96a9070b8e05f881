"""`python -m eval.bench_load`: the load `POST /v1/ask` holds with p99 under 200 ms.

Starts `newsqa serve` on loopback (the demo corpus in a temporary data directory, or
`--data-dir`), then ramps the number of concurrent clients (each sends its next question as soon
as the last is answered, over one kept-alive connection) and prints, for each step, requests a
second, p50/p95/p99 latency and anything but a 200. The figure is the busiest step whose p99 is
under the target with no error.

Rate limits would turn the load into 429s, so the server is started with
`NEWSQA_RATE_LIMITS=ask=0,health=0` (those two groups off; every other one keeps its budget) and
the run fails if a 429 comes back all the same. Every question is distinct (a number is
appended), so the question-vector cache does not answer them. The clients run on the same
machine as the server: on 2 cores they take a share of them, which the figure includes.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Questions a reader of the demo corpus might ask; the number appended makes each one new.
QUESTIONS = (
    "Which firm won the Quay Street Bridge contract?",
    "How much is the bridge contract worth?",
    "When will work on the bridge begin?",
    "How did the council vote on the bridge?",
    "Who voted against the bridge award?",
    "Where did Storm Elena come ashore?",
    "How strong were Storm Elena's winds at landfall?",
    "How many homes lost power in the storm?",
    "What is the likely source of the Riverton contamination?",
    "Is Riverton's tap water safe to drink?",
    "When was the Riverton water advisory issued?",
    "What did the utility say about the water tests?",
)
RATE_LIMITS_OFF = "ask=0,health=0"


@dataclass(frozen=True)
class Step:
    concurrency: int
    seconds: float
    latencies_ms: tuple[float, ...]
    statuses: dict[str, int]

    @property
    def ok(self) -> int:
        return self.statuses.get("200", 0)

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) - self.ok

    @property
    def rate(self) -> float:
        return self.ok / self.seconds

    def percentile(self, q: float) -> float:
        """The nearest-rank percentile: the smallest latency that q% of requests did not exceed
        (its rank rounded up, never to the nearest: p99 of 170 is the 169th, not the 168th)."""
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered) / 100) - 1))]

    def row(self) -> str:
        other = ", ".join(f"{n}x {s}" for s, n in sorted(self.statuses.items()) if s != "200")
        return (f"| {self.concurrency} | {self.ok} | {self.rate:.1f} | {self.percentile(50):.1f} | "
                f"{self.percentile(95):.1f} | {self.percentile(99):.1f} | {other or 'none'} |")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(data_dir: Path, demo: bool, port: int, env: dict[str, str],
           timeout: float) -> Iterator[None]:
    """`newsqa serve` on 127.0.0.1:port until the block ends; its log is shown if it fails."""
    command = [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port",
               str(port), "--data-dir", str(data_dir), *(["--demo"] if demo else [])]
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                  env={**os.environ, **env})
        try:
            _wait_healthy(server, port, timeout, log)
            yield
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_healthy(server: subprocess.Popen[bytes], port: int, timeout: float, log: object) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    log.seek(0)  # type: ignore[attr-defined]
    tail = log.read()[-3000:].decode("utf-8", "replace")  # type: ignore[attr-defined]
    raise SystemExit(f"newsqa serve did not answer /healthz on 127.0.0.1:{port} "
                     f"(exit {server.poll()}); its log ends:\n{tail}")


class Client(threading.Thread):
    """One reader: asks, waits for the answer, asks again, until `stop` is set."""

    counter = iter(range(10**9))
    counter_lock = threading.Lock()

    def __init__(self, port: int, mode: str | None, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.port, self.mode, self.stop = port, mode, stop
        self.latencies_ms: list[float] = []
        self.statuses: Counter[str] = Counter()

    def body(self) -> bytes:
        with self.counter_lock:
            n = next(self.counter)
        doc: dict[str, object] = {"question": f"{QUESTIONS[n % len(QUESTIONS)]} {n}"}
        if self.mode:
            doc["mode"] = self.mode
        return json.dumps(doc).encode("utf-8")

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Content-Type": "application/json"}
        while not self.stop.is_set():
            body = self.body()
            started = time.perf_counter()
            try:
                conn.request("POST", "/v1/ask", body=body, headers=headers)
                reply = conn.getresponse()
                reply.read()
                status = str(reply.status)
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            elapsed = (time.perf_counter() - started) * 1000
            if self.stop.is_set():
                break  # finished after the window: not counted
            self.statuses[status] += 1
            if status == "200":
                self.latencies_ms.append(elapsed)
        conn.close()


def run_step(port: int, concurrency: int, seconds: float, mode: str | None) -> Step:
    stop = threading.Event()
    clients = [Client(port, mode, stop) for _ in range(concurrency)]
    started = time.perf_counter()
    for client in clients:
        client.start()
    time.sleep(seconds)
    stop.set()
    elapsed = time.perf_counter() - started
    for client in clients:
        client.join(timeout=60)
    statuses: Counter[str] = Counter()
    for client in clients:
        statuses.update(client.statuses)
    return Step(concurrency, elapsed,
                tuple(ms for client in clients for ms in client.latencies_ms), dict(statuses))


def warm_up(port: int, questions: int, mode: str | None) -> None:
    """A few questions first, so the first step does not pay for loading anything."""
    client = Client(port, mode, threading.Event())
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(questions):
        conn.request("POST", "/v1/ask", body=client.body(),
                     headers={"Content-Type": "application/json"})
        reply = conn.getresponse()
        reply.read()
        if reply.status != 200:
            raise SystemExit(f"warm-up question got {reply.status}; the server is not answering")
    conn.close()


def held(steps: list[Step], target_ms: float) -> Step | None:
    """The busiest step with p99 under the target and nothing but 200s."""
    good = [s for s in steps if s.ok and not s.errors and s.percentile(99) < target_ms]
    return max(good, key=lambda s: s.rate, default=None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="Serve this data directory (default: the demo corpus in a temporary one).")
    parser.add_argument("--port", type=int, default=0, help="Loopback port (default: a free one).")
    parser.add_argument("--concurrency", default="1,2,3,4,6,8,12,16,24,32",
                        help="Concurrent clients at each step, comma-separated.")
    parser.add_argument("--seconds", type=float, default=15.0, help="Length of each step.")
    parser.add_argument("--warmup", type=int, default=20, help="Questions asked before the steps.")
    parser.add_argument("--target-ms", type=float, default=200.0, help="The p99 to stay under.")
    parser.add_argument("--mode", default=None, help="Retrieval mode (default: the server's).")
    parser.add_argument("--embedder", choices=["model", "hashing"], default="model",
                        help="'hashing' for a quick smoke run without the model.")
    parser.add_argument("--start-timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    port = args.port or free_port()
    env = {"NEWSQA_RATE_LIMITS": RATE_LIMITS_OFF, "NEWSQA_EMBEDDER": args.embedder}
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{len(os.sched_getaffinity(0))} cores; server on 127.0.0.1:{port} with "
          f"NEWSQA_RATE_LIMITS={RATE_LIMITS_OFF}; steps of {args.seconds:g} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="newsqa-bench-load-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "demo"
        steps: list[Step] = []
        with served(data_dir, args.data_dir is None, port, env, args.start_timeout):
            warm_up(port, args.warmup, args.mode)
            print("| clients | answered | req/s | p50 ms | p95 ms | p99 ms | other replies |\n"
                  "|---:|---:|---:|---:|---:|---:|---|", flush=True)
            for level in levels:
                step = run_step(port, level, args.seconds, args.mode)
                steps.append(step)
                print(step.row(), flush=True)
                if step.percentile(99) > 5 * args.target_ms:
                    break  # far past the target: more clients only queue longer
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if any("429" in s.statuses for s in steps):
        print("a 429 came back: the rate limits distorted the run")
        return 1
    best = held(steps, args.target_ms)
    if best is None:
        print(f"held: none (no step had p99 under {args.target_ms:g} ms with only 200s)")
        return 0
    print(f"held: {best.rate:.1f} req/s on /v1/ask at {best.concurrency} concurrent clients "
          f"(p50 {best.percentile(50):.1f} ms, p95 {best.percentile(95):.1f} ms, "
          f"p99 {best.percentile(99):.1f} ms < {args.target_ms:g} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
