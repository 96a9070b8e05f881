"""Reading publication times: live-page stamps ("10/8/2025, 5:40:56 PM"), ISO 8601, bare dates.

A time without a zone takes the configured default zone, and the Timestamp records that the zone
was not stated, so it is shown as the page wrote it rather than with an invented offset; a bare
date stays date-only.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, tzinfo
from typing import overload

from qa.errors import InvalidTime
from qa.models import Timestamp

_US_STAMP = re.compile(
    r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?\s*$")
_SLASH_DATE = re.compile(r"^\s*(\d{4})/(\d{1,2})/(\d{1,2})\s*$")


@overload
def aware(moment: datetime, zone: tzinfo) -> datetime: ...


@overload
def aware(moment: None, zone: tzinfo) -> None: ...


def aware(moment: datetime | None, zone: tzinfo) -> datetime | None:
    """`moment` with a zone (one written without takes the configured `zone`), or None."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=zone)


def start_of(day: date, zone: tzinfo) -> Timestamp:
    return Timestamp(datetime.combine(day, time(0, 0), tzinfo=zone), date_only=True,
                     zone_stated=False)


def _us_stamp(match: re.Match[str], zone: tzinfo) -> Timestamp:
    month, day, year = int(match[1]), int(match[2]), int(match[3])
    if match[4] is None:
        return start_of(date(year, month, day), zone)
    hour, minute, second = int(match[4]), int(match[5]), int(match[6] or 0)
    if match[7]:
        if not 1 <= hour <= 12:
            raise ValueError(f"hour {hour} with {match[7]}")
        hour = hour % 12 + (12 if match[7].lower() == "pm" else 0)
    return Timestamp(datetime(year, month, day, hour, minute, second, tzinfo=zone),
                     zone_stated=False)


def parse_timestamp(text: str, zone: tzinfo) -> Timestamp:
    """Read `text` as a publication time, or raise InvalidTime naming it."""
    stamp = _parse(text, zone)
    try:  # 9999-12-31T23:59:59-14:00 is a time, but not one that exists in UTC
        stamp.moment.astimezone(UTC).timestamp()
    except (OverflowError, ValueError, OSError) as exc:
        raise InvalidTime(f"the time {text!r} is out of range: in UTC it falls outside the "
                          "years 1 to 9999; give a real publication time") from exc
    return stamp


def _parse(text: str, zone: tzinfo) -> Timestamp:
    value = text.strip()
    try:
        if match := _US_STAMP.match(value):
            return _us_stamp(match, zone)
        if match := _SLASH_DATE.match(value):
            return start_of(date(int(match[1]), int(match[2]), int(match[3])), zone)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return start_of(date.fromisoformat(value), zone)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return Timestamp(aware(moment, zone), zone_stated=moment.tzinfo is not None)
    except ValueError as exc:
        raise InvalidTime(
            f"cannot read the time {text!r}: {exc}. Write it as ISO 8601 "
            "('2025-10-08T17:40:56-04:00', or '2025-10-08' for a date) or as a live-page "
            "stamp ('10/8/2025, 5:40:56 PM')") from exc
