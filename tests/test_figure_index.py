"""The figure index held in columns finds exactly what a plain list of figures would.

The reference is the simplest index there is: every section's `FigureAt` values in a dict, a
look-up by value a stable sort of all of them. Random writes, replacements and deletions
(enough to make the index compact its columns) must leave both giving the same answers.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from qa.figures.index import RECORD_FIELDS, FigureAt, FigureIndex
from qa.records import stamp_from_json

NOUNS = (None, "arrests", "riders", "homes")


def _record(rng: random.Random, day: int) -> dict[str, Any]:
    rows = []
    for n in range(rng.randrange(0, 5)):
        kind = rng.choice(("money", "count", "percent"))
        value = rng.choice((3.0, 5.0, 12.5, 1e6, 2.5e9, float(rng.randrange(100))))
        start = 10 * n
        rows.append([kind, value, "USD" if kind == "money" else None, rng.choice(NOUNS),
                     rng.choice((None, "per day")), rng.choice((None, "nearly")), start,
                     start + 4, f"{value:g} units", max(0, start - 3), start + 9,
                     rng.choice((None, "Latest", "Background"))])
    stamp = None if day < 0 else {"moment": f"2026-11-{1 + day:02d}T09:00:00+00:00",
                                  "date_only": False, "zone_stated": True}
    return {"timestamp": stamp, "fields": list(RECORD_FIELDS), "figures": rows}


def _figures(article_id: str, sid: str, record: dict[str, Any]) -> tuple[FigureAt, ...]:
    stamp = stamp_from_json(record["timestamp"])
    return tuple(FigureAt(k, float(v), c, n, r, q, s, e, surface, article_id=article_id,
                          sid=sid, quote_start=qs, quote_end=qe, heading=h, timestamp=stamp)
                 for k, v, c, n, r, q, s, e, surface, qs, qe, h in record["figures"])


class Reference:
    def __init__(self) -> None:
        self.sections: dict[tuple[str, str], tuple[FigureAt, ...]] = {}

    def put(self, article_id: str, records: dict[str, dict[str, Any]]) -> None:
        for sid, record in records.items():
            self.sections[(article_id, sid)] = _figures(article_id, sid, record)

    def remove(self, article_id: str) -> None:
        for key in [k for k in self.sections if k[0] == article_id]:
            del self.sections[key]

    def between(self, low: float, high: float) -> list[FigureAt]:
        flat = [f for figures in self.sections.values() for f in figures]
        return sorted((f for f in flat if low <= f.value <= high), key=lambda f: f.value)

    def article(self, article_id: str) -> list[FigureAt]:
        found = [f for (a, _), figures in self.sections.items() if a == article_id for f in figures]
        return sorted(found, key=FigureAt.order_key)


def _same(index: FigureIndex, ref: Reference, articles: list[str]) -> None:
    assert len(index) == sum(len(f) for f in ref.sections.values())
    for low, high in ((0, 4), (3, 3), (5, 13), (1e6, 3e9), (-1, 1e12)):
        assert index.between(low, high) == ref.between(low, high)
    for article_id in articles:
        assert index.article(article_id) == ref.article(article_id)
        for sid in ("body", "u1", "u2"):
            assert index.has_section(article_id, sid) == ((article_id, sid) in ref.sections)
            assert index.section(article_id, sid) == ref.sections.get((article_id, sid), ())


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_columns_answer_as_a_list_of_figures_would(seed: int) -> None:
    rng = random.Random(seed)
    articles = [f"story-{n}" for n in range(6)]
    index, ref = FigureIndex(), Reference()
    for _ in range(rng.randrange(5, 60)):
        article_id = rng.choice(articles)
        if rng.random() < 0.25:
            index.remove_article(article_id)
            ref.remove(article_id)
        else:
            records = {sid: _record(rng, rng.randrange(-1, 20))
                       for sid in rng.sample(("body", "u1", "u2"), rng.randrange(1, 4))}
            index.put_records(article_id, records)
            ref.put(article_id, records)
    _same(index, ref, articles)


def test_many_replacements_compact_without_losing_a_figure() -> None:
    rng = random.Random(7)
    index, ref = FigureIndex(), Reference()
    for n in range(3000):  # the same two sections rewritten: most rows become unreachable
        records = {"body": _record(rng, n % 20), "u1": _record(rng, 5)}
        index.put_records(f"story-{n % 2}", records)
        ref.put(f"story-{n % 2}", records)
    index.remove_article("story-0")
    ref.remove("story-0")
    _same(index, ref, ["story-0", "story-1"])


def test_a_record_in_another_layout_is_left_out_for_re_extraction() -> None:
    rng = random.Random(3)
    good = _record(rng, 1)
    good["figures"].append(["money", 7.0, "USD", None, None, None, 0, 2, "$7", 0, 3, None])
    old_layout = {**good, "fields": ["kind", "value"]}
    short_row = {**good, "figures": [["money", 7.0]]}
    index = FigureIndex.from_records([("a|body", good), ("b|body", old_layout),
                                      ("c|body", short_row)])
    assert index.has_section("a", "body")
    assert not index.has_section("b", "body") and not index.has_section("c", "body")
    assert index.section("a", "body") == _figures("a", "body", good)
