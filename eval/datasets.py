"""Benchmark datasets for ``newsqa eval``: read a news QA dataset folder into plain values.

Two layouts are recognised; ``load_dataset`` (eval/layouts.py) picks one from the file names in
the folder and hands it to its reader (eval/realtimeqa.py, eval/generic.py).
Every file may be plain (``.jsonl``) or gzip-compressed (``.jsonl.gz``), never both at once.
Dates may be written ``2022/06/16``, ``2026-01-08`` or with a time after the day
(``2022/06/17/16:34``, ``2026-01-08T10:00:00Z``); empty or missing dates read as unknown.

**RealTimeQA layout** (Kasai et al. 2022, files ``past/<year>/`` of its repository): weekly
files ``YYYYMMDD_qa.jsonl``, ``YYYYMMDD_gcs.jsonl`` and, optionally, ``YYYYMMDD_gold.jsonl``.

- ``*_qa``: ``question_id``, ``question_date``, ``question_sentence``, ``choices`` (strings),
  ``answer`` (indices of the right choices, as strings). The answers are the chosen choice texts;
  blank choices are dropped.
- ``*_gcs``: ``question_id``, ``search_result``: list of ``{url, title, text, publish_date}``,
  the articles a web search returned for the question (its candidate articles).
- ``*_gold``: same shape as ``*_gcs``; the articles the answer was taken from.

Search results are joined to questions by ``question_id``, whichever weekly file holds them.
Articles are identified by their URL (``article_id``), so one article listed by several
questions or files is one article; where the copies' texts differ, the longest text is kept.
Articles without text are dropped, and so are their ids in the candidate and gold lists.

**Generic layout**, for bringing your own data: a folder holding

- ``corpus.jsonl``: ``{"id", "title"?, "text", "url"?, "published"?}`` per line;
- ``questions.jsonl``: ``{"id", "question", "answers": [...], "asked_on"?, "choices"?,
  "gold_article_ids"?, "candidate_article_ids"?}`` per line; the article ids must name
  articles of ``corpus.jsonl``.

``limit=N`` keeps the first N questions in file order (weekly files in date order). In the
RealTimeQA layout it also keeps only those questions' candidate and gold articles, so a quick
run is quick; in the generic layout, which has no per-question article lists, the whole
corpus is kept.

Whatever the files held that the dataset does not carry is counted in ``Dataset.skipped``.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from eval.errors import DatasetError

Record = dict[str, Any]

NO_TEXT = "article without text"
NO_URL = "article without url"
ORPHAN_RESULTS = "search results for a question missing from the qa files"
DUPLICATE_ID = "duplicate article id (kept the longest text)"


@dataclass(frozen=True)
class EvalArticle:
    """One article of the corpus; ``id`` is ``article_id(url)`` in the RealTimeQA layout."""

    id: str
    title: str
    text: str
    url: str | None
    published: date | None
    source: str | None


@dataclass(frozen=True)
class EvalQuestion:
    """One question; its article ids name articles of the same ``Dataset``."""

    id: str
    question: str
    asked_on: date | None
    choices: tuple[str, ...]
    answers: tuple[str, ...]
    gold_article_ids: tuple[str, ...]
    candidate_article_ids: tuple[str, ...]


@dataclass(frozen=True)
class Dataset:
    """A corpus and its questions; ``skipped`` counts what the files held but it leaves out."""

    name: str
    articles: tuple[EvalArticle, ...]
    questions: tuple[EvalQuestion, ...]
    skipped: dict[str, int] = field(default_factory=dict, hash=False)


# ---------------------------------------------------------------- answer matching


def normalise_text(text: str) -> str:
    """Lower-case, straighten curly quotes and collapse whitespace runs to one space."""
    lowered = text.lower()
    for curly, straight in (("“", '"'), ("”", '"'), ("‘", "'"), ("’", "'")):
        lowered = lowered.replace(curly, straight)
    return " ".join(lowered.split())


def normalise_answer(answer: str) -> str:
    """``normalise_text`` plus stripping the quotes around an answer ("“Squid Game”")."""
    return normalise_text(answer).strip("\"' ")


def answer_keys(answers: Iterable[str]) -> list[str]:
    """The non-empty normalised answers."""
    return [key for key in map(normalise_answer, answers) if key]


def week_of(day: date | None) -> str:
    """ISO year and week of `day` ("2022-W24"), which cross-validation keeps in one fold (the
    questions of one week ask about the same news); empty when unknown."""
    if day is None:
        return ""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def answer_in(text: str, answers: Iterable[str]) -> bool:
    """Whether some answer occurs in text, ignoring case, quote style and spacing."""
    haystack = normalise_text(text)
    return any(key in haystack for key in answer_keys(answers))


NOT_IN_CORPUS = "answer not in corpus"


def answerable(dataset: Dataset) -> tuple[list[EvalQuestion], dict[str, int]]:
    """The questions whose answer occurs in some article, and the others counted by reason."""
    kept, _, left_out = partition(dataset)
    return kept, left_out


def partition(dataset: Dataset) -> tuple[list[EvalQuestion], list[EvalQuestion], dict[str, int]]:
    """The answerable questions; those with a gold answer that occurs in no article (asked too,
    to measure abstention); and the counts of all left out of the first list, by reason."""
    texts = {article.id: normalise_text(article.text) for article in dataset.articles}
    corpus = "\x00".join(texts.values())
    kept: list[EvalQuestion] = []
    unanswerable: list[EvalQuestion] = []
    left_out: Counter[str] = Counter()
    for question in dataset.questions:
        keys = answer_keys(question.answers)
        if not keys:
            left_out["no answer"] += 1
        elif _answer_found(keys, question, texts, corpus):
            kept.append(question)
        else:
            left_out[NOT_IN_CORPUS] += 1
            unanswerable.append(question)
    return kept, unanswerable, dict(left_out)


def _answer_found(
    keys: list[str], question: EvalQuestion, texts: dict[str, str], corpus: str
) -> bool:
    # The question's own articles usually hold the answer: look there before scanning everything.
    own = [texts[i] for i in (*question.candidate_article_ids, *question.gold_article_ids)]
    return any(key in text for text in own for key in keys) or any(key in corpus for key in keys)


# ---------------------------------------------------------------- values from records


def parse_date(value: object) -> date | None:
    """A date from "2022/06/16", "2026-01-08" or those followed by a time; None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    match = _DATE.match(value) if isinstance(value, str) else None
    if match is not None:
        with contextlib.suppress(ValueError):  # 2022/13/01 matches but is no date
            return date(*map(int, match.groups()))
    raise ValueError(f"unreadable date {value!r}: write it as YYYY-MM-DD or YYYY/MM/DD")


