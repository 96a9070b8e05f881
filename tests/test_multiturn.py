"""The multi-turn set in CI with the real model (it is small): follow-ups answered with
rewriting, and new-topic questions not mistaken for follow-ups (eval/multiturn)."""

from __future__ import annotations

import pytest

from eval.multiturn import HERE, demo_service, load_conversations, run, score
from index.embed import SentenceTransformerEmbedder
from qa.settings import Settings

pytestmark = pytest.mark.e2e

# The figures `python -m eval.multiturn` printed when these were set (docs/benchmark.md); the
# issue's target for follow-ups is 34 of 37 (met).
MIN_FOLLOWUPS_RIGHT = 34
MAX_NEW_TOPICS_MISTAKEN = 1
# The conversations added in session 5 (conversations_added.jsonl), written before the changes
# they check: measured 12/13 follow-ups right, 0/10 new-topic questions read as follow-ups.
MIN_ADDED_FOLLOWUPS_RIGHT = 12


def test_the_multi_turn_set_keeps_its_figures(real_embedder: SentenceTransformerEmbedder) -> None:
    conversations = load_conversations()
    with demo_service(real_embedder, Settings()) as service:
        rewritten = score(run(service, conversations, rewrite=True))
    assert rewritten.followups == 37 and rewritten.new_topics >= 10
    assert rewritten.followups_right >= MIN_FOLLOWUPS_RIGHT, rewritten
    assert rewritten.mistaken <= MAX_NEW_TOPICS_MISTAKEN, rewritten
    assert rewritten.new_topic_right >= rewritten.new_topics - 2, rewritten


def test_the_added_conversations_keep_their_figures(
        real_embedder: SentenceTransformerEmbedder) -> None:
    conversations = load_conversations(HERE / "conversations_added.jsonl")
    with demo_service(real_embedder, Settings()) as service:
        rewritten = score(run(service, conversations, rewrite=True))
    assert rewritten.followups == 13 and rewritten.new_topics == 10
    assert rewritten.followups_right >= MIN_ADDED_FOLLOWUPS_RIGHT, rewritten
    assert rewritten.mistaken == 0, rewritten
