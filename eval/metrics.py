"""Scores for ``newsqa eval``: retrieval, answer, citation and latency metrics of one run mode.

Relevance is "the passage contains a gold answer" (``answer_in``: case, quote style and spacing
ignored), judged over the passages the run retrieved. MRR@10 and nDCG@10 come from ranx, a
tested implementation of the TREC definitions; questions with no relevant retrieved passage
score 0 and every mean is over all the results given. A metric that cannot be measured on a
run (no question has gold articles, none has choices, no quote was returned, no results)
is None, which serialises to JSON ``null``, where NaN would not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from eval.datasets import EvalQuestion, answer_in, answer_keys, normalise_answer, normalise_text

HIT_KS = (1, 5, 10, 20)
RANKED_METRICS = ("mrr@10", "ndcg@10")
METRIC_KEYS = (
    *(f"hit@{k}" for k in HIT_KS),
    *RANKED_METRICS,
    "gold@5",
    "answer_acc",
    "first_sentence_acc",
    "mean_sentences",
    "mc_acc",
    "citation_valid",
    "abstain_rate",
    "abstain_unanswerable",
    "p50_ms",
    "p95_ms",
)

Scores = dict[str, float | None]


@dataclass(frozen=True)
class RankedPassage:
    """One retrieved passage: its text and the article it was cut from."""

    article_id: str
    text: str


@dataclass(frozen=True)
class QuestionResult:
    """What one run mode returned for one question; passages best first."""

    question_id: str
    passages: tuple[RankedPassage, ...]
    latency_ms: float
    answer_quotes: tuple[str, ...] = ()
    quotes_valid: tuple[bool, ...] = ()  # per quote: is it a verbatim substring of its source?
    abstained: bool = False
    predicted_choice: int | None = None
    confidence: float | None = None  # the answer layer's (qa/abstention.py); None: not composed

    def __post_init__(self) -> None:
        if len(self.quotes_valid) != len(self.answer_quotes):
            raise ValueError(
                f"question {self.question_id!r}: {len(self.answer_quotes)} quotes but "
                f"{len(self.quotes_valid)} validity flags; give one flag per quote"
            )


def summarize(results: Sequence[QuestionResult], questions: Iterable[EvalQuestion],
              unanswerable: Sequence[QuestionResult] = ()) -> Scores:
    """The scores of one run, keyed exactly by ``METRIC_KEYS``. `results` are those of the
    answerable questions; `unanswerable` those of the questions whose gold answer is in no
    article, which only count for ``abstain_unanswerable``."""
    pairs = _pair(results, questions)
    relevance = [[answer_in(p.text, q.answers) for p in r.passages] for r, q in pairs]
    scores: Scores = {f"hit@{k}": _mean(any(rel[:k]) for rel in relevance) for k in HIT_KS}
    scores.update(_ranked_scores(relevance))
    scores["gold@5"] = _mean(_gold_hit(r, q, 5) for r, q in pairs if q.gold_article_ids)
    scores["answer_acc"] = _mean(_answer_correct(r, q) for r, q in pairs)
    scores["first_sentence_acc"] = _mean(first_sentence_correct(r, q) for r, q in pairs)
    scores["mean_sentences"] = _mean_of(len(r.answer_quotes) for r in results if not r.abstained)
    scores["mc_acc"] = _mean(
        r.predicted_choice == gold for r, q in pairs if (gold := gold_choice(q)) is not None
    )
    scores["citation_valid"] = _mean(valid for r in results for valid in r.quotes_valid)
    scores["abstain_rate"] = _mean(r.abstained for r in results)
    scores["abstain_unanswerable"] = _mean(r.abstained for r in unanswerable)
    scores.update(_latency_percentiles([r.latency_ms for r in results]))
    return {key: scores[key] for key in METRIC_KEYS}


def hit_curve(
    results: Sequence[QuestionResult], questions: Iterable[EvalQuestion], max_k: int = 20
) -> dict[int, float]:
    """hit@k for k = 1..max_k, for plotting; empty when there are no results."""
    pairs = _pair(results, questions)
    first = [first_relevant(r, q, max_k) for r, q in pairs]
    if not first:
        return {}
    return {k: sum(rank <= k for rank in first) / len(first) for k in range(1, max_k + 1)}


# Where each question's answer was, for the report: the first that applies, in this order.
ANSWER_PLACES = ("top 5", "other passage of a top-5 article", "ranks 6-20", "not retrieved")


def answer_places(
    results: Sequence[QuestionResult],
    questions: Iterable[EvalQuestion],
    article_texts: Mapping[str, str],
) -> dict[str, float]:
    """Share of questions by where the answer was: in a top-5 passage; elsewhere in an article
    a top-5 passage came from (the article was right, the passage was not); in a passage at
    ranks 6-20; or none of these (the retrieval missed the article). `article_texts` holds each
    article's title and text, normalised with ``normalise_text``. Empty when there are no results.
    """
    pairs = _pair(results, questions)
    counts = dict.fromkeys(ANSWER_PLACES, 0)
    for result, question in pairs:
        counts[answer_place(result, question, article_texts)] += 1
    return {place: n / len(pairs) for place, n in counts.items()} if pairs else {}


def question_row(result: QuestionResult, question: EvalQuestion,
                 article_texts: Mapping[str, str]) -> dict[str, object]:
    """One question's outcome in one mode, for comparing runs question by question."""
    first = first_relevant(result, question, 20)
    return {
        "first_relevant_rank": None if first == float("inf") else int(first),
        "answer_place": answer_place(result, question, article_texts),
        "answer_correct": _answer_correct(result, question),
        "first_sentence_correct": first_sentence_correct(result, question),
        "sentences": len(result.answer_quotes),
        "abstained": result.abstained,
        "latency_ms": round(result.latency_ms, 2),
    }


