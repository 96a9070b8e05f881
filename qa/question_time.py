"""Times written in a question ("as of 5:35 PM", "since 6:30 PM", "between 5 and 6 PM", "on
October 8") read as the window of evidence they ask for, as `as_of` and `since` are.

Rules, so a reader need not reverse-engineer them:
- A question's time is read in NEWSQA_DEFAULT_TZ unless it names a zone ("5:35 PM ET", "17:35
  UTC", "+02:00", "UTC+1", "10:30 PM CET"): an abbreviation is its region's clock on that day, an
  ambiguous one ("IST") or one not known is refused naming it (qa/zone_names.py).
- A question's time falls on a day from 0001-01-02 to 9999-12-30 (FIRST_DAY, LAST_DAY), so that
  its window lies within the years 1 to 9999 in any zone; a time past them is refused naming it.
- A time without a day is on the day of `reference`, the latest coverage of the story asked
  about (itself no later than the moment of asking), or on the day before when that is nearer
  to it: for a story last updated at 7:20 AM, "11 PM" is the evening before; for one last
  updated at 4:40 PM, "6 AM" is that morning and "since 5 PM" twenty minutes after its last
  update (it finds nothing). "7:01" without AM/PM is whichever of 7:01 AM and 7:01 PM is
  nearer, as is an hour alone that ends the question ("since 5?"); "6" in "between 5 PM and 6"
  is the reading that makes the shorter range. A range's first end is the latest one before its
  second ("between 11 PM and 1 AM" spans midnight). A date without a year is its most recent
  occurrence by then. "today" and "yesterday" count from the moment of asking (`as_of`, or now).
- Such a time is the story's clock, so its evidence is that story's: the answer quotes only the
  article the time was read against (`Window.story`). A question with a full date is not
  limited to one story.
- A written time covers its whole minute (a date its whole day): "as of 5:35 PM" keeps text
  stamped 5:35:40 PM; "since 6:30 PM" keeps it too; "after", "before" and "since the 7:01
  update" leave the named minute out.
- Only a clock time or a day bounds the evidence: "in 2025" or "by 2028" is what the story is
  about, not when it was published. A day alone bounds it only when the question is about the
  coverage ("What was reported on November 3?", "What changed since June 13?"); in "the
  insurrection on January 6, 2021" it is the event's date and stays in the search words
  (`bounds_coverage`).
- A window from the question and an explicit `as_of`/`since` are both applied: evidence must
  satisfy each, so the stricter bound wins (see `Window.narrowed`).

dateparser reads the clock and date spellings ("5:35 p.m.", "noon", "Oct. 8th", "8 October
2025"); this module finds them in the question, pairs them with their cue word and decides which
occurrence is meant, which is where dateparser alone read "7:01" as morning and "between 5 and
6 PM" as May.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from qa.errors import InvalidTime
from qa.zone_names import ZONE, zone_named

TICK = timedelta(microseconds=1)
# The days a question's time may fall on: one inside the calendar's ends, so that its window
# (its minute or day, read in any zone) lies within the years 1 to 9999 in UTC, as every time does.
FIRST_DAY, LAST_DAY = date(1, 1, 2), date(9999, 12, 30)

_MERIDIEM = r"[ap]\.?\s?m\b\.?"
_CLOCK = (rf"(?:\d{{1,2}}:\d{{2}}(?::\d{{2}})?(?:\s*{_MERIDIEM})?|\d{{1,2}}\s*{_MERIDIEM}"
          r"|noon|midday|midnight)")
_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_ORD = r"(?:st|nd|rd|th)?"
_DATE = (rf"(?:{_MONTH}\s+\d{{1,2}}{_ORD}(?:,?\s+\d{{4}})?|\d{{1,2}}{_ORD}\s+(?:of\s+)?{_MONTH}"
         r"(?:,?\s+\d{4})?|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}|today|yesterday)")
_MOMENT = (rf"(?:{_CLOCK}(?:\s+{ZONE})?(?:,?\s+(?:on\s+)?{_DATE})?"
           rf"|{_DATE}(?:,?\s+(?:at\s+)?{_CLOCK}(?:\s+{ZONE})?)?)")
_UPDATE = r"(?:\s+(?:update|post|entry)\b)?"
_HOUR = r"(?:[01]?\d|2[0-3])(?!\d)"  # an hour alone, 0-23: "aged between 18 and 65" holds none
_BARE_HOUR = rf"{_HOUR}(?=\s*(?:[?.!,;]|$))"  # "since 5?", "between 5 PM and 6?": as it ends
_PHRASE = re.compile(
    rf"\bbetween\s+(?:the\s+)?(?P<a>{_MOMENT}|{_HOUR})\s+and\s+(?:the\s+)?"
    rf"(?P<b>{_MOMENT}|{_BARE_HOUR}){_UPDATE}"
    rf"|\bfrom\s+(?:the\s+)?(?P<fa>{_MOMENT}|{_HOUR})\s+(?:to|until|till)\s+(?:the\s+)?"
    rf"(?P<fb>{_MOMENT}|{_BARE_HOUR}){_UPDATE}"
    rf"|\b(?P<since_cue>since|after)\s+(?P<since_the>the\s+)?(?P<since>{_MOMENT}|{_BARE_HOUR})"
    rf"(?P<since_u>{_UPDATE})"
    rf"|\bbefore\s+(?:the\s+)?(?P<before>{_MOMENT}){_UPDATE}"
    rf"|\b(?:as\s+of|as\s+at|at|by|until|till|up\s+to)\s+(?:the\s+)?(?P<asof>{_MOMENT}){_UPDATE}"
    rf"|\b(?:on|during)\s+(?P<on>{_DATE})",
    re.IGNORECASE)


@dataclass(frozen=True)
class Window:
    """The evidence a question may use: published after `since` and at or before `as_of`
    (either may be open). `phrase` is what the question wrote, when the window came from it."""

    since: datetime | None = None
    as_of: datetime | None = None
    phrase: str | None = None
    story: str | None = None  # the article whose clock a time without a day was read on

    @property
    def empty(self) -> bool:
        return self.since is not None and self.as_of is not None and self.since >= self.as_of

    def admits(self, moment: datetime | None) -> bool:
        """Whether text published at `moment` lies in the window (unknown times only in an open
    one); `story` is checked where the text's article is known."""
        if moment is None:
            return self.since is None and self.as_of is None
        return ((self.since is None or moment > self.since)
                and (self.as_of is None or moment <= self.as_of))

    def narrowed(self, other: Window) -> Window:
        """Both windows at once: the later `since`, the earlier `as_of`."""
        since = max((m for m in (self.since, other.since) if m is not None), default=None)
        as_of = min((m for m in (self.as_of, other.as_of) if m is not None), default=None)
        return Window(since, as_of, other.phrase or self.phrase, other.story or self.story)


