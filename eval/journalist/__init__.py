"""The journalist question set: first appearances, attribution, as-of, since, changes,
revisions and unanswerable questions over live articles written for it (articles/).

Each question (questions.jsonl) says what a right answer holds: `abstain` (the answer must say
the coverage does not answer it), strings it must contain (`expect`) and must not (`forbid`),
and the update times it must cite (`cited_at`, prefixes of the citations' ISO timestamps).
"""

from __future__ import annotations

import json
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from index.embed import Embedder
from qa.models import Answer
from qa.service import NewsQA
from qa.settings import Settings

HERE = Path(__file__).resolve().parent
QUESTIONS = HERE / "questions.jsonl"
ARTICLES = HERE / "articles"
KINDS = ("first_appearance", "attribution", "as_of", "since", "changes", "revisions",
         "unanswerable")


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    question: str
    as_of: datetime | None
    abstain: bool
    expect: tuple[str, ...]
    forbid: tuple[str, ...]
    cited_at: tuple[str, ...]


@dataclass(frozen=True)
class Result:
    case: Case
    answer: str
    abstained: bool
    cited: tuple[str, ...]
    right: bool
    why: str  # what was wrong; empty when right


def load_cases(path: Path = QUESTIONS) -> list[Case]:
    out = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            as_of = datetime.fromisoformat(doc["as_of"]) if doc.get("as_of") else None
            case = Case(doc["id"], doc["kind"], doc["question"], as_of, bool(doc["abstain"]),
                        tuple(doc.get("expect", ())), tuple(doc.get("forbid", ())),
                        tuple(doc.get("cited_at", ())))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}, line {line_no}: not a question ({exc}); expected "
                             '{"id", "kind", "question", "abstain", "expect"?, "forbid"?, '
                             '"cited_at"?, "as_of"?}') from exc
        if case.kind not in KINDS:
            raise ValueError(f"{path}, line {line_no}: kind {case.kind!r} is not one of {KINDS}")
        out.append(case)
    return out


def judge(case: Case, answer: Answer) -> str:
    """What is wrong with `answer` for `case`; empty when it is right."""
    text = answer.text.lower()
    if case.abstain:
        return "" if answer.abstained else "answered; expected 'not in the coverage'"
    if answer.abstained:
        return "abstained"
    missing = [e for e in case.expect if e.lower() not in text]
    if missing:
        return f"missing {missing}"
    present = [f for f in case.forbid if f.lower() in text]
    if present:
        return f"holds {present}"
    stamps = [c.timestamp.moment.isoformat() for c in answer.citations if c.timestamp]
    uncited = [t for t in case.cited_at if not any(s.startswith(t) for s in stamps)]
    return f"cites no text of {uncited}" if uncited else ""


def ask(service: NewsQA, case: Case) -> Result:
    answer = service.ask(case.question, as_of=case.as_of).answer
    why = judge(case, answer)
    cited = tuple(c.timestamp.iso() for c in answer.citations if c.timestamp)
    return Result(case, answer.text, answer.abstained, cited, not why, why)


def run(service: NewsQA, cases: list[Case]) -> list[Result]:
    return [ask(service, case) for case in cases]


def per_kind(results: list[Result]) -> dict[str, tuple[int, int]]:
    """kind -> (right, asked), in KINDS order."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in results:
        counts[r.case.kind][0] += r.right
        counts[r.case.kind][1] += 1
    return {k: (counts[k][0], counts[k][1]) for k in KINDS if k in counts}


@contextmanager
def journalist_service(embedder: Embedder | None = None,
                       settings: Settings | None = None) -> Iterator[NewsQA]:
    """A NewsQA over the set's articles, in a temporary data directory."""
    with tempfile.TemporaryDirectory(prefix="newsqa-journalist-") as tmp:
        base = settings or Settings()
        service = NewsQA(base.model_copy(update={"data_dir": Path(tmp) / "data"}),
                         embedder=embedder)
        try:
            failed = [o for o in service.ingest_paths([ARTICLES]) if o.error]
            if failed:
                raise ValueError(f"journalist articles failed to ingest: {failed[0].error}")
            yield service
        finally:
            service.close()
