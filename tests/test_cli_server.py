"""`newsqa ask --server URL`: the CLI asks a real server on loopback and prints what it prints
when it answers from the data directory; every way the server can fail is one readable line."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from api.app import create_app, server_options
from api.cli import app as cli
from index.embed import HashingEmbedder
from qa.service import NewsQA
from qa.settings import Settings
from tests.conftest import DEMO, ROOT
from tests.live_server import live_server
from tests.ports import free_port

KEY = "k" * 24
QUESTIONS: list[list[str]] = [
    ["How much will the Quay Street Bridge replacement cost?"],
    ["How much will the Quay Street Bridge replacement cost?", "--as-of", "2026-03-14T12:00:00"],
    ["What changed about the bridge contract since 2 PM?"],
    ["When is the storm expected to make landfall?", "--mode", "bm25", "--top-k", "3"],
    ["What is the best recipe for sourdough bread?"],
]
LOCAL = {"NEWSQA_SERVER": None, "NEWSQA_EMBEDDER": "hashing", "NEWSQA_API_KEY": None,
         "NEWSQA_API_KEYS": None, "NEWSQA_API_KEYS_FILE": None}


@contextmanager
def serving(data: Path, **settings: Any) -> Iterator[str]:
    """`newsqa serve` on the data directory, in a thread, on a loopback port; its base URL."""
    config = Settings(data_dir=data, embedder="hashing", **settings)
    service = NewsQA(config, embedder=HashingEmbedder())
    try:
        with live_server(create_app(config, service), **server_options(config)) as base:
            yield base
    finally:
        service.close()


def newsqa(*args: str, **env: str | None) -> Result:
    return CliRunner().invoke(cli, list(args), env={**LOCAL, **env})


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    ingested = newsqa("ingest", str(DEMO), "--data-dir", str(folder))
    assert ingested.exit_code == 0, ingested.output
    return folder


def test_the_server_path_prints_what_the_local_path_prints(data: Path) -> None:
    local = [newsqa("ask", *q, "--data-dir", str(data)) for q in QUESTIONS]
    local_json = [json.loads(newsqa("ask", *q, "--json", "--data-dir", str(data)).output)
                  for q in QUESTIONS]
    with serving(data) as base:
        remote = [newsqa("ask", *q, "--server", base) for q in QUESTIONS]
        remote_json = [json.loads(newsqa("ask", *q, "--json", NEWSQA_SERVER=base).output)
                       for q in QUESTIONS]
    for here, there in zip(local, remote, strict=True):
        assert here.exit_code == there.exit_code == 0, there.output
        assert there.output == here.output
    for here, there in zip(local_json, remote_json, strict=True):
        assert here.pop("took_ms") >= 0 and there.pop("took_ms") >= 0
        assert there == here
    shown = "\n".join(r.output for r in remote)
    # what the comparison covers: markers, dated and zone-less times, a window, an abstention
    assert "[1]" in shown and "(date only)" in shown and "(zone not stated)" in shown
    assert "window: after" in shown and "up to 2026-03-14T12:00:00" in shown
    assert remote_json[-1]["abstained"] is True and remote_json[-1]["citations"] == []
    sources = "".join(p.read_text(encoding="utf-8") for p in DEMO.glob("*.txt"))
    for body in remote_json:
        assert all(c["quote"] in sources for c in body["citations"])


def test_an_unreachable_server_is_named_and_nothing_is_answered_locally(data: Path) -> None:
    base = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result = newsqa("ask", "How much will the bridge cost?", NEWSQA_SERVER=base,
                    NEWSQA_DATA_DIR=str(data))
    assert result.exit_code == 1
    assert f"cannot reach the newsqa server at {base}" in result.output
    assert "connection refused" in result.output and "unset NEWSQA_SERVER" in result.output
    assert "[1]" not in result.output and "Traceback" not in result.output


def test_a_server_that_needs_a_key_says_which_setting_to_set(data: Path) -> None:
    question = "How much will the Quay Street Bridge replacement cost?"
    with serving(data, api_keys=[KEY], read_keys_required=True) as base:
        without = newsqa("ask", question, "--server", base)
        wrong = newsqa("ask", question, "--server", base, NEWSQA_API_KEY="w" * 24)
        right = newsqa("ask", question, "--server", base, NEWSQA_API_KEY=KEY)
        servers_own = newsqa("ask", question, "--server", base, NEWSQA_API_KEYS=f"{KEY},{'x' * 20}")
    assert without.exit_code == 1 and "needs an API key (401" in without.output
    assert "set NEWSQA_API_KEY" in without.output
    assert wrong.exit_code == 1 and "is not one the server knows" in wrong.output
    assert right.exit_code == 0 and "[1]" in right.output, right.output
    assert servers_own.output == right.output


def test_a_rate_limited_client_is_told_when_to_retry(data: Path) -> None:
    with serving(data, rate_limits={"ask": 1}) as base:
        first = newsqa("ask", "How much will the bridge cost?", "--server", base)
        second = newsqa("ask", "How much will the bridge cost?", "--server", base)
    assert first.exit_code == 0, first.output
    assert second.exit_code == 1
    assert "limiting this client (429" in second.output and "retry in" in second.output
    assert "Traceback" not in second.output


def test_the_servers_refusal_of_an_option_is_passed_on(data: Path) -> None:
    with serving(data) as base:
        bad_time = newsqa("ask", "How much?", "--as-of", "yesterday-ish", "--server", base)
        bad_mode = newsqa("ask", "How much?", "--mode", "fuzzy", "--server", base)
        empty = newsqa("ask", "   ", "--server", base)
    assert bad_time.exit_code == 2
    assert "refused the request (400): as_of:" in bad_time.output
    assert "'yesterday-ish'" in bad_time.output and "ISO 8601" in bad_time.output
    assert bad_mode.exit_code == 2 and "mode:" in bad_mode.output and "'hybrid'" in bad_mode.output
    assert empty.exit_code == 2 and "question: is empty" in empty.output


def test_a_server_address_that_is_no_url_or_no_newsqa_is_refused(data: Path) -> None:
    class NotNewsqa(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>a router's login page</html>")

        def log_message(self, *args: object) -> None:
            pass

    other = http.server.HTTPServer(("127.0.0.1", 0), NotNewsqa)
    thread = threading.Thread(target=other.serve_forever, daemon=True)
    thread.start()
    try:
        foreign = newsqa("ask", "q", "--server", f"http://127.0.0.1:{other.server_port}")
    finally:
        other.shutdown()
        other.server_close()
    assert foreign.exit_code == 1 and "not newsqa's JSON" in foreign.output
    no_url = newsqa("ask", "q", "--server", "localhost:8000")
    assert no_url.exit_code == 2 and "--server='localhost:8000' is not a server address" in no_url.output
    both = newsqa("ask", "q", "--server", "http://127.0.0.1:1", "--data-dir", str(data))
    assert both.exit_code == 2 and "drop --data-dir" in both.output


def test_asking_a_server_loads_nothing_that_answering_needs(data: Path) -> None:
    """The client path is the standard library: no model, index, database or web framework."""
    probe = ("import sys\nfrom api.cli import app\n"
             "try:\n    app(sys.argv[1:])\nexcept SystemExit as exc:\n    code = exc.code\n"
             "heavy = ['numpy', 'faiss', 'onnxruntime', 'tokenizers', 'torch', 'sqlalchemy', "
             "'fastapi', 'qa.service', 'index.store']\n"
             "print('LOADED', [m for m in heavy if m in sys.modules], code)\n")
    with serving(data) as base:
        run = subprocess.run([sys.executable, "-c", probe, "ask", "How much will the bridge cost?",
                              "--server", base], capture_output=True, text=True, cwd=ROOT,
                             timeout=60)
    assert "[1]" in run.stdout, run.stdout + run.stderr
    assert "LOADED [] 0" in run.stdout


def test_a_model_that_cannot_load_stops_serve_with_one_message(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The model loads in a thread while the web framework is imported; its failure is the one
    `error:` line of the CLI, not a thread's traceback and then the lifespan's again."""
    from index.errors import EmbedderUnavailable

    reason = "could not load embedding model 'broken': no weights in the folder"

    def broken(self: NewsQA) -> None:
        raise EmbedderUnavailable(reason)

    monkeypatch.setattr(NewsQA, "warm_up", broken)
    result = newsqa("serve", "--port", str(free_port()), "--data-dir", str(tmp_path / "d"))
    assert result.exit_code == 1
    assert result.output.count(reason) == 1, result.output
    assert "Traceback" not in result.output and "newsqa serving" not in result.output


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Any request: recorded (method, path, Authorization), answered by `reply` of the server."""

    def _any(self) -> None:
        server: Any = self.server
        server.seen.append((self.command, self.path, self.headers.get("Authorization")))
        status, headers, body = server.reply
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _any  # noqa: N815 - http.server's names

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def recording(status: int, headers: dict[str, str], body: bytes = b"") -> Iterator[Any]:
    server: Any = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    server.seen, server.reply = [], (status, headers, body)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_a_redirect_is_not_followed_with_the_key() -> None:
    """A server that redirects elsewhere ('localhost' is another host than '127.0.0.1' to a
    browser's rules) gets neither the question nor the key there, and nothing is printed as if
    it were the answer."""
    answer = json.dumps({"answer": "an answer from elsewhere", "citations": []}).encode()
    with recording(200, {"Content-Type": "application/json"}, answer) as elsewhere:
        target = f"http://localhost:{elsewhere.server_port}/v1/ask"
        for status in (301, 302, 303, 307, 308):
            with recording(status, {"Location": target}) as server:
                result = newsqa("ask", "How much will the bridge cost?", "--server",
                                f"http://127.0.0.1:{server.server_port}", NEWSQA_API_KEY=KEY)
            assert result.exit_code == 1, result.output
            assert f"redirected to '{target}' ({status}); not followed" in result.output
            assert "elsewhere" not in result.output and KEY not in result.output
        assert elsewhere.seen == []


def test_a_loopback_server_is_asked_directly_not_through_the_proxy(data: Path) -> None:
    """A shell's http_proxy (read once a process, so the CLI runs in its own) does not carry the
    question and the key off the machine to reach a server on it."""
    with recording(502, {}) as proxy, serving(data) as base:
        proxied = f"http://127.0.0.1:{proxy.server_port}"
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        run = subprocess.run(
            [sys.executable, "-c", "from api.cli import app; app()", "ask",
             "How much will the Quay Street Bridge replacement cost?", "--server", base],
            capture_output=True, text=True, cwd=ROOT, timeout=60,
            env={**env, "NEWSQA_API_KEY": KEY, "http_proxy": proxied, "HTTP_PROXY": proxied})
    assert run.returncode == 0 and "[1]" in run.stdout, run.stdout + run.stderr
    assert proxy.seen == []


def test_a_key_sent_in_the_clear_off_this_machine_is_warned_about() -> None:
    from api.cli_client import key_exposure

    warning = key_exposure("http://newsroom.example:8000", KEY)
    assert warning is not None and "newsroom.example over plain http" in warning
    assert "https://" in warning and KEY not in warning
    for safe in ("https://newsroom.example", "http://127.0.0.1:8000", "http://localhost:8000",
                 "http://[::1]:8000", "http://127.3.0.1:8000"):
        assert key_exposure(safe, KEY) is None, safe
    assert key_exposure("http://newsroom.example:8000", None) is None


BRIDGE = "harbor-city-awards-bridge-replacement-contract-after-months-2026-03-14"
LOOKUPS: list[list[str]] = [
    ["figures", "$410 million"],
    ["figures", "bridge cost", "--as-of", "2026-03-14T15:00:00"],
    ["figures", "$410 million", "--csv"],
    ["changes", BRIDGE, "--since", "2026-03-14T13:00:00"],
    ["changes", BRIDGE, "--since", "2026-03-14T13:00:00", "--as-of", "2026-03-14T15:30:00", "--full"],
]


def test_figures_and_changes_through_the_server_print_what_the_data_directory_does(
        data: Path) -> None:
    local = [newsqa(*q, "--data-dir", str(data)) for q in LOOKUPS]
    local_json = [json.loads(newsqa(*q, "--json", "--data-dir", str(data)).output)
                  for q in LOOKUPS if "--csv" not in q]
    with serving(data) as base:
        remote = [newsqa(*q, "--server", base) for q in LOOKUPS]
        remote_json = [json.loads(newsqa(*q, "--json", "--server", base).output)
                       for q in LOOKUPS if "--csv" not in q]
        unknown = newsqa("changes", "no-such-story", "--since", "2026-03-14", "--server", base)
    for here, there in zip(local, remote, strict=True):
        assert here.exit_code == there.exit_code == 0, there.output
        assert there.output == here.output
    for here, there in zip(local_json, remote_json, strict=True):
        here.pop("took_ms", None)
        there.pop("took_ms", None)
        assert there == here
    shown = "\n".join(r.output for r in remote)
    assert "$410 million" in shown and "update 1" in shown and "(zone not stated)" in shown
    assert remote[2].output.count("\n") >= 2  # a header and at least one appearance
    assert unknown.exit_code == 2 and "no article with id 'no-such-story'" in unknown.output


def test_a_key_no_header_can_carry_is_one_line_that_does_not_show_it(tmp_path: Path) -> None:
    secret = "secret" * 5
    keys = tmp_path / "keys"
    keys.write_text(f"# ours\nключ{secret}\n", encoding="utf-8")
    cases = [({"NEWSQA_API_KEY": f"abc\n{secret}"}, "NEWSQA_API_KEY", "U+000A at character 4"),
             ({"NEWSQA_API_KEYS": f"{secret} {secret}"}, "NEWSQA_API_KEYS", "U+0020"),
             ({"NEWSQA_API_KEYS_FILE": str(keys)}, "NEWSQA_API_KEYS_FILE", "U+043A at character 1")]
    for env, source, where in cases:
        result = newsqa("ask", "q", "--server", "http://127.0.0.1:1", **env)
        assert result.exit_code == 1, result.output
        assert f"the API key in {source}" in result.output and where in result.output
        assert secret not in result.output and "Traceback" not in result.output


def test_a_server_address_holding_a_password_is_refused_without_printing_it() -> None:
    for url in ("http://reader:hunter2hunter2@127.0.0.1:1", "http://hunter2hunter2@127.0.0.1:1"):
        result = newsqa("ask", "q", "--server", url)
        assert result.exit_code == 2, result.output
        assert "user name or password" in result.output and "NEWSQA_API_KEY" in result.output
        assert "hunter2" not in result.output