@dataclass(frozen=True)
class TimePhrase:
    """A time expression found in a question, with its place, before it is resolved."""

    start: int
    end: int
    text: str
    match: re.Match[str]


def find_time_phrases(question: str) -> list[TimePhrase]:
    return [TimePhrase(m.start(), m.end(), m[0], m) for m in _PHRASE.finditer(question)
            if not _numbers_only(m)]


def _numbers_only(m: re.Match[str]) -> bool:
    """"aged between 18 and 20?" or "from 5 to 6?": two bare numbers are a range of numbers, not
    of times; one end must be a clock time ("between 5 PM and 6", "between 5 and 6 PM")."""
    return any(m[a] and m[b] and re.fullmatch(r"\d{1,2}", m[a].strip())
               and re.fullmatch(r"\d{1,2}", m[b].strip()) for a, b in (("a", "b"), ("fa", "fb")))


def needs_story(phrases: list[TimePhrase]) -> bool:
    """Whether a phrase gives a time without a day ("since 6 PM"), read on one story's clock."""
    return any(re.search(_DATE, p.text, re.IGNORECASE) is None for p in phrases)


_COVERAGE_WORDS = re.compile(
    r"\b(?:report(?:s|ed|ing)?|sa(?:y|ys|id)|stated?|publish(?:ed)?|cover(?:age|ed)|updates?|updated"
    r"|wrote|written|news|article|story|page|chang(?:e|es|ed)|new(?!\s+(?-i:[A-Z]))"  # not "New York"
    r"|revis(?:e|ed|ion|ions))\b",
    re.IGNORECASE)


