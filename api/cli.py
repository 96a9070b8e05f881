"""The `newsqa` command: ingest, ask, serve, articles, eval. Heavy imports happen inside each
command, so `newsqa --help` is instant."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional, TypeVar

import typer

from api.cli_errors import TranslatingGroup

if TYPE_CHECKING:  # pragma: no cover
    from pydantic import BaseModel

    from qa.service import NewsQA
    from qa.settings import Settings

ResultT = TypeVar("ResultT", bound="BaseModel")

app = typer.Typer(help="Question answering over live-updating news, with quoted, timestamped "
                       "citations.", no_args_is_help=True, add_completion=False,
                  cls=TranslatingGroup)

DataDir = Annotated[Optional[Path], typer.Option(  # noqa: UP045 - typer needs Optional
    "--data-dir", help="Data directory (default: $NEWSQA_DATA_DIR or ./data).")]

DEMO_CORPUS = Path(__file__).resolve().parent.parent / "qa" / "demo_corpus"


def _settings(data_dir: Path | None) -> Settings:
    from pydantic import ValidationError

    from qa.settings import Settings

    if data_dir is not None:
        os.environ["NEWSQA_DATA_DIR"] = str(data_dir)
    try:
        return Settings()
    except ValidationError as exc:
        raise typer.BadParameter(str(exc)) from exc


def _service(data_dir: Path | None) -> NewsQA:
    from qa.service import NewsQA

    return NewsQA(_settings(data_dir))


def ingest_files(service: NewsQA, paths: list[Path], quiet: bool = False) -> int:
    """Ingest, printing one line per file; returns how many files failed."""
    failed = 0
    for outcome in service.ingest_paths(paths):
        if outcome.error:
            failed += 1
            typer.secho(f"FAILED  {outcome.error}", err=True, fg=typer.colors.RED)
        elif outcome.result and not quiet:
            r = outcome.result
            status = "added  " if r.changed else "unchanged"
            typer.echo(f"{status} {outcome.path}: {r.article_id} (+{r.new_sections} sections, "
                       f"+{r.new_chunks} chunks, {r.replaced_sections} replaced)")
    return failed


@app.command()
def ingest(paths: Annotated[list[Path], typer.Argument(help="Article files or folders.")],
           data_dir: DataDir = None) -> None:
    """Ingest live-format (.txt/.md) and JSON (.json) articles; a file that fails is reported and
    nothing of it is stored."""
    service = _service(data_dir)
    try:
        failed = ingest_files(service, paths)
    finally:
        service.close()
    if failed:
        raise typer.Exit(1)


@app.command()
def ask(question: str,
        as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
        top_k: Annotated[Optional[int], typer.Option("--top-k", min=1, max=50)] = None,  # noqa: UP045
        mode: Annotated[Optional[str], typer.Option(help="hybrid, dense or bm25.")] = None,  # noqa: UP045
        as_of: Annotated[Optional[str], typer.Option(  # noqa: UP045
            "--as-of", help="Only text published at or before this time (ISO 8601).")] = None,
        data_dir: DataDir = None) -> None:
    """Answer QUESTION from the ingested coverage, with quotes and timestamps."""
    from api.schemas import AskResponse
    from qa.timeparse import parse_timestamp

    def compute(service: NewsQA) -> AskResponse:
        moment = parse_timestamp(as_of, service.settings.zone).moment if as_of else None
        return AskResponse.of(service.ask(question, top_k, mode, moment))

    def show(result: AskResponse) -> None:
        typer.echo(result.answer)
        for c in result.citations:
            where = "body" if c.section == "body" else f"update {c.update_index}"
            typer.echo(f"  [{c.marker}] {c.title} — {where}, {c.timestamp or 'time unknown'}")
            typer.echo(f"      “{c.quote}”")

    run_command(data_dir, compute, as_json, show)


def run_command(data_dir: Path | None, compute: Callable[[NewsQA], ResultT], as_json: bool,
                show: Callable[[ResultT], None]) -> None:
    """Open the service, compute, close it; print the result as the API's JSON or for a person."""
    service = _service(data_dir)
    try:
        result = compute(service)
    finally:
        service.close()
    if as_json:
        typer.echo(json.dumps(result.model_dump(), indent=2, ensure_ascii=False))
    else:
        show(result)


@app.command()
def articles(data_dir: DataDir = None) -> None:
    """List ingested articles with their update counts."""
    service = _service(data_dir)
    try:
        for a in service.articles():
            typer.echo(f"{a.id}\t{len(a.updates)} updates\t{a.title}")
    finally:
        service.close()


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000,
          demo: Annotated[bool, typer.Option(help="Ingest the bundled demo corpus first.")] = False,
          data_dir: DataDir = None) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from api.app import create_app
    from qa.service import NewsQA

    settings = _settings(data_dir)
    service = NewsQA(settings)
    if demo:
        typer.echo(f"ingesting the demo corpus from {DEMO_CORPUS} ...")
        ingest_files(service, [DEMO_CORPUS])
    typer.echo(f"newsqa serving {service.health().articles} articles at "
               f"http://{host}:{port}/ (API docs at /docs)")
    try:
        uvicorn.run(create_app(settings, service), host=host, port=port, log_level="info")
    finally:
        service.close()


def _register_eval() -> None:
    from eval.cli import eval_command

    app.command("eval")(eval_command)


_register_eval()


def _register_figures() -> None:
    from api.cli_figures import bench_figures_command, changes_command, figures_command

    app.command("figures")(figures_command)
    app.command("changes")(changes_command)
    app.command("bench-figures")(bench_figures_command)


_register_figures()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
