"""Text a client can send but nothing can store: a lone surrogate (JSON's "\\ud800" escape decodes
to one) has no UTF-8 form, so hashing, embedding or answering it would fail far from the cause."""

from __future__ import annotations


def lone_surrogate_at(text: str) -> int | None:
    """The offset of the first lone surrogate in `text`, or None when all of it is text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def surrogate_problem(what: str, text: str) -> str | None:
    """A message naming `what` and where its first lone surrogate is, or None when there is none."""
    at = lone_surrogate_at(text)
    if at is None:
        return None
    return (f"{what} has a lone surrogate (U+{ord(text[at]):04X}) at character {at + 1}, which is "
            "not a character; send the text as UTF-8 (in JSON, a \\uD8xx escape must be followed "
            "by its \\uDCxx pair)")
