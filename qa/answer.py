"""Composing an extractive answer: 1-3 sentences from the best passages, each with its marker.

No language model: sentences are scored by how much of the question's (idf-weighted) terms
they hold, nudged by the rank of their passage. When the best evidence is weak on both the
keyword and the embedding side, the answer abstains.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from index.text import analyze
from qa.models import Answer, Citation, Passage
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
    min_overlap: float = 0.34     # share of the question's weighted terms a sentence must hold
    min_dense: float = 0.45       # ...unless the best passage is this similar to the question
    keep_ratio: float = 0.75      # further sentences need this share of the best one's score
    rank_weight: float = 0.15
    dense_weight: float = 1.0     # weight of the passage's cosine to the question
    max_passages: int = 5         # sentences come from the best passages only


@dataclass(frozen=True)
class _Candidate:
    passage: Passage
    rank: int
    start: int  # offsets within the chunk text
    end: int
    terms: frozenset[str]
    overlap: float
    score: float


def _quote_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Trim a sentence cut off mid-citation ("...yearly[") to end on its last word."""
    while end > start and (text[end - 1] in "[(" or text[end - 1].isspace()):
        end -= 1
    return start, end


def _candidates(question_terms: dict[str, float], passages: list[Passage],
                dense_weight: float) -> list[_Candidate]:
    total = sum(question_terms.values()) or 1.0
    out = []
    for rank, passage in enumerate(passages):
        text = passage.chunk.text
        for span in split_sentences(text):
            if span.heading:
                continue
            start, end = _quote_bounds(text, span.start, span.end)
            terms = frozenset(analyze(text[start:end]))
            if not terms:
                continue
            overlap = sum(w for t, w in question_terms.items() if t in terms) / total
            score = overlap + rank_bonus(rank) + dense_weight * (passage.dense_score or 0.0)
            out.append(_Candidate(passage, rank, start, end, terms, overlap, score))
    return sorted(out, key=lambda c: (-c.score, c.rank, c.start))


def rank_bonus(rank: int, weight: float = AnswerSettings.rank_weight) -> float:
    return weight / (1 + rank)


def _pick(candidates: list[_Candidate], settings: AnswerSettings) -> list[_Candidate]:
    best = candidates[0]
    chosen = [best]
    covered = set(best.terms)
    for cand in candidates[1:]:
        if len(chosen) == settings.max_sentences or cand.score < settings.keep_ratio * best.score:
            break
        duplicate = any(len(cand.terms & c.terms) / len(cand.terms | c.terms) > 0.5 for c in chosen)
        if duplicate or not (cand.terms - covered):
            continue
        chosen.append(cand)
        covered |= cand.terms
    return chosen


def is_answerable(candidates: list[_Candidate], passages: list[Passage],
                  settings: AnswerSettings) -> bool:
    if not candidates:
        return False
    best_dense = max((p.dense_score for p in passages if p.dense_score is not None), default=0.0)
    return candidates[0].overlap >= settings.min_overlap or best_dense >= settings.min_dense


def compose_answer(question: str, passages: list[Passage], idf: Callable[[str], float],
                   settings: AnswerSettings | None = None) -> Answer:
    """An extractive, cited answer to `question` from `passages` (best first), or an abstention."""
    settings = settings or AnswerSettings()
    question_terms = {t: max(idf(t), 0.1) for t in analyze(question)}
    candidates = _candidates(question_terms, passages[:settings.max_passages],
                             settings.dense_weight)
    if not is_answerable(candidates, passages[:settings.max_passages], settings):
        return Answer(ABSTAIN_TEXT, abstained=True, passages=tuple(passages))
    parts, citations = [], []
    for marker, cand in enumerate(_pick(candidates, settings), start=1):
        chunk = cand.passage.chunk
        quote = chunk.text[cand.start:cand.end]
        citations.append(Citation(
            marker=marker, quote=quote, article_id=chunk.article_id, title=chunk.title,
            url=chunk.url, section=chunk.section, timestamp=chunk.timestamp,
            score=round(cand.score, 4), start=chunk.start + cand.start,
            end=chunk.start + cand.end))
        parts.append(f"{display_sentence(quote)} [{marker}]")
    return Answer(" ".join(parts), abstained=False, citations=tuple(citations),
                  passages=tuple(passages))
