"""What every `newsqa` command shares: the common options, opening the service, and printing a
result as the API's JSON or for a person. Cheap to import: the service loads inside."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional, TypeVar

import typer

from api.cli_client import KEY_ENV, SERVER_ENV, client_key, key_exposure
from api.cli_render import show_json

if TYPE_CHECKING:  # pragma: no cover
    from pydantic import BaseModel

    from qa.service import NewsQA
    from qa.settings import Settings

ResultT = TypeVar("ResultT", bound="BaseModel")

DataDir = Annotated[Optional[Path], typer.Option(  # noqa: UP045 - typer needs Optional
    "--data-dir", help="Data directory (default: $NEWSQA_DATA_DIR or ./data).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]
AsOf = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--as-of", help="Only text published at or before this time (ISO 8601).")]
Server = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--server", metavar="URL", help=f"Ask the newsqa server at URL instead of the data directory "
    f"(default: ${SERVER_ENV}; empty: the data directory). Its API key: ${KEY_ENV}.")]


def server_key(base: str) -> str | None:
    """The key to send `base`, with a warning on stderr when it would cross a network in the clear."""
    key = client_key()
    exposed = key_exposure(base, key)
    if exposed:
        typer.secho(f"warning: {exposed}", err=True, fg=typer.colors.YELLOW)
    return key


def settings_for(data_dir: Path | None) -> Settings:
    """The settings, with `--data-dir` over NEWSQA_DATA_DIR."""
    from pydantic import ValidationError

    from qa.settings import Settings

    if data_dir is not None:
        os.environ["NEWSQA_DATA_DIR"] = str(data_dir)
    try:
        return Settings()
    except ValidationError as exc:
        raise typer.BadParameter(str(exc)) from exc


def open_service(data_dir: Path | None) -> NewsQA:
    from qa.service import NewsQA

    return NewsQA(settings_for(data_dir))


def run_command(data_dir: Path | None, compute: Callable[[NewsQA], ResultT], as_json: bool,
                show: Callable[[ResultT], None]) -> None:
    """Open the service, compute, close it; print the result as the API's JSON or for a person."""
    service = open_service(data_dir)
    try:
        result = compute(service)
    finally:
        service.close()
    if as_json:
        show_json(result.model_dump())
    else:
        show(result)
