"""Fusing ranked lists from several retrievers into one."""

from __future__ import annotations

from collections.abc import Sequence


def reciprocal_rank_fusion(rankings: Sequence[Sequence[tuple[int, float]]],
                           weights: Sequence[float] | None = None,
                           k: float = 60.0) -> list[tuple[int, float]]:
    """Weighted RRF (Cormack et al. 2009): sum of w / (k + rank), rank starting at 1.

    Ties are broken by the smaller id so the result is deterministic.
    """
    weights = weights if weights is not None else [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"{len(rankings)} rankings but {len(weights)} weights")
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, (doc_id, _score) in enumerate(ranking, start=1):
            fused[doc_id] = fused.get(doc_id, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
