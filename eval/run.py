"""One benchmark run: ingest a dataset's articles through the normal ingest path, ask every
answerable question in each retrieval mode, and the questions whose gold answer is in no
article (to measure abstention), score, and write the report."""

from __future__ import annotations

import resource
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from eval.datasets import Dataset, EvalArticle, EvalQuestion, normalise_text, partition, week_of
from eval.errors import DatasetError
from eval.layouts import load_dataset
from eval.metrics import (
    QuestionResult,
    RankedPassage,
    abstention_curve,
    answer_places,
    choose_choice,
    hit_curve,
    question_row,
    summarize,
)
from eval.report import write_report
from index.embed_cache import CachedEmbedder
from index.modes import SEARCH_MODES
from qa.abstention import FEATURES, Evidence
from qa.models import Article, Timestamp
from qa.service import NewsQA, make_embedder
from qa.settings import Settings


@dataclass(frozen=True)
class EvalConfig:
    dataset: Path
    out: Path
    modes: tuple[str, ...] = tuple(sorted(SEARCH_MODES))  # bm25, dense, hybrid
    limit: int | None = None
    depth: int = 20                 # passages retrieved per question (hit@20 needs 20)
    use_question_date: bool = True  # ask "as of" the end of the question's day
    cache_dir: Path = Path(".newsqa/cache")
    chunk_tokens: int = 200
    model: str = "all-MiniLM-L6-v2"
    embedder: str = "model"
    # fp32 by default: the benchmark scores the model's own vectors, and its embedding cache
    # (keyed by model and precision) stays valid; "auto" scores the fast path ingest uses
    precision: str = "fp32"
    progress: bool = True
    settings: dict[str, Any] = field(default_factory=dict)
    reuse_index: Path | None = None  # ask against the index an earlier run built (its out/index)


def to_article(item: EvalArticle, zone: Any) -> Article:
    published = None
    if item.published is not None:
        published = Timestamp(datetime.combine(item.published, dtime(0, 0), tzinfo=zone), True)
    return Article(id=item.id, title=item.title.strip() or "(untitled)", body=item.text.strip(),
                   published_at=published, url=item.url, source=item.source)


def _bar(config: EvalConfig, total: int, desc: str, unit: str) -> tqdm:
    return tqdm(total=total, desc=desc, unit=unit, disable=not config.progress, mininterval=2)


def build_index(service: NewsQA, embedder: CachedEmbedder, dataset: Dataset,
                config: EvalConfig) -> dict[str, float]:
    """Embed every chunk in large batches (cached), then ingest article by article."""
    zone = service.settings.zone
    articles = [to_article(a, zone) for a in dataset.articles if a.text.strip()]
    started = time.perf_counter()
    texts = [t for a in tqdm(articles, desc="chunking", unit="article", disable=not config.progress,
                             mininterval=2) for t in service.texts_to_embed(a)]
    with _bar(config, len(texts), "embedding", "chunk") as bar:
        misses_before = embedder.misses
        embedder.embed(texts, progress=bar.update)
        embedded = embedder.misses - misses_before
    embed_s = time.perf_counter() - started
    with _bar(config, len(articles), "ingesting", "article") as bar:
        service.ingest_many(articles, done=lambda _: bar.update(1))
    total_s = time.perf_counter() - started
    ingest_s = total_s - embed_s  # storing and indexing: chunking and embedding are before it
    chunks = service.health().chunks
    return {"chunks": chunks, "seconds": round(total_s, 1), "chunks_per_s": round(chunks / total_s, 1),
            "newly_embedded": embedded, "embed_seconds": round(embed_s, 1),
            "ingest_seconds": round(ingest_s, 1),
            "ingest_chunks_per_s": round(chunks / ingest_s, 1) if ingest_s > 0 else 0.0}


def reused_index(service: NewsQA, dataset: Dataset, index_dir: Path) -> dict[str, Any]:
    """The statistics of an index an earlier run built; refused unless it holds every article
    of `dataset` (it was built from this dataset, not another or a --limit of it)."""
    health = service.health()
    expected = sum(1 for a in dataset.articles if a.text.strip())
    if health.articles != expected:
        raise DatasetError(f"{index_dir} holds {health.articles} articles, but {dataset.name} has "
                           f"{expected}; reuse only the index a run built from this dataset")
    return {"chunks": health.chunks, "seconds": 0.0, "chunks_per_s": None, "newly_embedded": 0,
            "embed_seconds": 0.0, "ingest_seconds": 0.0, "ingest_chunks_per_s": None,
            "reused": str(index_dir)}


def asked_on(question: EvalQuestion, zone: Any) -> datetime | None:
    if question.asked_on is None:
        return None
    return datetime.combine(question.asked_on, dtime(23, 59, 59), tzinfo=zone)