_DATE = re.compile(r"\s*(\d{4})[/-](\d{1,2})[/-](\d{1,2})(?!\d)")


def article_id(url: str) -> str:
    """A stable id for an article: 16 hex digits of the sha1 of its normalised URL.

    The scheme, a leading ``www.``, the case of the host, a trailing slash and the
    fragment are ignored, so http/https copies of one page are one article.
    """
    parts = urlsplit(url.strip())
    query = f"?{parts.query}" if parts.query else ""
    key = f"{host_of(url)}{parts.path.rstrip('/')}{query}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def host_of(url: str) -> str:
    return urlsplit(url.strip()).netloc.lower().removeprefix("www.")


def merge_articles(old: EvalArticle, new: EvalArticle) -> EvalArticle:
    """One article from two copies: the longest text, with gaps filled from the other copy."""
    base, other = (new, old) if len(new.text.strip()) > len(old.text.strip()) else (old, new)
    return replace(
        base,
        title=base.title or other.title,
        published=base.published or other.published,
        url=base.url or other.url,
        source=base.source or other.source,
    )


def text_field(record: Record, key: str, where: str, *, required: bool = False) -> str:
    value = record.get(key)
    if value is None and not required:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise DatasetError(f"{where}: field {key!r} must be a string, got {value!r}; fix that line")
    return str(value)


def str_list_field(record: Record, key: str, where: str) -> tuple[str, ...]:
    value = record.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, str | int) for item in value):
        raise DatasetError(f"{where}: field {key!r} must be a list of strings, got {value!r}")
    return tuple(str(item) for item in value)


def date_field(record: Record, key: str, where: str) -> date | None:
    try:
        return parse_date(record.get(key))
    except ValueError as exc:
        raise DatasetError(f"{where}: field {key!r}: {exc}") from exc


# ---------------------------------------------------------------- files


def _open(path: Path) -> IO[str]:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def read_jsonl(path: Path) -> Iterator[tuple[str, Record]]:
    """The JSON objects of a JSON Lines file, each with "path:line" for error messages."""
    try:
        with _open(path) as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield f"{path}:{number}", _parse_line(line, f"{path}:{number}")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise DatasetError(
            f"{path}: cannot be read ({exc}); it must be UTF-8 JSON Lines, gzip-compressed "
            "exactly when its name ends in .gz"
        ) from exc


def _parse_line(line: str, where: str) -> Record:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{where}: not valid JSON ({exc.msg}); fix or remove that line") from exc
    if not isinstance(record, dict):
        raise DatasetError(f"{where}: expected a JSON object per line, got {type(record).__name__}")
    return record


def find_file(root: Path, stem: str) -> Path | None:
    """``stem`` or ``stem.gz`` in root; an error when both exist."""
    present = [root / name for name in (stem, f"{stem}.gz") if (root / name).is_file()]
    if len(present) == 2:
        raise DatasetError(f"{root}: both {stem} and {stem}.gz exist; keep only one of them")
    return present[0] if present else None


def nonzero_counts(counter: Counter[str]) -> dict[str, int]:
    return {reason: count for reason, count in sorted(counter.items()) if count}


def unique_question_ids(records: list[tuple[str, Record]], key: str) -> set[str]:
    seen: dict[str, str] = {}
    for where, record in records:
        question_id = text_field(record, key, where, required=True)
        if question_id in seen:
            raise DatasetError(
                f"{where}: question id {question_id!r} is already used at {seen[question_id]}; "
                "make question ids unique"
            )
        seen[question_id] = where
    return set(seen)
