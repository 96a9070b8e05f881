"""Times written in a question, read as the window of evidence they ask for."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from qa.errors import InvalidTime
from qa.question_time import (
    TICK,
    Window,
    bounds_coverage,
    empty_window_text,
    find_time_phrases,
    question_window,
    without_phrases,
)

REF = datetime(2025, 10, 8, 19, 11, 11, tzinfo=UTC)      # the latest coverage of the story
ASKED = datetime(2025, 10, 9, 9, 0, tzinfo=UTC)           # the moment of asking
NIGHT_REF = datetime(2026, 11, 4, 7, 20, tzinfo=UTC)      # a story that ran past midnight


def t(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 10, year: int = 2025,
      tz: timezone | ZoneInfo = UTC) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=tz)


def end_of_minute(moment: datetime) -> datetime:
    return moment + timedelta(minutes=1) - TICK


def window(question: str, reference: datetime = REF, asked: datetime = ASKED) -> Window:
    phrases = find_time_phrases(question)
    assert phrases, f"no time found in {question!r}"
    return question_window(phrases, reference, asked, UTC)


@pytest.mark.parametrize(("question", "since", "as_of"), [
    ("What did the coverage say as of 5:35 PM?", None, end_of_minute(t(8, 17, 35))),
    ("What did it say as of 5:35 p.m.?", None, end_of_minute(t(8, 17, 35))),
    ("What did it say as of 5:35pm?", None, end_of_minute(t(8, 17, 35))),
    ("What did it say at 17:35?", None, end_of_minute(t(8, 17, 35))),
    ("What did it say at 5:35:20 PM?", None, t(8, 17, 35, 20) + timedelta(seconds=1) - TICK),
    ("What did it say at 6 pm yesterday?", None, end_of_minute(t(8, 18))),
    ("What did it say yesterday at 6 pm?", None, end_of_minute(t(8, 18))),
    ("What changed since 6:30 PM?", t(8, 18, 30) - TICK, None),
    ("What changed after 6:30 PM?", end_of_minute(t(8, 18, 30)), None),
    ("What did it say before the 7:01 update?", None, t(8, 19, 1) - TICK),
    ("What changed since the 7:01 update?", end_of_minute(t(8, 19, 1)), None),
    ("What was reported on October 8?", t(8, 0) - TICK, t(9, 0) - TICK),
    ("What was reported on Oct. 8th?", t(8, 0) - TICK, t(9, 0) - TICK),
    ("What was reported on 8 October 2025?", t(8, 0) - TICK, t(9, 0) - TICK),
    ("What was reported between 5 and 6 PM?", t(8, 17) - TICK, end_of_minute(t(8, 18))),
    ("What was reported between 5:30 and 6:15 pm?", t(8, 17, 30) - TICK, end_of_minute(t(8, 18, 15))),
    ("What was reported from 9 to 5 PM?", t(8, 9) - TICK, end_of_minute(t(8, 17))),
    ("What was reported between 11 and 1 PM?", t(8, 11) - TICK, end_of_minute(t(8, 13))),
    ("What was reported between 5 and 6 AM?", t(8, 5) - TICK, end_of_minute(t(8, 6))),
    ("What was reported from 5 PM to 6 PM?", t(8, 17) - TICK, end_of_minute(t(8, 18))),
    ("What was reported between 5 PM and 6?", t(8, 17) - TICK, end_of_minute(t(8, 18))),
    ("What was reported between 11 AM and 1?", t(8, 11) - TICK, end_of_minute(t(8, 13))),
    ("What was reported from 11 PM to 1?", t(7, 23) - TICK, end_of_minute(t(8, 1))),
    ("What changed since 5?", t(8, 17) - TICK, None),                # 5 PM is nearer
    ("What was reported between 11 AM and 13?", t(8, 11) - TICK, end_of_minute(t(8, 13))),
    ("What was reported between 9 PM and 0?", t(7, 21) - TICK, end_of_minute(t(8, 0))),
    ("What did it say at noon?", None, end_of_minute(t(8, 12))),
    ("What did it say as of midnight?", None, end_of_minute(t(8, 0))),
    ("What did it say at 12 am?", None, end_of_minute(t(8, 0))),
    ("What did it say at 12:30 a.m.?", None, end_of_minute(t(8, 0, 30))),
    ("What did it say at 12:30?", None, end_of_minute(t(8, 12, 30))),   # nearer than 12:30 AM
    ("What did it say as of 7:05?", None, end_of_minute(t(8, 19, 5))),  # 7:05 PM is nearer
    ("What did it say as of 8:00?", None, end_of_minute(t(8, 20, 0))),  # 49 minutes after REF
    ("What did it say as of 11 PM?", None, end_of_minute(t(8, 23))),    # nearer than the night before
    ("What did it say as of 6 AM?", None, end_of_minute(t(8, 6))),
    ("What did it say as of 5:35 PM UTC?", None, end_of_minute(t(8, 17, 35))),
    ("What did it say as of 1:35 PM ET?", None,
     end_of_minute(t(8, 13, 35, tz=ZoneInfo("America/New_York")))),
    ("What did it say as of 7:35 PM +02:00?", None,
     end_of_minute(t(8, 19, 35, tz=timezone(timedelta(hours=2))))),
])
def test_question_times(question: str, since: datetime | None, as_of: datetime | None) -> None:
    w = window(question)
    assert (w.since, w.as_of) == (since, as_of)


@pytest.mark.parametrize(("question", "since", "as_of"), [
    # across midnight: the latest coverage is 7:20 AM on 4 November
    ("How high was the river as of 11 PM?", None, end_of_minute(t(3, 23, month=11, year=2026))),
    ("What was said between 11 PM and 1 AM?", t(3, 23, month=11, year=2026) - TICK,
     end_of_minute(t(4, 1, month=11, year=2026))),
    ("What was said between midnight and 3 AM?", t(4, 0, month=11, year=2026) - TICK,
     end_of_minute(t(4, 3, month=11, year=2026))),
    ("What was said since midnight?", t(4, 0, month=11, year=2026) - TICK, None),
    ("What was said since 11:30 PM?", t(3, 23, 30, month=11, year=2026) - TICK, None),
    ("What was said since 9 AM?", t(4, 9, month=11, year=2026) - TICK, None),  # later: nothing
    ("What was said on November 3?", t(3, 0, month=11, year=2026) - TICK,
     t(4, 0, month=11, year=2026) - TICK),
])
def test_day_boundary(question: str, since: datetime | None, as_of: datetime | None) -> None:
    w = window(question, NIGHT_REF, NIGHT_REF + timedelta(hours=2))
    assert (w.since, w.as_of) == (since, as_of)


def test_yesterday_counts_from_the_moment_of_asking() -> None:
    asked = datetime(2026, 11, 4, 8, 0, tzinfo=UTC)
    w = window("How many homes had no power at 11:30 PM yesterday?", NIGHT_REF, asked)
    assert w.as_of == end_of_minute(t(3, 23, 30, month=11, year=2026))



NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(("question", "since", "as_of"), [
    ("What changed since yesterday?", t(7, 0, tz=NEW_YORK) - TICK, None),
    ("What was the toll as of today?", None, t(9, 0, tz=NEW_YORK) - TICK),
    ("What was said on October 8?", t(8, 0, tz=NEW_YORK) - TICK, t(9, 0, tz=NEW_YORK) - TICK),
])
def test_today_and_yesterday_are_days_of_the_questions_zone_not_utc(
        question: str, since: datetime | None, as_of: datetime | None) -> None:
    # 9:30 PM in New York on October 8 is already October 9 in UTC
    asked = t(8, 21, 30, tz=NEW_YORK).astimezone(UTC)
    w = question_window(find_time_phrases(question), asked, asked, NEW_YORK)
    assert (w.since, w.as_of) == (since, as_of)

@pytest.mark.parametrize("question", [
    "How much did ICE receive in 2025?",
    "Will the system be running by 2028?",
    "How many riders at 40% of the fleet?",
    "What happened at Dunmore Bridge?",
    "Who won the 2 contracts?",
    "How many people left since 5 families moved in?",
    "Which two teams played between 5 PM and 6 people?",
    "How many people were evacuated from 14 towns?",
    # numbers that cannot be hours: the question was refused as an unreadable time ('65 AM')
    "How many cases were reported among people aged between 18 and 65?",
    "How many cases were reported among people aged between 18 and 20?",
    "Which species live from 5 to 9?",
    "What was reported between 5 and 6?",
    "What was reported about the 30-minute delay since 72?",
    "What did the report say about scores from 20 to 100?",
])
def test_no_time_where_none_is_written(question: str) -> None:
    assert find_time_phrases(question) == []


@pytest.mark.parametrize(("question", "bounds"), [
    ("What was reported about the evacuation on November 3?", True),
    ("What did the council say on November 3?", True),
    ("What changed since June 13?", True),
    ("What's new since October 8?", True),
    ("How many homes had no power at 11:30 PM?", True),      # a clock time always bounds
    ("How many homes lost power since yesterday?", True),
    ("How many minutes passed during the insurrection on January 6, 2021?", False),
    ("Actor Matthew Perry's memoir was released on Nov. 1. Which sitcom is he known for?", False),
    ("The park has been closed since June 13. Why was it closed?", False),
    ("How many people lost power in the New York blackout on August 14, 2003?", False),
    ("Which team won the New Zealand final on March 3?", False),
    ("What is new on October 8?", True),
])
def test_a_day_bounds_the_coverage_only_when_the_question_asks_about_it(
        question: str, bounds: bool) -> None:
    phrases = find_time_phrases(question)
    assert len(phrases) == 1
    assert bounds_coverage(question, phrases[0]) is bounds


def test_two_phrases_narrow_each_other_and_the_question_reads_without_them() -> None:
    question = "What changed since 5 PM as of 6:30 PM?"
    w = window(question)
    assert (w.since, w.as_of) == (t(8, 17) - TICK, end_of_minute(t(8, 18, 30)))
    assert without_phrases(question, find_time_phrases(question)) == "What changed?"


def test_explicit_as_of_and_question_time_both_apply() -> None:
    asked = Window(None, t(8, 18))
    assert asked.narrowed(window("What did it say as of 5:35 PM?")).as_of == end_of_minute(t(8, 17, 35))
    assert asked.narrowed(window("What did it say as of 6:45 PM?")).as_of == t(8, 18)
    empty = asked.narrowed(window("What changed since 6:30 PM?"))
    assert empty.empty and not empty.admits(t(8, 18, 40))


@pytest.mark.parametrize(("question", "written"), [
    ("What was the toll as of 5 PM on 02/30/2025?", "02/30/2025"),   # was 5 PM on the story's day
    ("What changed since 99:99?", "99:99"),                         # was since that morning
    ("What was said on 2025-13-45?", "2025-13-45"),                 # was the story's day
    ("What was the toll as of 5 PM +99:99?", "+99:99"),             # was a ValueError (a 500)
])
def test_a_time_that_cannot_be_read_is_an_error_naming_it_not_a_guess(
        question: str, written: str) -> None:
    with pytest.raises(InvalidTime, match=re.escape(repr(written))):
        window(question)


# -- the calendar's ends: a 400 naming the phrase, never an OverflowError (a 500) ------------

LAST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
FIRST = datetime(1, 1, 1, tzinfo=UTC)
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")   # +14:00, the zone furthest ahead


@pytest.mark.parametrize(("question", "moment", "zone", "phrase"), [
    ("What was reported on 12/31/9999?", REF, UTC, "on 12/31/9999"),
    ("What was reported on 9999-12-31?", REF, UTC, "on 9999-12-31"),
    ("What changed since 1/1/0001?", REF, UTC, "since 1/1/0001"),
    ("What was reported on December 31, 9999 at 11 PM?", REF, UTC, "on December 31, 9999"),
    ("What did it say as of 11 PM on 12/31/9999?", REF, UTC, "as of 11 PM on 12/31/9999"),
    ("What did it say before 1 AM on 1/1/0001?", REF, UTC, "before 1 AM on 1/1/0001"),
    # a time without a day, or a day without a year, read at an as_of at the calendar's ends
    ("What changed since yesterday?", FIRST, UTC, "since yesterday"),
    ("What changed since yesterday?", FIRST + timedelta(days=1), UTC, "since yesterday"),
    ("What did it say as of today?", LAST, UTC, "as of today"),
    ("What changed since 5 PM?", FIRST + timedelta(hours=3), UTC, "since 5 PM"),
    ("What did it say as of 11 PM?", LAST, UTC, "as of 11 PM"),
    ("What was said between 11 PM and 1 AM?", FIRST, UTC, "between 11 PM and 1 AM"),
    ("What was reported on October 8?", FIRST, UTC, "on October 8"),   # last fell before year 1
    ("What was reported on December 31?", LAST, UTC, "on December 31"),
    # a zone pushing the time past the calendar's ends
    ("What did it say as of 11 PM +14:00?", LAST, UTC, "as of 11 PM +14:00"),
    ("What did it say as of 11 PM -14:00?", FIRST, UTC, "as of 11 PM -14:00"),
    ("What did it say as of 11 PM CET?", LAST, UTC, "as of 11 PM CET"),
    ("What did it say as of 11 PM?", LAST, KIRITIMATI, "as of 11 PM"),
])
def test_a_time_past_the_calendars_ends_is_an_error_naming_it_and_the_range(
        question: str, moment: datetime, zone: ZoneInfo | timezone, phrase: str) -> None:
    with pytest.raises(InvalidTime) as caught:
        question_window(find_time_phrases(question), moment, moment, zone)
    message = str(caught.value)
    assert repr(phrase) in message and "out of range" in message
    assert "0001-01-02 to 9999-12-30" in message and "as_of/since" in message


@pytest.mark.parametrize(("question", "moment", "zone", "since", "as_of"), [
    ("What was reported on 1/2/0001?", LAST, UTC, t(2, 0, month=1, year=1) - TICK,
     t(3, 0, month=1, year=1) - TICK),
    ("What was reported on 12/30/9999?", LAST, UTC, t(30, 0, month=12, year=9999) - TICK,
     t(31, 0, month=12, year=9999) - TICK),
    ("What changed after 11:59 PM on 9999-12-30?", LAST, KIRITIMATI,
     end_of_minute(t(30, 23, 59, month=12, year=9999, tz=KIRITIMATI)), None),
    ("What was reported on October 8?", LAST, UTC, t(7, 23, 59, 59, year=9999) + timedelta(
        microseconds=999999), end_of_minute(t(8, 23, 59, year=9999))),
])
def test_the_days_next_to_the_calendars_ends_are_read(
        question: str, moment: datetime, zone: ZoneInfo | timezone, since: datetime | None,
        as_of: datetime | None) -> None:
    w = question_window(find_time_phrases(question), moment, moment, zone)
    assert (w.since, w.as_of) == (since, as_of)
    assert empty_window_text(w).startswith("Nothing in the coverage was published from")


# -- zones written in the question -----------------------------------------------------------

WINTER = datetime(2026, 3, 14, 23, 0, tzinfo=UTC)   # the latest coverage; CET +01:00, GMT
SUMMER = datetime(2026, 7, 14, 23, 0, tzinfo=UTC)   # CEST +02:00, BST +01:00


@pytest.mark.parametrize(("question", "reference", "as_of_utc"), [
    ("How many were without power as of 10:30 PM CET?", WINTER, "2026-03-14T21:30:59.999999"),
    ("How many were without power as of 10:30 PM cet?", WINTER, "2026-03-14T21:30:59.999999"),
    ("How many were without power as of 10:30 PM CET?", SUMMER, "2026-07-14T20:30:59.999999"),
    ("How many were without power as of 10:30 PM CEST?", SUMMER, "2026-07-14T20:30:59.999999"),
    ("How many were without power as of 10:30 PM BST?", SUMMER, "2026-07-14T21:30:59.999999"),
    ("How many were without power as of 10:30 PM EET?", WINTER, "2026-03-14T20:30:59.999999"),
    ("How many were without power as of 10:30 PM UTC+1?", WINTER, "2026-03-14T21:30:59.999999"),
    ("How many were without power as of 10:30 PM GMT+05:30?", WINTER, "2026-03-14T17:00:59.999999"),
    ("How many were without power as of 10:30 PM UTC-5?", WINTER, "2026-03-15T03:30:59.999999"),
    ("How many were without power as of 9:30 AM AEDT?", WINTER, "2026-03-14T22:30:59.999999"),
    ("How many were without power as of 5:30 PM PST?", WINTER, "2026-03-15T00:30:59.999999"),
    ("How many were without power at 10:30 PM?", WINTER, "2026-03-14T22:30:59.999999"),
])
def test_a_zone_the_question_names_sets_its_clock(question: str, reference: datetime,
                                                  as_of_utc: str) -> None:
    w = window(question, reference, reference)
    assert w.as_of is not None and w.as_of.astimezone(UTC).isoformat() == f"{as_of_utc}+00:00"
    assert w.phrase is not None and question.endswith(f"{w.phrase}?")  # the zone is in the phrase


@pytest.mark.parametrize(("question", "zone", "problem"), [
    ("How many were without power as of 10:30 PM IST?", "IST", "ambiguous"),
    ("How many were without power as of 10:30 PM AST?", "AST", "ambiguous"),
    ("How many were without power as of 10:30 PM XYZT?", "XYZT", "not a zone newsqa knows"),
    ("How many were without power since 10:30 PM WAT?", "WAT", "not a zone newsqa knows"),
    ("How many were without power as of 10:30 PM UTC+25?", "UTC+25", "not a UTC offset"),
])
def test_a_zone_that_cannot_be_read_is_an_error_saying_how_to_write_the_time(
        question: str, zone: str, problem: str) -> None:
    with pytest.raises(InvalidTime) as caught:
        window(question, WINTER, WINTER)
    message = str(caught.value)
    assert repr(zone) in message and problem in message and "+01:00" in message


@pytest.mark.parametrize("question", [
    "WHAT HAPPENED AT 5 PM LAST NIGHT?",
    "What did the council say at 5 PM BUT not before?",
])
def test_a_capitalised_word_after_a_time_is_not_taken_for_a_zone(question: str) -> None:
    w = window(question)
    assert w.as_of == end_of_minute(t(8, 17))


def test_each_abbreviation_is_one_tzdata_gives_its_zone() -> None:
    from qa.zone_names import AMBIGUOUS, BY_USAGE, REGIONS

    days = [datetime(2026, 1, 15, 12, tzinfo=UTC), datetime(2026, 7, 15, 12, tzinfo=UTC)]
    for word, zone in REGIONS.items():
        names = {day.astimezone(ZoneInfo(zone)).tzname() for day in days}
        assert word in BY_USAGE or word.upper() in names, (word, zone, names)
    # "IST" names three clocks in tzdata itself: it is refused, not guessed
    ist = {day.astimezone(ZoneInfo(z)).utcoffset() for z in ("Asia/Kolkata", "Europe/Dublin",
           "Asia/Jerusalem") for day in days if day.astimezone(ZoneInfo(z)).tzname() == "IST"}
    assert "ist" in AMBIGUOUS and len(ist) == 3
