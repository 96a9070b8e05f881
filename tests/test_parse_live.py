from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from qa.errors import ArticleParseError
from qa.parse_live import parse_live_article
from tests.conftest import require_sample

UTC = ZoneInfo("UTC")

EXPECTED_TIMES = [
    "2025-10-08T17:20:57+00:00", "2025-10-08T17:30:57+00:00", "2025-10-08T17:40:56+00:00",
    "2025-10-08T17:50:55+00:00", "2025-10-08T18:00:58+00:00", "2025-10-08T18:10:58+00:00",
    "2025-10-08T18:21:01+00:00", "2025-10-08T18:31:19+00:00", "2025-10-08T18:41:14+00:00",
    "2025-10-08T18:51:19+00:00", "2025-10-08T19:01:34+00:00", "2025-10-08T19:11:11+00:00",
]


@pytest.fixture(scope="module")
def sample():  # type: ignore[no-untyped-def]
    path = require_sample()
    return parse_live_article(path.read_text(encoding="utf-8"), str(path), UTC)


def test_sample_has_twelve_updates_with_exact_timestamps(sample) -> None:  # type: ignore[no-untyped-def]
    assert [u.published_at.iso() for u in sample.updates] == EXPECTED_TIMES


def test_sample_body_is_date_only_and_says_so(sample) -> None:  # type: ignore[no-untyped-def]
    assert sample.title == "Tech Innovations Drive ICE’s Intensified Deportation Efforts"
    assert sample.published_at.date_only
    assert sample.published_at.iso() == "2025-10-08"


def test_teasers_are_dropped_and_headings_kept(sample) -> None:  # type: ignore[no-untyped-def]
    assert "### Funding and Expansion" in sample.body
    assert "### Facial Recognition and Surveillance" in sample.body
    assert "..." not in sample.body
    assert sample.body.count("ICE's technological arsenal has been supported by") == 1
    assert "$28.7 billion allocated for operations" in sample.body


def test_header_and_footer_are_not_content(sample) -> None:  # type: ignore[no-untyped-def]
    everything = sample.body + "\n".join(u.text for u in sample.updates)
    for junk in ("Back to all articles", "Latest News", "📊", "min read", "updates automatically"):
        assert junk not in everything
    assert sample.updates[-1].text.endswith("privacy rights[2][7].")


def test_cut_off_update_is_kept_as_written(sample) -> None:  # type: ignore[no-untyped-def]
    assert sample.updates[1].text.endswith("citing ICE’s $3.75 million contract")


def test_zone_applies_to_times_without_one() -> None:
    text = "T\n\n📅 Published: 10/8/2025\n\nBody.\n🔄 Updated: 10/8/2025, 5:40:56 PM\nNews."
    article = parse_live_article(text, "x.txt", ZoneInfo("America/New_York"))
    assert article.updates[0].published_at.iso() == "2025-10-08T17:40:56-04:00"


@pytest.mark.parametrize(("text", "line", "reason"), [
    ("", None, "empty"),
    ("   \n\n", None, "empty"),
    ("🔄 Updated: 10/8/2025, 5:40:56 PM\nText", 1, "title"),
    ("Title\n📅 Published: 10/8/2025\nBody\n🔄 Updated: 13/45/2025, 5:40 PM\nx", 4, "13/45/2025"),
    ("Title\n\n📅 Published: 10/8/2025\n\n", 1, "no body and no updates"),
    ("Title\n📅 Published: 10/8/2025\nBody\n🔄 Update at 5:40 PM\nx", 4, "not an update stamp"),
])
def test_unparseable_files_name_line_and_reason(text: str, line: int | None, reason: str) -> None:
    with pytest.raises(ArticleParseError) as info:
        parse_live_article(text, "bad.txt", UTC)
    assert info.value.source == "bad.txt"
    assert info.value.line == line
    assert reason in str(info.value)


NO_BODY = """Dockworkers Strike Enters Second Day

📅 Published: 4/2/2026
🔄 Updated: 4/2/2026, 6:00:00 PM
📊 2 updates

🔄 Updated: 4/2/2026, 1:00:00 PM
The union said 4,000 members joined the strike.
🔄 Updated: 4/2/2026, 3:00:00 PM
Talks resumed with a mediator.
"""


def test_a_page_with_no_body_keeps_its_first_update() -> None:
    article = parse_live_article(NO_BODY, "x.txt", UTC)
    assert article.body == ""
    assert [(u.published_at.iso(), u.text) for u in article.updates] == [
        ("2026-04-02T13:00:00+00:00", "The union said 4,000 members joined the strike."),
        ("2026-04-02T15:00:00+00:00", "Talks resumed with a mediator.")]


