"""`pulumi up` interrupted at several points of a rollout (a clustering setting changed: image rebuilt and
pushed, a new RC created before the old one goes), by SIGINT (Ctrl-C) and SIGKILL (a lost terminal or machine).

What is kept, after each: `tools/pulumi/recover.py` (what tools/up.sh runs before every up) removes a dead
process's lock and settles the pending operations; the next `up` then converges: no pending operation left, no
"pending operations" warning, exactly one RC (the stack's), every pod of it ready, nothing in the namespace the
state does not know, and a preview with no change. Without the repair a killed up's stack stays locked.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator

import pytest

from tests.engine.conftest import PROJECT_DIR
from tests.engine.stack import ProjectStack, kube_json, wait_until
from tests.reliability.common import admin_password, make_stack, pods, ready_pods

RUN = secrets.token_hex(4)
NAMESPACE = f"wso2k8s-rel-interrupt-{RUN}"
FIGURES: dict[str, float] = {}
IMAGE_LINE = re.compile(r"docker-build:index:Image\s+\S+\s+(updating|creating)")
RECOVER = PROJECT_DIR / "tools/pulumi/recover.py"


@pytest.fixture(scope="module")
def stack(engines_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProjectStack]:
    s = make_stack(tmp_path_factory.mktemp("interrupt"), "interrupt", engines_env, NAMESPACE, admin_password(RUN))
    s.up()
    yield s
    s.pulumi("destroy", "--yes", "--skip-preview", check=False)
    print("\ninterrupted-up figures:", json.dumps(FIGURES, indent=1), *s.log, sep="\n  ")


def _rcs(stack: ProjectStack) -> set[str]:
    return {r["metadata"]["name"] for r in kube_json(stack.env, "get", "rc", "-n", NAMESPACE)["items"]}


def _manifest_digest(stack: ProjectStack) -> str:
    req = urllib.request.Request(f"http://127.0.0.1:5000/v2/wso2/is-5.1.0/manifests/rel-{stack.name}", method="HEAD",
                                 headers={"Accept": "application/vnd.oci.image.index.v1+json, "
                                          "application/vnd.oci.image.manifest.v1+json, "
                                          "application/vnd.docker.distribution.manifest.v2+json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return str(resp.headers["Docker-Content-Digest"])
    except OSError:
        return ""


def _interrupt(stack: ProjectStack, sig: signal.Signals, at: Callable[[str], bool]) -> tuple[str, float]:
    """Start `pulumi up`, send `sig` when `at(line so far)` says so (checked on every output line and every
    0.2 s), wait for the process to end; (its output, seconds to the signal)."""
    proc = subprocess.Popen(["pulumi", "up", "--yes", "--skip-preview"], cwd=stack.dir, env=stack.env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    assert proc.stdout
    os.set_blocking(proc.stdout.fileno(), False)
    started, output, sent = time.monotonic(), "", None
    while proc.poll() is None:
        chunk = proc.stdout.read() or ""
        output += chunk
        if sent is None and at(output):
            proc.send_signal(sig)
            sent = time.monotonic() - started
        if time.monotonic() - started > 300:
            proc.kill()
            raise AssertionError(f"pulumi up did not end: {output[-3000:]}")
        time.sleep(0.2)
    output += proc.stdout.read() or ""
    assert sent is not None, f"the point was never reached; the up ended first:\n{output[-3000:]}"
    return output, sent


def _recover(stack: ProjectStack) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(RECOVER), str(stack.state_dir), stack.name, "--", "pulumi"],
                          cwd=stack.dir, env=stack.env, capture_output=True, text=True, timeout=300)


def _state_names(stack: ProjectStack) -> set[str]:
    export = json.loads(stack.pulumi("stack", "export").stdout)["deployment"]
    assert not export.get("pending_operations"), export["pending_operations"]
    return {f"{r['type'].rsplit(':', 1)[-1]}/{r['outputs']['metadata']['name']}" for r in export["resources"]
            if r["type"].startswith("kubernetes:") and r.get("outputs", {}).get("metadata")}


def _assert_converged(stack: ProjectStack) -> None:
    rc = stack.outputs()["workloads"]["default"]
    assert _rcs(stack) == {rc}
    wait_until(lambda: {p["metadata"]["ownerReferences"][0]["name"] for p in pods(stack.env, NAMESPACE)} == {rc}
               and len(ready_pods(stack.env, NAMESPACE)) == 2, 120, f"only {rc}'s 2 pods, ready")
    live = set()
    for kind in ("ReplicationController", "Service", "Secret", "ServiceAccount", "Role", "RoleBinding"):
        items = kube_json(stack.env, "get", kind, "-n", NAMESPACE, "-l", "app.kubernetes.io/managed-by=wso2-kubernetes")
        live |= {f"{kind}/{i['metadata']['name']}" for i in items["items"]}
    assert live <= _state_names(stack), f"orphans: {live - _state_names(stack)}"
    stack.pulumi("preview", "--expect-no-changes")


CASES = [  # (signal, point): a rollout is started for each, with a new clustering domain
    (signal.SIGKILL, "build"),
    (signal.SIGKILL, "push"),
    (signal.SIGKILL, "workload"),
    (signal.SIGINT, "workload"),
]


@pytest.mark.parametrize(("sig", "point"), CASES, ids=[f"{s.name}-{p}" for s, p in CASES])
def test_an_interrupted_up_is_finished_by_the_next(stack: ProjectStack, sig: signal.Signals, point: str) -> None:
    old_rcs, old_digest = _rcs(stack), _manifest_digest(stack)
    stack.set_config("clustering", {"domain": f"rel.{point}.{sig.name.lower()}.{secrets.token_hex(2)}"})
    at: dict[str, Callable[[str], bool]] = {
        "build": lambda out: bool(IMAGE_LINE.search(out)),
        "push": lambda out: _manifest_digest(stack) not in ("", old_digest),
        "workload": lambda out: bool(_rcs(stack) - old_rcs),
    }
    _, when = _interrupt(stack, sig, at[point])
    FIGURES[f"{sig.name} at {point}: signal sent after s"] = when

    recovered = _recover(stack)
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    if sig == signal.SIGKILL:
        assert "removing the lock of a pulumi process that is gone" in recovered.stderr, recovered.stderr
    started = time.monotonic()
    up = stack.pulumi("up", "--yes", "--skip-preview", timeout=600)
    FIGURES[f"{sig.name} at {point}: next up s"] = time.monotonic() - started
    assert "pending operations" not in up.stdout + up.stderr
    _assert_converged(stack)


def test_without_the_repair_a_killed_up_leaves_the_stack_locked(stack: ProjectStack) -> None:
    """Why tools/up.sh runs recover.py: Pulumi itself does not clear a dead process's lock."""
    stack.set_config("clustering", {"domain": f"rel.locked.{secrets.token_hex(2)}"})
    _interrupt(stack, signal.SIGKILL, lambda out: bool(IMAGE_LINE.search(out)))
    blocked = stack.pulumi("up", "--yes", "--skip-preview", check=False)
    assert blocked.returncode != 0 and "the stack is currently locked" in blocked.stdout + blocked.stderr
    assert _recover(stack).returncode == 0
    stack.pulumi("up", "--yes", "--skip-preview", timeout=600)
    _assert_converged(stack)
