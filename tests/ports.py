"""Loopback ports for the tests' servers, so that no run fails because two servers met on one.

The OS picks the port (a bind to port 0), never a probe of a fixed range: a probe that finds
nothing listening says nothing of a port bound but not yet listening, or taken a moment
later. A server process started on the port counts as started once it listens there and
nothing else does (gRPC's servers, Milvus Lite's among them, share a port with another that
also sets SO_REUSEPORT, and clients would be split between the two); one that lost its port
to another process is stopped and started again on a new one.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import psutil

from index.milvus_server import listeners

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
ATTEMPTS = 3
T = TypeVar("T")


class PortTaken(RuntimeError):
    """Another process took the port before the server bound it: try another port."""


class ServerDidNotStart(RuntimeError):
    """The server failed on a port nothing else holds: another port would not help."""


def free_port() -> int:
    """A loopback port no socket holds, picked by the OS and kept out of its next picks for
    port 0 (another test's) for a minute by a TIME_WAIT, which a server that sets SO_REUSEADDR
    (uvicorn, PostgreSQL, gRPC, http.server) binds through: Yelp's ephemeral-port-reserve."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, 0))
        listener.listen(1)
        port = int(listener.getsockname()[1])
        with socket.create_connection((HOST, port)):
            accepted, _ = listener.accept()
            accepted.close()  # the side that closes first holds the TIME_WAIT: this port's
    return port


def on_free_port(start: Callable[[int], T], attempts: int = ATTEMPTS) -> tuple[T, int]:
    """`start(port)` on a free port; a start that raises PortTaken is tried on a new port."""
    taken = []
    for _ in range(attempts):
        port = free_port()
        try:
            return start(port), port
        except PortTaken as exc:
            taken.append(f"{port} ({exc})")
    raise PortTaken(f"{attempts} ports were each taken before the server bound them: "
                    f"{'; '.join(taken)}. Something on this machine binds loopback ports fast; "
                    "find it with `ss -ltnp`")


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`python ARGS` from the repository root, its output into `log`."""
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, *args], cwd=ROOT, env={**os.environ, **env},
                                stdout=out, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def serve(args: Callable[[int], list[str]], env: dict[str, str], log: Path,
          timeout_s: float = 60.0) -> tuple[subprocess.Popen[bytes], int]:
    """`python ARGS(port)` on a free port, returned once it alone listens there; a start that
    lost its port to another process is stopped and tried on another."""
    def attempt(port: int) -> subprocess.Popen[bytes]:
        process = start(args(port), env, log)
        try:
            wait_listening_alone(process, port, timeout_s, log)
        except BaseException:
            stop(process)
            raise
        return process

    return on_free_port(attempt)


def wait_listening_alone(process: subprocess.Popen[bytes], port: int, timeout_s: float,
                         log: Path) -> None:
    """Return once `process` (or a process it started) listens on the port, and no other does.
    Raises PortTaken if another process holds the port, else ServerDidNotStart with its log."""
    name = " ".join(map(str, process.args[1:]))  # type: ignore[index]
    deadline = time.monotonic() + timeout_s
    while True:
        exited = process.poll() is not None
        late = time.monotonic() > deadline
        if exited or late or _accepts(port):  # then whose listener it is: a look at all
            pids = listeners(HOST, port)
            ours = _family(process)
            if any(pid in ours for pid in pids):
                others = [pid for pid in pids if pid not in ours]
                if others:
                    raise PortTaken(f"{name} shares {HOST}:{port} with process {others[0]} "
                                    "(SO_REUSEPORT): clients would reach either")
                return
            if exited or late:
                break
        time.sleep(0.1)
    output = log.read_text(errors="replace")
    if pids or "address already in use" in output.lower():
        raise PortTaken(f"{HOST}:{port} was taken by "
                        f"{f'process {pids[0]}' if pids else 'another process'} before {name} "
                        "bound it")
    what = (f"exited ({process.returncode}) before it listened" if exited else
            f"is not listening after {timeout_s:.0f} s, and nothing else holds the port")
    raise ServerDidNotStart(f"{name} {what} on {HOST}:{port}; its log {log} ends:\n"
                            f"{output[-3000:]}")


def _family(process: subprocess.Popen[bytes]) -> set[int | None]:
    """The process and those it started (Milvus Lite's engine runs in a child of its own)."""
    try:
        parent = psutil.Process(process.pid)
        return {process.pid, *(child.pid for child in parent.children(recursive=True))}
    except psutil.NoSuchProcess:
        return {process.pid}


def _accepts(port: int) -> bool:
    """Whether something, ours or not, accepts connections on the port (a cheap first look)."""
    with socket.socket() as probe:
        return probe.connect_ex((HOST, port)) == 0
