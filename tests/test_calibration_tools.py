"""The fitting commands' arithmetic (eval/calibrate.py, eval/fit_sentences.py) on tiny inputs
whose outcome can be written down."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from eval.calibrate import load
from eval.fit_sentences import Question, cross_validated, first_right, fit_model


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
