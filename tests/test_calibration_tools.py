"""The fitting commands' arithmetic (eval/calibrate.py, eval/fit_sentences.py) on tiny inputs
whose outcome can be written down."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from eval.calibrate import cross_validated as cross_validated_abstention
from eval.calibrate import fold_of, load
from eval.datasets import week_of
from eval.fit_sentences import Question, cross_validated, first_right, fit_model, report


def _questions() -> list[Question]:
    # the right sentence is always the one with the higher first signal
    out = []
    for i in range(20):
        hi, lo = 0.6 + 0.01 * i, 0.1 + 0.01 * i
        rows = [[lo, 1.0], [hi, 0.0]] if i % 2 else [[hi, 0.0], [lo, 1.0]]
        right = [0.0, 1.0] if i % 2 else [1.0, 0.0]
        out.append(Question(f"q{i}", np.asarray(rows), np.asarray(right)))
    return out


def test_the_fitted_sentence_model_puts_the_right_sentence_first() -> None:
    questions = _questions()
    beta = fit_model(questions, l2=0.1)
    assert beta[1] > 0 > beta[2]
    assert first_right(beta, questions) == 1.0
    assert cross_validated(questions, 5, 0.1) == 1.0
    assert first_right(np.asarray([0.0, -1.0, 1.0]), questions) == 0.0


def test_calibration_can_learn_when_an_answer_is_right_not_only_answerable(tmp_path: Path) -> None:
    rows = [
        {"question_id": "a", "answerable": True,
         "modes": {"hybrid": {"answer_correct": True, "best_dense": 0.7, "x": 1}}},
        {"question_id": "b", "answerable": True,
         "modes": {"hybrid": {"answer_correct": False, "best_dense": 0.5, "x": 1}}},
        {"question_id": "c", "answerable": False, "modes": {"hybrid": {"best_dense": 0.4}}},
    ]
    (tmp_path / "questions.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    x, answerable, labels, ids = load(tmp_path, "hybrid", ("best_dense",), "correct")
    assert ids == ["a", "b", "c"] and x.tolist() == [[0.7], [0.5], [0.4]]
    assert answerable.tolist() == [1.0, 1.0, 0.0]
    assert labels.tolist() == [1.0, 0.0, 0.0]
    assert load(tmp_path, "hybrid", ("best_dense",), "answerable")[2].tolist() == [1.0, 1.0, 0.0]


def test_folds_keep_each_week_whole() -> None:
    weeks = ["2022-W24", "2022-W25", "2022-W24", "2022-W26", "2022-W25", "2022-W27"]
    folds = fold_of(weeks, 3)
    assert {w: {f for g, f in zip(weeks, folds, strict=True) if g == w} for w in weeks} == {
        "2022-W24": {0}, "2022-W25": {1}, "2022-W26": {2}, "2022-W27": {0}}
    assert week_of(date(2022, 6, 17)) == "2022-W24" and week_of(None) == ""


def test_held_out_abstention_uses_the_threshold_its_training_weeks_chose() -> None:
    # one signal separates answerable (high) from unanswerable (low) questions in every week
    x = np.asarray([[0.9], [0.8], [0.2], [0.1]] * 5)
    y = np.asarray([1.0, 1.0, 0.0, 0.0] * 5)
    weeks = [f"w{i // 4}" for i in range(20)]
    confidence, abstains = cross_validated_abstention(x, y, weeks, 5)
    assert (confidence[y == 1] > confidence[y == 0].max()).all()
    assert abstains.tolist() == (y == 0).tolist()


def test_the_penalty_that_does_best_held_out_is_fitted(capsys: pytest.CaptureFixture[str]) -> None:
    beta = report(_questions(), 5, [0.1, 1000.0])
    out = capsys.readouterr().out
    assert "L2 0.1 1.000" in out and "L2 0.1: first sentence right 1.000" in out
    assert first_right(beta, _questions()) == 1.0
