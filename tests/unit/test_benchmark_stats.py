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


def test_the_table_rows_carry_the_ratios() -> None:
    from benchmarks.images import floor_ratio
    from benchmarks.run import overhead_rows

    assert floor_ratio(105, 40, 60) == 1.05
    load = {"requests": 600, "failed": 0, "p50_ms": 20.0, "event_ended_s": None}
    rows = dict(overhead_rows({
        "machine": "m", "objects": 8, "rate_rps": 20.0, "life": {"up → console answering s": 30.0},
        "ours": {"preview": [6.0, 4.0, 5.0], "up (no change)": [9.0, 9.0, 9.0]},
        "bare": {"preview": [2.0, 2.0, 3.0], "up (no change)": [3.0, 3.0, 3.0]},
        "load idle": {**load, "p99_ms": 50.0}, "load pod kill": {**load, "p99_ms": 100.0, "event_ended_s": 14.2},
        "load rollout": {**load, "failed": 2, "p99_ms": 75.0}}))
    assert rows["`pulumi preview`: wso2-kubernetes / bare pulumi-kubernetes"].endswith("= **2.50×**")
    assert rows["`pulumi up (no change)`: wso2-kubernetes / bare pulumi-kubernetes"].endswith("= **3.00×**")
    assert rows["load pod kill: 600 requests at 20/s"] == (
        "0 failed; p50 20 ms, p99 100 ms (2.00× idle p99); event ended at 14 s")
    assert rows["load rollout: 600 requests at 20/s"].startswith("2 failed; p50 20 ms, p99 75 ms (1.50× idle p99)")
    assert rows["cluster life: up → console answering s"] == "30.0 s"


def test_the_entry_rows_compare_the_edge_with_the_node_port() -> None:
    from benchmarks.run import entry_rows

    load = {"requests": 600, "failed": 0, "p50_ms": 30.0, "event_ended_s": None}
    rows = dict(entry_rows({
        "machine": "m", "rate_rps": 20.0, "up to the edge s": 41.26,
        "first byte node port": {"p50_ms": 40.0, "p90_ms": 60.0, "count": 60},
        "first byte edge": {"p50_ms": 50.0, "p90_ms": 90.0, "count": 60},
        "edge load idle": {**load, "p99_ms": 80.0},
        "edge load pod kill (sticky client)": {**load, "p99_ms": 160.0, "event_ended_s": 9.6},
        "edge load keystore rollout": {**load, "failed": 3, "p99_ms": 120.0},
        "keystore rollout → all new members serving s": 52.04}))
    assert rows["TLS handshake + first byte, fresh connection (60 each): through the edge / straight to the node "
                "port"] == "p50 50 ms / 40 ms = **1.25×**; p90 90 / 60 ms"
    assert rows["edge load pod kill (sticky client): 600 requests at 20/s"] == (
        "0 failed; p50 30 ms, p99 160 ms (2.00× idle p99); event ended at 10 s")
    assert rows["edge load keystore rollout: 600 requests at 20/s"].startswith("3 failed;")
    assert rows["keystore rollout → all new members serving s"] == "52.0 s"
    assert "pod kill → member back (2 ready) s" not in rows  # not measured: no row
