"""Splitting news text into sentences, as character spans into the original text.

Rule-based: a sentence ends at . ! ? (after any closing quotes and citation brackets such as
"[5]") when whitespace and a capital, digit or quote follow, unless the word before the dot
is a known abbreviation or an initial. A line break always ends a sentence; markdown headings
are their own spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr inc corp co ltd vs etc e.g i.e u.s u.k u.n gov sen rep gen "
    "col lt sgt no fig jan feb mar apr jun jul aug sep sept oct nov dec mt ft a.m p.m "
    "capt cmdr adm maj rev pres supt det insp dept approx est".split())
_INITIALS = re.compile(r"(?:[a-z]\.)+[a-z]")  # "e.u", "a.i", "u.s.a": dotted initials
_BOUNDARY = re.compile(r"[.!?]+[\"”’')\]]*(?:\[\d+\])*(?=\s+[\"“‘(\[*]*[A-Z0-9])")
_LINE = re.compile(r"[^\n]+")
_HEADING = re.compile(r"#{1,6}\s+\S")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    heading: bool = False


def _is_abbreviation(text: str, dot: int) -> bool:
    word_start = dot
    while word_start > 0 and (text[word_start - 1].isalpha() or text[word_start - 1] == "."):
        word_start -= 1
    word = text[word_start:dot].lower()
    return (word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())
            or _INITIALS.fullmatch(word) is not None)


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _split_line(text: str, start: int, end: int) -> list[Span]:
    spans = []
    cursor = start
    for match in _BOUNDARY.finditer(text, start, end):
        if text[match.start()] == "." and _is_abbreviation(text, match.start()):
            continue
        s, e = _strip(text, cursor, match.end())
        if s < e:
            spans.append(Span(s, e))
        cursor = match.end()
    s, e = _strip(text, cursor, end)
    if s < e:
        spans.append(Span(s, e))
    return spans


def split_sentences(text: str) -> list[Span]:
    """Sentence spans covering every non-blank character of `text`, in order."""
    spans: list[Span] = []
    for line in _LINE.finditer(text):
        s, e = _strip(text, line.start(), line.end())
        if s >= e:
            continue
        if _HEADING.match(text, s) and len(_split_line(text, s, e)) == 1 and e - s <= 200:
            spans.append(Span(s, e, heading=True))
        else:
            spans.extend(_split_line(text, s, e))
    return spans
