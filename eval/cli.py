"""`newsqa eval` (also `python -m eval`): the benchmark command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from index.modes import SEARCH_MODES

MODES = tuple(sorted(SEARCH_MODES))  # the report's order: bm25, dense, hybrid


def eval_command(
    dataset: Annotated[Path, typer.Option(help="Dataset folder (RealTimeQA or generic JSONL layout).")],
    modes: Annotated[str, typer.Option(help="Comma-separated retrieval modes.")] = ",".join(MODES),
    limit: Annotated[Optional[int], typer.Option(help="Only the first N questions.")] = None,  # noqa: UP045
    out: Annotated[Path, typer.Option(help="Where the report, plots and metrics.json go.")] = Path(
        "runs/latest"),
    cache_dir: Annotated[Path, typer.Option(help="Embedding cache folder.")] = Path(".newsqa/cache"),
    chunk_tokens: Annotated[int, typer.Option(help="Chunk size in tiktoken tokens.")] = 200,
    question_date: Annotated[bool, typer.Option(
        help="Ask each question as of the end of its question_date.")] = True,
    embedder: Annotated[str, typer.Option(help="'model' or 'hashing' (no model, for smoke runs).")
                        ] = "model",
    precision: Annotated[str, typer.Option(
        help="Precision chunks are embedded in: fp32 (the model's own vectors; reuses an fp32 "
             "cache) or auto/bf16 (the fast path `newsqa ingest` takes; cached apart).")] = "fp32",
    reuse_index: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="Ask against the index an earlier run built from this dataset (its OUT/index) "
             "instead of building one (chunking and ingest are not rerun; all else is).")] = None,
) -> None:
    """Run every answerable question through the service's pipeline in each mode and report."""
    from eval.report import markdown_table
    from eval.run import EvalConfig, run

    chosen = tuple(m.strip() for m in modes.split(",") if m.strip())
    unknown = [m for m in chosen if m not in MODES]
    if unknown or not chosen:
        raise typer.BadParameter(f"unknown mode(s) {unknown or modes!r}; use a comma-separated "
                                 f"list of {', '.join(MODES)}", param_hint="--modes")
    if embedder not in ("model", "hashing"):
        raise typer.BadParameter(f"{embedder!r} is not an embedder; use 'model' or 'hashing'",
                                 param_hint="--embedder")
    from index.bulk_encode import PRECISION_CHOICES

    if precision not in PRECISION_CHOICES:
        raise typer.BadParameter(f"{precision!r} is not a precision; use one of "
                                 f"{', '.join(PRECISION_CHOICES)}", param_hint="--precision")
    config = EvalConfig(dataset=dataset, out=out, modes=chosen, limit=limit, cache_dir=cache_dir,
                        chunk_tokens=chunk_tokens, use_question_date=question_date,
                        embedder=embedder, precision=precision,
                        reuse_index=reuse_index)
    result = run(config, log=typer.echo)
    typer.echo(markdown_table(result["modes"]))
    typer.echo(f"{result['n_questions']} questions, {result['n_chunks']} chunks, "
               f"{result['index']['chunks_per_s']} chunks/s, peak RSS {result['index']['peak_rss_mb']} MB")
    typer.echo(f"report: {out / 'report.md'}")


def main() -> None:
    from api.cli_errors import user_errors

    with user_errors():
        typer.run(eval_command)
