"""Article text and a server's replies are data in the terminal too: `newsqa` prints their
control characters as escapes, so a story cannot clear the screen, retitle the window or
overwrite the line it is quoted on."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app as cli
from tests.test_cli_server import LOCAL, newsqa, recording, serving

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


def on_a_terminal(*args: str) -> str:
    """What `newsqa ARGS` writes to a terminal: click strips none of it (color=True), and CSV's
    CR LF line ends are read as the line ends they are."""
    result = CliRunner().invoke(cli, list(args), env=LOCAL, color=True)
    assert result.exit_code == 0, result.output
    return result.stdout_bytes.decode("utf-8").replace("\x1b[0m", "").replace("\r\n", "\n")


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


BIDI_ARTICLE = """Harbor Dredging Budget Revised

📅 Published: 3/16/2026

The harbor board put the dredging budget at $21 million on Monday, citing silt at \u202e12\u202c berths.
"""


def test_a_bidirectional_override_cannot_reverse_a_figure_on_the_terminal(tmp_path: Path) -> None:
    """"\u202e12\u202c berths" shows as "21 berths" on a terminal that obeys U+202E; newsqa
    shows the override instead, in its answers, figure look-ups and CSV."""
    source = tmp_path / "dredging.txt"
    source.write_text(BIDI_ARTICLE, encoding="utf-8")
    data = tmp_path / "data"
    assert newsqa("ingest", str(source), "--data-dir", str(data)).exit_code == 0
    outputs = [on_a_terminal("ask", "What is the dredging budget?", "--data-dir", str(data)),
               on_a_terminal("figures", "dredging budget", "--data-dir", str(data)),
               on_a_terminal("figures", "dredging budget", "--csv", "--data-dir", str(data))]
    for shown in outputs:
        assert "\u202e" not in shown and "\u202c" not in shown, shown
        assert r"\u202e12\u202c berths" in shown, shown


def test_a_servers_refusal_reaches_the_terminal_without_its_control_characters() -> None:
    detail = json.dumps({"detail": "question: \x1b[2J\x1b]0;owned\x07 is not allowed"}).encode()
    with recording(400, {"Content-Type": "application/json"}, detail) as server:
        result = newsqa("ask", "q", "--server", f"http://127.0.0.1:{server.server_port}")
    assert result.exit_code == 2 and "is not allowed" in result.output
    assert raw_controls(result.output) == [], result.output


def untimed(body: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in body.items() if k != "took_ms"}


# C1 CSI (U+009B, a CSI to a terminal), DEL, ESC CSI, BEL: in the title, the body and an update
C1_TITLE = "Quay Crane Fault\x9b2J Report"
C1_UPDATE = "The repair bill was put at $3 million\x9b31m by the port\x7f.\x1b[2J\x07"
C1_ARTICLE = f"""{C1_TITLE}

📅 Published: 3/15/2026

The crane operator had reported a fault worth $2.5 million\x9b2J the day before.

🔄 Updated: 3/15/2026, 2:00:00 PM
{C1_UPDATE}
"""


def test_json_and_csv_reach_the_terminal_without_control_characters(tmp_path: Path) -> None:
    """`--json` and `--csv`, from the data directory and through a server, and the changes a
    person reads: no raw C0, DEL or C1 control character; the JSON parses back to the text as
    ingested, the CSV shows it escaped."""
    source = tmp_path / "quay.txt"
    source.write_text(C1_ARTICLE, encoding="utf-8")
    data = tmp_path / "data"
    assert newsqa("ingest", str(source), "--data-dir", str(data)).exit_code == 0
    story = "quay-crane-fault2j-report-2026-03-15"
    lookups = [["figures", "$3 million", "--json"], ["figures", "crane repair bill", "--json"],
               ["changes", story, "--since", "2026-03-15T12:00:00", "--json"],
               ["figures", "$3 million", "--csv"], ["changes", story, "--since", "2026-03-15"]]
    local = [on_a_terminal(*q, "--data-dir", str(data)) for q in lookups]
    with serving(data) as base:
        remote = [on_a_terminal(*q, "--server", base) for q in lookups]
    for shown in [*local, *remote]:
        assert raw_controls(shown) == [], shown
    figure, topic, changes = (json.loads(shown) for shown in local[:3])
    assert figure["appearances"][0]["quote"] == C1_UPDATE
    assert figure["appearances"][0]["title"] == C1_TITLE
    assert {a["title"] for a in topic["appearances"]} == {C1_TITLE}
    assert changes["title"] == C1_TITLE and changes["updates"][0]["text"] == C1_UPDATE
    assert "\\u009b31m" in local[0] and "\\u007f" in local[0]  # JSON's own escapes
    assert r"$3 million\x9b31m by the port\x7f." in local[3]  # the CSV's: shown, not obeyed
    assert r"Quay Crane Fault\x9b2J Report" in local[4] and r"\x1b[2J\x07" in local[4]
    for here, there in zip(local[:3], remote[:3], strict=True):
        assert untimed(json.loads(there)) == untimed(json.loads(here))
    assert remote[3] == local[3]


def test_a_servers_csv_reaches_the_terminal_without_its_control_characters() -> None:
    csv = '"quote"\r\n"\x1b]0;owned\x07\x9b2J\rhidden"\r\n'.encode()
    with recording(200, {"Content-Type": "text/csv"}, csv) as server:
        shown = on_a_terminal("figures", "$1", "--csv", "--server",
                              f"http://127.0.0.1:{server.server_port}")
    assert shown == '"quote"\n"\\x1b]0;owned\\x07\\x9b2J\\x0dhidden"\n'
