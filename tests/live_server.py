"""An app served by uvicorn in a thread on loopback, as `newsqa serve` serves it, for the tests
that need a real socket (the CLI's `--server`, headers uvicorn itself writes, the browser)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def live_server(app: Any, **options: Any) -> Iterator[str]:
    """`app` on a loopback port the OS picks, until the block ends; yields its base URL. The
    socket is bound here and handed to uvicorn, so no other process can take the port before
    it listens. `options` go to uvicorn's Config (e.g. `server_options(settings)`). Raises if
    it has not started in 20 s."""
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_level="warning", **options))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on 127.0.0.1:{port}")
            time.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(timeout=10)
