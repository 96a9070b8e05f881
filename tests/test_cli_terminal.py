"""Article text and a server's replies are data in the terminal too: `newsqa` prints their
control characters as escapes, so a story cannot clear the screen, retitle the window or
overwrite the line it is quoted on."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli_server import newsqa, recording, serving

# OSC (set the window title), CSI (clear the screen, colour), a carriage return and C1 CSI
TRAPS = "\x1b]0;owned\x07", "\x1b[2J", "\x1b[31m", "\r", "\x9b2J"
BODY = ("The dockside crane collapsed at the Pier 9 terminal on Sunday, injuring two workers. "
        f"Port officials said the crane operator{TRAPS[0]}{TRAPS[1]} had reported a fault worth "
        f"$2.5 million{TRAPS[2]} the day before.{TRAPS[3]}Nothing to see here.{TRAPS[4]}")
ARTICLE = f"""Dockside Crane Collapse Injures Two Workers{TRAPS[0]}

📅 Published: 3/15/2026

{BODY}

🔄 Updated: 3/15/2026, 2:00:00 PM
Both workers were taken to Harbor General Hospital and are in stable condition.
"""
QUESTION = "What had the crane operator reported?"


def raw_controls(text: str) -> list[str]:
    return [c for c in text if (ord(c) < 32 and c not in "\t\n") or 0x7f <= ord(c) <= 0x9f]


def test_article_text_reaches_the_terminal_without_its_control_characters(tmp_path: Path) -> None:
    source = tmp_path / "crane.txt"
    source.write_text(ARTICLE, encoding="utf-8")
    data = tmp_path / "data"
    ingested = newsqa("ingest", str(source), "--data-dir", str(data))
    assert ingested.exit_code == 0, ingested.output
    local = newsqa("ask", QUESTION, "--data-dir", str(data))
    shown = [local, newsqa("articles", "--data-dir", str(data)),
             newsqa("figures", "$2.5 million", "--data-dir", str(data))]
    with serving(data) as base:
        remote = newsqa("ask", QUESTION, "--server", base)
        as_json = newsqa("ask", QUESTION, "--server", base, "--json")
    assert "\\x1b]0;owned\\x07" in local.output  # shown, not obeyed
    assert remote.output == local.output
    for result in [*shown, remote]:
        assert result.exit_code == 0, result.output
        assert raw_controls(result.output) == [], result.output
    # the JSON keeps the text as ingested (its escapes are JSON's own)
    assert any("\x1b]0;owned\x07" in c["quote"] for c in json.loads(as_json.output)["citations"])


def test_a_servers_refusal_reaches_the_terminal_without_its_control_characters() -> None:
    detail = json.dumps({"detail": "question: \x1b[2J\x1b]0;owned\x07 is not allowed"}).encode()
    with recording(400, {"Content-Type": "application/json"}, detail) as server:
        result = newsqa("ask", "q", "--server", f"http://127.0.0.1:{server.server_port}")
    assert result.exit_code == 2 and "is not allowed" in result.output
    assert raw_controls(result.output) == [], result.output
