"""Composing an extractive answer: 1-3 sentences from the best passages, each with its marker.

No language model: sentences are scored by how much of the question's (idf-weighted) terms
they hold, plus their passage's cosine to the question, nudged by the passage's rank and by
whether the sentence holds the kind of thing asked for (a number for "how many"). The best
sentence leads; a second or third stays only when it answers the same question with terms
the sentences before it lack (it must hold a real share of the question on its own, and add
a real share of it). When the calibrated confidence (qa/abstention.py) is low, the answer
abstains.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from index.text import analyze
from qa.abstention import (
    DEFAULT_ABSTENTION,
    DEFAULT_MIN_CONFIDENCE,
    Abstention,
    Evidence,
    coverage,
    rankings_agree,
)
from qa.answer_kind import expected_kind, holds_kind
from qa.models import Answer, Citation, LastAnswer, Passage
from qa.ranking import newest_first
from qa.sentence_rank import (
    DEFAULT_SENTENCE_MODEL,
    SENTENCE_FEATURES,
    SentenceModel,
    novelty,
    pairs,
    phrase_share,
)
from qa.sentences import split_sentences

ABSTAIN_TEXT = ("The coverage I have does not answer this question, so I won't guess. "
                "Try rephrasing it, or ask about something the articles report.")


# The source's own reference marks: "[5]", "[1][2]", "[1, 2]", "[3-4]", and one cut off at
# the end of a truncated update ("reserves[2][3").
_SOURCE_REFS = re.compile(r"(?:\[\d+(?:\s*[,–-]\s*\d+)*\])+(?:\[\d*$)?|\[\d*$")
# Markdown a page may carry into a sentence: heading marks at its start, bold markers.
_HEADING_MARKS = re.compile(r"^\s*#+\s*|(?<=\n)\s*#+\s*")
_EMPHASIS = re.compile(r"(?<!\w)\*\*(?=\S)(.+?)(?<=\S)\*\*(?!\w)")  # not "__": identifiers


def display_sentence(quote: str) -> str:
    """The quote as the answer shows it: the source's own reference marks ("[5]", "[1, 2]")
    and Markdown marks ("## ", "**") removed, so the only bracketed numbers in an answer are
    newsqa's citation markers. The citation keeps the verbatim quote."""
    text = _EMPHASIS.sub(r"\1", _HEADING_MARKS.sub("", _SOURCE_REFS.sub("", quote)))
    return re.sub(r"\s{2,}", " ", text).strip()


@dataclass(frozen=True)
class AnswerSettings:
    max_sentences: int = 3
    sentences: SentenceModel = DEFAULT_SENTENCE_MODEL  # which sentence answers (log-odds)
    keep_margin: float = 1.5      # further sentences need log-odds within this of the best's...
    min_overlap: float = 0.0      # ...hold this share of the question's weighted terms...
    min_new: float = 0.0          # ...add this share that the sentences before lack...
    max_similar: float = 0.5      # ...share at most this much of their terms with one chosen...
    same_kind: bool = True        # ...and hold the kind of thing asked for (qa/answer_kind.py)
    about_weight: float = 1.0     # log-odds added for naming what a follow-up's pronoun means
    max_passages: int = 5         # sentences come from the best passages only
    min_confidence: float = DEFAULT_MIN_CONFIDENCE  # abstain below this (qa/abstention.py)
    abstention: Abstention = DEFAULT_ABSTENTION
    # False for an embedder the abstention model was not fitted for (the tests' hashing one):
    # its cosines mean something else, so the rule before calibration applies (below)
    calibrated: bool = True
    uncalibrated_overlap: float = 0.34  # ...answer when the best sentence holds this share
    uncalibrated_dense: float = 0.45    # ...or a passage is this close to the question


@dataclass(frozen=True)
class _Candidate:
    passage: Passage
    rank: int
    start: int  # offsets within the chunk text
    end: int
    terms: frozenset[str]
    overlap: float
    score: float  # log-odds that it holds the answer (qa/sentence_rank.py)
    signals: tuple[float, ...] = ()


