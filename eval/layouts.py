"""Which layout a dataset folder is in, and its reader (see eval/datasets.py for both layouts)."""

from __future__ import annotations

from pathlib import Path

from eval.datasets import Dataset, find_file
from eval.errors import DatasetError
from eval.generic import load_generic
from eval.realtimeqa import load_realtimeqa, weekly_files


def load_dataset(path: Path, limit: int | None = None) -> Dataset:
    """Read a dataset folder in the RealTimeQA or the generic layout (see eval/datasets.py)."""
    root = Path(path)
    if not root.is_dir():
        raise DatasetError(f"{root}: no such folder; pass the folder that holds the dataset files")
    if limit is not None and limit < 1:
        raise DatasetError(f"limit must be a positive number of questions, got {limit}")
    corpus, questions = find_file(root, "corpus.jsonl"), find_file(root, "questions.jsonl")
    if corpus and questions:
        return load_generic(root, corpus, questions, limit)
    weekly = weekly_files(root)
    if weekly["qa"]:
        return load_realtimeqa(root, weekly, limit)
    raise DatasetError(
        f"{root}: no dataset found; expected corpus.jsonl and questions.jsonl (generic layout) "
        "or YYYYMMDD_qa.jsonl files (RealTimeQA layout), plain or .gz; see eval/datasets.py"
    )
