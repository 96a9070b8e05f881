"""What the CLI prints for a person: article text and a server's replies are data, so their
control characters (ESC, BEL, CR, C1) are shown as escapes instead of reaching the terminal,
where they would move the cursor, clear the screen, retitle the window or hide what follows
(`--json` and `--csv` escape them too: api/controls.py)."""

from __future__ import annotations

import typer

from api.controls import escape_controls


def echo(message: str = "", *, err: bool = False, fg: str | None = None) -> None:
    """typer.secho of `message` made terminal-safe."""
    typer.secho(escape_controls(message), err=err, fg=fg)