def answer_place(result: QuestionResult, question: EvalQuestion,
                 article_texts: Mapping[str, str]) -> str:
    """Where one question's answer was: one of ``ANSWER_PLACES`` (see ``answer_places``)."""
    first = first_relevant(result, question, 20)
    if first <= 5:
        return ANSWER_PLACES[0]
    keys = answer_keys(question.answers)
    top_articles = {passage.article_id for passage in result.passages[:5]}
    if any(key in article_texts.get(article, "") for article in top_articles for key in keys):
        return ANSWER_PLACES[1]
    return ANSWER_PLACES[2] if first <= 20 else ANSWER_PLACES[3]


def gold_choice(question: EvalQuestion) -> int | None:
    """Index of the first choice that is a gold answer; None when no choice is."""
    keys = {normalise_answer(answer) for answer in question.answers} - {""}
    matches = (i for i, choice in enumerate(question.choices) if normalise_answer(choice) in keys)
    return next(matches, None)


def choose_choice(
    choices: Sequence[str], passages: Sequence[RankedPassage], depth: int = 10
) -> int:
    """The choice best supported by the top ``depth`` passages.

    A choice scores the sum over those passages of (its whole-word occurrences) / (passage rank),
    after the same normalisation as answers. Highest score wins; ties go to the choice seen in
    the better-ranked passage, then to the lower index. Blank choices are never preferred,
    so with no evidence at all the first non-blank choice is the (forced) guess.
    """
    if not choices:
        raise ValueError("choose_choice needs at least one choice")
    texts = [normalise_text(passage.text) for passage in passages[:depth]]
    return min(range(len(choices)), key=lambda i: _choice_key(i, choices[i], texts))


def _choice_key(index: int, choice: str, texts: list[str]) -> tuple[bool, float, float, int]:
    key = normalise_answer(choice)
    if not key:
        return (True, 0.0, float("inf"), index)
    pattern = re.compile(rf"(?<!\w){re.escape(key)}(?!\w)")
    counts = [len(pattern.findall(text)) for text in texts]
    score = sum(count / rank for rank, count in enumerate(counts, start=1))
    first = next((rank for rank, count in enumerate(counts, start=1) if count), float("inf"))
    return (False, -score, first, index)


