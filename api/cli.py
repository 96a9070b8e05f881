"""The `newsqa` command: ingest, ask, serve, articles, delete, eval. Heavy imports happen inside each
command, so `newsqa --help` is instant."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from api.cli_client import answer_view, ask_server, server_to_ask
from api.cli_common import (
    AsJson,
    AsOf,
    DataDir,
    Server,
    open_service,
    run_command,
    server_key,
    settings_for,
)
from api.cli_errors import TranslatingGroup
from api.cli_figures import bench_figures_command, changes_command, figures_command
from api.cli_render import AnswerView, show_answer, show_json
from api.terminal import echo
from eval.cli import eval_command
from index.modes import SEARCH_MODES
from qa.limits import MAX_TOP_K

if TYPE_CHECKING:  # pragma: no cover
    from qa.service import NewsQA

app = typer.Typer(help="Question answering over live-updating news, with quoted, timestamped "
                       "citations.", no_args_is_help=True, add_completion=False,
                  cls=TranslatingGroup)

MODES_HELP = f"{', '.join(SEARCH_MODES[:-1])} or {SEARCH_MODES[-1]}."
DEMO_CORPUS = Path(__file__).resolve().parent.parent / "qa" / "demo_corpus"


def ingest_files(service: NewsQA, paths: list[Path], quiet: bool = False) -> int:
    """Ingest, printing one line per file; returns how many files failed."""
    failed = 0
    for outcome in service.ingest_paths(paths):
        if outcome.error:
            failed += 1
            echo(f"FAILED  {outcome.error}", err=True, fg=typer.colors.RED)
        elif outcome.result and not quiet:
            r = outcome.result
            texts = r.new_chunks > 0 or r.replaced_sections > 0
            status = "added  " if texts else "updated" if r.changed else "unchanged"
            details = f", new {', '.join(r.updated_fields)}" if r.updated_fields else ""
            echo(f"{status} {outcome.path}: {r.article_id} (+{r.new_sections} sections, "
                       f"+{r.new_chunks} chunks, {r.replaced_sections} replaced{details})")
    return failed


@app.command()
def ingest(paths: Annotated[list[Path], typer.Argument(help="Article files or folders.")],
           data_dir: DataDir = None) -> None:
    """Ingest live-format (.txt/.md) and JSON (.json) articles; a file that fails is reported and
    nothing of it is stored."""
    service = open_service(data_dir)
    try:
        failed = ingest_files(service, paths)
        if (path := service.bulk_embedding_path()) is not None:
            typer.echo(f"chunks embedded by: {path}")
    finally:
        service.close()
    if failed:
        raise typer.Exit(1)


@app.command()
def ask(question: str,
        as_json: AsJson = False,
        top_k: Annotated[Optional[int], typer.Option("--top-k", min=1, max=MAX_TOP_K)] = None,  # noqa: UP045
        mode: Annotated[Optional[str], typer.Option(help=MODES_HELP)] = None,  # noqa: UP045
        as_of: AsOf = None,
        server: Server = None,
        data_dir: DataDir = None) -> None:
    """Answer QUESTION from the ingested coverage, with quotes and timestamps."""
    base = server_to_ask(server, data_dir)
    if base is not None:
        key = server_key(base)
        reply = ask_server(base, question, top_k, mode, as_of, key)
        if as_json:
            show_json(reply)
        else:
            show_answer(answer_view(base, reply))
        return

    from api.schemas import AskResponse
    from qa.timeparse import parse_timestamp

    def compute(service: NewsQA) -> AskResponse:
        service.warm_up()  # the saved ONNX graph of the model; saved now if there is none yet
        moment = parse_timestamp(as_of, service.settings.zone).moment if as_of else None
        return AskResponse.of(service.ask(question, top_k, mode, moment))

    def show(result: AskResponse) -> None:
        show_answer(AnswerView.from_json(result.model_dump()))

    run_command(data_dir, compute, as_json, show)


@app.command()
def articles(data_dir: DataDir = None) -> None:
    """List ingested articles with their update counts."""
    service = open_service(data_dir)
    try:
        for a in service.articles():
            echo(f"{a.id}\t{len(a.updates)} updates\t{a.title}")
    finally:
        service.close()


@app.command()
def delete(article_id: Annotated[str, typer.Argument(metavar="ID", help="The article's id.")],
           data_dir: DataDir = None) -> None:
    """Delete article ID: its passages, figures and updates go in one atomic write."""
    service = open_service(data_dir)
    try:
        result = service.delete(article_id)
    finally:
        service.close()
    echo(f"deleted {result.article_id}: {result.title} ({result.removed_sections} "
               f"sections, {result.removed_chunks} chunks)")


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000,
          demo: Annotated[bool, typer.Option(help="Ingest the bundled demo corpus first.")] = False,
          data_dir: DataDir = None) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    from concurrent.futures import ThreadPoolExecutor

    from qa.service import NewsQA

    settings = settings_for(data_dir)
    service = NewsQA(settings)
    try:
        if demo:
            typer.echo(f"ingesting the demo corpus from {DEMO_CORPUS} ...")
            ingest_files(service, [DEMO_CORPUS])
        # the model's session loads in native code while the web framework is imported: on two
        # cores the two waits overlap instead of adding up (the lifespan's warm-up is then free)
        with ThreadPoolExecutor(1, thread_name_prefix="warm-up") as pool:
            warming = pool.submit(service.warm_up)
            import uvicorn

            from api.app import create_app, server_options

            app_ = create_app(settings, service, bind_host=host)
            warming.result()  # a model that cannot load stops here: one error line, no server
        typer.echo(f"newsqa serving {service.health().articles} articles at "
                   f"http://{host}:{port}/ (API docs at /docs); {app_.state.access.describe()}")
        uvicorn.run(app_, host=host, port=port, log_level="info", **server_options(settings))
    finally:
        service.close()


@app.command("milvus-lite")
def milvus_lite(db: Annotated[Path, typer.Argument(help="The Milvus Lite database file.")],
                host: str = "127.0.0.1", port: int = 19530) -> None:
    """Serve a Milvus Lite database on a port, for several newsqa processes to share
    (NEWSQA_MILVUS_URI=http://HOST:PORT in each); stops on Ctrl-C or SIGTERM."""
    from index.milvus_server import serve as serve_milvus

    serve_milvus(db, host, port)


app.command("eval")(eval_command)
app.command("figures")(figures_command)
app.command("changes")(changes_command)
app.command("bench-figures")(bench_figures_command)


def _register_scale() -> None:
    from api.cli_scale import migrate_command, reindex_command

    app.command("migrate")(migrate_command)
    app.command("reindex")(reindex_command)


_register_scale()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
