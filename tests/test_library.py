"""Ingest: idempotent, incremental, atomic, and the same answers after a restart."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from index.embed import HashingEmbedder
from qa.errors import InvalidArticle
from qa.models import Article, Timestamp, Update
from qa.service import NewsQA
from tests.conftest import DEMO


def _stamp(hour: int, minute: int = 0) -> Timestamp:
    return Timestamp(datetime(2026, 3, 14, hour, minute, tzinfo=UTC))


ARTICLE = Article(
    id="ferry-strike", title="Ferry Workers Strike Over Pay",
    body="Ferry workers walked out on Monday after talks over pay collapsed. The union said "
         "the strike would last 48 hours.",
    published_at=Timestamp(datetime(2026, 3, 14, tzinfo=UTC), date_only=True),
    updates=(Update(_stamp(9), "About 2,000 passengers were stranded at the harbour terminal."),
             Update(_stamp(11), "The operator offered a 4% raise; the union rejected it.")))


def test_ingesting_twice_adds_nothing(service: NewsQA) -> None:
    first = service.ingest(ARTICLE)
    assert first.new_sections == 3 and first.new_chunks >= 3
    chunks = len(service.collection)
    second = service.ingest(ARTICLE)
    assert not second.changed and second.new_chunks == 0
    assert len(service.collection) == chunks


def test_a_new_update_is_added_without_touching_the_rest(service: NewsQA) -> None:
    service.ingest(ARTICLE)
    before = set(service.collection.ids())
    later = dataclasses.replace(ARTICLE, updates=(*ARTICLE.updates, Update(
        _stamp(13), "Talks resume on Wednesday, the transport minister said.")))
    result = service.ingest(later)
    assert result.new_sections == 1 and result.new_chunks == 1
    after = set(service.collection.ids())
    assert before < after and len(after - before) == 1
    stored = service.library.article("ferry-strike")
    assert [u.published_at.iso() for u in stored.updates][-1] == "2026-03-14T13:00:00+00:00"


def test_a_late_arriving_older_update_takes_its_place_in_time_order(service: NewsQA) -> None:
    service.ingest(ARTICLE)
    service.ingest(dataclasses.replace(ARTICLE, updates=(Update(_stamp(10), "Buses replace ferries."),)))
    times = [u.published_at.moment.hour for u in service.library.article("ferry-strike").updates]
    assert times == [9, 10, 11]
    answer = service.ask("What replaces the ferries?").answer
    assert answer.citations[0].section.index == 2


def test_a_revised_update_replaces_its_old_text(service: NewsQA) -> None:
    service.ingest(ARTICLE)
    fixed = dataclasses.replace(ARTICLE, updates=(
        Update(_stamp(9), "About 2,500 passengers were stranded at the harbour terminal."),
        ARTICLE.updates[1]))
    result = service.ingest(fixed)
    assert result.replaced_sections == 1
    texts = [d.text for d in service.collection.get(service.collection.ids()).values()]
    assert any("2,500 passengers" in t for t in texts)
    assert not any("2,000 passengers" in t for t in texts)


EDT = timezone(timedelta(hours=-4))


def test_updates_are_ordered_by_moment_not_by_how_the_time_is_written(service: NewsQA) -> None:
    # 17:40 EDT is 21:40 UTC: later than 19:00 UTC, though "17:40" sorts first as text
    evening = Update(Timestamp(datetime(2026, 3, 14, 17, 40, tzinfo=EDT)), "Talks resumed at 8pm.")
    service.ingest(dataclasses.replace(ARTICLE, updates=(
        Update(_stamp(19), "The minister called both sides to talks."), evening)))
    stored = service.library.article("ferry-strike").updates
    assert [u.text for u in stored] == ["The minister called both sides to talks.",
                                        "Talks resumed at 8pm."]


def test_the_same_moment_in_another_offset_is_the_same_update(service: NewsQA) -> None:
    first = Update(Timestamp(datetime(2026, 3, 14, 17, 40, tzinfo=EDT)), "Three people were hurt.")
    service.ingest(dataclasses.replace(ARTICLE, updates=(first,)))
    fixed = Update(_stamp(21, 40), "Four people were hurt, police said.")  # the same moment, UTC
    result = service.ingest(dataclasses.replace(ARTICLE, updates=(fixed,)))
    assert result.replaced_sections == 1 and result.new_sections == 0
    assert [u.text for u in service.library.article("ferry-strike").updates] == [fixed.text]
    assert "Four" in service.ask("How many people were hurt?").answer.text


def test_blocks_stamped_with_the_same_moment_are_one_update(service: NewsQA) -> None:
    same = (Update(_stamp(20, 30), "Officials ordered the harbour district evacuated."),
            Update(_stamp(20, 30), "Coastline Energy said 120,000 customers lost power."))
    service.ingest(dataclasses.replace(ARTICLE, updates=same))
    (update,) = service.library.article("ferry-strike").updates
    assert update.text == f"{same[0].text}\n\n{same[1].text}"
    for question in ("Who was ordered to evacuate?", "How many customers lost power?"):
        answer = service.ask(question).answer
        assert answer.citations and all(service.quote_is_verbatim(c) for c in answer.citations)
    assert not service.ingest(dataclasses.replace(ARTICLE, updates=same)).changed


@pytest.mark.parametrize("body", ["   ", "\u200b\u200c\u200d", "\ufeff\u2060 \u200b"])
def test_an_article_without_text_is_refused_and_nothing_is_stored(service: NewsQA,
                                                                  body: str) -> None:
    # zero-width characters only (a live page's file, not only JSON) were stored as text
    with pytest.raises(InvalidArticle, match="no text"):
        service.ingest(Article(id="empty", title="Empty", body=body))
    with pytest.raises(InvalidArticle, match="no title"):
        service.ingest(Article(id="empty", title=body, body="The ferries stopped."))
    assert service.library.article_ids() == [] and len(service.collection) == 0


def test_an_over_long_article_is_refused(service: NewsQA) -> None:
    service.library.max_chars = 1000
    with pytest.raises(InvalidArticle, match="over the limit of 1,000"):
        service.ingest(Article(id="long", title="Long", body="word " * 300))
    assert len(service.collection) == 0


def test_same_answers_after_a_restart(service: NewsQA) -> None:
    outcomes = list(service.ingest_paths([DEMO]))
    assert all(o.error is None for o in outcomes) and len(outcomes) == 3
    questions = ["How much is the bridge contract worth?", "How many customers lost power?",
                 "How many households does the advisory affect?"]
    before = [service.ask(q).answer for q in questions]
    settings = service.settings
    service.close()
    again = NewsQA(settings, embedder=HashingEmbedder())
    try:
        after = [again.ask(q).answer for q in questions]
    finally:
        again.close()
    assert [a.text for a in after] == [b.text for b in before]
    assert [a.citations for a in after] == [b.citations for b in before]


def test_batch_ingest_reports_each_file(service: NewsQA, tmp_path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "good.json"
    good.write_text('{"title": "Dam Opens", "body": "The new dam opened on Friday."}')
    bad = tmp_path / "bad.json"
    bad.write_text('{"title": "Broken", "body": ')
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    outcomes = {o.path.rsplit("/", 1)[-1]: o for o in service.ingest_paths([tmp_path])}
    assert outcomes["good.json"].result is not None
    assert "malformed JSON" in (outcomes["bad.json"].error or "")
    assert "line 1" in (outcomes["bad.json"].error or "")
    assert "empty" in (outcomes["empty.txt"].error or "")
    assert service.library.article_ids() == ["dam-opens"]


def test_titles_without_latin_letters_get_ids_of_their_own(service: NewsQA) -> None:
    from qa.ids import article_id_for

    day = Timestamp(datetime(2026, 3, 14, tzinfo=UTC), date_only=True)
    titles = ["Шторм над портом", "港口风暴", "Пожар на складе", "🌊🌊"]
    ids = [article_id_for(title, day) for title in titles]
    assert len(set(ids)) == 4 and all(i.endswith("-2026-03-14") for i in ids)
    assert article_id_for("Шторм  над портом ", day) == ids[0]  # the same title, the same id
    for article_id, title in zip(ids, titles[:2], strict=False):
        service.ingest(Article(id=article_id, title=title, body=f"{title}: a report.",
                               published_at=day))
    assert sorted(service.library.article_ids()) == sorted(ids[:2])  # neither replaced the other
    assert article_id_for("Ferry Workers Strike!", day) == "ferry-workers-strike-2026-03-14"


def test_a_group_retried_one_file_at_a_time_still_counts_what_it_added(
        service: NewsQA, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A file refused in a group (an id differing from another only in case) makes the group go
    one file at a time; a file already stored by then is reported as added, with its chunks,
    not as 'unchanged, +0 chunks'."""
    (tmp_path / "a.json").write_text('{"id": "ferry-strike", "title": "Ferry Strike", '
                                     '"body": "Ferry crews walked out on Monday morning."}')
    (tmp_path / "b.json").write_text('{"id": "Ferry-Strike", "title": "Ferry Strike Again", '
                                     '"body": "A second walkout was called for Friday."}')
    (tmp_path / "c.json").write_text('{"id": "dam-opens", "title": "Dam Opens", '
                                     '"body": "The new dam opened on Friday."}')
    outcomes = {o.path.rsplit("/", 1)[-1]: o for o in service.ingest_paths([tmp_path])}
    first, third = outcomes["a.json"].result, outcomes["c.json"].result
    assert first is not None and first.changed and first.new_chunks == 1 and first.new_sections == 1
    assert third is not None and third.changed and third.new_chunks == 1
    assert "only in case" in (outcomes["b.json"].error or "")
    assert len(service.collection) == 2


