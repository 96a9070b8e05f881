"""When to abstain: a calibrated confidence that the retrieved evidence answers the question.

Four signals, each meaningful for any question and any corpus (none names a word or a story):

- `best_dense`: the highest cosine between the question and a retrieved passage (keyword-only
  search has none, and its own model);
- `sentence_coverage`: the share of the question's idf-weighted terms that the best answer
  sentence holds (a term no document has weighs as much as the rarest term could);
- `evidence_coverage`: the same share over the top passages and their titles together, so a
  question naming something the coverage never mentions ("France", "Canada") scores low;
- `agreement`: whether the dense and the keyword ranking put the same passage first;
- `answer_odds`: how likely the best sentence is to hold the answer, by the sentence model
  (qa/sentence_rank.py: its terms, its passage, the kind of thing asked for).

They are combined by a logistic model whose weights were fitted on the RealTimeQA development
slice (`python -m eval.calibrate`, see docs/benchmark.md); `confidence` is its estimate that
the answer is supported. The answer abstains below `AnswerSettings.min_confidence`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # qa.models holds an Evidence on each Answer
    from qa.models import Passage


@dataclass(frozen=True)
class Evidence:
    """The abstention signals of one question (shares in [0, 1], a cosine); `best_dense` is
    None when no passage was compared with the question by embedding (keyword-only search)."""

    best_dense: float | None
    sentence_coverage: float
    evidence_coverage: float
    agreement: float
    answer_odds: float = 0.0
    # False when no passage was found by keyword search (dense-only search): not a signal, it
    # says which model reads the signals
    keyword_searched: bool = True

    def vector(self) -> tuple[float, ...]:
        """The signals a model reads: all of them, or the keyword ones when there is no cosine."""
        names = KEYWORD_FEATURES if self.best_dense is None else FEATURES
        return tuple(float(getattr(self, name)) for name in names)


FEATURES = ("best_dense", "sentence_coverage", "evidence_coverage", "agreement", "answer_odds")
KEYWORD_FEATURES = FEATURES[1:]


@dataclass(frozen=True)
class AbstentionModel:
    """A logistic model over `Evidence`: intercept plus one weight per signal."""

    intercept: float
    weights: tuple[float, ...]

    def confidence(self, evidence: Evidence) -> float:
        z = self.intercept + sum(w * x for w, x in zip(self.weights, evidence.vector(), strict=True))
        return 1.0 / (1.0 + math.exp(-z))


@dataclass(frozen=True)
class Abstention:
    """The model for answers with a cosine (hybrid search), the one for keyword-only answers and
    the one for dense-only answers (whose passages have no keyword score, and whose cosines
    alone found them: fitted on its own, or it abstains far more often). All were fitted with one
    embedding model (`calibrated_for`); another embedder's cosines (the hashing one of the tests)
    mean something else, and its answers keep the rule before calibration (qa/answer.py)."""

    dense: AbstentionModel
    keyword: AbstentionModel
    semantic: AbstentionModel | None = None
    calibrated_for: str = "all-MiniLM-L6-v2"

    def confidence(self, evidence: Evidence) -> float:
        if evidence.best_dense is None:
            return self.keyword.confidence(evidence)
        if not evidence.keyword_searched and self.semantic is not None:
            return self.semantic.confidence(evidence)
        return self.dense.confidence(evidence)


# The default operating point: abstain below this confidence (NEWSQA_MIN_CONFIDENCE). On the
# RealTimeQA development slice it is the threshold that abstains most on the questions no article
# answers while abstaining on at most 8% of the answerable ones (docs/benchmark.md).
DEFAULT_MIN_CONFIDENCE = 0.31

# Fitted by `python -m eval.calibrate RUN` (and `--mode bm25`, `--mode dense`) on a run of the
# development slice made with NEWSQA_MIN_CONFIDENCE=0 (docs/benchmark.md). The keyword and
# dense-only models' intercepts are shifted (-2.425 and -2.226 fitted) so that their own chosen
# thresholds (0.34 and 0.28) fall at the shared 0.31.
DEFAULT_ABSTENTION = Abstention(
    dense=AbstentionModel(intercept=-2.970, weights=(1.711, 1.161, 1.583, 0.014, 0.105)),
    keyword=AbstentionModel(intercept=-2.562, weights=(1.305, 1.863, 0.000, 0.463)),
    semantic=AbstentionModel(intercept=-2.082, weights=(0.672, 1.241, 1.862, 0.000, -0.160)))


def coverage(weights: Mapping[str, float], terms: frozenset[str] | set[str]) -> float:
    """Share of the question's term weight that `terms` hold."""
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in terms) / total if total else 0.0


def rankings_agree(passages: Sequence[Passage]) -> float:
    """1.0 when the passage with the best cosine also has the best BM25 score, else 0.0."""
    dense = [p for p in passages if p.dense_score is not None]
    keyword = [p for p in passages if p.keyword_score is not None]
    if not dense or not keyword:
        return 0.0
    best_dense = max(dense, key=lambda p: p.dense_score or 0.0)
    best_keyword = max(keyword, key=lambda p: p.keyword_score or 0.0)
    return 1.0 if best_dense.chunk_id == best_keyword.chunk_id else 0.0
