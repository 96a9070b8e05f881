"""`newsqa migrate` (an embedded data directory into PostgreSQL and Milvus) and `newsqa reindex`
(re-embed every stored text, or ingest an archive folder, on a Ray cluster). Heavy imports
happen inside each command."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from api.terminal import echo

if TYPE_CHECKING:  # pragma: no cover
    from index.reindex import ReindexPlan
    from index.store import Store
    from qa.settings import Settings

DataDir = Annotated[Optional[Path], typer.Option(  # noqa: UP045 - typer needs Optional
    "--data-dir", help="Data directory (default: $NEWSQA_DATA_DIR or ./data).")]


def _source_store(data_dir: Path | None) -> Store:
    from index.collection import Collection
    from index.store import Store
    from qa.settings import Settings

    if data_dir is not None:
        os.environ["NEWSQA_DATA_DIR"] = str(data_dir)
    settings = Settings()
    if settings.database_url:
        return Store(settings.database_url)
    path = settings.data_dir / Collection.STORE_FILE
    if not path.exists():
        raise typer.BadParameter(f"{path} does not exist: give the data directory to copy "
                                 "(--data-dir)")
    return Store.at_path(path)


def migrate_command(
        to_database_url: Annotated[str, typer.Option(
            "--to-database-url", help="The empty database to copy into, e.g. "
            "postgresql+psycopg://newsqa@db:5432/newsqa.")],
        to_milvus_uri: Annotated[Optional[str], typer.Option(  # noqa: UP045
            "--to-milvus-uri", help="Also fill this Milvus (a file path: Milvus Lite; "
            "http://host:19530: a server) from the copied records.")] = None,
        milvus_collection: Annotated[str, typer.Option(help="Milvus collection name.")] = "newsqa_chunks",
        batch: Annotated[int, typer.Option(min=1, max=100_000, help="Rows per insert.")] = 1000,
        data_dir: DataDir = None) -> None:
    """Copy the data directory's store (documents, vectors, articles, figures) into a database,
    ids kept, in one transaction; then check that both hold the same counts."""
    from index.migrate import copy_store
    from index.store import Store

    source = _source_store(data_dir)
    target = Store(to_database_url)
    typer.echo(f"copying {source.url} -> {target.url}")

    def progress(table: str, copied: int) -> None:
        if copied % (batch * 10) == 0:
            typer.echo(f"  {table}: {copied:,} rows")

    report = copy_store(source, target, batch, progress)
    typer.echo(f"copied in {report.seconds:.1f} s: {report.target.describe()}")
    typer.echo("counts match: documents, id sum, highest id and records per collection")
    if to_milvus_uri:
        _fill_milvus(target, to_database_url, to_milvus_uri, milvus_collection)
    source.close()
    target.close()


def _fill_milvus(target: Store, database_url: str, milvus_uri: str, name: str) -> None:
    from index.collection import Collection, MilvusTarget
    from index.errors import MigrationRefused

    stamp = target.get_record("_collection", "embedder")
    if stamp is None:
        raise MigrationRefused("the copied store has no embedder stamp; it was never opened by "
                               "newsqa, so there is nothing to search")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="newsqa-migrate-") as scratch:
        collection = Collection(Path(scratch), stamp["name"], int(stamp["dim"]),
                                milvus=MilvusTarget(milvus_uri, name), database_url=database_url)
        held, count = len(collection), target.count()
        collection.close()
    if held != count:
        raise MigrationRefused(f"Milvus collection {name!r} at {milvus_uri} holds {held:,} "
                               f"documents, the store {count:,}")
    typer.echo(f"Milvus {milvus_uri} ({name}): {held:,} documents in "
               f"{time.perf_counter() - started:.1f} s; matches the store")


@dataclass(frozen=True)
class ArchiveReport:
    files: int
    refused: tuple[str, ...]  # "path: why", one a file that could not be ingested
    new_chunks: int  # embedded on Ray in this run (what an earlier, cut run stored is skipped)
    seconds: float  # the whole run, Ray start included
    embed_seconds: float  # waiting for Ray's workers, their model loading excluded
    ray_start_seconds: float
    workers: int

    def describe(self) -> str:
        rate = self.new_chunks / self.embed_seconds if self.embed_seconds > 0 else 0.0
        return (f"{self.files:,} files ({len(self.refused):,} refused), {self.new_chunks:,} new chunks "
                f"in {self.seconds:.1f} s; embedding on {self.workers} Ray worker(s) "
                f"{rate:,.1f} chunks/s, {rate / self.workers:,.1f} per worker (Ray and the workers' "
                f"models started in {self.ray_start_seconds:.1f} s)")


ArchiveProgress = Callable[[int, int, float], None]  # (files done, new chunks, seconds)


def reindex_from_folder(folder: Path, settings: Settings, plan: ReindexPlan, batch_files: int,
                        progress: ArchiveProgress | None = None) -> ArchiveReport:
    """Ingest every article file under `folder` into the configured store and engine, its
    chunks embedded on Ray, `batch_files` files per batch (each article written atomically).
    Cut off, it resumes when run again: stored articles are skipped, not embedded again."""
    from index.ray_embed import RayEmbedder
    from qa.service import NewsQA, make_embedder

    embedder = RayEmbedder(make_embedder(settings), lambda: make_embedder(settings), plan)
    service = NewsQA(settings, embedder=embedder)
    started = time.perf_counter()
    files = chunks = 0
    refused: list[str] = []
    try:
        for outcome in service.ingest_paths([folder], group_files=batch_files):
            files += 1
            if outcome.error is not None:
                refused.append(f"{outcome.path}: {outcome.error}")
            chunks += outcome.result.new_chunks if outcome.result else 0
            if progress and files % batch_files == 0:
                progress(files, chunks, time.perf_counter() - started)
    finally:
        service.close()
        embedder.close()
    return ArchiveReport(files, tuple(refused), chunks, time.perf_counter() - started, embedder.seconds,
                         embedder.ray_start_seconds, plan.workers)


def reindex_command(
        ray_address: Annotated[Optional[str], typer.Option(  # noqa: UP045
            "--ray-address", help="A Ray cluster (ray://host:10001 or host:6379); default: a "
            "local Ray on 127.0.0.1.")] = None,
        workers: Annotated[int, typer.Option(min=1, max=1024, help="Embedding actors.")] = 2,
        gpus_per_worker: Annotated[float, typer.Option(
            min=0, help="GPUs per actor (1 on a GPU cluster).")] = 0.0,
        batch: Annotated[int, typer.Option(min=1, max=65_536, help="Texts per model call.")] = 256,
        from_folder: Annotated[Optional[Path], typer.Option(  # noqa: UP045
            "--from", help="An archive folder of article files (what newsqa ingest reads): "
            "ingest them, embedded on Ray, instead of re-embedding the stored texts.")] = None,
        batch_files: Annotated[int, typer.Option(
            min=1, max=100_000, help="With --from: files per batch written.")] = 256,
        data_dir: DataDir = None) -> None:
    """Re-embed every stored text with the configured model (NEWSQA_MODEL) on Ray, then make
    those vectors the store's; or, with --from, fill the index from an archive folder, its
    chunks embedded on Ray. Run it again after a kill: it goes on where it stopped."""
    from index.reindex import ReindexPlan, reindex
    from qa.service import make_embedder
    from qa.settings import Settings

    plan = ReindexPlan(ray_address, workers, gpus_per_worker, batch)
    if from_folder is not None:
        if data_dir is not None:
            os.environ["NEWSQA_DATA_DIR"] = str(data_dir)
        if not from_folder.is_dir():
            raise typer.BadParameter(f"{from_folder} is not a folder: give the archive folder of "
                                     "article files", param_hint="--from")

        def files_done(files: int, chunks: int, seconds: float) -> None:
            typer.echo(f"  {files:,} files, {chunks:,} new chunks stored ({seconds:.0f} s)")

        archive = reindex_from_folder(from_folder, Settings(), plan, batch_files, files_done)
        for refused in archive.refused:
            echo(f"refused {refused}", err=True)  # its reason may quote the file
        typer.echo(f"ingested {from_folder}: {archive.describe()}")
        return
    store = _source_store(data_dir)
    settings = Settings()
    probe = make_embedder(settings)

    def progress(done: int, total: int, seconds: float) -> None:
        typer.echo(f"  {done:,}/{total:,} texts embedded ({done / max(seconds, 1e-9):,.0f}/s)")

    report = reindex(store, lambda: make_embedder(settings), probe.name, probe.dim, plan, progress)
    typer.echo(f"re-embedded {report.embedded:,} of {report.total:,} texts with {probe.name} in "
               f"{report.seconds:.1f} s on {report.workers} worker(s): {report.per_second:,.1f} "
               f"texts/s, {report.per_second / report.workers:,.1f} per worker (Ray started in "
               f"{report.ray_start_seconds:.1f} s)")
    if settings.database_url is None:
        for name in ("vectors.faiss", "vectors.json", "keyword.npz"):  # rebuilt at the next open
            (settings.data_dir / name).unlink(missing_ok=True)
    store.close()
