"""The journalist question set as a regression test: with the real model, every kind keeps at
least the share of right answers measured when it was written (README, "For journalists")."""

from __future__ import annotations

import pytest

from eval.journalist import HERE, KINDS, Case, journalist_service, judge, load_cases, per_kind, run
from index.embed import SentenceTransformerEmbedder
from qa.models import Answer
from qa.settings import Settings

MIN_RIGHT_PER_KIND = 0.9   # measured: 56/56 (a kind of 7 fails on one miss)
MIN_RIGHT_OVERALL = 0.98
# The questions added in session 5 (questions_added.jsonl), written before the fixes they check:
# measured 22/24, both misses attribution questions in words the coverage does not use
# ("Corvane's offer of hotel rooms" for "would pay for hotel rooms", "school closures" for
# "cancelled classes").
MIN_ADDED_RIGHT = 22


def test_the_set_covers_every_kind_with_40_questions_or_more() -> None:
    cases = load_cases()
    assert len(cases) >= 40
    assert {c.kind for c in cases} == set(KINDS)
    assert len({c.id for c in cases}) == len(cases)


def test_judge_holds_an_answer_to_its_case() -> None:
    case = Case("x", "as_of", "q", None, False, ("$18.2 million",), ("$19.5 million",), ())
    assert judge(case, Answer("It was $18.2 million [1].", False)) == ""
    assert "holds" in judge(case, Answer("$18.2 million, then $19.5 million", False))
    assert judge(case, Answer("Not in the coverage.", True)) == "abstained"
    honest = Case("y", "unanswerable", "q", None, True, (), (), ())
    assert judge(honest, Answer("Not in the coverage.", True)) == ""
    assert judge(honest, Answer("$5 million [1].", False)) != ""


@pytest.mark.e2e
def test_journalist_set_with_the_real_model(real_embedder: SentenceTransformerEmbedder) -> None:
    with journalist_service(real_embedder, Settings()) as service:
        results = run(service, load_cases())
    for kind, (right, asked) in per_kind(results).items():
        assert right / asked >= MIN_RIGHT_PER_KIND, (kind, [r.case.id for r in results
                                                            if not r.right])
    assert sum(r.right for r in results) / len(results) >= MIN_RIGHT_OVERALL


@pytest.mark.e2e
def test_the_added_journalist_questions_with_the_real_model(
        real_embedder: SentenceTransformerEmbedder) -> None:
    cases = load_cases(HERE / "questions_added.jsonl")
    assert {c.kind for c in cases} == set(KINDS)
    with journalist_service(real_embedder, Settings()) as service:
        results = run(service, cases)
    assert sum(r.right for r in results) >= MIN_ADDED_RIGHT, [r.case.id for r in results
                                                             if not r.right]
