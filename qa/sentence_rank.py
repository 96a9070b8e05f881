"""Which sentence answers the question: a linear model over a few signals every sentence has.

A sentence of one of the best passages is scored by

- `overlap`: the share of the question's idf-weighted terms it holds;
- `phrase`: the share of the question's adjacent term pairs it holds side by side ("Supreme
  Court", "interest rates"), which words alone do not tell;
- `context`: the share its neighbours and its passage's title hold (an answer sentence often
  says "it" for what the sentence before it named);
- `dense`: its passage's cosine to the question (0 for keyword-only search);
- `rank`: 1 / (1 + its passage's rank);
- `kind`: whether it holds the kind of thing asked for (a number for "how many", a name for
  "who": qa/answer_kind.py);
- `novel`: the share of its own terms the question does not already say (a sentence that only
  repeats the question answers nothing);
- `lead`: whether it opens its passage.

None of them names a word or a story. The weights were fitted by logistic regression on the
RealTimeQA development slice (a sentence is "right" when it holds a gold answer), with the
questions cross-validated in folds (docs/benchmark.md); the score is the model's log-odds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SENTENCE_FEATURES = ("overlap", "phrase", "context", "dense", "rank", "kind", "novel", "lead")


@dataclass(frozen=True)
class SentenceModel:
    """A logistic model over a sentence's signals, in `SENTENCE_FEATURES` order."""

    intercept: float
    weights: tuple[float, ...]

    def score(self, signals: Sequence[float]) -> float:
        """The log-odds that the sentence holds the answer."""
        return self.intercept + sum(w * x for w, x in zip(self.weights, signals, strict=True))


# Fitted by `python -m eval.fit_sentences` on the development slice (docs/benchmark.md).
DEFAULT_SENTENCE_MODEL = SentenceModel(
    intercept=-6.097, weights=(3.608, 1.505, 1.165, -0.406, 0.569, 2.385, 1.046, 0.066))


def novelty(terms: frozenset[str], question_terms: Mapping[str, float]) -> float:
    """Share of a sentence's own terms that the question does not already say."""
    return len(terms - question_terms.keys()) / len(terms) if terms else 0.0


def pairs(terms: Sequence[str]) -> frozenset[tuple[str, str]]:
    """Adjacent term pairs of an analysed text."""
    return frozenset(zip(terms, terms[1:], strict=False))


def phrase_share(question_pairs: frozenset[tuple[str, str]],
                 sentence_pairs: frozenset[tuple[str, str]]) -> float:
    """Share of the question's adjacent term pairs that the sentence holds side by side."""
    return len(question_pairs & sentence_pairs) / len(question_pairs) if question_pairs else 0.0
