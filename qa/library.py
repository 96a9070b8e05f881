"""The news library: articles and their updates, chunked, embedded and stored in a Collection.

Ingest is idempotent (a section already stored adds nothing), incremental (a new update adds
only its own chunks) and atomic (one Collection write per article); so is deleting an article.

Repeats: an update whose text, NFKC-normalised, case-folded and with runs of spaces ignored, is
that of another update of the same article (stored, or earlier in the same document) is the same
update re-posted, whatever its time: it is not stored again, and the earliest time is kept.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.collection import STORE_CHECK_INTERVAL_S, Batch, Collection
from index.embed import Embedder
from index.errors import DocumentRefused
from index.store import NewDoc
from qa.chunking import ChunkSpan, chunk_section
from qa.errors import ArticleNotFound, InvalidArticle
from qa.figures.index import FIGURES, FigureIndex, figure_record
from qa.ids import ID_RULE, content_hash, id_fold, is_valid_article_id, text_key
from qa.models import Article, Chunk, SectionRef, Timestamp, Update
from qa.records import BODY, ArticleRecord, UpdateRecord, stamp_from_json, stamp_to_json, update_sid
from qa.textcheck import surrogate_problem, visible

ARTICLES = "articles"
SECTIONS = "sections"


@dataclass(frozen=True)
class Section:
    """One stored section: `sid` is stable ("body", or "update@<UTC iso time>")."""

    sid: str
    text: str
    timestamp: Timestamp | None


@dataclass(frozen=True)
class DeleteResult:
    article_id: str
    title: str
    removed_chunks: int
    removed_sections: int


# The details of an article besides its texts that a re-post may change, as a reader sees them.
DETAILS = ("title", "url", "source", "published_at")


@dataclass(frozen=True)
class IngestResult:
    article_id: str
    title: str
    new_sections: int
    new_chunks: int
    replaced_sections: int
    updated_fields: tuple[str, ...] = ()  # of DETAILS, those a re-post changed

    @property
    def changed(self) -> bool:
        """Whether the stored article is now different: new or edited text, or new details."""
        return self.new_chunks > 0 or self.replaced_sections > 0 or bool(self.updated_fields)


def embed_text(title: str, heading: str | None, text: str) -> str:
    """What the model embeds and BM25 indexes for a chunk: title and heading give context."""
    context = title if not heading or heading == title else f"{title}\n{heading}"
    return f"{context}\n{text}"


class Library:
    """Articles in, chunks out; the only writer of the Collection in this process.

    Article records and the figure index are cached here, stamped with the store's generation;
    a write by another process (another API replica, a `newsqa ingest`) changes the generation,
    and the next read, at most `check_interval_s` later, reloads them from the store.
    """

    def __init__(self, collection: Collection, embedder: Embedder, chunk_tokens: int,
                 max_chars: int = 2_000_000,
                 check_interval_s: float = STORE_CHECK_INTERVAL_S) -> None:
        self.collection = collection
        self.max_chars = max_chars
        self.embedder = embedder
        self.chunk_tokens = chunk_tokens
        self.check_interval_s = check_interval_s
        self._write_lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._checked_at = float("-inf")
        self._load()
        self._backfill_figures()

    # -- the cache --------------------------------------------------------------------------

    def _load(self) -> None:
        generation = self.collection.generation()  # first: a write landing meanwhile reloads again
        self._articles = {key: ArticleRecord.from_row(row)
                          for key, row in self.collection.iter_records(ARTICLES)}
        self._folded = {id_fold(i): i for i in self._articles}
        self._figures = FigureIndex.from_records(self.collection.iter_records(FIGURES))
        self._generation = generation

    def refresh(self, force: bool = False) -> None:
        """Reload the cache if the store changed since it was loaded (one cheap query)."""
        now = time.monotonic()
        if not force and now - self._checked_at < self.check_interval_s:
            return
        with self._load_lock:
            self._checked_at = now
            if self.collection.generation() != self._generation:
                self._load()

    def _wrote(self, generation: int) -> None:
        """Our own write committed `generation`: if it directly follows the cached one, the
        cache (updated in place) is current; otherwise another process wrote too: reload."""
        with self._load_lock:
            if generation == self._generation + 1:
                self._generation = generation
            else:
                self._load()

    @property
    def figures(self) -> FigureIndex:
        self.refresh()
        return self._figures

    # -- reading ----------------------------------------------------------------------------

    def article_ids(self) -> list[str]:
        self.refresh()
        return sorted(self._articles)

    def record(self, article_id: str) -> ArticleRecord:
        self.refresh()
        record = self._articles.get(article_id)
        if record is None:  # another process may have written it since the last check (its
            self.refresh(force=True)  # chunks can be found before this cache's next reload)
            record = self._articles.get(article_id)
        if record is None:
            raise ArticleNotFound(article_id)
        return record

    def section_text(self, article_id: str, sid: str) -> str | None:
        value = self.collection.record(SECTIONS, f"{article_id}|{sid}")
        return None if value is None else str(value["text"])

    def article(self, article_id: str) -> Article:
        record = self.record(article_id)
        updates = tuple(Update(u.published_at, self.section_text(article_id, u.sid) or "")
                        for u in record.updates)
        return Article(id=article_id, title=record.title, url=record.url, source=record.source,
                       published_at=record.published_at,
                       body=self.section_text(article_id, BODY) or "", updates=updates)

    def section_ref(self, article_id: str, sid: str) -> SectionRef:
        return self.record(article_id).section_ref(sid)

    def section_of(self, article_id: str, section: SectionRef) -> str | None:
        """The stored text of `section` of an article, or None."""
        sid = self.record(article_id).sid_of(section)
        return None if sid is None else self.section_text(article_id, sid)

    def chunk_from_meta(self, text: str, meta: dict[str, Any]) -> Chunk:
        record = self._articles.get(meta["article_id"])
        return Chunk(article_id=meta["article_id"],
                     section=self.section_ref(meta["article_id"], meta["sid"]),
                     text=text, start=meta["start"], end=meta["end"],
                     timestamp=stamp_from_json(meta["timestamp"]), heading=meta["heading"],
                     title=record.title if record else meta.get("title", ""),
                     url=record.url if record else None)

    # -- writing ----------------------------------------------------------------------------

    def _sections(self, article: Article) -> list[Section]:
        """The body, then one section per moment of update. An update is known by its moment
        in UTC, so the same moment written with another offset is the same update (a repost
        corrects it), and blocks stamped with the same moment are one update, in page order."""
        sections = ([Section("body", article.body, article.published_at)]
                    if visible(article.body) else [])
        updates: dict[str, Section] = {}
        for update in article.updates:
            if not visible(update.text):
                continue
            sid = update_sid(update.published_at)
            same = updates.get(sid)
            updates[sid] = (Section(sid, f"{same.text}\n\n{update.text}", same.timestamp) if same
                            else Section(sid, update.text, update.published_at))
        return sections + list(updates.values())

    def validate(self, article: Article) -> None:
        """Raise InvalidArticle, naming the problem, when `article` cannot be ingested."""
        if not is_valid_article_id(article.id):
            raise InvalidArticle(f"article id {article.id!r} is not valid: {ID_RULE}")
        texts = [("title", article.title), ("body", article.body), ("url", article.url or ""),
                 ("source", article.source or "")]
        texts += [(f"updates[{i}].text", u.text) for i, u in enumerate(article.updates)]
        for name, text in texts:
            problem = surrogate_problem(f"article {article.id!r} {name}", text)
            if problem:
                raise InvalidArticle(problem)
        if not visible(article.title):
            raise InvalidArticle(f"article {article.id!r} has no title")
        if not visible(article.body) and not any(visible(u.text) for u in article.updates):
            raise InvalidArticle(f"article {article.id!r} has no text: give a body or an update")
        size = len(article.body) + sum(len(u.text) for u in article.updates)
        if size > self.max_chars:
            raise InvalidArticle(f"article {article.id!r} has {size:,} characters of text, over the "
                                 f"limit of {self.max_chars:,} (NEWSQA_MAX_ARTICLE_CHARS)")

    def _chunk(self, article: Article, section: Section) -> tuple[list[ChunkSpan], list[str]]:
        """The section's chunk spans, and the text each one embeds."""
        limit = self.embedder.max_tokens

        def fits(text: str, heading: str | None) -> bool:
            return self.embedder.count_tokens(embed_text(article.title, heading, text)) <= limit

        try:
            spans = chunk_section(section.text, self.chunk_tokens, fits)
        except InvalidArticle as exc:
            raise InvalidArticle(f"article {article.id!r}: {exc}") from exc
        return spans, [embed_text(article.title, s.heading, section.text[s.start:s.end])
                       for s in spans]

    def texts_to_embed(self, article: Article) -> list[str]:
        """What ingesting `article` would embed (lets a bulk loader embed in large batches first)."""
        return [text for section in self._sections(article)
                for text in self._chunk(article, section)[1]]

    def _chunk_docs(self, article: Article, section: Section, spans: list[ChunkSpan],
                    texts: list[str], vectors: np.ndarray) -> list[NewDoc]:
        digest = content_hash(section.text)
        when = section.timestamp
        return [NewDoc(key=f"{article.id}|{section.sid}|{digest}|{span.start}",
                       text=section.text[span.start:span.end], vector=vector, search_text=search,
                       time=None if when is None else when.moment.timestamp(),
                       meta={"article_id": article.id, "sid": section.sid, "start": span.start,
                             "end": span.end, "heading": span.heading, "title": article.title,
                             "timestamp": stamp_to_json(when)})
                for span, search, vector in zip(spans, texts, vectors, strict=True)]

    def _record_for(self, article: Article, previous: ArticleRecord | None,
                    sections: list[Section]) -> ArticleRecord:
        updates = {u.sid: u for u in (previous.updates if previous else ())}
        for s in sections:
            if s.sid != BODY:
                assert s.timestamp is not None, "updates always have a time"
                updates[s.sid] = UpdateRecord(s.sid, s.timestamp, content_hash(s.text),
                                              text_key(s.text))
        ordered = sorted(updates.values(), key=lambda u: u.published_at.moment)
        body = next((s for s in sections if s.sid == BODY), None)
        body_hash = content_hash(body.text) if body else (previous.body_hash if previous else None)
        return ArticleRecord(article.id, article.title, article.url, article.source,
                             article.published_at, body_hash, tuple(ordered))

    def _backfill_figures(self) -> None:
        """Extract the figures of sections stored before figures were (older data directories)."""
        records: dict[str, dict[str, dict[str, Any]]] = {}
        for article_id in self.article_ids():
            for sid, stamp in self.record(article_id).section_stamps():
                if self.figures.has_section(article_id, sid):
                    continue
                text = self.section_text(article_id, sid)
                if text is not None:
                    records.setdefault(article_id, {})[sid] = figure_record(text,
                                                                            stamp_to_json(stamp))
        if not records:
            return
        batch = Batch()
        for article_id, sections in records.items():
            for sid, record in sections.items():
                batch.put_record(FIGURES, f"{article_id}|{sid}", record)
        with self._write_lock:
            result = self.collection.write(batch)
            for article_id, sections in records.items():
                self._figures.put_records(article_id, sections)
            self._wrote(result.generation)

    def _check_same_id(self, article_id: str) -> None:
        """Refuse an id a reader could not tell from a stored one (other case, other normal form)."""
        stored = self._folded.get(id_fold(article_id))
        if stored is not None and stored != article_id:
            raise InvalidArticle(f"article id {article_id!r} differs from the stored {stored!r} "
                                 f"only in case or Unicode form; send {stored!r} to update that "
                                 "article, or choose an id of its own")

    def _stored_text_keys(self, article_id: str, previous: ArticleRecord | None) -> dict[str, str]:
        """text key -> sid of each stored update (records from before keys were kept are read)."""
        keys: dict[str, str] = {}
        for u in previous.updates if previous else ():
            key = u.key or text_key(self.section_text(article_id, u.sid) or "")
            keys.setdefault(key, u.sid)
        return keys

    def _changed_sections(self, article: Article, previous: ArticleRecord | None
                          ) -> tuple[list[Section], set[str]]:
        """The sections of `article` to (re)store, and the sids already stored."""
        known = {u.sid: u.hash for u in (previous.updates if previous else ())}
        if previous and previous.body_hash:
            known[BODY] = previous.body_hash
            if previous.published_at != article.published_at:
                known[BODY] = ""  # re-dated: the body's chunks take the new date
        seen = self._stored_text_keys(article.id, previous)
        changed = []
        for section in sorted(self._sections(article), key=_oldest_first):
            key = text_key(section.text)
            if section.sid != "body" and seen.get(key, section.sid) != section.sid:
                continue  # the same text as another update: a repeat, not a new update
            if section.sid != "body":
                seen.setdefault(key, section.sid)
            if known.get(section.sid) != content_hash(section.text):
                changed.append(section)
        return changed, set(known)

    def ingest(self, article: Article) -> IngestResult:
        """Store what is new in `article`; all of it or (on any error) none of it."""
        return self.ingest_many([article])[0]

    def ingest_many(self, articles: list[Article],
                    written: Callable[[IngestResult], None] | None = None) -> list[IngestResult]:
        """`ingest` each article, embedding the new chunks of all of them in one call (large,
        length-sorted batches embed several times faster than one section at a time). Each
        article is still written atomically; an invalid one raises before anything is written.
        One refused later (an id clashing in case, a document the engine refuses) raises after
        the ones before it were stored: `written` hears of each as it is."""
        for article in articles:
            self.validate(article)
        results: list[IngestResult] = []
        with self._write_lock:
            self.refresh(force=True)  # another replica may have ingested these articles
            for group in _distinct_id_runs(articles):
                for article in group:
                    self._check_same_id(article.id)
                plans = [self._plan(article) for article in group]
                texts = [text for plan in plans for _, _, section_texts in plan.all_chunks
                         for text in section_texts]
                vectors = self.embedder.embed(texts) if texts else None
                offset = 0
                for plan in plans:
                    used = sum(len(t) for _, _, t in plan.all_chunks)
                    part = vectors[offset:offset + used] if vectors is not None else None
                    offset += used
                    results.append(self._write(plan, part))
                    if written is not None:
                        written(results[-1])
        return results

    def _retitled_sections(self, article: Article, previous: ArticleRecord | None,
                           changed: list[Section]) -> list[Section]:
        """The stored sections, besides `changed`, whose chunks embed the title: all of them
        when the title is new (also those this post omits, which ingest keeps)."""
        if previous is None or previous.title == article.title:
            return []
        done = {s.sid for s in changed}
        stored = [(sid, stamp if sid != BODY else article.published_at)
                  for sid, stamp in previous.section_stamps() if sid not in done]
        return [Section(sid, text, stamp) for sid, stamp in stored
                if (text := self.section_text(article.id, sid)) is not None]

    def _plan(self, article: Article) -> _Plan:
        """What ingesting `article` changes: its new or edited sections, and those whose
        chunks a new title re-indexes, chunked."""
        previous = self._articles.get(article.id)
        changed, known = self._changed_sections(article, previous)
        chunks = [(section, *self._chunk(article, section)) for section in changed]
        retitled = [(section, *self._chunk(article, section))
                    for section in self._retitled_sections(article, previous, changed)]
        return _Plan(article, previous, known, chunks, retitled)

    def _write(self, plan: _Plan, vectors: np.ndarray | None) -> IngestResult:
        article, known = plan.article, plan.known
        batch = Batch()
        figures: dict[str, dict[str, Any]] = {}
        offset = 0
        retitled = {section.sid for section, _, _ in plan.retitled}
        for section, spans, texts in plan.all_chunks:
            if section.sid in known:
                batch.remove_keys_with_prefix(f"{article.id}|{section.sid}|")
            assert vectors is not None or not texts
            part = vectors[offset:offset + len(texts)] if vectors is not None else np.zeros((0,))
            offset += len(texts)
            for doc in self._chunk_docs(article, section, spans, texts, part):
                batch.add(doc)
            if section.sid in retitled:  # same text, same figures: only its chunks are new
                continue
            batch.put_record(SECTIONS, f"{article.id}|{section.sid}", {"text": section.text})
            figures[section.sid] = figure_record(section.text, stamp_to_json(section.timestamp))
            batch.put_record(FIGURES, f"{article.id}|{section.sid}", figures[section.sid])
        changed = [section for section, _, _ in plan.chunks]
        previous = plan.previous
        record = self._record_for(article, previous, changed)
        if previous is None or record.to_row() != previous.to_row():
            batch.put_record(ARTICLES, article.id, record.to_row())
        try:
            result = self.collection.write(batch)
        except DocumentRefused as exc:  # nothing was stored
            raise InvalidArticle(f"article {article.id!r} cannot be indexed: {exc.__cause__}") from exc
        self._articles[article.id] = record
        self._folded[id_fold(article.id)] = article.id
        self._figures.put_records(article.id, figures)
        self._wrote(result.generation)
        replaced = sum(1 for s in changed if s.sid in known)
        reindexed = sum(len(texts) for _, _, texts in plan.retitled)
        return IngestResult(article.id, article.title, len(changed) - replaced,
                            len(result.added_ids) - reindexed, replaced,
                            _updated_fields(previous, record))

    def delete(self, article_id: str) -> DeleteResult:
        """Remove an article: its chunks (vectors, keyword postings), sections, figures and record
        go in one atomic write, so a crash leaves it either whole or gone."""
        with self._write_lock:
            self.refresh(force=True)  # another replica may have changed or deleted it
            record = self.record(article_id)
            batch = Batch()
            batch.remove_keys_with_prefix(f"{article_id}|")
            sections = len(record.section_stamps())
            for sid in [BODY] + [u.sid for u in record.updates]:
                batch.delete_record(SECTIONS, f"{article_id}|{sid}")
                batch.delete_record(FIGURES, f"{article_id}|{sid}")
            batch.delete_record(ARTICLES, article_id)
            result = self.collection.write(batch)
            del self._articles[article_id]
            self._folded.pop(id_fold(article_id), None)
            self._figures.remove_article(article_id)
            self._wrote(result.generation)
        return DeleteResult(article_id, record.title, len(result.removed_ids), sections)


