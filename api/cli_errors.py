"""The CLI's one translation of domain errors: a red `error: ...` line on stderr and an exit
status, never a traceback. Every `newsqa` command (and `python -m eval`) runs inside it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

from api.cli_client import ServerError
from api.terminal import echo
from eval.errors import DatasetError
from index.errors import IndexSetupError
from qa.errors import ArticleParseError, NewsqaError

# First match wins: a file or folder that cannot be read fails the ingest (1); a bad question,
# time or option is fixed on the command line (2); a data directory or model that cannot be used
# as configured is fixed in the configuration (1).
EXIT_CODES: tuple[tuple[type[Exception], int], ...] = (
    (ArticleParseError, 1),
    (NewsqaError, 2),
    (DatasetError, 2),
    (IndexSetupError, 1),
)
DOMAIN_ERRORS = tuple(kind for kind, _ in EXIT_CODES)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print `error: message` and exit with `code`."""
    echo(f"error: {message}", err=True, fg=typer.colors.RED)
    raise SystemExit(code)


def exit_code(exc: Exception) -> int:
    return next(code for kind, code in EXIT_CODES if isinstance(exc, kind))


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a domain error raised inside into its one-line message and exit status."""
    try:
        yield
    except DOMAIN_ERRORS as exc:
        fail(str(exc), exit_code(exc))
    except ServerError as exc:  # the server the CLI asked: unreachable, or it refused
        fail(str(exc), exc.exit_code)


class TranslatingGroup(TyperGroup):
    """The `newsqa` group: runs each command inside `user_errors`."""

    def invoke(self, ctx: Any) -> Any:
        with user_errors():
            return super().invoke(ctx)
