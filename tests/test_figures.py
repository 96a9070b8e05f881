"""The figure parser: what a journalist would see when asking when a number appeared."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.figures.extract import Figure, extract_figures, figure_matches, parse_figure_query

B, M = 1_000_000_000, 1_000_000

# text -> (kind, value, currency, noun, rate, qualifier) of its only figure
SPELLINGS: list[tuple[str, tuple[str, float, str | None, str | None, str | None, str | None]]] = [
    ("$28.7 billion", ("money", 28.7 * B, "USD", None, None, None)),
    ("a $3.75 million contract", ("money", 3.75 * M, "USD", None, None, None)),
    ("US$28,700,000,000", ("money", 28.7 * B, "USD", None, None, None)),
    ("28.7bn dollars", ("money", 28.7 * B, "USD", None, None, None)),
    ("$30 million", ("money", 30 * M, "USD", None, None, None)),
    ("$1.9 million", ("money", 1.9 * M, "USD", None, None, None)),
    ("€5m", ("money", 5 * M, "EUR", None, None, None)),
    ("£2.5 billion", ("money", 2.5 * B, "GBP", None, None, None)),
    ("$45 billion", ("money", 45 * B, "USD", None, None, None)),
    ("5 million dollars", ("money", 5 * M, "USD", None, None, None)),
    ("USD 12 million", ("money", 12 * M, "USD", None, None, None)),
    ("$1.2tn", ("money", 1.2e12, "USD", None, None, None)),
    ("$1.2 trillion", ("money", 1.2e12, "USD", None, None, None)),
    ("$500,000", ("money", 500_000, "USD", None, None, None)),
    ("$3.5k", ("money", 3_500, "USD", None, None, None)),
    ("$3.75m", ("money", 3.75 * M, "USD", None, None, None)),
    ("$2.1 mn", ("money", 2.1 * M, "USD", None, None, None)),
    ("$7B", ("money", 7 * B, "USD", None, None, None)),
    ("a $5 more expensive ticket", ("money", 5, "USD", None, None, None)),
    ("40 million euros", ("money", 40 * M, "EUR", None, None, None)),
    ("300 pounds", ("money", 300, "GBP", None, None, None)),
    ("2 billion US dollars", ("money", 2 * B, "USD", None, None, None)),
    ("$45 billion a year", ("money", 45 * B, "USD", None, "per year", None)),
    ("US$ 4.2bn, officials said.", ("money", 4.2 * B, "USD", None, None, None)),
    ("£2.5\u00a0billion", ("money", 2.5 * B, "GBP", None, None, None)),
    ("400%", ("percent", 400, None, None, None, None)),
    ("12.5 percent", ("percent", 12.5, None, None, None, None)),
    ("12.5 per cent", ("percent", 12.5, None, None, None, None)),
    ("about 3 percentage points", ("percent", 3, None, None, None, "about")),
    ("3,000 arrests", ("count", 3_000, None, "arrest", None, None)),
    ("1 million deportations", ("count", 1 * M, None, "deportation", None, None)),
    ("100,000 people", ("count", 100_000, None, "people", None, None)),
    ("3,000 arrests per day", ("count", 3_000, None, "arrest", "per day", None)),
    ("350,000 removals", ("count", 350_000, None, "removal", None, None)),
    ("200,000", ("count", 200_000, None, None, None, None)),
    ("12 cities", ("count", 12, None, "city", None, None)),
    ("500 agents a month", ("count", 500, None, "agent", "per month", None)),
    ("40 raids weekly", ("count", 40, None, "raid", "per week", None)),
    ("nearly 9,000 in detention", ("count", 9_000, None, None, None, "nearly")),
    ("more than 60,000 detainees", ("count", 60_000, None, "detainee", None, "more than")),
    ("at least 12 deaths", ("count", 12, None, "death", None, "at least")),
    ("up to $2 billion", ("money", 2 * B, "USD", None, None, "up to")),
    ("Approximately 70 percent", ("percent", 70, None, None, None, "approximately")),
    ("roughly 2.5m people", ("count", 2.5 * M, None, "people", None, "roughly")),
    ("almost 1,000 flights", ("count", 1_000, None, "flight", None, "almost")),
    ("less than 5%", ("percent", 5, None, None, None, "less than")),
    ("under 300 beds", ("count", 300, None, "bed", None, "under")),
    ("around $1 billion", ("money", 1 * B, "USD", None, None, "around")),
]


def only(text: str) -> Figure:
    figures = extract_figures(text)
    assert len(figures) == 1, figures
    return figures[0]


@pytest.mark.parametrize(("text", "expected"), SPELLINGS, ids=[t for t, _ in SPELLINGS])
def test_real_world_spellings(
    text: str, expected: tuple[str, float, str | None, str | None, str | None, str | None]
) -> None:
    f = only(text)
    kind, value, currency, noun, rate, qualifier = expected
    assert (f.kind, f.currency, f.noun, f.rate, f.qualifier) == (
        kind, currency, noun, rate, qualifier
    )  # fmt: skip
    assert math.isclose(f.value, value, rel_tol=1e-12)
    assert text[f.start : f.end] == f.surface
    if qualifier is not None:
        assert qualifier not in f.surface.lower()


def test_article_sentence_gives_two_budgets_and_no_years() -> None:
    text = (
        "In 2025, Congress allocated $28.7 billion to ICE—nearly triple its 2024 budget—"
        "with $45 billion planned over four years"
    )
    figures = extract_figures(text)
    assert [(f.surface, f.value, f.currency) for f in figures] == [
        ("$28.7 billion", 28_700_000_000.0, "USD"),
        ("$45 billion", 45_000_000_000.0, "USD"),
    ]


def test_ballooning_budget_is_qualified_as_nearly() -> None:
    f = only("a deportation budget ballooning to nearly $29 billion in 2025")
    assert (f.surface, f.value, f.qualifier) == ("$29 billion", 29e9, "nearly")


def test_arrest_surge_reads_both_rates() -> None:
    text = "a surge to 3,000 arrests per day aimed at over 1 million deportations annually"
    arrests, deportations = extract_figures(text)
    assert (arrests.value, arrests.noun, arrests.rate, arrests.qualifier) == (
        3000.0, "arrest", "per day", None
    )  # fmt: skip
    assert arrests.surface == "3,000 arrests per day"
    assert (deportations.value, deportations.noun, deportations.rate, deportations.qualifier) == (
        1e6, "deportation", "per year", "over"
    )  # fmt: skip


def test_contract_before_citation_brackets() -> None:
    text = (
        "a recent $3.75 million contract with Clearview AI supports "
        "Homeland Security Investigations[1][3]"
    )
    f = only(text)
    assert (f.kind, f.value, f.currency) == ("money", 3_750_000.0, "USD")
    assert f.surface == "$3.75 million"


def test_percent_rise() -> None:
    f = only("a 400% rise in detention funding")
    assert (f.kind, f.value, f.surface) == ("percent", 400.0, "400%")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$10-$12 million", [("$10", 10e6, "USD"), ("$12 million", 12e6, "USD")]),
        ("$10-12 million", [("$10", 10e6, "USD"), ("12 million", 12e6, "USD")]),
        ("a $10-12 million contract", [("$10", 10e6, "USD"), ("12 million", 12e6, "USD")]),
        ("10–12 million dollars", [("10", 10e6, "USD"), ("12 million dollars", 12e6, "USD")]),
        ("3-4%", [("3", 3.0, None), ("4%", 4.0, None)]),
        ("between 3,000 and 4,000 arrests", [("3,000", 3e3, None), ("4,000 arrests", 4e3, None)]),
        ("from 2 to 3 million people", [("2", 2e6, None), ("3 million people", 3e6, None)]),
        ("between 3,000 and 4 million", [("3,000", 3e3, None), ("4 million", 4e6, None)]),
    ],
)
def test_ranges_give_both_ends_with_shared_units(
    text: str, expected: list[tuple[str, float, str | None]]
) -> None:
    figures = extract_figures(text)
    assert [(f.surface, f.value, f.currency) for f in figures] == expected
    assert len({f.kind for f in figures}) == 1


def test_range_ends_share_the_noun() -> None:
    low, high = extract_figures("between 3,000 and 4,000 arrests per day")
    assert (low.noun, low.rate) == (high.noun, high.rate) == ("arrest", "per day")


@pytest.mark.parametrize(
    "text",
    [
        "October 8, 2025",
        "Updated: Oct. 8, 2025, 5:40:56 PM EDT",
        "10/8/2025",
        "2025-10-08",
        "the 2024-25 budget",
        "at 5:40 PM",
        "at 5 p.m. on Tuesday",
        "8 October 2025",
        "In 2025, and again in 1999",
        "the 2024 budget",
        "FY2025 and FY 2026",
        "Homeland Security Investigations[1][3]",
        "as reported [5] and [12, 14]",
        "the 4th and 21st arrests",
        "Season 2",
        "Title 42 and Section 8",
        "No. 5 on the list",
        "COVID-19 and 5G",
        "the 1990s",
        "nearly triple its budget",
        "three million people",
        "24/7 operations",
        "version 1.2.3",
        "",
    ],
)
def test_texts_without_figures(text: str) -> None:
    assert extract_figures(text) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("$28.7 billion", ("money", 28.7e9, "USD", None)),
        ("28.7bn", ("count", 28.7e9, None, None)),
        ("$3.75m", ("money", 3.75e6, "USD", None)),
        ("400%", ("percent", 400.0, None, None)),
        ("3,000 arrests", ("count", 3000.0, None, "arrest")),
        ("when did $45 billion first appear?", ("money", 45e9, "USD", None)),
    ],
)
def test_parse_figure_query(
    query: str, expected: tuple[str, float, str | None, str | None]
) -> None:
    f = parse_figure_query(query)
    assert f is not None
    assert (f.kind, f.value, f.currency, f.noun) == expected
    assert query[f.start : f.end] == f.surface


@pytest.mark.parametrize("query", ["ICE budget", "ICE budget in 2025", "Season 2 of the raids", ""])
def test_topic_queries_are_not_figures(query: str) -> None:
    assert parse_figure_query(query) is None


def q(text: str) -> Figure:
    f = parse_figure_query(text)
    assert f is not None
    return f


@pytest.mark.parametrize(
    ("query", "found_in", "expected"),
    [
        ("$28.7 billion", "nearly $29 billion", "approximate"),
        ("$28.7 billion", "US$28,700,000,000", "exact"),
        ("$28.7 billion", "28.7bn dollars", "exact"),
        ("$28.7 billion", "$30 billion", "approximate"),  # 4.3% off
        ("$28.7 billion", "$31 billion", None),  # 7.4% off
        ("$3.75 million", "$28.7 billion", None),
        ("$5m", "€5m", None),
        ("28.7bn", "$28.7 billion", "exact"),  # a bare number has no unit to disagree with
        ("400%", "400 percent", "exact"),
        ("400%", "400 arrests", None),
        ("3,000 arrests", "3,000 arrests per day", "exact"),
        ("3,000 arrests", "3,000 deportations", None),
        ("3,000 arrest", "3,000 Arrests", "exact"),
        ("3,000 arrests per day", "3,000 arrests a year", None),
        ("3000", "2,950 removals", "approximate"),
        ("1 million deportations", "1 million", "exact"),
    ],
)
def test_figure_matches(query: str, found_in: str, expected: str | None) -> None:
    assert figure_matches(q(query), only(found_in)) == expected


def test_tolerance_is_adjustable() -> None:
    query, found = q("$28.7 billion"), only("$31 billion")
    assert figure_matches(query, found, rel_tolerance=0.1) == "approximate"
    assert figure_matches(q("$28.7 billion"), only("nearly $29 billion"), 0.0) is None
    with pytest.raises(ValueError, match="-0.1"):
        figure_matches(query, found, rel_tolerance=-0.1)


SCALES = {
    "": 1, " thousand": 10**3, "k": 10**3, " million": 10**6, "m": 10**6, "mn": 10**6,
    " mn": 10**6, " billion": 10**9, "bn": 10**9, " bn": 10**9, "b": 10**9, "B": 10**9,
    " trillion": 10**12, "tn": 10**12, "T": 10**12, " Million": 10**6,
}  # fmt: skip
CURRENCIES = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "USD ": "USD", "GBP ": "GBP"}
SUFFIXES = {" dollars": "USD", " euros": "EUR", " pounds": "GBP", " USD": "USD"}


@st.composite
def money_texts(draw: st.DrawFn) -> tuple[str, float, str]:
    units = draw(st.integers(min_value=1, max_value=10**9))
    places = draw(st.integers(min_value=0, max_value=3))
    mantissa = Decimal(units).scaleb(-places)
    digits = draw(st.sampled_from([f"{mantissa:f}", f"{mantissa:,f}"]))
    scale = draw(st.sampled_from(sorted(SCALES)))
    if draw(st.booleans()):
        symbol = draw(st.sampled_from(sorted(CURRENCIES)))
        figure, currency = f"{symbol}{digits}{scale}", CURRENCIES[symbol]
    else:
        word = draw(st.sampled_from(sorted(SUFFIXES)))
        figure, currency = f"{digits}{scale}{word}", SUFFIXES[word]
    before = draw(st.sampled_from(["", "In 2025, Congress gave ", "a deal worth "]))
    after = draw(st.sampled_from(["", " to ICE.", ", up from 2024[1]", " over four years"]))
    return before + figure + after, float(mantissa * SCALES[scale]), currency


@settings(max_examples=300, deadline=None)
@given(money_texts())
def test_money_round_trips(case: tuple[str, float, str]) -> None:
    text, value, currency = case
    (f,) = extract_figures(text)
    assert (f.kind, f.currency) == ("money", currency)
    assert math.isclose(f.value, value, rel_tol=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1000, max_value=10**12), st.sampled_from(["arrests", "people"]))
def test_counts_round_trip(n: int, noun: str) -> None:
    (f,) = extract_figures(f"officials reported {n:,} {noun} on Tuesday")
    assert (f.kind, f.value, f.surface) == ("count", float(n), f"{n:,} {noun}")


TOKENS = list("0123456789$€£%,.-–:/[] kmbtKMBT") + [
    " million", " billion", "bn", " per day", " a year", "nearly ", "between ", " and ",
    " to ", " dollars", " arrests", "US$", "USD ", " percent", "October ", "Season ", "20",
]  # fmt: skip
garbage = st.one_of(st.text(), st.lists(st.sampled_from(TOKENS), max_size=40).map("".join))


@settings(max_examples=500, deadline=None)
@given(garbage)
def test_any_text_gives_sorted_non_overlapping_figures_at_their_offsets(text: str) -> None:
    figures = extract_figures(text)
    for f in figures:
        assert text[f.start : f.end] == f.surface
        assert f.surface and math.isfinite(f.value) and f.value >= 0
    for a, b in zip(figures, figures[1:], strict=False):
        assert a.end <= b.start


@pytest.mark.parametrize(("text", "read"), [
    ("Revenue rose 4% to $2.1 billion in May.", [("4%", 4.0), ("$2.1 billion", 2.1e9)]),
    ("Ridership rose by 250 to 1.1 million riders.", [("250", 250.0),
                                                      ("1.1 million riders", 1.1e6)]),
    ("Between 2 and 3 million people left.", [("2", 2e6), ("3 million people", 3e6)]),
    ("Costs rose from 3% to 5% a year.", [("3%", 3.0), ("5% a year", 5.0)]),
])
def test_a_change_then_a_level_is_not_a_range(text: str, read: list[tuple[str, float]]) -> None:
    assert [(f.surface, f.value) for f in extract_figures(text)] == read


@pytest.mark.parametrize(("text", "read"), [
    ("It will cost $10 million-$12 million.", [("$10 million", 1e7, "USD"), ("$12 million", 1.2e7, "USD")]),
    ("About 2 million-3 million commuters.", [("2 million", 2e6, None),
                                               ("3 million commuters", 3e6, None)]),
    ("COVID-19 cases and F-35 jets.", []),
])
def test_a_hyphen_after_a_scale_word_starts_the_second_end(
        text: str, read: list[tuple[str, float, str | None]]) -> None:
    assert [(f.surface, f.value, f.currency) for f in extract_figures(text)] == read
