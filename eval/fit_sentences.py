"""`python -m eval.fit_sentences --dataset DIR --index RUN/index`: refit the sentence model.

Asks every answerable question of the dataset (hybrid, as of its question date, as the benchmark
does) against an index a benchmark run built, takes the candidate sentences of the answer's best
passages with their signals (qa/sentence_rank.py), and fits a logistic model of "this sentence
holds a gold answer". Questions are cross-validated in folds of whole weeks (the week they were
asked in): each fold's first sentences are chosen by a model fitted on the other weeks, and the
printed held-out first-sentence accuracy is theirs. The L2 penalty is the one of `--l2` that
does best held out. The printed model is what qa/sentence_rank.py holds.

`--sentence-cosine` tries one more signal the answer does not use: each sentence's own cosine to
the question (the sentence embedded alone, as questions are), appended after the others, to
measure whether it would choose better first sentences (docs/benchmark.md: it did not).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.calibrate import fit, fold_of
from eval.datasets import answer_in, partition, week_of
from eval.layouts import load_dataset
from qa.sentence_rank import SENTENCE_FEATURES


@dataclass(frozen=True)
class Question:
    """One question's candidate sentences: their signals and whether each holds a gold answer."""

    id: str
    signals: np.ndarray  # one row per candidate, best by the current model first
    right: np.ndarray    # 1.0 where the sentence holds a gold answer
    group: str = ""      # the week it was asked in: folds never split one


def gather(dataset: Path, index: Path, cache_dir: Path, sentence_cosine: bool = False
           ) -> list[Question]:
    """Ask each answerable question and collect its candidate sentences (heavy: loads the index);
    `sentence_cosine` appends each sentence's own cosine to the question as a last signal."""
    from eval.run import asked_on
    from index.embed_cache import CachedEmbedder
    from qa.service import NewsQA, make_embedder
    from qa.settings import Settings

    questions, _, _ = partition(load_dataset(dataset, None))
    settings = Settings(data_dir=index, embed_precision="fp32")
    model = make_embedder(settings)
    embedder = CachedEmbedder(model, cache_dir / "embeddings.sqlite3")
    service = NewsQA(settings, embedder=embedder, query_embedder=model)
    out = []
    try:
        for q in questions:
            answer = service.ask(q.question, top_k=20, mode="hybrid",
                                 as_of=asked_on(q, settings.zone)).answer
            found = service.sentence_signals(q.question, list(answer.passages))
            if found:
                signals = np.asarray([s for _, s in found])
                if sentence_cosine:
                    vectors = model.embed([q.question, *(t for t, _ in found)])
                    signals = np.column_stack([signals, vectors[1:] @ vectors[0]])
                out.append(Question(q.id, signals,
                                    np.asarray([float(answer_in(t, q.answers)) for t, _ in found]),
                                    week_of(q.asked_on) or q.id))
    finally:
        service.close()
        embedder.close()
    return out


def first_right(beta: np.ndarray, questions: Sequence[Question]) -> float:
    """Share of `questions` whose best-scored sentence under `beta` holds a gold answer."""
    right = 0
    for q in questions:
        scores = beta[0] + q.signals @ beta[1:]
        right += bool(q.right[int(np.argmax(scores))])
    return right / len(questions) if questions else 0.0


def cross_validated(questions: Sequence[Question], folds: int, l2: float) -> float:
    """First-sentence accuracy with each fold (whole weeks) scored by a model fitted on the
    other folds."""
    fold = fold_of([q.group or q.id for q in questions], folds)
    right = 0.0
    for k in range(folds):
        train = [q for q, f in zip(questions, fold, strict=True) if f != k]
        held = [q for q, f in zip(questions, fold, strict=True) if f == k]
        right += first_right(fit_model(train, l2), held) * len(held)
    return right / len(questions)


def fit_model(questions: Sequence[Question], l2: float) -> np.ndarray:
    """Logistic weights over the sentences of questions that have a right one among them."""
    usable = [q for q in questions if q.right.any()]
    x = np.vstack([q.signals for q in usable])
    y = np.concatenate([q.right for q in usable])
    return fit(x, y, l2=l2, balanced=False)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m eval.fit_sentences", description=__doc__)
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True,
                        help="The index folder of a benchmark run over this dataset (RUN/index).")
    parser.add_argument("--cache-dir", type=Path, default=Path(".newsqa/cache"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--sentence-cosine", action="store_true",
                        help="Also try each sentence's own cosine to the question as a signal.")
    parser.add_argument("--l2", type=float, nargs="+", default=[1.0, 3.0, 10.0, 30.0, 100.0],
                        help="L2 penalties to try; the best held out is fitted (1 3 10 30 100).")
    args = parser.parse_args()
    report(gather(args.dataset, args.index, args.cache_dir, args.sentence_cosine), args.folds,
           args.l2, ("sentence_cosine",) if args.sentence_cosine else ())


def report(questions: Sequence[Question], folds: int, penalties: Sequence[float],
           extra: Sequence[str] = ()) -> np.ndarray:
    """Print the held-out accuracy of each penalty, then the model fitted with the best one;
    `extra` names signals the questions carry after `SENTENCE_FEATURES`."""
    with_right = sum(bool(q.right.any()) for q in questions)
    print(f"{len(questions)} questions with candidate sentences, {with_right} with a right one; "
          f"{len(set(q.group for q in questions))} weeks; signals "
          f"{', '.join((*SENTENCE_FEATURES, *extra))}")
    held = {l2: cross_validated(questions, folds, l2) for l2 in penalties}
    print(f"first sentence right, {folds}-fold cross-validated by week: "
          + ", ".join(f"L2 {l2:g} {acc:.3f}" for l2, acc in held.items()))
    l2 = max(penalties, key=lambda p: (held[p], -p))
    beta = fit_model(questions, l2)
    print(f"SentenceModel(intercept={beta[0]:.3f}, weights=("
          + ", ".join(f"{b:.3f}" for b in beta[1:]) + "))")
    print(f"L2 {l2:g}: first sentence right {first_right(beta, questions):.3f} fitted on all, "
          f"{held[l2]:.3f} held out")
    return beta


if __name__ == "__main__":
    main()
