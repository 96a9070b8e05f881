"""NewsQA: the one object the API, the CLI and the benchmark talk to."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.collection import Collection, FusionSettings
from index.embed import Embedder, HashingEmbedder, SentenceTransformerEmbedder
from index.modes import SEARCH_MODES, SearchMode
from index.text import analyze
from qa.answer import AnswerSettings, FollowUp, compose_answer, sentence_signals
from qa.citations import quote_is_verbatim, verified
from qa.digest import asks_what_was_reported, digest_answer, mentions_topic
from qa.errors import ArticleParseError, InvalidQuestion, NewsqaError
from qa.figures.changes import ArticleChanges
from qa.figures.desk import FigureDesk
from qa.figures.extract import DEFAULT_REL_TOLERANCE
from qa.figures.latest import asks_latest
from qa.figures.timeline import FigureTimeline
from qa.library import DeleteResult, IngestResult, Library
from qa.limits import MAX_TOP_K, checked_text
from qa.models import Answer, Article, Citation, Passage
from qa.question_time import (
    Window,
    bounds_coverage,
    empty_window_text,
    find_time_phrases,
    needs_story,
    off_topic_window_text,
    question_window,
    without_phrases,
)
from qa.ranking import RecencySettings, rerank_by_recency
from qa.settings import Settings
from qa.sources import find_article_files, read_article_file
from qa.timeparse import aware

log = logging.getLogger(__name__)

SINCE_DEPTH = 100  # candidates searched when a window has a `since` or a story, before filtering


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file of a batch ingest."""

    path: str
    result: IngestResult | None = None
    error: str | None = None


@dataclass(frozen=True)
class ServiceHealth:
    """What the service holds: articles, chunks, and the embedding model it was built with."""

    articles: int
    chunks: int
    model: str


@dataclass(frozen=True)
class TimedAnswer:
    answer: Answer
    took_ms: float
    window: Window = Window()  # the evidence the answer could use: published after since, by as_of


# How much text `ingest_paths` reads before embedding it: ~500 chunks of 200 tokens.
INGEST_GROUP_CHARS = 500_000
INGEST_GROUP_FILES = 256
# Where, in the data directory, the ONNX graph of the model is saved for questions.
GRAPH_FOLDER = "onnx"
# Where TorchInductor keeps the kernels of the compiled bulk-embedding path.
COMPILE_FOLDER = "inductor"


def make_embedder(settings: Settings) -> Embedder:
    if settings.embedder == "hashing":
        return HashingEmbedder()
    return SentenceTransformerEmbedder(settings.model, onnx_for_small_calls=settings.onnx_questions,
                                       precision=settings.embed_precision,
                                       device=settings.embed_device,
                                       graph_dir=settings.data_dir / GRAPH_FOLDER,
                                       compile_dir=settings.data_dir / COMPILE_FOLDER,
                                       compile_bulk=settings.embed_compile)


