"""A bounded, paced load: a fixed number of requests at a fixed rate from 8 threads, each a fresh connection
(what a browser's new tab does), with an event (a pod kill, a rollout) run beside it. Shared by overhead.py
(through the Service's node port) and entry.py (through the edge on the node's 443)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks.stats import percentile

RATE = 20.0  # requests per second


def paced_load(get: Callable[[], int], count: int, event: Callable[[], object] | None = None) -> dict[str, Any]:
    """`count` calls of `get` (which returns the HTTP status) at RATE per second; `event` runs in a thread from
    the 2nd second. Latencies of the answered ones (200), failures, and when the event ended (seconds after the
    load's start)."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    ended: list[float] = []

    def one() -> None:
        started = time.monotonic()
        try:
            status: int | str = get()
        except OSError as err:
            status = repr(err)
        with lock:
            (latencies.append(time.monotonic() - started) if status == 200 else failures.append(str(status)))

    t0 = time.monotonic()

    def run_event() -> None:
        time.sleep(2)
        assert event
        event()
        ended.append(time.monotonic() - t0)

    runner = threading.Thread(target=run_event) if event else None
    if runner:
        runner.start()
    with ThreadPoolExecutor(8) as pool:
        for i in range(count):
            time.sleep(max(0.0, t0 + i / RATE - time.monotonic()))
            pool.submit(one)
    if runner:
        runner.join()
    return {"requests": count, "failed": len(failures), "failures": failures[:5],
            "p50_ms": percentile(latencies, 50) * 1000, "p99_ms": percentile(latencies, 99) * 1000,
            "load_s": time.monotonic() - t0, "event_ended_s": ended[0] if ended else None}
