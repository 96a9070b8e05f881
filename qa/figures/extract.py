"""Numeric figures in news text (money, counts, percentages), normalised so they can be matched.

Journalists ask when a number first appeared in a live story and how it changed; at ingest every
figure is extracted with its offsets, and a query figure is compared against them.

Choices, so a reader need not reverse-engineer them:
- Only figures written with digits are read: "three million" and "nearly triple" are skipped.
- Money needs a currency: a prefix ($, US$, €, £, USD, EUR, GBP) or a following word
  (dollars, euros, pounds, USD, EUR, GBP). Scale words: thousand/k, million/m/mn, billion/bn/b,
  trillion/tn/t; the one-letter forms only when attached ("$3.75m"), never "$5 m" or "$5 more".
- A count is any other number, with the next word as its noun unless that word is a stopword
  ("3,000 arrests" -> noun "arrest"). Nouns are stored as `lemma()` gives them.
- Not figures: bare years 1900-2100 ("in 2025", "2024 budget", "FY2025"; "2000 troops" is lost
  too, "2,000 troops" is not), dates ("October 8, 2025", "10/8/2025"), times ("5:40:56 PM",
  "5 p.m."), citation brackets ("[1][3]"), ordinals ("4th"), numbers glued to letters ("5G",
  "COVID-19", "1990s") and labels ("Season 2", "Title 42", "No. 5").
- Ranges ("$10-$12 million", "$10-12 million", "3-4%", "between 3,000 and 4,000 arrests", "from
  2 to 3 million") give one figure per end. An end that lacks a unit borrows the other end's:
  scale (only for a first end under 1,000, so "3,000 to 4 million" stays 3,000), currency,
  percent, noun and rate. Each surface stays as written: "$10" in "$10-12 million" is worth
  10,000,000.
- Signs are ignored ("-5%" is 5 percent); decimal commas ("1,5 million") are not read.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Literal

FigureKind = Literal["money", "count", "percent"]
MatchKind = Literal["exact", "approximate"]

EXACT_REL_TOLERANCE = 1e-9
MAX_TOLERANCE = 0.5  # the widest tolerance a look-up may ask for
DEFAULT_REL_TOLERANCE = 0.05  # "nearly $29 billion" is 1% from $28.7 billion; $30 billion is 4.5%


@dataclass(frozen=True, slots=True)
class Figure:
    """One number as written in a text, with what it counts and its value normalised.

    `start`/`end` are offsets into the text given: text[start:end] == surface. The surface
    excludes the qualifier ("nearly") but includes noun and rate ("3,000 arrests per day").
    """

    kind: FigureKind
    value: float
    currency: str | None
    noun: str | None
    rate: str | None
    qualifier: str | None
    start: int
    end: int
    surface: str


@dataclass(frozen=True)
class _Raw:
    """A figure while it is being read: the number as written and the units found around it."""

    start: int
    end: int
    number_end: int  # where the number and its scale word end, before any unit or noun
    number: Decimal
    scale: Decimal | None
    currency: str | None
    percent: bool
    noun: str | None
    rate: str | None

    @property
    def kind(self) -> FigureKind:
        if self.currency is not None:
            return "money"
        return "percent" if self.percent else "count"


_SCALES = {
    "thousand": 3, "k": 3,
    "million": 6, "m": 6, "mn": 6,
    "billion": 9, "b": 9, "bn": 9,
    "trillion": 12, "t": 12, "tn": 12,
}  # fmt: skip
_PREFIX_CURRENCIES = {"US$": "USD", "$": "USD", "€": "EUR", "£": "GBP"}
_WORD_CURRENCIES = {"dollar": "USD", "euro": "EUR", "pound": "GBP"}
_RATES = {
    "day": "per day", "daily": "per day",
    "week": "per week", "weekly": "per week",
    "month": "per month", "monthly": "per month",
    "year": "per year", "yr": "per year", "annum": "per year",
    "annually": "per year", "yearly": "per year",
}  # fmt: skip
_STOPWORD_TEXT = """
    a about above across after against ago all along also among an and annually any are around as
    at be been before being below between but by can could daily did do down during each either
    every for from had has have he her his how i if in into is it its last less may might monthly
    more most my near neither next no nor not of off on onto or our out over per plus since so
    some than that the their them then there these they this those through times to toward
    towards under until up upon via was we weekly were what when where which while who whom whose
    why will with within without would yearly you your
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_MONTHS = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
)
# Not after a word and a hyphen ("COVID-19"), unless that word is a scale ("$10 million-$12 million").
_CORE = re.compile(
    r"(?<![\w.,:/])(?:(?<![A-Za-z]-)|(?<=illion-)|(?<=thousand-))"
    r"(?P<prefix>(?:US\$|\$|€|£|USD|EUR|GBP)\s?)?"
    r"(?P<num>[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?)"
    r"(?![.,:/][0-9])"
    r"(?:\s?(?P<word>thousand|million|billion|trillion|mn|bn|tn)(?![A-Za-z0-9])"
    r"|(?P<letter>[kmbt])(?![A-Za-z0-9]))?"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"\s?%|\s(?:per\s?cent|pct|percentage\s+points?)\b", re.IGNORECASE)
