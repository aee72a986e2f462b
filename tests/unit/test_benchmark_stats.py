"""benchmarks/stats.py: the numbers the README's benchmark table is made of."""

from __future__ import annotations

import pytest

from benchmarks.stats import Repeats, linear_or_better, per_unit_growth, percentile, ratio


def test_median_spread_and_text() -> None:
    r = Repeats((3.0, 1.0, 2.0, 10.0))
    assert r.median == 2.5 and r.spread == (1.0, 10.0)
    assert r.text() == "2.5 s (min 1.0, max 10.0, n=4)"


def test_ratio_is_median_over_median() -> None:
    assert ratio(Repeats((3.0, 3.0, 9.0)), Repeats((2.0, 2.0, 1.0))) == 1.5
    with pytest.raises(ValueError):
        ratio(Repeats((1.0,)), Repeats((0.0,)))


@pytest.mark.parametrize(("values", "q", "expected"), [
    ([7.0], 99, 7.0), ([1.0, 2.0, 3.0, 4.0], 50, 2.0), ([float(i) for i in range(1, 201)], 99, 198.0),
    ([4.0, 1.0, 3.0, 2.0], 100, 4.0), ([4.0, 1.0, 3.0, 2.0], 1, 1.0)])
def test_percentile_nearest_rank(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == expected


def test_growth_per_profile_and_linearity() -> None:
    assert per_unit_growth({1: 5.0, 10: 8.0, 50: 20.0}) == pytest.approx([1 / 3, 0.3])
    assert linear_or_better({1: 5.0, 10: 8.0, 50: 20.0})
    assert not linear_or_better({1: 5.0, 10: 6.0, 50: 40.0})  # 0.11 s/profile, then 0.85 s/profile
    assert linear_or_better({1: 5.0})
