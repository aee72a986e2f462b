"""The arithmetic of the benchmark table: median and spread of repeats, ratios, nearest-rank percentiles, and
how time grows with the number of profiles. Pure functions (tests/unit/test_benchmark_stats.py)."""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Repeats:
    """Seconds of one measurement repeated."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def spread(self) -> tuple[float, float]:
        return min(self.values), max(self.values)

    def text(self) -> str:
        low, high = self.spread
        return f"{self.median:.1f} s (min {low:.1f}, max {high:.1f}, n={len(self.values)})"


def ratio(ours: Repeats, theirs: Repeats) -> float:
    """Median over median; the spread of each is shown beside it."""
    if theirs.median <= 0:
        raise ValueError("the baseline's median must be positive")
    return ours.median / theirs.median


def percentile(values: list[float], q: float) -> float:
    """Nearest rank (q in 0..100): the smallest value with at least q% of the values at or below it."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def per_unit_growth(points: dict[int, float]) -> list[float]:
    """Seconds added per extra profile between consecutive sizes, e.g. {1: 5, 10: 8, 50: 20} → [1/3, 0.3]."""
    sizes = sorted(points)
    return [(points[b] - points[a]) / (b - a) for a, b in itertools.pairwise(sizes)]


def linear_or_better(points: dict[int, float], tolerance: float = 1.25) -> bool:
    """True when no step costs more per profile than the first step did (times `tolerance` for noise):
    time grows at most linearly with the number of profiles."""
    steps = per_unit_growth(points)
    return all(step <= max(steps[0], 0) * tolerance + 1e-9 for step in steps[1:]) if steps else True
