"""The answer comparison of `python -m eval.bench_ask`: what proves a speed change kept answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.bench_ask import compare


def write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


ROW = {"question_id": "q1", "mode": "hybrid", "text": "It rose. [1]", "abstained": False,
       "confidence": 0.5, "quotes": ["It rose."], "passages": [[3, 0.1, 0.5, None]]}


def test_the_same_answers_compare_equal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write(tmp_path / "a.jsonl", [ROW])
    b = write(tmp_path / "b.jsonl", [ROW])
    assert compare(a, b) == 0
    assert "1 answers, 0 differ" in capsys.readouterr().out


def test_a_changed_quote_or_a_missing_answer_is_reported(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write(tmp_path / "a.jsonl", [ROW, {**ROW, "question_id": "q2"}])
    b = write(tmp_path / "b.jsonl", [{**ROW, "quotes": ["It fell."]}])
    assert compare(a, b) == 1
    out = capsys.readouterr().out
    assert "2 answers, 2 differ" in out and "quotes (1)" in out and "missing (1)" in out