_CURRENCY_AFTER = re.compile(
    r"\s+(?:U\.?S\.?\s+)?(?:(?P<word>dollar|euro|pound)s?|(?P<code>USD|EUR|GBP))\b", re.IGNORECASE
)
_NOUN = re.compile(r"\s+(?P<word>[A-Za-z]+(?:-[A-Za-z]+)*)")
_RATE = re.compile(
    r"(?:\s*/\s*|\s+(?:per|a|an|each|every)\s+)(?P<unit>day|week|month|year|annum|yr)\b"
    r"(?!\s+(?:ago|earlier|later|before|after)\b)"
    r"|\s+(?P<adverb>daily|weekly|monthly|annually|yearly)\b",
    re.IGNORECASE,
)
_QUALIFIER = re.compile(
    r"\b(?P<q>more than|less than|fewer than|at least|up to|close to|nearly|almost|about"
    r"|around|approximately|roughly|over|under)\s+$",
    re.IGNORECASE,
)
# The qualifiers that put the value on one side of the number: "more than 3,000" is at least
# 3,000, "nearly $29 billion" at most $29 billion; the others ("about") leave either side.
AT_LEAST_QUALIFIERS = frozenset({"more than", "at least", "over"})
AT_MOST_QUALIFIERS = frozenset({"less than", "fewer than", "up to", "nearly", "almost", "under"})
_CITATION_OR_ISO_DATE = re.compile(
    r"\[[0-9]+(?:\s*[,–-]\s*[0-9]+)*\]"  # [5], [1][3], [12, 14]
    r"|\b(?:19|20)[0-9]{2}[-–/][0-9]{2}(?:[-–/][0-9]{2})?\b"  # 2025-10-08, 2024-25
)
_YEAR = re.compile(r"(?:19[0-9]{2}|20[0-9]{2}|2100)")
_MONTH_BEFORE = re.compile(_MONTHS + r"\.?\s+$")
_LABEL_BEFORE = re.compile(
    r"(?:\b(?:Season|Episode|Chapter|Section|Article|Part|Volume|Vol\.|No\.|Page|Figure|Fig\."
    r"|Table|Phase|Round|Level|Title|Act|Game|Week|Day|Step|Stage|Version|Item|Rule|Amendment"
    r"|Flight|Route|District)|#)\s*$"
)
_MONTH_AFTER = re.compile(r"\s+" + _MONTHS + r"\b")
_TIME_AFTER = re.compile(r"\s*(?:[ap]\.?m\b\.?|o'clock\b|GMT\b|UTC\b)", re.IGNORECASE)
_RANGE_GAP = re.compile(r"\s*[-–]\s*|\s+to\s+")
_AND_GAP = re.compile(r"\s+and\s+")
_BETWEEN_BEFORE = re.compile(r"\bbetween\s+$", re.IGNORECASE)
_BY_BEFORE = re.compile(r"\bby\s+\S?$", re.IGNORECASE)
_LOOKBACK = 40


