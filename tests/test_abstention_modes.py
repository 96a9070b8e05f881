"""Abstention per search mode: dense-only search, whose passages have no keyword score, is
judged by the model fitted on dense-only answers (qa/abstention.py)."""

from __future__ import annotations

from qa.abstention import DEFAULT_ABSTENTION, DEFAULT_MIN_CONFIDENCE, Evidence
from qa.answer import AnswerSettings, compose_answer
from qa.models import Chunk, Passage, SectionRef


def test_a_dense_only_answer_is_judged_by_the_model_fitted_on_dense_only_answers() -> None:
    # dense-only search has no keyword ranking to agree with: judged by the hybrid model it
    # declined 13.7% of the development slice's answerable questions (docs/benchmark.md)
    signals = dict(best_dense=0.5, sentence_coverage=0.25, evidence_coverage=0.55,
                   agreement=0.0, answer_odds=0.2)
    dense_only = DEFAULT_ABSTENTION.confidence(Evidence(**signals, keyword_searched=False))
    hybrid = DEFAULT_ABSTENTION.confidence(Evidence(**signals))
    assert hybrid < DEFAULT_MIN_CONFIDENCE <= dense_only


def test_dense_only_search_is_told_apart_by_its_passages() -> None:
    text = "The Millbrook council approved the library budget on Monday."
    chunk = Chunk("a", SectionRef("body"), text, 0, len(text), None, title="T")
    question = "When did the council approve the library budget?"
    for keyword, searched in ((None, False), (2.0, True)):
        answer = compose_answer(question, [Passage(0, chunk, 1.0, 0.6, keyword)],
                                lambda t: 2.0, AnswerSettings(min_confidence=0.0), 10)
        assert answer.evidence is not None and answer.evidence.keyword_searched is searched
