"""Zone names a question may write after a clock time ("5:35 PM ET", "22:30 CET", "9 AM UTC+1").

An abbreviation is read as its region's IANA zone (tzdata, through zoneinfo), so that region's
daylight-saving rule applies on the day asked about: "5 PM EST" on a July day is 5 PM in New
York (EDT), as a writer who means Eastern time intends, and "10:30 PM CET" in summer is 10:30 PM
in Paris (CEST). zoneinfo keeps no table from abbreviations to zones (tzdata's abbreviations are
what each zone calls itself, and several zones share one), so the table is kept here and checked
against tzdata by the tests. An abbreviation that names clocks hours apart ("IST": India,
Ireland or Israel) is refused rather than guessed, as is a capitalised zone-like word the table
does not hold ("XYZT"): the reader is told to write the time's UTC offset instead.
"""

from __future__ import annotations

import re
from datetime import UTC, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from qa.errors import InvalidTime

# abbreviation (lower case) -> the IANA zone whose clock it names
REGIONS: dict[str, str] = {
    "et": "America/New_York", "est": "America/New_York", "edt": "America/New_York",
    "ct": "America/Chicago", "cst": "America/Chicago", "cdt": "America/Chicago",
    "mt": "America/Denver", "mst": "America/Denver", "mdt": "America/Denver",
    "pt": "America/Los_Angeles", "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles",
    "akst": "America/Anchorage", "akdt": "America/Anchorage", "hst": "Pacific/Honolulu",
    "adt": "America/Halifax", "nst": "America/St_Johns", "ndt": "America/St_Johns",
    "bst": "Europe/London", "cet": "Europe/Paris", "cest": "Europe/Paris",
    "eet": "Europe/Athens", "eest": "Europe/Athens", "msk": "Europe/Moscow",
    "sast": "Africa/Johannesburg", "pkt": "Asia/Karachi", "sgt": "Asia/Singapore",
    "hkt": "Asia/Hong_Kong", "jst": "Asia/Tokyo", "kst": "Asia/Seoul",
    "awst": "Australia/Perth", "acst": "Australia/Adelaide", "acdt": "Australia/Adelaide",
    "aest": "Australia/Sydney", "aedt": "Australia/Sydney",
    "nzst": "Pacific/Auckland", "nzdt": "Pacific/Auckland",
}
# Written by newsrooms though tzdata does not call the zone so (it writes "+08" for Singapore).
BY_USAGE = {"et", "ct", "mt", "pt", "sgt"}
# abbreviation -> the clocks it is used for, each with its offset
AMBIGUOUS: dict[str, str] = {
    "ist": "India (+05:30), Ireland (+01:00 in summer) or Israel (+02:00)",
    "ast": "Atlantic (-04:00) or Arabia (+03:00)",
    "sst": "Samoa (-11:00) or Singapore (+08:00)",
    "gst": "the Gulf (+04:00) or South Georgia (-02:00)",
}
# Capitalised words ending in T that are English, not zones ("AT 5 PM LAST NIGHT").
_NOT_ZONES = ("BUT", "NOT", "OUT", "GOT", "GET", "LET", "SET", "YET", "PUT", "CUT", "HIT",
              "LAST", "NEXT", "JUST", "PAST", "MOST", "LEAST", "EAST", "WEST", "POST", "THAT",
              "WHAT", "FIRST", "ABOUT", "MEANT", "SENT", "WENT", "LEFT", "TEXT")

_OFFSET = r"[+-]\d{2}:?\d{2}"
_UTC_PLUS = r"(?:utc|gmt)\s?[+-]\d{1,2}(?::?\d{2})?"  # "UTC+1", "GMT-05:00"
_WORDS = "|".join(sorted({*REGIONS, *AMBIGUOUS}, key=len, reverse=True))
_UNKNOWN = rf"(?!(?:{'|'.join(_NOT_ZONES)})\b)(?-i:[A-Z]{{2,4}}T)"
# A zone as a question writes it after a clock time; compiled case-insensitively by the caller.
ZONE = rf"(?:{_UTC_PLUS}|utc|gmt|z|{_OFFSET}|(?:{_WORDS})|{_UNKNOWN})\b"

# what a reader is told to write instead of a zone that cannot be read
HOW_TO_WRITE = ("write the time with its UTC offset ('10:30 PM +01:00', '22:30 UTC+1') or a zone "
                "newsqa reads (UTC, GMT, ET, CT, MT, PT, BST, CET, CEST, EET, JST, AEST, ...)")


def zone_named(word: str, phrase: str) -> tzinfo:
    """The zone `word` names (one ZONE matched); InvalidTime naming `phrase`, the question's time,
    for an offset past 24 hours, an ambiguous abbreviation or one this table does not hold."""
    key = re.sub(r"\s", "", word.lower())
    if key in ("utc", "gmt", "z"):
        return UTC
    if key[:3] in ("utc", "gmt"):
        key = key[3:]
    if key[0] in "+-":
        return _offset(key, word, phrase)
    if key in REGIONS:
        return ZoneInfo(REGIONS[key])
    why = (f"which is ambiguous: it is used for {AMBIGUOUS[key]}" if key in AMBIGUOUS
           else "which is not a zone newsqa knows")
    raise InvalidTime(f"the question's time {phrase!r} names the zone {word!r}, {why}; "
                      f"{HOW_TO_WRITE}")


def _offset(key: str, word: str, phrase: str) -> tzinfo:
    sign, digits = key[0], key[1:].replace(":", "")
    hours, minutes = (digits, "0") if len(digits) <= 2 else (digits[:-2], digits[-2:])
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    if int(minutes) > 59 or delta >= timedelta(hours=24):
        raise InvalidTime(f"the question's time {phrase!r} has {word!r}, which is not a UTC "
                          f"offset (at most 23:59 either way); {HOW_TO_WRITE}")
    return timezone(-delta if sign == "-" else delta)