def _found_by(service: NewsQA, words: str) -> set[int]:
    return {h.id for h in service.collection.search(words, None, 50, "bm25")}


def test_a_new_title_alone_reaches_search_and_citations(service: NewsQA) -> None:
    # the re-post said changed: true, but every chunk still embedded the old title
    service.ingest(ARTICLE)
    chunks = len(service.collection)
    retitled = dataclasses.replace(ARTICLE, title="Lighthouse Keepers Join Ferry Walkout",
                                   updates=ARTICLE.updates[1:])  # an omitted update is kept
    result = service.ingest(retitled)
    assert result.changed and result.updated_fields == ("title",)
    assert result.new_chunks == 0 and result.replaced_sections == 0
    assert len(service.collection) == chunks
    ids = set(service.collection.ids())
    assert _found_by(service, "lighthouse keepers") == ids  # body and both updates
    docs = service.collection.get(sorted(ids))
    assert {d.meta["title"] for d in docs.values()} == {retitled.title}
    answer = service.ask("How many passengers did the lighthouse keepers' walkout strand?").answer
    assert answer.citations and all(c.title == retitled.title for c in answer.citations)
    again = service.ingest(retitled)
    assert not again.changed and set(service.collection.ids()) == ids


@pytest.mark.parametrize(("field", "value"), [
    ("url", "https://example.org/ferry-strike-live"), ("source", "Harbour Gazette")])
def test_a_new_url_or_source_embeds_nothing_again(service: NewsQA, field: str, value: str) -> None:
    service.ingest(ARTICLE)
    ids = set(service.collection.ids())
    result = service.ingest(dataclasses.replace(ARTICLE, **{field: value}))
    assert result.updated_fields == (field,)
    assert set(service.collection.ids()) == ids  # the same chunks: not removed, not re-embedded
