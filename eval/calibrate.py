"""`python -m eval.calibrate RUN_DIR`: refit the abstention model on a benchmark run.

Reads the run's questions.jsonl (each question's abstention signals, and whether its gold answer
is in some article), fits a logistic model of "the coverage answers it" on the signals of one
mode, and prints the weights and the threshold that abstains most on unanswerable questions
while abstaining on at most `--max-answerable` of the answerable ones. The same fit is also
cross-validated in folds of whole weeks (each fold scored by a model fitted, and its threshold
chosen, on the other weeks), so the held-out rates are those of questions the model did not see;
`--curve` prints the held-out rates at each threshold. The printed model is what
qa/abstention.py holds.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.abstention import FEATURES, KEYWORD_FEATURES


def fold_of(groups: Sequence[str], folds: int) -> list[int]:
    """A fold per item: whole groups (weeks), dealt round-robin in sorted order."""
    deal = {g: i % folds for i, g in enumerate(sorted(set(groups)))}
    return [deal[g] for g in groups]


def load(run_dir: Path, mode: str, names: Sequence[str] = FEATURES,
         target: str = "answerable"
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Signals (one row per question with signals in `mode`), answerable (1/0), the labels
    the model is fitted to, and each question's group: the week it was asked in (the id when
    the run did not say). The label is 1 for
    an answerable question (`target` "answerable"), or for one whose answer held the gold
    answer ("correct": the model then learns when an answer is right, not only whether some
    article holds it; a run made with NEWSQA_MIN_CONFIDENCE=0 composed every answer)."""
    rows, answerable, labels, ids = [], [], [], []
    for line in (run_dir / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        signals = record["modes"].get(mode, {})
        if not all(signals.get(name) is not None for name in names):
            continue  # answered from the figure timeline: no passage evidence
        rows.append([float(signals[name]) for name in names])
        right = record["answerable"] and (target == "answerable" or signals["answer_correct"])
        labels.append(1.0 if right else 0.0)
        answerable.append(1.0 if record["answerable"] else 0.0)
        ids.append(record.get("week") or record["question_id"])
    return np.asarray(rows), np.asarray(answerable), np.asarray(labels), ids


def answer_scores(run_dir: Path, mode: str, names: Sequence[str], beta: np.ndarray,
                  threshold: float) -> dict[str, float]:
    """answer-acc and first-sentence accuracy over the answerable questions, and the mean
    sentences per answer, if the run had abstained below `threshold` under model `beta` (a run
    made with NEWSQA_MIN_CONFIDENCE=0 composed every answer, so this is exact)."""
    right = first = sentences = answered = total = 0
    for line in (run_dir / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        row = record["modes"].get(mode, {})
        if not record["answerable"] or not row:
            continue
        total += 1
        if all(row.get(name) is not None for name in names):
            x = np.asarray([[float(row[name]) for name in names]])
            if confidences(beta, x)[0] < threshold:
                continue
        elif row["abstained"]:
            continue
        answered += 1
        right += bool(row["answer_correct"])
        first += bool(row["first_sentence_correct"])
        sentences += int(row["sentences"])
    return {"answer_acc": right / total, "first_sentence_acc": first / total,
            "mean_sentences": sentences / answered if answered else 0.0}


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0, balanced: bool = True) -> np.ndarray:
    """Logistic regression by Newton's method; returns (intercept, *weights). `balanced`
    weighs both classes equally, so the rarer unanswerable questions count as much."""
    design = np.hstack([np.ones((len(x), 1)), x])
    weight = np.ones(len(y))
    if balanced and 0 < y.sum() < len(y):
        weight = np.where(y == 1, len(y) / (2 * y.sum()), len(y) / (2 * (len(y) - y.sum())))
    beta = np.zeros(design.shape[1])
    penalty = np.diag([0.0, *([l2] * x.shape[1])])
    for _ in range(50):
        p = 1 / (1 + np.exp(-design @ beta))
        gradient = design.T @ (weight * (p - y)) + penalty @ beta
        hessian = design.T @ (design * (weight * p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def confidences(beta: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(beta[0] + x @ beta[1:])))


def rates(conf: np.ndarray, y: np.ndarray, threshold: float) -> tuple[float, float]:
    """(abstention on answerable, on unanswerable) at `threshold`."""
    abstain = conf < threshold
    return float(abstain[y == 1].mean()), float(abstain[y == 0].mean())


def choose(conf: np.ndarray, y: np.ndarray, max_answerable: float,
           grid: Sequence[float] = tuple(np.round(np.arange(0.0, 1.0001, 0.01), 2))) -> float:
    """The threshold abstaining most on unanswerable questions within the answerable budget."""
    allowed = [t for t in grid if rates(conf, y, t)[0] <= max_answerable]
    return max(allowed, key=lambda t: (rates(conf, y, t)[1], -t)) if allowed else 0.0


def cross_validated(x: np.ndarray, y: np.ndarray, groups: list[str], folds: int,
                    answerable: np.ndarray | None = None, max_answerable: float = 0.08
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Each question's confidence from a model fitted (to labels `y`) without its fold (whole
    weeks), and whether it abstains at the threshold chosen on the other folds' own scores
    (within `max_answerable` of their `answerable` questions)."""
    answerable = y if answerable is None else answerable
    fold = np.asarray(fold_of(groups, folds))
    out, abstains = np.zeros(len(y)), np.zeros(len(y), dtype=bool)
    for k in range(folds):
        held = fold == k
        if held.any() and (~held).any():
            beta = fit(x[~held], y[~held])
            threshold = choose(confidences(beta, x[~held]), answerable[~held], max_answerable)
            out[held] = confidences(beta, x[held])
            abstains[held] = out[held] < threshold
    return out, abstains


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m eval.calibrate", description=__doc__)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--mode", default="hybrid")
    parser.add_argument("--max-answerable", type=float, default=0.08,
                        help="Most abstention allowed on answerable questions (0.08).")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--target", choices=("answerable", "correct"), default="answerable",
                        help="Fit 'an article holds the answer' (the default), or 'the answer "
                             "holds it'.")
    parser.add_argument("--curve", action="store_true",
                        help="Also print the held-out abstention rates at each threshold.")
    parser.add_argument("--leave-out", nargs="*", default=[], metavar="SIGNAL",
                        help="Signals fitted with weight 0 (none by default).")
    args = parser.parse_args()
    names = KEYWORD_FEATURES if args.mode == "bm25" else FEATURES
    x, y, labels, ids = load(args.run_dir, args.mode, names, args.target)
    kept = [i for i, name in enumerate(names) if name not in args.leave_out]
    x = x[:, kept]
    print(f"{len(y)} questions with passage evidence: {int(y.sum())} answerable, "
          f"{int(len(y) - y.sum())} unanswerable; signals {', '.join(names)}; fitted to "
          f"'{args.target}' ({int(labels.sum())} positive)")
    beta = fit(x, labels)
    conf = confidences(beta, x)
    printed = np.zeros(len(names) + 1)
    printed[[0, *(i + 1 for i in kept)]] = beta
    threshold = choose(conf, y, args.max_answerable)
    answerable, unanswerable = rates(conf, y, threshold)
    print(f"AbstentionModel(intercept={printed[0]:.3f}, weights=("
          + ", ".join(f"{b:.3f}" for b in printed[1:]) + "))")
    print(f"threshold {threshold:.2f}: abstains on {answerable:.1%} of answerable and "
          f"{unanswerable:.1%} of unanswerable questions (fitted on all of them)")
    scores = answer_scores(args.run_dir, args.mode, names, printed, threshold)
    print(f"at {threshold:.2f}: answer-acc {scores['answer_acc']:.3f}, first-sentence accuracy "
          f"{scores['first_sentence_acc']:.3f}, {scores['mean_sentences']:.2f} sentences per answer")
    held, abstains = cross_validated(x, labels, ids, args.folds, y, args.max_answerable)
    a, u = rates(held, y, threshold)
    print(f"{args.folds}-fold cross-validated by week at {threshold:.2f}: {a:.1%} of answerable, "
          f"{u:.1%} of unanswerable; each fold at the threshold its training weeks chose: "
          f"{abstains[y == 1].mean():.1%} of answerable, {abstains[y == 0].mean():.1%} of "
          f"unanswerable")
    if args.curve:
        print("held-out threshold curve (threshold: abstains on answerable / unanswerable):")
        for t in np.round(np.arange(0.10, 0.61, 0.02), 2):
            a, u = rates(held, y, float(t))
            print(f"  {t:.2f}: {a:.1%} / {u:.1%}")


if __name__ == "__main__":
    main()