def bounds_coverage(question: str, phrase: TimePhrase) -> bool:
    """Whether `phrase` asks when the coverage was published, rather than naming when the event
    asked about happened. A clock time ("as of 5:35 PM"), "today" and "yesterday" always bound
    the evidence; a day alone ("on November 3", "since June 13") only in a question about the
    coverage ("What was reported on November 3?", "What changed since June 13?"). Otherwise the
    day is part of what is asked ("the insurrection on January 6, 2021", "a memoir released on
    Nov. 1", whose coverage may come days later) and stays in the search words."""
    if re.search(_CLOCK, phrase.text, re.IGNORECASE) or re.search(
            r"\b(?:today|yesterday)\b", phrase.text, re.IGNORECASE):
        return True
    return _COVERAGE_WORDS.search(question) is not None


def without_phrases(question: str, phrases: list[TimePhrase]) -> str:
    """The question with its time phrases taken out ("What changed since 6 PM?" -> "What changed?")."""
    out, at = [], 0
    for p in phrases:
        out.append(question[at:p.start])
        at = p.end
    out.append(question[at:])
    return re.sub(r"\s+([?.!,])", r"\1", re.sub(r"\s{2,}", " ", "".join(out))).strip()


# -- reading one moment ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Spelled:
    """A moment as written: its clock (hour, minute, second, whether AM/PM or noon/midnight
    fixed the half of the day), its date, and its zone, each None when not written."""

    clock: tuple[int, int, int, bool] | None
    day: date | None
    zone: tzinfo | None


def _zone_of(text: str, phrase: str) -> tzinfo | None:
    """The zone written after the clock time in `text` (see qa/zone_names.py), or None."""
    m = re.search(rf"{_CLOCK}\s+(?P<zone>{ZONE})", text, re.IGNORECASE)
    return None if m is None else zone_named(m["zone"], phrase)


def _clock_of(text: str) -> tuple[int, int, int, bool] | None:
    m = re.search(_CLOCK, text, re.IGNORECASE)
    if m is None:
        return None
    word = m[0].lower()
    if word in ("noon", "midday"):
        return (12, 0, 0, True)
    if word == "midnight":
        return (0, 0, 0, True)
    parsed = _dateparser(word, {})
    if parsed is None:
        raise _unreadable(m[0], "is not a time of day")
    fixed = bool(re.search(_MERIDIEM, word, re.IGNORECASE)) or parsed.hour == 0 or parsed.hour > 12
    return (parsed.hour, parsed.minute, parsed.second, fixed)


def _day_of(text: str, asked: datetime, reference: datetime, zone: tzinfo) -> date | None:
    """The day written in `text`, counted on the calendar of `zone` (the question's zone)."""
    m = re.search(_DATE, text, re.IGNORECASE)
    if m is None:
        return None
    word = m[0].lower()
    if word in ("today", "yesterday"):
        return _local(asked, zone).date() - timedelta(days=1 if word == "yesterday" else 0)
    settings: dict[str, object] = {"PREFER_DATES_FROM": "past", "DATE_ORDER": "MDY",
                                   "REQUIRE_PARTS": ["day", "month"]}
    parsed = _dateparser(word, {**settings, "RELATIVE_BASE": _local(reference, zone).replace(
        tzinfo=None)})
    if parsed is None:
        if _dateparser(word, {**settings, "RELATIVE_BASE": datetime(2000, 12, 31)}) is not None:
            raise OverflowError(f"{word!r} last fell before year 1")  # "October 8", asked in year 1
        raise _unreadable(m[0], "is not a date")
    return parsed.date()