def run_mode(service: NewsQA, questions: list[EvalQuestion], mode: str,
             config: EvalConfig, evidence: dict[str, Evidence | None]) -> list[QuestionResult]:
    """Ask every question in `mode`; each answer's abstention signals go into `evidence`."""
    zone = service.settings.zone
    service.forget_queries()  # each mode pays for its own query embeddings
    results = []
    for q in tqdm(questions, desc=f"asking ({mode})", unit="question", disable=not config.progress,
                  mininterval=2):
        as_of = asked_on(q, zone) if config.use_question_date else None
        timed = service.ask(q.question, top_k=config.depth, mode=mode, as_of=as_of)
        answer = timed.answer
        # a passage is what the index holds for a chunk: the article title, then the chunk text
        passages = tuple(RankedPassage(p.chunk.article_id, f"{p.chunk.title}\n{p.chunk.text}")
                         for p in answer.passages)
        valid = tuple(service.quote_is_verbatim(c) for c in answer.citations)
        choice = choose_choice(q.choices, passages) if q.choices else None
        results.append(QuestionResult(q.id, passages, timed.took_ms,
                                      tuple(c.quote for c in answer.citations), valid,
                                      answer.abstained, choice, answer.confidence))
        evidence[q.id] = answer.evidence
    return results


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run(config: EvalConfig, log: Callable[[str], None] = print) -> dict[str, Any]:
    dataset = load_dataset(config.dataset, config.limit)
    questions, unanswerable, left_out = partition(dataset)
    log(f"{dataset.name}: {len(dataset.articles)} articles, {len(dataset.questions)} questions, "
        f"{len(questions)} answerable; left out: {left_out or 'none'}; "
        f"{len(unanswerable)} with an answer in no article asked for abstention")
    index_dir = config.reuse_index or config.out / "index"
    if config.reuse_index is None:
        shutil.rmtree(index_dir, ignore_errors=True)
    settings = Settings(data_dir=index_dir, chunk_tokens=config.chunk_tokens, model=config.model,
                        embedder=config.embedder, embed_precision=config.precision,
                        **config.settings)
    model = make_embedder(settings)
    embedder = CachedEmbedder(model, config.cache_dir / "embeddings.sqlite3")
    # chunks come from the disk cache; questions are embedded by the model every run, as a
    # reader's are, so the latency counts them
    service = NewsQA(settings, embedder=embedder, query_embedder=model)
    service.warm_up()
    try:
        index_stats = (reused_index(service, dataset, index_dir) if config.reuse_index
                       else build_index(service, embedder, dataset, config))
        log(f"indexed {index_stats['chunks']} chunks in {index_stats['seconds']} s "
            f"({index_stats['newly_embedded']} newly embedded); storing and indexing them "
            f"(embedding excluded) {index_stats['ingest_seconds']} s, "
            f"{index_stats['ingest_chunks_per_s']} chunks/s")
        evidence: dict[str, dict[str, Evidence | None]] = {m: {} for m in config.modes}
        asked = {mode: run_mode(service, [*questions, *unanswerable], mode, config, evidence[mode])
                 for mode in config.modes}
    finally:
        service.close()
        embedder.close()
    results = {mode: rs[:len(questions)] for mode, rs in asked.items()}
    declined = {mode: rs[len(questions):] for mode, rs in asked.items()}
    modes = {mode: summarize(r, questions, declined[mode]) for mode, r in results.items()}
    texts = {a.id: normalise_text(f"{a.title}\n{a.text}") for a in dataset.articles}
    places = {mode: answer_places(r, questions, texts) for mode, r in results.items()}
    by_mode = {mode: {r.question_id: r for r in rs} for mode, rs in results.items()}
    week = {q.id: week_of(q.asked_on) for q in [*questions, *unanswerable]}
    per_question = [{"question_id": q.id, "answerable": True, "week": week[q.id],
                     "modes": {mode: {**question_row(rs[q.id], q, texts),
                                      **signals(rs[q.id], evidence[mode].get(q.id))}
                               for mode, rs in by_mode.items()}}
                    for q in questions]
    per_question += [{"question_id": r.question_id, "answerable": False,
                      "week": week[r.question_id],
                      "modes": {mode: {"abstained": r.abstained, "latency_ms": round(r.latency_ms, 2),
                                       **signals(r, evidence[mode].get(r.question_id))}}}
                     for mode, rs in declined.items() for r in rs]
    index_stats["peak_rss_mb"] = peak_rss_mb()
    curves = {mode: abstention_curve(results[mode], declined[mode], THRESHOLDS)
              for mode in config.modes}
    summary = {"n_questions": len(questions), "n_unanswerable": len(unanswerable),
               "n_chunks": index_stats["chunks"], "index": index_stats,
               "left_out": left_out, "answer_places": places,
               "abstention_threshold": service.answer_settings.min_confidence}
    run_config = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()}
    run_config["as_of"] = "end of question_date" if config.use_question_date else "none"
    run_config["questions_embedded_by"] = (
        "onnxruntime" if getattr(model, "fast_path", False) else model.name)
    run_config["settings"] = {k: v for k, v in settings.model_dump(mode="json").items()
                              if k not in ("data_dir", "cors_origins")}
    write_report(config.out, modes, run_config,
                 {m: [r.latency_ms for r in rs] for m, rs in results.items()},
                 {m: hit_curve(rs, questions) for m, rs in results.items()}, extra=summary,
                 places=places, per_question=_merged(per_question), abstention=curves)
    return {**summary, "modes": modes}


THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(21))


def signals(result: QuestionResult, evidence: Evidence | None) -> dict[str, object]:
    """A question's confidence and abstention signals, for refitting the abstention model
    (`python -m eval.calibrate`); numbers only."""
    row: dict[str, object] = {"confidence": result.confidence}
    if evidence is not None:
        row.update({k: None if v is None else round(v, 4)
                    for k, v in ((k, getattr(evidence, k)) for k in FEATURES)})
    return row


def _merged(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per question: the unanswerable questions' rows merged across modes."""
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        seen = out.setdefault(row["question_id"], {**row, "modes": {}})
        seen["modes"].update(row["modes"])
    return list(out.values())
