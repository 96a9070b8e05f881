"""Text a client can send but nothing can store: a lone surrogate (JSON's "\\ud800" escape decodes
to one) has no UTF-8 form, so hashing, embedding or answering it would fail far from the cause;
and text with nothing in it to read (zero-width and other invisible characters only)."""

from __future__ import annotations

import unicodedata

# Letters and symbols drawn as nothing: the Hangul fillers and the blank braille pattern.
_BLANKS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


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


def visible(text: str) -> bool:
    """Whether `text` has a character a reader can see: not only spaces, separators, controls,
    format characters (zero-width space U+200B, joiners U+200C/U+200D, U+2060, the BOM U+FEFF,
    the soft hyphen), combining marks with nothing to combine with, or blank fillers."""
    return any(not (c.isspace() or c in _BLANKS or _invisible(unicodedata.category(c)))
               for c in text)


def _invisible(category: str) -> bool:
    """Separators, marks, controls, format and unassigned characters; a lone surrogate counts
    as text, so that `surrogate_problem` names it."""
    return category[0] in "ZM" or (category[0] == "C" and category != "Cs")
