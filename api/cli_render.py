"""How `newsqa ask` prints an answer (and every command a time) for a person, from the API's
JSON: the local path (the answer's `AskResponse`, dumped) and the server path (`/v1/ask`'s
reply) print through the same values, so they print the same. Standard library and typer only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import typer

from api.controls import json_text
from api.terminal import echo


def stamp_text(stamp: str | None, precision: str | None, zone: str | None = None) -> str:
    """A time as the page wrote it: a date "(date only)", a wall-clock time "(zone not stated)"
    when the source gave no zone (the JSON keeps ISO 8601 with the configured offset)."""
    if stamp is None:
        return "time unknown"
    if precision == "date":
        return f"{stamp} (date only)"
    return f"{stamp[:19].replace('T', ' ')} (zone not stated)" if zone == "assumed" else stamp


@dataclass(frozen=True)
class CitationView:
    marker: int
    quote: str
    title: str
    section: str
    update_index: int | None
    timestamp: str | None
    timestamp_precision: str | None
    timestamp_zone: str | None

    @classmethod
    def from_json(cls, c: dict[str, Any]) -> CitationView:
        return cls(marker=int(c["marker"]), quote=str(c["quote"]), title=str(c["title"]),
                   section=str(c["section"]), update_index=c.get("update_index"),
                   timestamp=c.get("timestamp"), timestamp_precision=c.get("timestamp_precision"),
                   timestamp_zone=c.get("timestamp_zone"))


@dataclass(frozen=True)
class AnswerView:
    """What `newsqa ask` prints: the answer, the window it used, and its citations."""

    answer: str
    since: str | None
    as_of: str | None
    from_question: str | None
    citations: tuple[CitationView, ...]

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> AnswerView:
        """From /v1/ask's JSON; KeyError or TypeError when it is not that shape."""
        window = body.get("window") or {}
        return cls(answer=str(body["answer"]), since=window.get("since"),
                   as_of=window.get("as_of"), from_question=window.get("from_question"),
                   citations=tuple(CitationView.from_json(c) for c in body["citations"]))


def show_answer(view: AnswerView) -> None:
    echo(view.answer)
    if view.since or view.as_of:
        asked = f" (from “{view.from_question}”)" if view.from_question else ""
        echo(f"  window: after {view.since or 'the start'}, up to {view.as_of or 'now'}{asked}")
    for c in view.citations:
        where = "body" if c.section == "body" else f"update {c.update_index}"
        when = stamp_text(c.timestamp, c.timestamp_precision, c.timestamp_zone)
        echo(f"  [{c.marker}] {c.title} — {where}, {when}")
        echo(f"      “{c.quote}”")


def show_json(body: dict[str, Any]) -> None:
    """The API's JSON as `--json` prints it on either path: the same strings once parsed, but
    no raw control character for the terminal (DEL and C1 as `\\u00NN`, as JSON writes C0)."""
    typer.echo(json_text(body))