TermWeights = dict[str, float]
_KIND = SENTENCE_FEATURES.index("kind")
_PHRASE = SENTENCE_FEATURES.index("phrase")


@dataclass(frozen=True)
class FollowUp:
    """What a follow-up leans on: the names its pronoun points to (sentences come from passages
    that name them, when some do), the query it was searched with (whose words the evidence
    is judged by) and the story it continues (its passages are searched first)."""

    names: tuple[str, ...] = ()
    searched: str = ""
    story: str | None = None  # the article the last answer quoted most, when it names no other
    # the reader's own words, when the answer's sentences are chosen by more (qa/followup.py's
    # focus borrows the last answer's): a name they borrowed is not one the reader already said
    asked: str = ""
    # True when the question says all it means (no pronoun, no ellipsis: "Was anyone hurt?"),
    # so its own cosine can choose its sentence (`by_meaning`); "Where will it be built?" cannot
    whole: bool = False
    # the turn it leans on, for a figure question that names nothing ("Was that figure revised?")
    last: LastAnswer = LastAnswer()
    # the subject of its own an ellipsis names ("What about the storm?"), also in `names`: when
    # the last question's words find nothing about it, it is asked as a question of its own
    subject: str = ""


# The cosine of each sentence to the question (the service embeds them): what a follow-up
# holding none of the sentences' words is answered by.
Closeness = Callable[[str, list[str]], list[float]]


def question_weights(question: str, idf: Callable[[str], float], n_docs: int) -> TermWeights:
    """The question's terms with their idf; a term no document holds weighs as much as the
    rarest possible term, since the coverage saying nothing of it is the point."""
    unseen = math.log1p((n_docs + 0.5) / 0.5) if n_docs else 1.0
    return {t: idf(t) or unseen for t in analyze(question)}


def _quote_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Trim a sentence cut off mid-citation ("...yearly[") to end on its last word."""
    while end > start and (text[end - 1] in "[(" or text[end - 1].isspace()):
        end -= 1
    return start, end


def _name_terms(names: tuple[str, ...]) -> TermWeights:
    return {t: 1.0 for name in names for t in analyze(name)}


def about(passages: list[Passage], names: tuple[str, ...]) -> list[Passage]:
    """The passages (title included) that name one of `names`; all of them when none does.
    "How much was their contract worth?" is about the firm the last answer named."""
    terms = _name_terms(names).keys()
    if not terms:
        return passages
    named = [p for p in passages if terms & set(analyze(f"{p.chunk.title}\n{p.chunk.text}"))]
    return named or passages


def _candidates(question: str, weights: TermWeights, passages: list[Passage],
                settings: AnswerSettings, follow_up: FollowUp) -> list[_Candidate]:
    kind = expected_kind(question)
    names = [frozenset(analyze(name)) for name in follow_up.names]
    asked_pairs = pairs(analyze(question))
    out = []
    for rank, passage in enumerate(passages):
        text = passage.chunk.text
        spans = [_quote_bounds(text, s.start, s.end) for s in split_sentences(text)
                 if not s.heading]
        analysed = [analyze(text[start:end]) for start, end in spans]
        terms = [frozenset(a) for a in analysed]
        title = frozenset(analyze(passage.chunk.title))
        for i, (start, end) in enumerate(spans):
            if not terms[i]:
                continue
            neighbours = title.union(*terms[max(i - 1, 0):i], *terms[i + 1:i + 2])
            overlap = coverage(weights, terms[i])
            signals = (overlap, phrase_share(asked_pairs, pairs(analysed[i])),
                       coverage(weights, neighbours - terms[i]),
                       passage.dense_score or 0.0, 1.0 / (1 + rank),
                       float(holds_kind(text[start:end], kind, follow_up.asked or question)),
                       novelty(terms[i], weights), float(i == 0))
            score = (settings.sentences.score(signals)
                     + settings.about_weight * any(n and n <= terms[i] for n in names))
            out.append(_Candidate(passage, rank, start, end, terms[i], overlap, score, signals))
    # a sentence that holds none of the question's terms never leads one that holds some
    return sorted(out, key=lambda c: (c.overlap <= 0, -c.score, c.rank, c.start))


def _moment(cand: _Candidate) -> datetime | None:
    stamp = cand.passage.chunk.timestamp
    return stamp.moment if stamp is not None else None


def _as_relevant(best: _Candidate, margin: float, cand: _Candidate) -> bool:
    """Whether `cand` answers as `best` does: a sentence of the same story holding as much of
    the question, in the same phrases, and the kind of thing asked for if `best` does; only
    its passage's retrieval (rank, cosine) and its neighbours may make it score lower."""
    return (cand.passage.chunk.article_id == best.passage.chunk.article_id
            and math.isclose(cand.overlap, best.overlap)
            and cand.signals[_PHRASE] == best.signals[_PHRASE]
            and cand.signals[_KIND] == best.signals[_KIND]
            and cand.score >= best.score - margin)


