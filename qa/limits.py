"""Limits on what a reader may ask, in one place: the settings, the API schema, the CLI and the
service all take them from here."""

from __future__ import annotations

from qa.errors import InvalidQuestion
from qa.textcheck import surrogate_problem, visible

MAX_TOP_K = 50  # passages one question may retrieve


def checked_text(text: str, max_chars: int, name: str, empty_hint: str) -> str:
    """`text` stripped; InvalidQuestion naming `name` when it is empty (or only invisible
    characters), over `max_chars`, or has a lone surrogate (no UTF-8 form: nothing could embed
    or search it)."""
    stripped = text.strip()
    if not visible(stripped):
        raise InvalidQuestion(f"the {name} is empty; {empty_hint}")
    problem = surrogate_problem(f"the {name}", stripped)
    if problem:
        raise InvalidQuestion(problem)
    if len(stripped) > max_chars:
        raise InvalidQuestion(f"the {name} has {len(stripped):,} characters, over the limit of "
                              f"{max_chars:,}; shorten it")
    return stripped
