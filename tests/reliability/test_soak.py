"""Soak (marker `soak`, left out of the default run): 30 minutes of requests while a member is killed every
2 minutes. Run alone:  pytest -m soak tests/reliability/test_soak.py -s   (WSO2K8S_SOAK_MINUTES to shorten).

A signed-in console session (JSESSIONID) is sticky to one member through the Service's ClientIP affinity; the
victim is always another member. What is kept: every request of that session is answered 200 and still signed
in (0 failures), fresh requests through the node port likewise, and the member count is back to full after
every kill (each time measured). The engines are not restarted; the engine lock is held only for `up` and
`destroy` (image build), not for the 30 minutes.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Iterator

import pytest

from tests.console import INDEX, log_in, request
from tests.engine.conftest import http_get
from tests.engine.stack import ProjectStack, kubectl, wait_until
from tests.reliability.common import (
    RequestLoop,
    admin_password,
    console,
    engine_lock,
    make_stack,
    percentile,
    pods,
    ready_pods,
)

pytestmark = pytest.mark.soak

RUN = secrets.token_hex(4)
NAMESPACE = f"wso2k8s-rel-soak-{RUN}"
MINUTES = float(os.environ.get("WSO2K8S_SOAK_MINUTES", "30"))
KILL_EVERY = 120.0
MEMBERS = 3
PASSWORD = admin_password(RUN)


@pytest.fixture(scope="module")
def stack(engines_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProjectStack]:
    s = make_stack(tmp_path_factory.mktemp("soak"), "soak", engines_env, NAMESPACE, PASSWORD, replicas=MEMBERS)
    with engine_lock():
        s.up()
    yield s
    with engine_lock():
        s.pulumi("destroy", "--yes", "--skip-preview", check=False)


class StickySession(threading.Thread):
    """Signs in once, then asks index.jsp with its cookie every 0.5 s; every answer must be the signed-in page."""

    def __init__(self, base: str, cookie: str) -> None:
        super().__init__(daemon=True)
        self.base, self.cookie = base, cookie
        self.ok = 0
        self.failures: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                answer = request(self.base + INDEX, cookie=self.cookie, timeout=5)
                if answer.status == 200 and "Signed-in as: admin" in answer.body:
                    self.ok += 1
                else:
                    self.failures.append(f"{time.strftime('%T')} HTTP {answer.status} {answer.location}")
            except OSError as err:
                self.failures.append(f"{time.strftime('%T')} {err!r}")
            time.sleep(0.5)


def test_members_killed_every_two_minutes_for_thirty_minutes(stack: ProjectStack) -> None:
    env = stack.env
    wait_until(lambda: len(ready_pods(env, NAMESPACE)) == MEMBERS, 300, f"{MEMBERS} ready pods")
    base = console(stack)
    answer = log_in(base, "admin", PASSWORD)
    assert answer.session, answer
    session = StickySession(base, answer.session)
    session.start()
    recoveries: list[float] = []
    with RequestLoop(base + "/carbon/", pause=0.5) as fresh:
        deadline = time.monotonic() + MINUTES * 60
        while time.monotonic() + KILL_EVERY <= deadline + 1:
            cycle = time.monotonic()
            sticky = json.loads(http_get(base + "/cluster/members")[1])["self"]
            victim = next(p["metadata"]["name"] for p in pods(env, NAMESPACE) if p["status"].get("podIP") != sticky)
            kubectl(env, "delete", "pod", victim, "-n", NAMESPACE, "--wait=false")
            recoveries.append(wait_until(
                lambda v=victim: v not in {p["metadata"]["name"] for p in pods(env, NAMESPACE)}
                and len(ready_pods(env, NAMESPACE)) == MEMBERS, KILL_EVERY - 5, "the member count back to full"))
            time.sleep(max(0.0, KILL_EVERY - (time.monotonic() - cycle)))
    session.stop.set()
    session.join()
    summary = {"minutes": MINUTES, "kills": len(recoveries), "recovery s (min/median/max)":
               (min(recoveries), sorted(recoveries)[len(recoveries) // 2], max(recoveries)),
               "session requests ok/failed": (session.ok, len(session.failures)),
               "fresh requests ok/failed": (len(fresh.latencies), len(fresh.failures)),
               "fresh p50/p99 ms": (percentile(fresh.latencies, 50) * 1000, percentile(fresh.latencies, 99) * 1000)}
    print("\nsoak:", json.dumps(summary))
    assert len(recoveries) >= int(MINUTES * 60 // KILL_EVERY) - 1, summary
    assert session.failures == [], (summary, session.failures[:10])
    assert fresh.failures == [], (summary, fresh.failures[:10])