def _odds(score: float) -> float:
    return 1.0 / (1.0 + math.exp(-score))


def _similar(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def _pick(candidates: list[_Candidate], weights: TermWeights,
          settings: AnswerSettings) -> list[_Candidate]:
    """The best sentence, then those that earn their place: each answers the same question
    (nearly as likely to hold the answer, a real share of the question's terms, the kind of
    thing asked for) and is not a near-copy of one chosen."""
    best = candidates[0]
    chosen = [best]
    covered = set(best.terms)
    floor = best.score - settings.keep_margin
    for cand in candidates[1:]:
        if len(chosen) == settings.max_sentences or cand.score < floor:
            break
        new = coverage(weights, (cand.terms - covered) & weights.keys())
        if (cand.overlap < settings.min_overlap or new < settings.min_new
                or (settings.same_kind and not cand.signals[_KIND])
                or any(_similar(cand.terms, c.terms) > settings.max_similar for c in chosen)):
            continue
        chosen.append(cand)
        covered |= cand.terms
    return chosen


def sentence_signals(question: str, passages: list[Passage], idf: Callable[[str], float],
                     n_docs: int = 0, settings: AnswerSettings | None = None
                     ) -> list[tuple[str, tuple[float, ...]]]:
    """Each candidate sentence of `passages` (its quote) with its signals, as the answer sees
    them (qa/sentence_rank.py): what `python -m eval.fit_sentences` fits the model on."""
    settings = settings or AnswerSettings()
    weights = question_weights(question, idf, n_docs)
    return [(c.passage.chunk.text[c.start:c.end], c.signals)
            for c in _candidates(question, weights, passages[:settings.max_passages], settings,
                                 FollowUp())]


def evidence_of(candidates: list[_Candidate], passages: list[Passage],
                weights: TermWeights, chosen_by: TermWeights | None = None) -> Evidence:
    """The abstention signals (qa/abstention.py) of an answer from `passages`, judged by the
    terms of `weights`; the best sentence is judged by the better of those and `chosen_by`, the
    words it was chosen by (a follow-up's own: "Who is sending crews?" is answered by the
    crews' sentence, which need not repeat the outages the conversation was about)."""
    cosines = [p.dense_score for p in passages if p.dense_score is not None]
    seen: set[str] = set()
    for passage in passages:
        seen.update(analyze(f"{passage.chunk.title}\n{passage.chunk.text}"))
    best = candidates[0].terms if candidates else frozenset()
    sentence = max(coverage(weights, best), coverage(chosen_by, best) if chosen_by else 0.0)
    return Evidence(best_dense=max(cosines) if cosines else None,
                    sentence_coverage=sentence if candidates else 0.0,
                    evidence_coverage=coverage(weights, seen),
                    agreement=rankings_agree(passages),
                    answer_odds=_odds(candidates[0].score) if candidates else 0.0,
                    keyword_searched=any(p.keyword_score is not None for p in passages))


def _answers(candidates: list[_Candidate], evidence: Evidence, confidence: float,
             settings: AnswerSettings, legacy: TermWeights, windowed: bool) -> bool:
    """Whether to answer: by the calibrated confidence; or by the rule before calibration (its
    term weights: an unseen term weighs 0.1) for an embedder the model was not fitted for, and
    for a question that bounds the evidence by a time it writes ("since 2 PM"): the model was
    fitted on questions over all the coverage, and a window leaves fewer, weaker passages that
    are still what was asked for."""
    if not candidates:
        return False
    if settings.calibrated and (not windowed or confidence >= settings.min_confidence):
        return confidence >= settings.min_confidence
    return (coverage(legacy, candidates[0].terms) >= settings.uncalibrated_overlap
            or (evidence.best_dense or 0.0) >= settings.uncalibrated_dense)


def by_meaning(question: str, candidates: list[_Candidate], closeness: Closeness
               ) -> list[_Candidate]:
    """The one candidate closest in meaning to `question` (its own cosine, not its passage's).

    For a follow-up that says all it means and none of whose sentences holds a word of it ("Was
    anyone hurt?" against "One firefighter was treated for heat exhaustion"): its sentences all
    come from the story the conversation is on, so the cosine tells the detail asked for, not
    the topic. One sentence only, since nothing else ties the others to the question."""
    texts = [c.passage.chunk.text[c.start:c.end] for c in candidates]
    cosines = closeness(question, texts)
    best = max(range(len(candidates)), key=lambda i: (cosines[i], -i))
    return [candidates[best]]


def compose_answer(question: str, passages: list[Passage], idf: Callable[[str], float],
                   settings: AnswerSettings | None = None, n_docs: int = 0,
                   follow_up: FollowUp | None = None, windowed: bool = False,
                   closeness: Closeness | None = None, newest: bool = False) -> Answer:
    """An extractive, cited answer to `question` from `passages` (best first), or an abstention.

    `idf` weighs the question's terms; `n_docs` (the number of indexed passages) sets the
    weight of a term that no passage holds; `follow_up` is what a follow-up leans on;
    `windowed`: the question's own words bound the evidence by a time; `closeness` chooses a
    follow-up's sentence when none holds a word of it (`by_meaning`); `newest`: the question
    asks how things stand now ("the latest crest"), so of the sentences of the best one's story
    that hold the question as it does, the newest leads (`_as_relevant`)."""
    settings = settings or AnswerSettings()
    follow_up = follow_up or FollowUp()
    weights = question_weights(question, idf, n_docs)
    top = passages[:settings.max_passages]
    candidates = _candidates(question, weights, about(top, follow_up.names), settings, follow_up)
    judged_by = (question_weights(f"{question} {follow_up.searched}", idf, n_docs)
                 if follow_up.searched else weights)
    evidence = evidence_of(candidates, top, judged_by, weights if follow_up.searched else None)
    if newest and candidates:  # how much the evidence answers is judged as before
        candidates = newest_first(candidates, _moment, partial(_as_relevant, candidates[0],
                                                                settings.keep_margin))
    if (follow_up.whole and closeness is not None and candidates
            and candidates[0].overlap <= 0):  # whether to answer is judged as before
        candidates = by_meaning(question, candidates, closeness)
    confidence = settings.abstention.confidence(evidence) if candidates else 0.0
    legacy = ({} if settings.calibrated and not windowed
              else {t: max(idf(t), 0.1) for t in analyze(question)})
    if not _answers(candidates, evidence, confidence, settings, legacy, windowed):
        return Answer(ABSTAIN_TEXT, abstained=True, passages=tuple(passages),
                      confidence=confidence, evidence=evidence)
    parts, citations = [], []
    for marker, cand in enumerate(_pick(candidates, weights, settings), start=1):
        chunk = cand.passage.chunk
        quote = chunk.text[cand.start:cand.end]
        citations.append(Citation(
            marker=marker, quote=quote, article_id=chunk.article_id, title=chunk.title,
            url=chunk.url, section=chunk.section, timestamp=chunk.timestamp,
            score=round(cand.score, 4), start=chunk.start + cand.start,
            end=chunk.start + cand.end))
        parts.append(f"{display_sentence(quote)} [{marker}]")
    return Answer(" ".join(parts), abstained=False, citations=tuple(citations),
                  passages=tuple(passages), confidence=confidence, evidence=evidence)
