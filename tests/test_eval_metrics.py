"""Metrics against hand-computed values, choose_choice's rule, and the report files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eval.datasets import EvalQuestion
from eval.metrics import (
    ANSWER_PLACES,
    METRIC_KEYS,
    QuestionResult,
    RankedPassage,
    abstention_curve,
    answer_places,
    choose_choice,
    gold_choice,
    hit_curve,
    question_row,
    summarize,
)
from eval.report import write_report

NOISE = RankedPassage("noise", "The weather stayed mild all week.")


def _question(qid: str, answers: tuple[str, ...], choices=(), gold=()) -> EvalQuestion:
    return EvalQuestion(qid, f"question {qid}?", None, choices, answers, gold, ())


def _passages(relevant_ranks: set[int], length: int, answer: str, article: str = "a") -> tuple:
    """`length` passages, best first; those at `relevant_ranks` (1-based) contain `answer`."""
    return tuple(
        RankedPassage(f"{article}{rank}", f"Report {rank}: {answer} made news.")
        if rank in relevant_ranks
        else RankedPassage(f"{article}{rank}", NOISE.text)
        for rank in range(1, length + 1)
    )


QUESTIONS = (
    _question("q1", ("“Silver River”",), ("Amber River", "Silver River"), ("a1",)),
    _question("q2", ("75",), ("75", "40", "12"), ("zz",)),
    _question("q3", ("Crumb & Co",)),
    _question("q4", ("Pebble",), ("Waddles", "Nori", "Frost", "Pebble")),
)
RESULTS = (
    # answer at ranks 1 and 3; gold article a1 at rank 1; MC right
    QuestionResult(
        "q1",
        _passages({1, 3}, 3, "Silver River"),
        latency_ms=100,
        answer_quotes=("the Silver River rose",),
        quotes_valid=(True,),
        predicted_choice=1,
    ),
    # answer only at rank 7; gold article zz nowhere; abstains; MC wrong
    QuestionResult(
        "q2", _passages({7}, 7, "75"), latency_ms=200, abstained=True, predicted_choice=2
    ),
    # answer only at rank 12 (beyond @10); wrong, invalid quote; no choices
    QuestionResult(
        "q3",
        _passages({12}, 12, "Crumb & Co"),
        latency_ms=300,
        answer_quotes=("nothing useful",),
        quotes_valid=(False,),
    ),
    # answer never retrieved; right answer quoted anyway; no choice predicted
    QuestionResult(
        "q4",
        _passages(set(), 2, "Pebble"),
        latency_ms=400,
        answer_quotes=("they named it PEBBLE", "a second quote"),
        quotes_valid=(True, True),
    ),
)


def test_summarize_returns_exactly_the_documented_keys() -> None:
    assert tuple(summarize(RESULTS, QUESTIONS)) == METRIC_KEYS
    documented = ("hit@1 hit@5 hit@10 hit@20 mrr@10 ndcg@10 gold@5 answer_acc first_sentence_acc "
                  "mean_sentences mc_acc ")
    assert documented + ("citation_valid abstain_rate abstain_unanswerable p50_ms p95_ms"
                         ) == " ".join(METRIC_KEYS)


def test_first_sentence_accuracy_and_sentences_per_answer_by_hand() -> None:
    scores = summarize(RESULTS, QUESTIONS)
    # q1 right in its first (only) quote; q2 abstains; q3 wrong; q4 right in its first quote
    assert scores["first_sentence_acc"] == pytest.approx(2 / 4)
    assert scores["mean_sentences"] == pytest.approx((1 + 1 + 2) / 3)  # q2 abstained
    late = QuestionResult("q4", RESULTS[3].passages, 400,
                          answer_quotes=("a first quote", "they named it PEBBLE"),
                          quotes_valid=(True, True))
    moved = summarize((*RESULTS[:3], late), QUESTIONS)
    assert moved["answer_acc"] == scores["answer_acc"]
    assert moved["first_sentence_acc"] == pytest.approx(1 / 4)


def test_abstention_on_unanswerable_questions_is_reported_beside_the_answerable() -> None:
    unanswerable = (QuestionResult("u1", (), 10, abstained=True, confidence=0.2),
                    QuestionResult("u2", (), 10, answer_quotes=("x",), quotes_valid=(True,),
                                   confidence=0.7))
    scores = summarize(RESULTS, QUESTIONS, unanswerable)
    assert scores["abstain_rate"] == pytest.approx(1 / 4)
    assert scores["abstain_unanswerable"] == pytest.approx(1 / 2)
    assert summarize(RESULTS, QUESTIONS)["abstain_unanswerable"] is None
    answerable = (QuestionResult("q1", (), 10, confidence=0.9),
                  QuestionResult("q2", (), 10, confidence=0.4),
                  QuestionResult("q3", (), 10, abstained=True))  # no confidence: as it was
    curve = abstention_curve(answerable, unanswerable, [0.0, 0.5, 0.8])
    assert curve == [(0.0, pytest.approx(1 / 3), 0.0), (0.5, pytest.approx(2 / 3), 0.5),
                     (0.8, pytest.approx(2 / 3), 1.0)]


def test_hit_at_k_by_hand() -> None:
    scores = summarize(RESULTS, QUESTIONS)
    # first answer-bearing rank per question: 1, 7, 12, never
    assert scores["hit@1"] == pytest.approx(1 / 4)
    assert scores["hit@5"] == pytest.approx(1 / 4)
    assert scores["hit@10"] == pytest.approx(2 / 4)
    assert scores["hit@20"] == pytest.approx(3 / 4)


def test_mrr_at_10_by_hand() -> None:
    # reciprocal ranks 1, 1/7, 0 (rank 12 is beyond the cut-off), 0 (nothing relevant)
    assert summarize(RESULTS, QUESTIONS)["mrr@10"] == pytest.approx((1 + 1 / 7 + 0 + 0) / 4)


def test_ndcg_at_10_by_hand() -> None:
    # q1: relevant at 1 and 3 of 3 -> DCG = 1/log2(2) + 1/log2(4), ideal = 1/log2(2) + 1/log2(3)
    q1 = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    # q2: relevant at 7 only -> DCG = 1/log2(8), ideal = 1/log2(2)
    q2 = 1 / math.log2(8)
    # q3: relevant at 12 only -> nothing within @10; q4: nothing relevant
    assert summarize(RESULTS, QUESTIONS)["ndcg@10"] == pytest.approx((q1 + q2 + 0 + 0) / 4)


def test_mrr_classic_three_question_example() -> None:
    questions = [_question(f"q{i}", ("needle",)) for i in range(3)]
    results = [
        QuestionResult("q0", _passages({1}, 5, "needle"), latency_ms=1),
        QuestionResult("q1", _passages({3}, 5, "needle"), latency_ms=1),
        QuestionResult("q2", _passages(set(), 5, "needle"), latency_ms=1),
    ]
    assert summarize(results, questions)["mrr@10"] == pytest.approx((1 + 1 / 3 + 0) / 3)


def test_questions_without_relevant_passages_still_count() -> None:
    # ranx leaves out queries absent from the qrels; our means must not
    base = summarize(RESULTS[:2], QUESTIONS)
    with_misses = summarize(RESULTS, QUESTIONS)  # adds q3 and q4, both 0 within @10
    for metric in ("mrr@10", "ndcg@10"):
        before = base[metric]
        assert before is not None and before > 0
        assert with_misses[metric] == pytest.approx(before * 2 / 4)


def test_no_relevant_passage_anywhere_scores_zero() -> None:
    scores = summarize(RESULTS[3:], QUESTIONS)
    assert (scores["mrr@10"], scores["ndcg@10"], scores["hit@20"]) == (0.0, 0.0, 0.0)


def test_tied_retrieval_order_is_kept() -> None:
    # two passages with the same text: ranx would re-sort tied scores; rank 2 must stay rank 2
    question = _question("q", ("needle",))
    passages = (RankedPassage("b", NOISE.text), RankedPassage("a", "a needle"))
    result = QuestionResult("q", passages, latency_ms=1)
    assert summarize([result], [question])["mrr@10"] == pytest.approx(1 / 2)


def test_gold_answer_mc_citation_abstain_by_hand() -> None:
    scores = summarize(RESULTS, QUESTIONS)
    assert scores["gold@5"] == pytest.approx(1 / 2)  # q1 yes, q2 no; q3, q4 have no gold
    assert scores["answer_acc"] == pytest.approx(2 / 4)  # q1, q4 (case-insensitive)
    assert scores["mc_acc"] == pytest.approx(1 / 3)  # q1 right, q2 wrong, q4 no prediction
    assert scores["citation_valid"] == pytest.approx(3 / 4)  # 3 of 4 quotes verbatim
    assert scores["abstain_rate"] == pytest.approx(1 / 4)


def test_latency_percentiles_are_linear() -> None:
    scores = summarize(RESULTS, QUESTIONS)  # latencies 100, 200, 300, 400
    assert scores["p50_ms"] == pytest.approx(250)
    assert scores["p95_ms"] == pytest.approx(300 + 0.85 * 100)


def test_unmeasurable_metrics_are_none_and_json_safe() -> None:
    question = _question("q", ("needle",))
    scores = summarize([QuestionResult("q", (), latency_ms=5)], [question])
    assert scores["gold@5"] is None and scores["mc_acc"] is None
    assert scores["citation_valid"] is None
    assert scores["hit@1"] == 0.0
    json.dumps(scores, allow_nan=False)
    assert set(summarize([], [question]).values()) == {None}


def test_results_must_match_known_questions_once() -> None:
    with pytest.raises(ValueError, match="unknown question 'nope'"):
        summarize([QuestionResult("nope", (), latency_ms=1)], QUESTIONS)
    with pytest.raises(ValueError, match="two results for question 'q1'"):
        summarize([RESULTS[0], RESULTS[0]], QUESTIONS)


def test_quote_flags_must_match_quotes() -> None:
    with pytest.raises(ValueError, match="2 quotes but 1 validity flags"):
        QuestionResult("q", (), latency_ms=1, answer_quotes=("a", "b"), quotes_valid=(True,))


def test_hit_curve_rises_at_each_first_relevant_rank() -> None:
    curve = hit_curve(RESULTS, QUESTIONS)
    assert list(curve) == list(range(1, 21))
    assert (curve[1], curve[6], curve[7], curve[11], curve[12], curve[20]) == (
        0.25,
        0.25,
        0.5,
        0.5,
        0.75,
        0.75,
    )


def test_gold_choice_matches_normalised_answer() -> None:
    assert gold_choice(QUESTIONS[0]) == 1  # "“Silver River”" is choice "Silver River"
    assert gold_choice(QUESTIONS[2]) is None


# ---------------------------------------------------------------- choose_choice


def _texts(*texts: str) -> list[RankedPassage]:
    return [RankedPassage(f"p{i}", text) for i, text in enumerate(texts)]


def test_choose_choice_weighs_occurrences_by_reciprocal_rank() -> None:
    passages = _texts("Europe acts.", "Asia waits. Asia delays.", "Asia again.")
    # Europe: 1/1 = 1.0; Asia: 2/2 + 1/3 = 1.33
    assert choose_choice(["Europe", "Asia", "Africa"], passages) == 1


def test_choose_choice_tie_goes_to_the_better_ranked_first_mention() -> None:
    passages = _texts("Oslo hosts.", "Lima hosts. Lima again.")
    # Oslo: 1/1 = 1.0; Lima: 2/2 = 1.0; Oslo was seen first
    assert choose_choice(["Lima", "Oslo"], passages) == 1


def test_choose_choice_matches_whole_words_with_answer_normalisation() -> None:
    passages = _texts("European leaders met.", "The show “SQUID GAME” returns.")
    assert choose_choice(["Europe", "“Squid Game”"], passages) == 1


def test_choose_choice_without_evidence_takes_first_non_blank_choice() -> None:
    assert choose_choice(["", "Pebble", "Frost"], _texts("No animals here.")) == 1


def test_choose_choice_reads_only_the_top_passages() -> None:
    passages = _texts("Frost.", "Pebble. Pebble. Pebble.")
    assert choose_choice(["Pebble", "Frost"], passages) == 0  # 3/2 beats 1/1
    assert choose_choice(["Pebble", "Frost"], passages, depth=1) == 1


def test_choose_choice_needs_choices() -> None:
    with pytest.raises(ValueError, match="at least one choice"):
        choose_choice([], _texts("x"))


@given(
    st.lists(st.text(alphabet="abcdef ", min_size=1, max_size=8), min_size=2, max_size=5),
    st.integers(min_value=0, max_value=4),
)
def test_choose_choice_picks_the_only_choice_in_evidence(choices: list[str], pick: int) -> None:
    keys = [" ".join(c.split()) for c in choices]
    pick %= len(choices)
    mentioned = [k for k in keys if k and k in keys[pick]]  # choices found inside the pick
    if not keys[pick] or len(mentioned) > 1:
        return  # the pick is blank or contains another choice: not a single-choice passage
    passage = _texts(f"zz {keys[pick]} zz")
    assert keys[choose_choice(choices, passage)] == keys[pick]


def test_answer_places_by_hand() -> None:
    # q1: rank 1. q2: rank 7, and article a2 (a top-5 passage's) has "75" in another passage.
    # q3: rank 12, no top-5 article holds it. q4: nowhere in the results.
    texts = {"a2": "report 2: the count reached 75 by noon.", "a12": "crumb & co"}
    places = answer_places(RESULTS, QUESTIONS, texts)
    assert list(places) == list(ANSWER_PLACES)
    assert places == {"top 5": 0.25, "other passage of a top-5 article": 0.25,
                      "ranks 6-20": 0.25, "not retrieved": 0.25}
    # without the article text, q2's answer is only where the ranking put it: rank 7
    assert answer_places(RESULTS, QUESTIONS, {})["ranks 6-20"] == 0.5
    assert answer_places((), QUESTIONS, texts) == {}


def test_question_row_by_hand() -> None:
    texts = {"a2": "report 2: the count reached 75 by noon."}
    rows = [question_row(r, q, texts) for r, q in zip(RESULTS, QUESTIONS, strict=True)]
    assert [row["first_relevant_rank"] for row in rows] == [1, 7, 12, None]
    assert [row["answer_place"] for row in rows] == [
        "top 5", "other passage of a top-5 article", "ranks 6-20", "not retrieved"]
    assert [row["answer_correct"] for row in rows] == [True, False, False, True]
    assert rows[1]["abstained"] is True and rows[3]["latency_ms"] == 400


# ---------------------------------------------------------------- report


def _report(tmp_path: Path) -> tuple[list[Path], dict]:
    metrics = {
        "hybrid": summarize(RESULTS, QUESTIONS),
        "<b>bm25</b> | $x$": summarize(RESULTS[3:], QUESTIONS),
    }
    config = {"dataset": "/data/rtqa", "k": 20, "model": "mini_lm*v2"}
    latencies = {"hybrid": [100.0, 200.0, 300.0, 400.0], "<b>bm25</b> | $x$": [50.0]}
    curves = {"hybrid": hit_curve(RESULTS, QUESTIONS), "<b>bm25</b> | $x$": {1: 0.0, 20: 0.0}}
    places = {"hybrid": answer_places(RESULTS, QUESTIONS, {})}
    paths = write_report(tmp_path / "out", metrics, config, latencies, curves, places=places)
    return paths, metrics


def test_report_writes_all_files(tmp_path: Path) -> None:
    paths, _ = _report(tmp_path)
    names = sorted(p.name for p in paths)
    assert names == ["abstention.png", "hit_at_k.png", "latency.png", "metrics.json",
                     "questions.jsonl", "report.md"]
    for png in (tmp_path / "out" / "hit_at_k.png", tmp_path / "out" / "latency.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_size > 5_000  # a drawn plot, not an empty file


def test_metrics_json_round_trips(tmp_path: Path) -> None:
    _, metrics = _report(tmp_path)
    text = (tmp_path / "out" / "metrics.json").read_text(encoding="utf-8")
    loaded = json.loads(text)
    assert loaded["modes"] == metrics
    assert loaded["config"] == {"dataset": "/data/rtqa", "k": 20, "model": "mini_lm*v2"}
    assert text == json.dumps(loaded, indent=2, sort_keys=True) + "\n"  # pretty, sorted


def test_report_markdown_table_and_config(tmp_path: Path) -> None:
    _report(tmp_path)
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    lines = report.splitlines()
    header = next(line for line in lines if line.startswith("| mode |"))
    assert header.split(" | ")[1:4] == ["hit@1", "hit@5", "hit@10"]
    hybrid = next(line for line in lines if line.startswith("| hybrid |"))
    cells = [cell.strip() for cell in hybrid.strip("|").split("|")]
    # hit@1..20, MRR, nDCG, gold@5, answer, MC, citation, abstain, p50, p95
    assert cells[1:5] == ["0.250", "0.250", "0.500", "0.750"]
    assert cells[5] == f"{(1 + 1 / 7) / 4:.3f}"
    assert cells[-2:] == ["250", "385"]
    assert "- k: 20" in lines
    where = lines.index("## Where the answers were")
    places_header = next(line for line in lines[where:] if line.startswith("| mode |"))
    assert "other passage of a top-5 article" in places_header
    assert "| hybrid | 0.250 | 0.000 | 0.500 | 0.250 |" in lines[where:]
    assert "- model: mini\\_lm\\*v2" in lines


def test_report_escapes_names(tmp_path: Path) -> None:
    _report(tmp_path)
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "<b>" not in report
    row = next(line for line in report.splitlines() if "bm25" in line)
    assert row.startswith("| &lt;b&gt;bm25&lt;/b&gt; \\| $x$ |")
    assert len(row.replace("\\|", "").split("|")) == 19  # 17 cells: the name's | is escaped
    assert "n/a" in row  # gold@5 etc. not measurable on q4 alone
