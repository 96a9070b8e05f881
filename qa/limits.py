"""Limits on what a reader may ask, in one place: the settings, the API schema, the CLI and the
service all take them from here."""

from __future__ import annotations

from qa.errors import InvalidQuestion

MAX_TOP_K = 50  # passages one question may retrieve


def checked_text(text: str, max_chars: int, name: str, empty_hint: str) -> str:
    """`text` stripped; InvalidQuestion naming `name` when it is empty or over `max_chars`."""
    stripped = text.strip()
    if not stripped:
        raise InvalidQuestion(f"the {name} is empty; {empty_hint}")
    if len(stripped) > max_chars:
        raise InvalidQuestion(f"the {name} has {len(stripped):,} characters, over the limit of "
                              f"{max_chars:,}; shorten it")
    return stripped