def lemma(word: str) -> str:
    """The simple lemma used for nouns: lower case, one plural "s" dropped ("cities" -> "city")."""
    w = word.lower()
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("ss", "us", "is")) or not w.endswith("s"):
        return w
    return w[:-1]


def extract_figures(text: str) -> list[Figure]:
    """Every figure written with digits in `text`, in text order and non-overlapping."""
    blocked = {i for m in _CITATION_OR_ISO_DATE.finditer(text) for i in range(m.start(), m.end())}
    raws: list[_Raw] = []
    for m in _CORE.finditer(text):
        if m.start() in blocked or (raws and m.start() < raws[-1].end):
            continue
        raw = _read(text, m)
        if raw is not None:
            raws.append(raw)
    figures = (_to_figure(text, raw) for raw in _join_ranges(text, raws))
    return [f for f in figures if f is not None]


def parse_figure_query(query: str) -> Figure | None:
    """First figure in a query ("$28.7 billion", "28.7bn"), or None for a topic ("ICE budget")."""
    figures = extract_figures(query)
    return figures[0] if figures else None


def figure_matches(
    query: Figure, found: Figure, rel_tolerance: float = DEFAULT_REL_TOLERANCE
) -> MatchKind | None:
    """Whether `found` states the `query` figure: "exact", "approximate", or None.

    Exact is equal within 1e-9 relative; approximate within `rel_tolerance` (default 5%) of the
    larger value, so "nearly $29 billion" approximates "$28.7 billion". Units must agree:
    same kind, same currency, nouns with the same lemma and rates when both give one. A bare
    query number ("28.7bn", "200,000": a count with no noun or rate) has no unit to disagree
    with and may match a figure of any kind.
    """
    if rel_tolerance < 0:
        raise ValueError(f"rel_tolerance must be >= 0, got {rel_tolerance!r}")
    if not _units_agree(query, found):
        return None
    if math.isclose(query.value, found.value, rel_tol=EXACT_REL_TOLERANCE):
        return "exact"
    if math.isclose(query.value, found.value, rel_tol=rel_tolerance):
        return "approximate"
    return None


def _units_agree(query: Figure, found: Figure) -> bool:
    bare = query.kind == "count" and query.noun is None and query.rate is None
    if query.kind != found.kind and not bare:
        return False
    return (
        _agree(query.currency, found.currency)
        and _agree(query.noun, found.noun)
        and _agree(query.rate, found.rate)
    )


def _agree(a: str | None, b: str | None) -> bool:
    return a is None or b is None or lemma(a) == lemma(b)


def _read(text: str, m: re.Match[str]) -> _Raw | None:
    """The figure starting at a number match, or None when the number is a year, date or label."""
    prefix = (m["prefix"] or "").strip().upper()
    currency = _PREFIX_CURRENCIES.get(prefix, prefix or None)
    pos = m.end()
    percent = False
    if currency is None:
        percent, pos = _percent_after(text, pos)
    if currency is None and not percent:
        currency, pos = _currency_after(text, pos)
    noun = None
    if currency is None and not percent:
        noun, pos = _noun_after(text, pos)
    rate, pos = _rate_after(text, pos)
    raw = _Raw(m.start(), pos, m.end(), Decimal(m["num"].replace(",", "")), _scale(m),
               currency, percent, noun, rate)  # fmt: skip
    return None if _is_not_a_figure(text, m, raw) else raw


def _scale(m: re.Match[str]) -> Decimal | None:
    word = m["word"] or m["letter"]
    return None if word is None else Decimal(10) ** _SCALES[word.lower()]