def _unreadable(text: str, problem: str) -> InvalidTime:
    """A time written in a question that cannot be read: an error rather than a silent guess."""
    return InvalidTime(f"the question's time {text!r} {problem}; write it as '5:35 PM', '17:35', "
                       "'5:35 PM ET', 'October 8' or '2025-10-08', or pass as_of/since instead")


def _dateparser(text: str, settings: dict[str, object]) -> datetime | None:
    import dateparser  # imported on the first question with a time in it: ~0.3 s

    return dateparser.parse(text, languages=["en"], settings=settings)


def _spelled(text: str, asked: datetime, reference: datetime, zone: tzinfo) -> _Spelled:
    clock_part = re.sub(_DATE, " ", text, flags=re.IGNORECASE)
    written = _zone_of(clock_part, text)
    return _Spelled(_clock_of(clock_part), _day_of(text, asked, reference, written or zone),
                    written)


def _occurrence(spelled: _Spelled, anchor: datetime, zone: tzinfo,
                nearest: bool = True) -> tuple[datetime, datetime]:
    """(start, end) of the spelled moment's occurrence on `anchor`'s day or the day before that
    is nearest to `anchor` (with `nearest` false, the latest one starting at or before it): a
    minute for a clock time, a day for a date. OverflowError for a day outside FIRST_DAY to
    LAST_DAY (the caller names the phrase)."""
    zone = spelled.zone or zone
    local = _local(anchor, zone)
    day = _in_range(spelled.day or local.date())
    if spelled.clock is None:
        start = datetime.combine(day, time(0), tzinfo=zone)
        return start, start + timedelta(days=1) - TICK
    hour, minute, second, fixed = spelled.clock
    hours = [hour] if fixed else [hour % 12, hour % 12 + 12]
    days = [day] if spelled.day else [day, day - timedelta(days=1)]
    options = [datetime.combine(d, time(h, minute, second), tzinfo=zone) for d in days for h in hours]
    earlier = [o for o in options if o <= local]
    if nearest or not earlier:
        start = min(options, key=lambda o: (abs(o - local), o > local))
    else:
        start = max(earlier)
    unit = timedelta(seconds=1) if second else timedelta(minutes=1)
    return start, start + unit - TICK


def _local(moment: datetime, zone: tzinfo) -> datetime:
    """`moment` on `zone`'s clock; at the calendar's ends, where that clock has passed 9999 or
    not reached year 1 (as_of 9999-12-31T23:00Z read in +14:00), its last or first moment."""
    try:
        return moment.astimezone(zone)
    except OverflowError:
        end = datetime.max if moment.year > 1 else datetime.min
        return end.replace(tzinfo=zone)