@pytest.mark.parametrize("stamp", ["🔄\ufe0f Updated:", "🔄 UPDATED:", "🔄 updated", "🔄\tUpdated :"])
def test_update_stamps_as_pages_write_them(stamp: str) -> None:
    text = f"Title\n📅\ufe0f Published: 10/8/2025\n\nBody.\n{stamp} 10/8/2025, 5:40:56 PM\nNews."
    article = parse_live_article(text, "x.txt", UTC)
    assert article.published_at is not None and article.body == "Body."
    assert [(u.published_at.iso(), u.text) for u in article.updates] == [
        ("2025-10-08T17:40:56+00:00", "News.")]


def test_demo_corpus_parses_with_revised_figures() -> None:
    root = Path(__file__).resolve().parent.parent / "qa" / "demo_corpus"
    articles = [parse_live_article(p.read_text(), p.name, UTC) for p in sorted(root.glob("*.txt"))]
    assert len(articles) == 3
    assert all(len(a.updates) >= 3 for a in articles)
    bridge = next(a for a in articles if "Bridge" in a.title)
    assert "$410 million" in bridge.body and "$452 million" in bridge.updates[1].text


def test_a_stamp_without_a_zone_is_recorded_as_assumed() -> None:
    from datetime import UTC

    from qa.timeparse import parse_timestamp

    page = parse_timestamp("10/8/2025, 5:40:56 PM", UTC)
    assert not page.zone_stated and page.iso() == "2025-10-08T17:40:56+00:00"
    assert not parse_timestamp("2025-10-08T17:40:56", UTC).zone_stated
    assert parse_timestamp("2025-10-08T17:40:56-04:00", UTC).zone_stated
    assert parse_timestamp("2025-10-08T21:40:56Z", UTC).zone_stated


# A page whose header has no "last updated" stamp: the first "Updated:" line stamps the first
# update (it was read as the header, its text became the date-only body, and "as of 9 AM"
# answered with what was published at 9:15).
NO_HEADER_STAMP = """Halden Transit Workers Walk Out

📅 Published: 11/3/2026
🔄 Updated: 11/3/2026, 9:15 AM
About 4,000 transit workers are on strike in Halden, the union said.
🔄 Updated: 11/3/2026, 11:30 AM
Buses on the harbour line are running a reduced service.
"""


def test_a_first_update_without_a_header_stamp_keeps_its_time() -> None:
    article = parse_live_article(NO_HEADER_STAMP, "x.txt", UTC)
    assert article.body == ""
    assert [(u.published_at.iso(), u.text[:20]) for u in article.updates] == [
        ("2026-11-03T09:15:00+00:00", "About 4,000 transit "),
        ("2026-11-03T11:30:00+00:00", "Buses on the harbour")]


@pytest.mark.parametrize("header", [
    "🔄 Updated: 11/3/2026, 11:30 AM\n",  # the page's last change, directly followed by the body
    "🔄 Updated: 11/3/2026, 12:00 PM\n",  # later than every update
    "🔄 Updated: 11/3/2026, 8:00 AM\n📊 1 update\n",  # followed by the page's meta lines
])
def test_a_header_stamp_followed_by_the_body_is_not_an_update(header: str) -> None:
    page = (f"Halden Transit Workers Walk Out\n📅 Published: 11/3/2026\n{header}\n"
            "Transit workers in Halden walked out at dawn.\n"
            "🔄 Updated: 11/3/2026, 11:30 AM\nBuses are running a reduced service.\n")
    article = parse_live_article(page, "x.txt", UTC)
    assert article.body == "Transit workers in Halden walked out at dawn."
    assert [u.published_at.iso() for u in article.updates] == ["2026-11-03T11:30:00+00:00"]


def test_as_of_before_the_first_update_does_not_cite_it(tmp_path: Path) -> None:
    from index.embed import HashingEmbedder
    from qa.service import NewsQA
    from qa.settings import Settings

    service = NewsQA(Settings(data_dir=tmp_path / "data", embedder="hashing"),
                     embedder=HashingEmbedder())
    try:
        service.ingest(parse_live_article(NO_HEADER_STAMP, "x.txt", UTC))
        answer = service.ask("How many transit workers are on strike in Halden as of 9 AM?").answer
        assert not any("4,000" in c.quote for c in answer.citations)
    finally:
        service.close()
