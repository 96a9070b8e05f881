"""News-aware re-ranking of retrieved passages: fresher coverage first, all else equal.

A question is asked at a moment (`as_of`, or now). A passage's fused score is multiplied by
`1 + weight * 0.5 ** (age_days / half_life_days)`, so text published just before the moment
gains up to `weight` and text a few half-lives old gains almost nothing. Passages with no known
time get no boost.

A half-life of days cannot order updates published minutes apart. For a question about how things
stand now ("the latest crest", "as of 11:30 AM"), `newest_first` lets the newest of the answer's
equally relevant sentences lead; no other ordering changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from qa.models import Passage

T = TypeVar("T")


@dataclass(frozen=True)
class RecencySettings:
    weight: float = 1.0          # 0 turns the prior off
    half_life_days: float = 30.0
    candidates: int = 50          # passages re-ranked (the top of the fused list)


def recency_boost(published: datetime | None, moment: datetime, settings: RecencySettings) -> float:
    if published is None or settings.weight <= 0:
        return 1.0
    age_days = max((moment - published).total_seconds() / 86400.0, 0.0)
    return 1.0 + settings.weight * 0.5 ** (age_days / settings.half_life_days)


def rerank_by_recency(passages: list[Passage], moment: datetime,
                      settings: RecencySettings) -> list[Passage]:
    """`passages` re-scored by freshness relative to `moment`, best first (stable on ties)."""
    if settings.weight <= 0:
        return passages
    rescored = [replace(p, score=p.score * recency_boost(
        p.chunk.timestamp.moment if p.chunk.timestamp else None, moment, settings))
        for p in passages]
    return sorted(rescored, key=lambda p: -p.score)


def newest_first(items: Sequence[T], moment: Callable[[T], datetime | None],
                 as_relevant: Callable[[T], bool]) -> list[T]:
    """`items` (best first) with the newest of those `as_relevant` as the best moved to the
    front, the rest in their order; unchanged when none of them has a known time."""
    known = [(m, -i) for i, item in enumerate(items)
             if as_relevant(item) and (m := moment(item)) is not None]
    if not known:
        return list(items)
    lead = -max(known)[1]
    return [items[lead], *items[:lead], *items[lead + 1:]]
