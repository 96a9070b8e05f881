"""Milvus Lite served on a TCP port, for several processes to share.

Milvus Lite opened from a file path belongs to one process (it takes a lock on the file); API
replicas and an ingest job share one engine by connecting to this server at
http://127.0.0.1:<port> instead. It runs the same C++ engine as the in-process Milvus Lite.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path
from types import FrameType

WILDCARDS = {"0.0.0.0", "::"}


class MilvusServerError(RuntimeError):
    """The Milvus Lite server could not start."""


def wait_for_port(host: str, port: int, timeout_s: float = 60.0) -> None:
    """Return once something accepts connections on host:port."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise MilvusServerError(f"nothing listens on {host}:{port} after {timeout_s:.0f} s") \
                    from None
            time.sleep(0.2)


def listeners(host: str, port: int) -> list[int | None]:
    """The processes listening on TCP `port` of `host` or of a wildcard address (None: one this
    user may not inspect). Several can: servers that set SO_REUSEPORT, as gRPC's do, share one."""
    import psutil

    addresses = {info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)}
    anywhere = bool(addresses & WILDCARDS)
    found = []
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status != psutil.CONN_LISTEN or not conn.laddr or conn.laddr.port != port:
            continue
        ip = conn.laddr.ip.removeprefix("::ffff:")  # an IPv4 address on a dual-stack socket
        if anywhere or ip in WILDCARDS or ip in addresses:
            found.append(conn.pid)
    return found


def port_in_use(host: str, port: int) -> str | None:
    """Who holds host:port so that a server cannot bind it, if anyone does; else None."""
    pids = listeners(host, port)
    if pids:
        return f"process {pids[0]} listens there" if pids[0] else "another user's process listens there"
    family, kind, proto, _, address = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind
        try:
            probe.bind(address)
        except OSError as exc:
            return f"a process holds it ({exc.strerror})"
    return None


def _listening_alone(process: subprocess.Popen[bytes], host: str, port: int,
                     timeout_s: float = 60.0) -> None:
    """Return once the engine's process listens on host:port and no other process does."""
    deadline = time.monotonic() + timeout_s
    while True:
        pids = listeners(host, port)
        if process.pid in pids:
            break
        if process.poll() is not None or time.monotonic() > deadline:
            raise MilvusServerError(f"Milvus Lite did not listen on {host}:{port} (exit "
                                    f"{process.poll()}): {port_in_use(host, port) or 'see above'}")
        time.sleep(0.1)
    others = [pid for pid in pids if pid != process.pid]
    if others:  # gRPC binds with SO_REUSEPORT: both would serve, each client reaching one
        raise MilvusServerError(
            f"another process ({others[0] or 'of another user'}) listens on {host}:{port} too, "
            "and Milvus Lite would share the port with it, splitting clients between the two: "
            "stop that process or choose another port")


def serve(db: Path, host: str = "127.0.0.1", port: int = 19530) -> None:
    """Serve the Milvus Lite database file `db` on host:port until SIGTERM or Ctrl-C."""
    from milvus_lite.server import Server

    db.parent.mkdir(parents=True, exist_ok=True)
    server = Server(str(db), f"{host}:{port}")
    if not server.init() or not server.start():
        taken = port_in_use(host, port) if server._p is not None else None
        raise MilvusServerError(
            f"Milvus Lite did not start on {db} ({host}:{port}): " +
            (f"the port is taken ({taken}); choose another port" if taken else
             "is the file open in another process?"))
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    process = server._p  # the engine's process: the server object offers no other handle
    assert process is not None
    try:
        _listening_alone(process, host, port)
        print(f"Milvus Lite on {db} serving at http://{host}:{port}", flush=True)
        while not stopping and process.poll() is None:
            time.sleep(0.2)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except Exception:
                process.kill()
        server.stop()
    if not stopping:
        raise MilvusServerError(f"Milvus Lite on {db} stopped by itself (exit {process.returncode})")


if __name__ == "__main__":  # python -m index.milvus_server DB [PORT]
    import sys

    serve(Path(sys.argv[1]), port=int(sys.argv[2]) if len(sys.argv) > 2 else 19530)
