from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.chunking import chunk_section, tiktoken_count
from qa.library import embed_text
from tests.conftest import require_sample

WORDS = st.text(alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd")), min_size=1,
                max_size=12)
SENTENCE = st.lists(WORDS, min_size=1, max_size=40).map(lambda ws: " ".join(ws) + ".")
PARAGRAPH = st.lists(SENTENCE, min_size=1, max_size=8).map(" ".join)
SECTION = st.lists(st.one_of(PARAGRAPH, WORDS.map(lambda w: f"## {w}")), min_size=1,
                   max_size=8).map("\n\n".join)


def _non_blank(text: str) -> str:
    return re.sub(r"\s+", "", text)


@settings(max_examples=150, deadline=None)
@given(text=SECTION, budget=st.integers(min_value=8, max_value=120))
def test_chunks_lose_no_text_hold_the_budget_and_point_at_their_text(text: str, budget: int) -> None:
    chunks = chunk_section(text, budget, lambda t, h: tiktoken_count(t) <= budget * 2)
    covered = "".join(text[c.start:c.end] for c in chunks)
    assert _non_blank(covered) == _non_blank(text)
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert before.end <= after.start
    for c in chunks:
        assert text[c.start:c.end] == text[c.start:c.end].strip()
        assert tiktoken_count(text[c.start:c.end]) <= budget * 2


def test_one_giant_sentence_is_split_at_words() -> None:
    text = " ".join(f"word{i}" for i in range(3000))
    chunks = chunk_section(text, 100, lambda t, h: True)
    assert len(chunks) > 10
    assert all(tiktoken_count(text[c.start:c.end]) <= 100 for c in chunks)
    assert _non_blank("".join(text[c.start:c.end] for c in chunks)) == _non_blank(text)


@pytest.mark.e2e
def test_no_chunk_exceeds_the_real_model_limit(real_embedder) -> None:  # type: ignore[no-untyped-def]
    limit = real_embedder.max_tokens
    title = "A long title " * 5
    sample = require_sample().read_text()
    dense = "Q3 2025: " + "; ".join(f"ID-{i:05d}/XZ-{i * 7919 % 100000:05d}" for i in range(400)) + "."

    def fits(text: str, heading: str | None) -> bool:
        return real_embedder.count_tokens(embed_text(title, heading, text)) <= limit

    for text in (sample, dense):
        for c in chunk_section(text, 200, fits):
            assert real_embedder.count_tokens(embed_text(title, c.heading, text[c.start:c.end])) <= limit


@pytest.mark.parametrize(("text", "sentences"), [
    ("The E.U. Commission fined Northwind on Tuesday. Shares fell.",
     ["The E.U. Commission fined Northwind on Tuesday.", "Shares fell."]),
    ("It breached the new A.I. Act. Capt. Maria Lopez said 300 sailed. Dr. Ng agreed.",
     ["It breached the new A.I. Act.", "Capt. Maria Lopez said 300 sailed.", "Dr. Ng agreed."]),
    ("Prices rose 2.5 percent. The U.S.A. team won.",
     ["Prices rose 2.5 percent.", "The U.S.A. team won."]),
])
def test_initials_and_titles_do_not_end_sentences(text: str, sentences: list[str]) -> None:
    from qa.sentences import split_sentences

    assert [text[s.start:s.end] for s in split_sentences(text)] == sentences
