"""A rollout whose new members never become ready: a JVM option the JVM refuses, so every new pod exits at start.

What is kept: `pulumi up` fails within the stack's await timeout (workload.await_timeout_seconds), naming the
Pulumi resource and the timeout (pulumi-kubernetes says no more); `python -m wso2k8s.diagnose` (which
tools/up.sh runs after a failed up) names the cause from the pods; the old members serve the whole time (0 failed
requests through the Service's node port); the next good `up` converges to one RC, the old one, with its pods
untouched, and a preview shows no change after it. Pulumi itself would delete the serving RC first (it marks
the old resource for deletion once the new one exists, ready or not): tools/pulumi/recover.py puts it back.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.engine.conftest import PROJECT_DIR, http_get
from tests.engine.stack import ProjectStack, kube_json, wait_until
from tests.reliability.common import RequestLoop, admin_password, console, make_stack, pods, ready_pods, recover

RUN = secrets.token_hex(4)
NAMESPACE = f"wso2k8s-rel-rollout-{RUN}"
TIMEOUT = 30  # workload.await_timeout_seconds during the bad rollout
BAD_OPTION = "-XX:+WSO2K8sNoSuchOption"
FIGURES: dict[str, float] = {}


@pytest.fixture(scope="module")
def stack(engines_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProjectStack]:
    s = make_stack(tmp_path_factory.mktemp("rollout"), "rollout", engines_env, NAMESPACE, admin_password(RUN))
    yield s
    s.pulumi("destroy", "--yes", "--skip-preview", check=False)
    print("\nfailed-rollout figures:", FIGURES, *s.log, sep="\n  ")


def _rcs(stack: ProjectStack) -> set[str]:
    return {r["metadata"]["name"] for r in kube_json(stack.env, "get", "rc", "-n", NAMESPACE)["items"]}


def test_a_rollout_that_never_gets_ready_fails_clearly_and_the_old_members_serve(stack: ProjectStack) -> None:
    stack.up()
    wait_until(lambda: len(ready_pods(stack.env, NAMESPACE)) == 2, 180, "2 ready pods")
    good_rc = stack.outputs()["workloads"]["default"]
    good_pods = {p["metadata"]["name"] for p in pods(stack.env, NAMESPACE)}
    good = stack.stack_file.read_text()

    stack.set_config("workload", {"java_opts": f"-Xms32m -Xmx128m {BAD_OPTION}", "await_timeout_seconds": TIMEOUT})
    with RequestLoop(console(stack) + "/carbon/") as loop:
        started = time.monotonic()
        proc = stack.pulumi("up", "--yes", "--skip-preview", check=False, timeout=TIMEOUT + 300)
        FIGURES["bad up: seconds to the error"] = time.monotonic() - started
        time.sleep(2)  # and a little after: the failed pods must not have disturbed the Service either
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-3000:]
    assert FIGURES["bad up: seconds to the error"] < TIMEOUT + 120, FIGURES  # the timeout, plus build and preview
    new_rcs = _rcs(stack) - {good_rc}
    assert len(new_rcs) == 1, _rcs(stack)
    new_rc = new_rcs.pop()
    # pulumi-kubernetes names the Pulumi resource and the timeout, not the RC nor why: the diagnosis below does
    assert "default-cluster-rc" in output and "timed out waiting for the condition" in output, output[-3000:]
    FIGURES["bad up: requests served / failed"] = len(loop.latencies)
    assert len(loop.latencies) > 20 and loop.failures == [], (len(loop.latencies), loop.failures[:5])
    # the old generation is still there, whole and untouched
    assert {p["metadata"]["name"] for p in pods(stack.env, NAMESPACE)} >= good_pods
    assert set(ready_pods(stack.env, NAMESPACE)) == good_pods

    # what pulumi-kubernetes does not say, the diagnosis does: the JVM's own words, per pod of the new RC
    diag = subprocess.run([str(PROJECT_DIR / ".venv/bin/python"), "-m", "wso2k8s.diagnose", NAMESPACE],
                          cwd=PROJECT_DIR, env={**os.environ, **stack.env}, capture_output=True, text=True)
    assert diag.returncode == 1, diag
    assert f"of {new_rc}" in diag.stdout and "Unrecognized VM option 'WSO2K8sNoSuchOption'" in diag.stdout, diag.stdout
    assert "exited with code 1" in diag.stdout and good_rc not in diag.stdout, diag.stdout

    # Pulumi recorded the failed RC as the resource and marked the serving one for deletion, which the next up
    # would do first; recover.py (tools/up.sh runs it before every up) swaps the marks back
    repaired = recover(stack)
    assert repaired.returncode == 0, repaired.stderr
    assert f"{NAMESPACE}/{good_rc} stays, {NAMESPACE}/{new_rc} (never ready) goes" in repaired.stderr, repaired.stderr
    # the next good up converges: back to the old RC only, its pods kept
    stack.stack_file.write_text(good)
    with RequestLoop(console(stack) + "/carbon/") as loop:
        started = time.monotonic()
        stack.pulumi("up", "--yes", "--skip-preview", timeout=600)
        FIGURES["good up after it: seconds"] = time.monotonic() - started
    assert loop.failures == [], loop.failures[:5]
    assert _rcs(stack) == {good_rc} and stack.outputs()["workloads"]["default"] == good_rc
    wait_until(lambda: not (set(p["metadata"]["name"] for p in pods(stack.env, NAMESPACE)) - good_pods), 60,
               "the failed generation's pods to go")
    assert set(ready_pods(stack.env, NAMESPACE)) == good_pods
    assert http_get(console(stack) + "/carbon/")[0] == 200
    stack.pulumi("preview", "--expect-no-changes")
