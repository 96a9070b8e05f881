"""What the CLI prints for a person: article text and a server's replies are data, so their
control characters (ESC, BEL, CR, C1) are shown as escapes instead of reaching the terminal,
where they would move the cursor, clear the screen, retitle the window or hide what follows."""

from __future__ import annotations

import re

import typer

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all but tab and newline


def terminal_safe(text: str) -> str:
    """`text` with each control character but tab and newline written as `\\xNN`."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def echo(message: str = "", *, err: bool = False, fg: str | None = None) -> None:
    """typer.secho of `message` made terminal-safe."""
    typer.secho(terminal_safe(message), err=err, fg=fg)
