"""The tests' servers never fail a run by meeting another process on their port: a port the OS
picked is not handed out again while a server starts, a server whose port was taken first is
started on another, and a shared port is not taken for the server's own. Milvus Lite served
for several processes refuses a port another server listens on, rather than sharing it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import ports
from tests.contract.conftest import milvus_available

# A server that binds as gRPC's do (SO_REUSEADDR and SO_REUSEPORT) and answers with its pid.
PID_SERVER = """
import http.server, os, socket, sys

class Server(http.server.HTTPServer):
    def server_bind(self):
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        super().server_bind()

class Pid(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(str(os.getpid()).encode())

    def log_message(self, *args):
        pass

Server(("127.0.0.1", int(sys.argv[1])), Pid).serve_forever()
"""


def occupant(kind: str) -> socket.socket:
    """A socket on a free port, in one of the states that took a test server's port."""
    sock = socket.socket()
    if kind == "sharing":  # a gRPC server (Milvus Lite): a second one would share the port
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", 0))
    if kind != "bound":  # bound only: a server about to listen; connect_ex reads it as free
        sock.listen()
    return sock


@pytest.fixture
def first_pick_taken(request: pytest.FixtureRequest,
                     monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, list[int]]]:
    """The first port picked is one another process took; later picks are free. Yields the
    taken port and the list of ports picked."""
    taken = occupant(request.param)
    port = int(taken.getsockname()[1])
    picked: list[int] = []
    pick = ports.free_port

    def next_pick() -> int:
        picked.append(port if not picked else pick())
        return picked[-1]

    monkeypatch.setattr(ports, "free_port", next_pick)
    with taken:
        yield port, picked


@pytest.mark.parametrize("first_pick_taken", ["listening", "sharing", "bound"], indirect=True)
def test_a_server_whose_port_was_taken_first_is_started_on_another(
        first_pick_taken: tuple[int, list[int]], tmp_path: Path) -> None:
    taken, picked = first_pick_taken
    process, port = ports.serve(lambda port: ["-c", PID_SERVER, str(port)], {},
                                tmp_path / "server.log")
    try:
        assert picked == [taken, port] and port != taken
        answers = {httpx.get(f"http://127.0.0.1:{port}/", timeout=10).text for _ in range(8)}
        assert answers == {str(process.pid)}  # ours alone answers there
    finally:
        ports.stop(process)


def test_a_server_that_fails_on_a_free_port_is_reported_with_the_port_and_its_log(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    picked: list[int] = []
    pick = ports.free_port

    def counted() -> int:
        picked.append(pick())
        return picked[-1]

    monkeypatch.setattr(ports, "free_port", counted)
    failing = "import sys; sys.exit('no index in /nowhere: run newsqa ingest first')"
    with pytest.raises(ports.ServerDidNotStart) as raised:
        ports.serve(lambda port: ["-c", failing], {}, tmp_path / "server.log")
    assert len(picked) == 1  # another port would not help: not tried
    message = str(raised.value)
    assert f"exited (1) before it listened on 127.0.0.1:{picked[0]}" in message
    assert "no index in /nowhere: run newsqa ingest first" in message


def test_a_picked_port_is_not_handed_out_again_while_its_server_starts() -> None:
    """Another test's bind to port 0 (a live_server, a free_port) does not get it."""
    picked = {ports.free_port() for _ in range(5)}
    handed = set()
    for _ in range(30_000):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            handed.add(sock.getsockname()[1])
    assert not picked & handed
    for port in picked:  # and a server binds it, as uvicorn, PostgreSQL and gRPC do
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
            sock.listen()


@pytest.mark.parametrize(("kind", "said"), [
    ("sharing", "listens on 127.0.0.1:{port} too, and Milvus Lite would share the port"),
    ("listening", "(127.0.0.1:{port}): the port is taken (process {pid} listens there); "
                  "choose another port"),
])
def test_milvus_lite_served_on_a_port_another_server_listens_on_says_so(
        kind: str, said: str, tmp_path: Path) -> None:
    if not milvus_available():
        pytest.skip("Milvus Lite is not installed: pip install -e '.[scale]'")
    with occupant(kind) as taken:
        port = int(taken.getsockname()[1])
        run = subprocess.run([sys.executable, "-m", "index.milvus_server",
                              str(tmp_path / "milvus.db"), str(port)], cwd=ports.ROOT,
                             capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, run.stdout + run.stderr
    assert said.format(port=port, pid=os.getpid()) in run.stderr, run.stderr
    assert "serving at" not in run.stdout