def _updated_fields(previous: ArticleRecord | None, record: ArticleRecord) -> tuple[str, ...]:
    """The DETAILS in which `record` differs from the one stored before it (none for a new one)."""
    if previous is None:
        return ()
    before, after = previous.to_row(), record.to_row()
    return tuple(name for name in DETAILS if before[name] != after[name])


def _oldest_first(section: Section) -> tuple[int, float]:
    """The body first, then updates by moment: of two repeats, the earlier is kept."""
    if section.timestamp is None:
        return (0, float("-inf"))
    return (0 if section.sid == "body" else 1, section.timestamp.moment.timestamp())

@dataclass(frozen=True)
class _Plan:
    """One article's ingest, worked out before anything is embedded or written."""

    article: Article
    previous: ArticleRecord | None
    known: set[str]
    chunks: list[tuple[Section, list[ChunkSpan], list[str]]]  # new or edited sections
    retitled: list[tuple[Section, list[ChunkSpan], list[str]]]  # stored, re-indexed for a title

    @property
    def all_chunks(self) -> list[tuple[Section, list[ChunkSpan], list[str]]]:
        return self.chunks + self.retitled


def _distinct_id_runs(articles: list[Article]) -> list[list[Article]]:
    """Consecutive runs in which no article id repeats: a second version of an article is
    planned only after the first is written."""
    runs: list[list[Article]] = []
    seen: set[str] = set()
    for article in articles:
        folded = id_fold(article.id)  # ids differing only in case are checked one after the other
        if not runs or folded in seen:
            runs.append([])
            seen = set()
        runs[-1].append(article)
        seen.add(folded)
    return runs