def _in_range(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise OverflowError(f"{day} is outside {FIRST_DAY} to {LAST_DAY}")
    return day


def _representable(moment: datetime) -> None:
    """OverflowError when `moment`, or the microsecond either side of it, has no UTC form (a
    zone's offset can push a first or last day's time past the calendar)."""
    for near in (moment - TICK, moment + TICK):
        near.astimezone(UTC)


def _out_of_range(text: str) -> InvalidTime:
    return InvalidTime(
        f"the question's time {text!r} is out of range: a time in a question must fall on a day "
        f"from {FIRST_DAY} to {LAST_DAY} (a time without a day is read on the day of as_of, or "
        "of the story's latest coverage); ask about a day within them, or pass as_of/since "
        "instead")


# -- phrases to windows ----------------------------------------------------------------------


def _with_meridiem(first: str, second: str) -> str:
    """'5' in "between 5 and 6 PM" is an hour without AM/PM: the latest one before the second
    end ("from 9 to 5 PM" starts at 9 AM, "between 11 and 1 PM" at 11 AM)."""
    if re.fullmatch(r"\d{1,2}", first.strip()):
        return f"{first.strip()}:00"
    return first


def _readings(second: str) -> list[str]:
    """The range ends a second end may be: "6" in "between 5 PM and 6" is 6 AM or 6 PM, and the
    range meant is the shorter one (of two as short, the one ending nearer the story's latest
    coverage)."""
    if re.fullmatch(r"\d{1,2}", second.strip()):
        hour = int(second)
        if not 1 <= hour <= 12:  # "between 9 and 13", "between 9 PM and 0": read on the 24-hour clock
            return [f"{hour}:00"]
        return [f"{hour} AM", f"{hour} PM"]
    return [second]


def phrase_window(phrase: TimePhrase, reference: datetime, asked: datetime,
                  zone: tzinfo) -> Window:
    """The window one phrase asks for (see the module's rules); InvalidTime naming the phrase
    when that window would run outside the dates a time can have."""
    try:
        window = _phrase_window(phrase, reference, asked, zone)
        for bound in (window.since, window.as_of):
            if bound is not None:
                _representable(bound)
    except OverflowError:
        raise _out_of_range(phrase.text) from None
    return window


def _phrase_window(phrase: TimePhrase, reference: datetime, asked: datetime,
                   zone: tzinfo) -> Window:
    m = phrase.match

    def occurrence(text: str, anchor: datetime = reference,
                   nearest: bool = True) -> tuple[datetime, datetime]:
        return _occurrence(_spelled(text, asked, reference, zone), anchor, zone, nearest)

    for a_key, b_key in (("a", "b"), ("fa", "fb")):
        if m[b_key]:
            first = _with_meridiem(m[a_key], m[b_key])
            spans = []
            for second in _readings(m[b_key]):
                b_start, b_end = occurrence(second)
                a_start, _ = occurrence(first, b_start, nearest=False)
                spans.append((a_start - TICK, b_end))
            since, as_of = min(spans, key=lambda span: (span[1] - span[0],
                                                        abs(span[1] - reference)))
            return Window(since, as_of, phrase.text)
    if m["since"]:
        start, end = occurrence(_with_meridiem(m["since"], ""))
        after_it = m["since_cue"].lower() == "after" or bool(m["since_u"].strip())
        return Window(end if after_it else start - TICK, None, phrase.text)
    if m["before"]:
        start, _ = occurrence(m["before"])
        return Window(None, start - TICK, phrase.text)
    if m["asof"]:
        _, end = occurrence(m["asof"])
        return Window(None, end, phrase.text)
    start, end = occurrence(m["on"])
    return Window(start - TICK, end, phrase.text)


def question_window(phrases: list[TimePhrase], reference: datetime, asked: datetime,
                    zone: tzinfo) -> Window:
    """Every phrase's window at once; the phrases' words, joined, as `phrase`."""
    window = Window()
    for p in phrases:
        window = window.narrowed(phrase_window(p, reference, asked, zone))
    return replace(window, phrase="; ".join(p.text for p in phrases) or None)


def _span_text(window: Window) -> str:
    """ "from <since> to <as_of> (“<the question's words>”)", as the answers below say it."""
    since = "the start" if window.since is None else _clock_text(_after(window.since))
    until = "now" if window.as_of is None else _clock_text(window.as_of)
    asked = f" (“{window.phrase}”)" if window.phrase else ""
    return f"from {since} to {until}{asked}"


def empty_window_text(window: Window) -> str:
    """The answer when nothing was published in the window asked for."""
    return (f"Nothing in the coverage was published {_span_text(window)}, so I cannot answer "
            "from that time.")


def off_topic_window_text(window: Window) -> str:
    """The answer when the window's coverage never mentions what the question asks about."""
    return (f"Nothing published {_span_text(window)} mentions what you asked about, so I cannot "
            "answer from that time. Ask without the time to search all the coverage.")


def _after(moment: datetime) -> datetime:
    """The first moment after an exclusive `since` (itself, at the calendar's last microsecond)."""
    return moment if moment.replace(tzinfo=None) == datetime.max else moment + TICK


def _clock_text(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()