class NewsQA:
    """Ingest articles, answer questions with verified, timestamped citations."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 fusion: FusionSettings | None = None,
                 answer_settings: AnswerSettings | None = None,
                 recency: RecencySettings | None = None,
                 query_embedder: Embedder | None = None) -> None:
        """`query_embedder` embeds questions (default: `embedder`); the benchmark gives the bare
        model here and a disk-cached one as `embedder`, so questions cost what they cost."""
        self.settings = settings
        self.embedder = embedder or make_embedder(settings)
        self.query_embedder = query_embedder or self.embedder
        self.collection = Collection(settings.data_dir, self.embedder.name, self.embedder.dim,
                                     fusion=fusion or FusionSettings(
                                         rrf_k=settings.fusion_rrf_k,
                                         dense_weight=settings.fusion_dense_weight,
                                         keyword_weight=settings.fusion_keyword_weight,
                                         depth=settings.fusion_depth),
                                     milvus=settings.milvus_target(),
                                     database_url=settings.database_url)
        self.library = Library(self.collection, self.embedder, settings.chunk_tokens,
                               settings.max_article_chars)
        self.answer_settings = answer_settings or AnswerSettings(
            min_confidence=settings.min_confidence,
            calibrated=self.query_embedder.name == AnswerSettings.abstention.calibrated_for)
        self.recency = recency or RecencySettings(settings.recency_weight,
                                                  settings.recency_half_life_days)
        self._embed_query = lru_cache(maxsize=1024)(self._embed_query_uncached)
        self.desk = FigureDesk(self.library, lambda q, k, as_of: self.search(q, k, None, as_of),
                               settings.max_question_chars)

    def bulk_embedding_path(self) -> str | None:
        """How this process embedded chunks in bulk (the model's precision, compiled or not), or
        None when it did not (nothing new, or not the model)."""
        return self.embedder.bulk_path if isinstance(self.embedder, SentenceTransformerEmbedder) \
            else None

    def close(self) -> None:
        self.collection.close()

    # -- ingest -----------------------------------------------------------------------------

    def ingest(self, article: Article) -> IngestResult:
        return self.library.ingest(article)

    def ingest_many(self, articles: Iterable[Article],
                    done: Callable[[IngestResult], None] | None = None) -> list[IngestResult]:
        """Ingest many articles, each atomically, saving the search indexes once at the end
        (a bulk load); `done` hears of each article as it is stored."""
        results = []
        with self.collection.bulk():
            for article in articles:
                results.append(self.ingest(article))
                if done is not None:
                    done(results[-1])
        return results

    def texts_to_embed(self, article: Article) -> list[str]:
        """What ingesting `article` would embed (a bulk loader embeds these in large batches first)."""
        return self.library.texts_to_embed(article)

    def delete(self, article_id: str) -> DeleteResult:
        """Remove an article and everything found through it, in one atomic write."""
        return self.library.delete(article_id)

    def ingest_paths(self, paths: list[Path],
                     group_files: int = INGEST_GROUP_FILES) -> Iterator[FileOutcome]:
        """Ingest every article file under `paths`, one outcome per file; a bad file stops nothing.

        Files are read in groups of up to INGEST_GROUP_CHARS characters (and `group_files`
        files) whose new chunks are embedded together: large batches embed several times
        faster than one file at a time."""
        group: list[tuple[Path, Article | NewsqaError]] = []
        size = 0
        for path in find_article_files(paths):
            try:
                article = read_article_file(path, self.settings.zone,
                                            self.settings.max_article_chars)
                self.library.validate(article)
                group.append((path, article))
                size += len(article.body) + sum(len(u.text) for u in article.updates)
            except NewsqaError as exc:
                group.append((path, exc))
            if size >= INGEST_GROUP_CHARS or len(group) >= group_files:
                yield from self._ingest_group(group)
                group, size = [], 0
        yield from self._ingest_group(group)

    def _ingest_group(self, group: list[tuple[Path, Article | NewsqaError]]) -> list[FileOutcome]:
        articles = [item for _, item in group if isinstance(item, Article)]
        stored: list[IngestResult] = []
        try:
            with self.collection.bulk():  # the vector index is saved once a group, not a file
                self.library.ingest_many(articles, written=stored.append)
        except NewsqaError:  # one article refused (say, an id clashing in case): the rest one at
            pass             # a time, those stored before it keeping what they added
        results = iter(stored)
        outcomes, taken = [], 0
        for path, item in group:
            if isinstance(item, Article) and taken < len(stored):
                taken += 1
                outcomes.append(FileOutcome(str(path), result=next(results)))
            else:  # a file that could not be read, or an article not stored in the group
                outcomes.append(self._ingest_one(path, item))
        return outcomes

    def _ingest_one(self, path: Path, item: Article | NewsqaError) -> FileOutcome:
        if isinstance(item, NewsqaError):
            return FileOutcome(str(path), error=str(item))
        try:
            return FileOutcome(str(path), result=self.library.ingest(item))
        except NewsqaError as exc:
            return FileOutcome(str(path), error=str(exc))

    # -- reading ----------------------------------------------------------------------------

    def article_ids(self) -> list[str]:
        return self.library.article_ids()

    def article(self, article_id: str) -> Article:
        """The stored article, body and updates; ArticleNotFound if there is none."""
        return self.library.article(article_id)

    def articles(self) -> list[Article]:
        """Every stored article, by id."""
        return [self.library.article(i) for i in self.library.article_ids()]

    @property
    def model_name(self) -> str:
        """The embedding model the data directory is built with (readable after close)."""
        return self.embedder.name

    def health(self) -> ServiceHealth:
        return ServiceHealth(len(self.library.article_ids()), len(self.collection),
                             self.model_name)

    # -- questions --------------------------------------------------------------------------

    def forget_queries(self) -> None:
        """Drop cached query vectors (benchmarks time each mode from cold)."""
        self._embed_query.cache_clear()

    def warm_up(self) -> None:
        """Load the model (and its fast path for questions) now rather than on the first question."""
        warm = getattr(self.query_embedder, "warm_up", None)
        if warm is not None:
            warm()

    def _embed_query_uncached(self, text: str) -> np.ndarray:
        return self.query_embedder.embed([text])[0]

    def check_question(self, question: str) -> str:
        return checked_text(question, self.settings.max_question_chars, "question",
                            "ask something about the coverage")

    def search(self, query: str, top_k: int | None = None, mode: str | None = None,
               as_of: datetime | None = None, since: datetime | None = None,
               story: str | None = None) -> list[Passage]:
        """The best passages for `query` published by `as_of` (and after `since`, and of the
        article `story` when one is given)."""
        k = top_k or self.settings.top_k
        if not 1 <= k <= MAX_TOP_K:
            raise InvalidQuestion(f"top_k={k} is out of range; use 1 to {MAX_TOP_K}")
        search_mode = mode_of(mode or self.settings.mode)
        vector = self._embed_query(query) if search_mode != "bm25" else None
        depth = max(k, self.recency.candidates) if self.recency.weight > 0 else k
        if since is not None or story is not None:
            depth = max(depth, SINCE_DEPTH)  # what the window keeps is found among more candidates
        hits = self.collection.search(query, vector, depth, search_mode,
                                      time_max=None if as_of is None else as_of.timestamp())
        docs = self.collection.get([h.id for h in hits])
        # every passage gets its cosine to the question, also those only BM25 found
        cosine = {} if vector is None else self.collection.similarities(
            vector, [h.id for h in hits if h.dense is None])
        passages = [Passage(h.id, self.library.chunk_from_meta(docs[h.id].text, docs[h.id].meta),
                            h.score, h.dense if h.dense is not None else cosine.get(h.id),
                            h.keyword) for h in hits if h.id in docs]
        if since is not None:
            passages = [p for p in passages
                        if p.chunk.timestamp is not None and p.chunk.timestamp.moment > since]
        if story is not None:
            passages = [p for p in passages if p.chunk.article_id == story]
        moment = as_of or datetime.now(UTC)
        return rerank_by_recency(passages, moment, self.recency)[:k]

    def ask(self, question: str, top_k: int | None = None, mode: str | None = None,
            as_of: datetime | None = None, *, since: datetime | None = None) -> TimedAnswer:
        """Answer a reader's `question`, checked first (not empty, not over the length limit).

        Times written in the question ("as of 5:35 PM", "since 6:30 PM") bound the evidence as
        `as_of` and `since` do, and both apply (qa/question_time.py); the answer says which
        window it used.
        """
        started = time.perf_counter()
        return self._timed(self.check_question(question), None, top_k, mode, as_of, since, started)

    def ask_followup(self, question: str, search_for: str,
                     follow_up: FollowUp | None = None) -> TimedAnswer:
        """Answer a follow-up a conversation resolved: `question` was built from one already
        checked (with words borrowed from the turns before it, so it is not held to the length
        limit a reader's own question is), `search_for` is what to retrieve with, and
        `follow_up` what it leans on (qa/answer.py)."""
        started = time.perf_counter()
        return self._timed(question.strip(), search_for, None, None, None, None, started,
                           follow_up)

    def _timed(self, text: str, search_for: str | None, top_k: int | None, mode: str | None,
               as_of: datetime | None, since: datetime | None, started: float,
               follow_up: FollowUp | None = None) -> TimedAnswer:
        zone = self.settings.zone
        window, text, search_for = self.window_of(
            text, Window(aware(since, zone), aware(as_of, zone)), search_for,
            follow_up.last.story if follow_up is not None else None)
        answer = self._answer(text, window, top_k, mode, search_for, follow_up)
        return TimedAnswer(verified(answer, self._section_of),
                           (time.perf_counter() - started) * 1000, window)

    def window_of(self, question: str, asked: Window, search_for: str | None = None,
                  conversation: str | None = None) -> tuple[Window, str, str | None]:
        """The window a question asks for (its own times and `asked`, both applied), and the
        question and search words without those times. A time without a day is read on the
        clock of the story the question names, else of the story the `conversation` is on."""
        phrases = find_time_phrases(question)
        if not phrases:
            return asked, question, search_for
        phrases = [p for p in phrases if bounds_coverage(question, p)]
        if not phrases:  # "the insurrection on January 6, 2021": the event's date, not the coverage's
            return asked, question, search_for
        plain = without_phrases(question, phrases)
        now = asked.as_of or datetime.now(UTC)
        story = self.desk.story_of(plain, asked.as_of, conversation)
        reference = (self.desk.latest_moment(story, now) if story else None) or now
        zone = self.settings.zone
        if search_for is not None:
            kept = {p.text for p in phrases}
            search_for = without_phrases(search_for, [p for p in find_time_phrases(search_for)
                                                      if p.text in kept])
        window = asked.narrowed(question_window(phrases, reference, now, zone))
        if needs_story(phrases) and story is not None:
            window = replace(window, story=story)
        return window, plain, search_for

    def _answer(self, text: str, window: Window, top_k: int | None, mode: str | None,
                search_for: str | None, follow_up: FollowUp | None = None) -> Answer:
        if window.empty:
            return Answer(empty_window_text(window), abstained=True)
        from_figures = self.desk.answer(text, window,
                                        follow_up.last if follow_up is not None else None)
        if from_figures is not None:
            return from_figures
        passages = self._passages(search_for or text, top_k, mode, window, follow_up)
        if not passages and window.since is not None:
            return Answer(empty_window_text(window), abstained=True)
        idf = self._idf_for(text, follow_up)
        if window.phrase is not None and window.since is not None and asks_what_was_reported(text):
            digest = digest_answer(text, passages, idf, self.answer_settings.max_sentences)
            if digest is not None:
                return digest
            if not mentions_topic(text, passages, idf):  # "the storm since noon": only the bridge's updates
                return Answer(off_topic_window_text(window), abstained=True)
        answer = compose_answer(text, passages, idf, self.answer_settings,
                                len(self.collection), follow_up, window.phrase is not None,
                                self._closeness if follow_up is not None else None,
                                newest=asks_latest(text, window))
        return self.desk.newest(answer, text, window)

    def _closeness(self, question: str, texts: list[str]) -> list[float]:
        """The cosine of each of `texts` to `question` (embedded as questions are)."""
        if not texts:
            return []
        vectors = self.query_embedder.embed(texts)
        return [float(v) for v in vectors @ self._embed_query(question)]

    def _passages(self, query: str, top_k: int | None, mode: str | None, window: Window,
                  follow_up: FollowUp | None) -> list[Passage]:
        """The passages an answer comes from: a follow-up's from the story it continues, when
        that story has some (else from all the coverage)."""
        story = follow_up.story if follow_up is not None and window.story is None else None
        if story is not None:
            passages = self.search(query, top_k, mode, window.as_of, window.since, story)
            if passages:
                return passages
        return self.search(query, top_k, mode, window.as_of, window.since, window.story)

    def _idf_for(self, question: str, follow_up: FollowUp | None = None) -> Callable[[str], float]:
        """The idf of the words an answer weighs (the question's, and a follow-up's search
        words), read from the store at once."""
        searched = follow_up.searched if follow_up is not None else ""
        return self.collection.idf_of(analyze(f"{question} {searched}"))

    def figures(self, query: str, as_of: datetime | None = None,
                tolerance: float = DEFAULT_REL_TOLERANCE) -> FigureTimeline:
        """Every appearance of a figure ("$28.7 billion"), or the figures about a topic, grouped
        with their revisions; oldest first, from text published by `as_of`."""
        return self.desk.timeline(query, aware(as_of, self.settings.zone), tolerance)

    def changes(self, article_id: str, since: datetime,
                as_of: datetime | None = None) -> ArticleChanges:
        """The updates of an article published after `since`, with the figures new in them."""
        zone = self.settings.zone
        return self.desk.changes(article_id, aware(since, zone), aware(as_of, zone))

    def sentence_signals(self, question: str, passages: list[Passage]
                         ) -> list[tuple[str, tuple[float, ...]]]:
        """The candidate sentences an answer to `question` from `passages` would choose among,
        each with its signals (qa/sentence_rank.py), for refitting the sentence model. The
        question is read as an answer reads it, without the times it writes."""
        question = without_phrases(question, find_time_phrases(question))
        return sentence_signals(question, passages, self._idf_for(question), len(self.collection),
                                self.answer_settings)

    def quote_is_verbatim(self, citation: Citation) -> bool:
        """Is the citation's quote, at its offsets, exactly the stored text of its section?"""
        return quote_is_verbatim(citation, self._section_of(citation))

    def _section_of(self, citation: Citation) -> str | None:
        return self.library.section_of(citation.article_id, citation.section)


def mode_of(value: str) -> SearchMode:
    for mode in SEARCH_MODES:
        if mode == value:
            return mode
    raise InvalidQuestion(f"mode {value!r} is unknown; use one of {', '.join(SEARCH_MODES)}")


__all__ = ["NewsQA", "FileOutcome", "ServiceHealth", "TimedAnswer", "ArticleParseError"]
