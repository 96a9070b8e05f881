"""Milvus Lite served on a TCP port, for several processes to share.

Milvus Lite opened from a file path belongs to one process (it takes a lock on the file); API
replicas and an ingest job share one engine by connecting to this server at
http://127.0.0.1:<port> instead. It runs the same C++ engine as the in-process Milvus Lite.
"""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path
from types import FrameType


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


def serve(db: Path, host: str = "127.0.0.1", port: int = 19530) -> None:
    """Serve the Milvus Lite database file `db` on host:port until SIGTERM or Ctrl-C."""
    from milvus_lite.server import Server

    db.parent.mkdir(parents=True, exist_ok=True)
    server = Server(str(db), f"{host}:{port}")
    if not server.init() or not server.start():
        raise MilvusServerError(f"Milvus Lite did not start on {db} ({host}:{port}): is the "
                                "file open in another process, or the port taken?")
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    process = server._p  # the engine's process: the server object offers no other handle
    assert process is not None
    try:
        wait_for_port(host, port)
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