def _pair(
    results: Sequence[QuestionResult], questions: Iterable[EvalQuestion]
) -> list[tuple[QuestionResult, EvalQuestion]]:
    by_id = {question.id: question for question in questions}
    seen: set[str] = set()
    for result in results:
        if result.question_id not in by_id:
            raise ValueError(f"result for unknown question {result.question_id!r}")
        if result.question_id in seen:
            raise ValueError(f"two results for question {result.question_id!r}; give one each")
        seen.add(result.question_id)
    return [(result, by_id[result.question_id]) for result in results]


def _mean(flags: Iterable[bool]) -> float | None:
    values = list(flags)
    return sum(values) / len(values) if values else None


def _mean_of(numbers: Iterable[int]) -> float | None:
    values = list(numbers)
    return sum(values) / len(values) if values else None


def abstains_at(result: QuestionResult, threshold: float) -> bool:
    """Would `result` abstain with the abstention threshold at `threshold`? An answer with no
    confidence (not composed from passages) keeps what it did."""
    return result.abstained if result.confidence is None else result.confidence < threshold


def abstention_curve(answerable: Sequence[QuestionResult], unanswerable: Sequence[QuestionResult],
                     thresholds: Sequence[float]) -> list[tuple[float, float | None, float | None]]:
    """(threshold, abstention rate on answerable, on unanswerable questions) per threshold."""
    return [(t, _mean(abstains_at(r, t) for r in answerable),
             _mean(abstains_at(r, t) for r in unanswerable)) for t in thresholds]


def first_sentence_correct(result: QuestionResult, question: EvalQuestion) -> bool:
    """The first cited quote holds a gold answer (and the answer did not abstain)."""
    return (not result.abstained and bool(result.answer_quotes)
            and answer_in(result.answer_quotes[0], question.answers))


def first_relevant(result: QuestionResult, question: EvalQuestion, max_k: int) -> float:
    """1-based rank of the first passage holding a gold answer; inf when none of the top max_k."""
    ranks = (
        rank
        for rank, passage in enumerate(result.passages[:max_k], start=1)
        if answer_in(passage.text, question.answers)
    )
    return next(ranks, float("inf"))


def _gold_hit(result: QuestionResult, question: EvalQuestion, k: int) -> bool:
    gold = set(question.gold_article_ids)
    return any(passage.article_id in gold for passage in result.passages[:k])


def _answer_correct(result: QuestionResult, question: EvalQuestion) -> bool:
    return not result.abstained and any(
        answer_in(quote, question.answers) for quote in result.answer_quotes
    )


def _ranked_scores(relevance: list[list[bool]]) -> Scores:
    """MRR@10 and nDCG@10 by ranx, averaged over every question.

    ranx refuses queries without relevant documents (and an empty Qrels), so only questions
    with a relevant retrieved passage go to it; the others add 0 to the sum. Run scores are
    derived from the rank, so ranx keeps the given order even where retrieval scores tie.
    """
    if not relevance:
        return dict.fromkeys(RANKED_METRICS)
    qrels = {
        f"q{i}": {f"p{rank}": 1 for rank, relevant in enumerate(rels) if relevant}
        for i, rels in enumerate(relevance)
        if any(rels)
    }
    if not qrels:
        return dict.fromkeys(RANKED_METRICS, 0.0)
    from ranx import Qrels, Run, evaluate  # heavy (numba): load only when scoring

    run = {
        query: {f"p{rank}": float(len(rels) - rank) for rank in range(len(rels))}
        for query, rels in ((f"q{i}", rels) for i, rels in enumerate(relevance))
        if query in qrels
    }
    per_query = evaluate(Qrels(qrels), Run(run), list(RANKED_METRICS), return_mean=False)
    return {metric: float(np.sum(per_query[metric])) / len(relevance) for metric in RANKED_METRICS}


def _latency_percentiles(latencies: list[float]) -> Scores:
    if not latencies:
        return {"p50_ms": None, "p95_ms": None}
    p50, p95 = np.percentile(np.asarray(latencies, dtype=float), [50, 95], method="linear")
    return {"p50_ms": float(p50), "p95_ms": float(p95)}
