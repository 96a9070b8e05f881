"""`newsqa figures`, `newsqa changes` and `newsqa bench-figures`: a figure's timeline, what
changed in an article, and how fast a figure look-up is. Registered by api/cli.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from api.cli_client import SERVER_ENV, ServerError, get, get_json, server_to_ask
from api.cli_common import AsJson, AsOf, DataDir, Server, run_command, server_key
from api.cli_render import show_json, stamp_text
from api.controls import escape_controls_but_crlf
from api.terminal import echo
from qa.figures.extract import DEFAULT_REL_TOLERANCE, MAX_TOLERANCE

if TYPE_CHECKING:  # pragma: no cover
    from pydantic import BaseModel

    from api.schemas_figures import AppearanceOut, ChangesResponse, FiguresResponse
    from qa.service import NewsQA

PREVIEW_CHARS = 240
ReplyT = TypeVar("ReplyT", bound="BaseModel")


def _where(a: AppearanceOut) -> str:
    return "body" if a.section == "body" else f"update {a.update_index}"


def _print_appearances(appearances: list[AppearanceOut]) -> None:
    """One line per appearance, with its quote; a sentence already quoted is not repeated."""
    several = len({a.article_id for a in appearances}) > 1
    quoted: dict[tuple[str, str, int], int] = {}
    for a in appearances:
        how = {"exact": "exact", "approximate": f"approximate: {a.stated}",
               None: f"{a.group}: {a.stated}"}[a.match]
        title = f" · {a.title}" if several else ""
        echo(f"[{a.marker}] {stamp_text(a.timestamp, a.timestamp_precision, a.timestamp_zone)} · "
                   f"{_where(a)} · "
                   f"{how}{title}")
        place = (a.article_id, _where(a), a.quote_start)
        if place in quoted:
            echo(f"    (same sentence as [{quoted[place]}])")
        else:
            quoted[place] = a.marker
            echo(f"    “{a.quote}”")


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def print_figures(r: FiguresResponse) -> None:
    several = len({a.article_id for a in r.appearances}) > 1
    scope = "" if r.as_of is None else f" (as of {r.as_of})"
    if r.mode == "figure":
        first = r.appearances[0].timestamp_zone if r.appearances else None
        last = r.appearances[-1].timestamp_zone if r.appearances else None
        echo(f"{r.query}{scope}: {_plural(r.count, 'appearance')}, first seen "
                   f"{stamp_text(r.first_seen, r.first_seen_precision, first)}, last seen "
                   f"{stamp_text(r.last_seen, r.last_seen_precision, last)}")
    else:
        echo(f"Figures about “{r.query}”{scope}: {_plural(r.count, 'appearance')} in "
                   f"{_plural(len(r.groups), 'group')}")
        for g in r.groups:
            values = " · ".join(f"{v.stated} {''.join(f'[{m}]' for m in v.markers)}"
                                for v in g.values)
            echo(f"  {g.label}{' — ' + g.title if several else ''}: {values}")
        for rev in r.revisions:
            old, new = rev.old, rev.new
            echo(f"  REVISED {rev.group}: {old.stated} [{old.marker}] at "
                       f"{stamp_text(old.timestamp, old.timestamp_precision, old.timestamp_zone)} → "
                       f"{new.stated} [{new.marker}] at "
                       f"{stamp_text(new.timestamp, new.timestamp_precision, new.timestamp_zone)}")
    if not r.appearances:
        echo(r.note or "No figure found; try another wording, a topic, or a later --as-of.")
    _print_appearances(r.appearances)


def figures_command(query: Annotated[str, typer.Argument(
                        help="A figure ('$28.7 billion') or a topic ('ICE budget').")],
                    as_json: AsJson = False, as_of: AsOf = None,
                    tolerance: Annotated[float, typer.Option(
                        min=0, max=MAX_TOLERANCE,
                        help="Relative difference still counted as approximate.")] = DEFAULT_REL_TOLERANCE,
                    as_csv: Annotated[bool, typer.Option(
                        "--csv", help="Print one CSV row per appearance (spreadsheet-safe).")] = False,
                    server: Server = None, data_dir: DataDir = None) -> None:
    """Every appearance of a figure, oldest first, or the figures about a topic with revisions."""
    import time

    from api.figure_export import timeline_csv
    from api.schemas_figures import FiguresResponse
    from qa.timeparse import parse_timestamp

    base = server_to_ask(server, data_dir)
    if base is not None:
        key = server_key(base)
        params: dict[str, str | float | None] = {"q": query, "as_of": as_of, "tolerance": tolerance}
        if as_csv:  # the server's CSV is the same rows the local path writes
            csv = get(base, "/v1/figures", {**params, "format": "csv"}, key, "text/csv")
            typer.echo(escape_controls_but_crlf(csv.decode("utf-8")), nl=False)  # a server is data too
            return
        _show_reply(base, get_json(base, "/v1/figures", params, key), FiguresResponse,
                    as_json, print_figures)
        return

    def compute(service: NewsQA) -> FiguresResponse:
        started = time.perf_counter()
        moment = parse_timestamp(as_of, service.settings.zone).moment if as_of else None
        timeline = service.figures(query, moment, tolerance)
        return FiguresResponse.of(timeline, (time.perf_counter() - started) * 1000)

    def show(result: FiguresResponse) -> None:
        if as_csv:
            typer.echo(timeline_csv(result), nl=False)
        else:
            print_figures(result)

    run_command(data_dir, compute, as_json, show)


def print_changes(r: ChangesResponse, full: bool) -> None:
    scope = "" if r.as_of is None else f" and by {r.as_of}"
    echo(f"{r.title}: {len(r.updates)} updates after {r.since}{scope}")
    for u in r.updates:
        new = ", ".join(f"{a.stated} [{a.marker}]" for a in u.new_figures) or "none"
        when = stamp_text(u.published_at, u.published_precision, u.published_zone)
        echo(f"update {u.index} · {when} · new figures: {new}")
        text = u.text if full or len(u.text) <= PREVIEW_CHARS else u.text[:PREVIEW_CHARS] + "…"
        echo(f"    {text}")
        quoted: dict[int, int] = {}
        for a in u.new_figures:
            if a.quote_start in quoted:
                echo(f"    [{a.marker}] (same sentence as [{quoted[a.quote_start]}])")
            else:
                quoted[a.quote_start] = a.marker
                echo(f"    [{a.marker}] “{a.quote}”")


def changes_command(article_id: str,
                    since: Annotated[str, typer.Option(
                        help="List updates published after this time (ISO 8601).")],
                    as_json: AsJson = False, as_of: AsOf = None,
                    full: Annotated[bool, typer.Option(help="Print each update in full.")] = False,
                    server: Server = None, data_dir: DataDir = None) -> None:
    """The updates of ARTICLE_ID published after --since, and the figures new in them."""
    from urllib.parse import quote

    from api.schemas_figures import ChangesResponse
    from qa.timeparse import parse_timestamp

    base = server_to_ask(server, data_dir)
    if base is not None:
        reply = get_json(base, f"/v1/articles/{quote(article_id, safe='')}/changes",
                         {"since": since, "as_of": as_of}, server_key(base))
        _show_reply(base, reply, ChangesResponse, as_json, lambda r: print_changes(r, full))
        return

    def compute(service: NewsQA) -> ChangesResponse:
        zone = service.settings.zone
        moment = parse_timestamp(since, zone).moment
        until = parse_timestamp(as_of, zone).moment if as_of else None
        return ChangesResponse.of(service.changes(article_id, moment, until))

    run_command(data_dir, compute, as_json, lambda result: print_changes(result, full))


def _show_reply(base: str, reply: dict[str, Any], model: type[ReplyT], as_json: bool,
                show: Callable[[ReplyT], None]) -> None:
    """A server's reply printed as the local path prints its result (`--json`: as it came)."""
    from pydantic import ValidationError

    try:
        result = model.model_validate(reply)
    except ValidationError:
        raise ServerError(f"{base} answered JSON that is not newsqa's; check that --server/"
                          f"{SERVER_ENV} names a newsqa server") from None
    if as_json:
        show_json(reply)
    else:
        show(result)


def bench_figures_command(
        chunks: Annotated[int, typer.Option(min=1000, help="Synthetic chunks to index.")] = 100_000,
        runs: Annotated[int, typer.Option(min=1, help="Timed look-ups per query.")] = 7) -> None:
    """Time figure look-ups over synthetic chunks' figures (median of several runs)."""
    from eval.bench_figures import run_benchmark

    run_benchmark(chunks, runs, log=typer.echo)