def _percent_after(text: str, pos: int) -> tuple[bool, int]:
    m = _PERCENT.match(text, pos)
    return (True, m.end()) if m else (False, pos)


def _currency_after(text: str, pos: int) -> tuple[str | None, int]:
    m = _CURRENCY_AFTER.match(text, pos)
    if m is None:
        return None, pos
    code = _WORD_CURRENCIES[m["word"].lower()] if m["word"] else m["code"].upper()
    return code, m.end()


def _noun_after(text: str, pos: int) -> tuple[str | None, int]:
    m = _NOUN.match(text, pos)
    if m is None or len(m["word"]) < 2 or m["word"].lower() in _STOPWORDS:
        return None, pos
    return lemma(m["word"]), m.end()


def _rate_after(text: str, pos: int) -> tuple[str | None, int]:
    m = _RATE.match(text, pos)
    if m is None:
        return None, pos
    return _RATES[(m["unit"] or m["adverb"]).lower()], m.end()


def _is_not_a_figure(text: str, m: re.Match[str], raw: _Raw) -> bool:
    """A plain number that is a year, part of a date or time, or a label such as "Season 2"."""
    if raw.kind != "count" or raw.scale is not None:
        return False
    if _YEAR.fullmatch(m["num"]):
        return True
    before = text[max(0, m.start() - _LOOKBACK) : m.start()]
    if _MONTH_BEFORE.search(before) or _LABEL_BEFORE.search(before):
        return True
    return bool(_MONTH_AFTER.match(text, m.end()) or _TIME_AFTER.match(text, m.end()))


def _join_ranges(text: str, raws: list[_Raw]) -> list[_Raw]:
    """Let the two ends of each range ("$10-12 million") share the units only one end states."""
    out = list(raws)
    for i in range(len(out) - 1):
        if _is_range(text, out[i], out[i + 1]):
            out[i], out[i + 1] = _share_units(out[i], out[i + 1])
    return out


def _is_range(text: str, a: _Raw, b: _Raw) -> bool:
    gap = text[a.end : b.start]
    if a.percent and not b.percent or a.kind == "money" and b.percent:
        return False  # "rose 4% to $2.1 billion": a change, then a level ("3-4%" is a range)
    if _RANGE_GAP.fullmatch(gap):  # but "rose by 250 to 1.1 million" is a change, then a level
        return not (gap.strip() == "to" and _BY_BEFORE.search(text[max(0, a.start - 8) : a.start]))
    before = text[max(0, a.start - _LOOKBACK) : a.start]
    return _AND_GAP.fullmatch(gap) is not None and _BETWEEN_BEFORE.search(before) is not None


def _share_units(a: _Raw, b: _Raw) -> tuple[_Raw, _Raw]:
    if a.scale is None and b.scale is not None and a.number < 1000:
        a = replace(a, scale=b.scale)
    if a.kind == "count" and a.noun is None:
        a = replace(a, currency=b.currency, percent=b.percent, noun=b.noun)
    elif a.kind == "money" and b.kind == "count" and (b.noun is None or b.scale is not None):
        b = _as_money(b, a.currency)
    return replace(a, rate=a.rate or b.rate), b


def _as_money(raw: _Raw, currency: str | None) -> _Raw:
    """The second end of a money range, minus the noun it was read with ("12 million contract")."""
    if raw.noun is None:
        return replace(raw, currency=currency)
    return replace(raw, currency=currency, noun=None, rate=None, end=raw.number_end)


def _to_figure(text: str, raw: _Raw) -> Figure | None:
    value = float(raw.number * (raw.scale or 1))
    if not math.isfinite(value):
        return None
    q = _QUALIFIER.search(text[max(0, raw.start - _LOOKBACK) : raw.start])
    return Figure(
        kind=raw.kind,
        value=value,
        currency=raw.currency,
        noun=raw.noun,
        rate=raw.rate,
        qualifier=q["q"].lower() if q else None,
        start=raw.start,
        end=raw.end,
        surface=text[raw.start : raw.end],
    )
