"""`pulumi up` interrupted at several points of a rollout (a clustering setting changed: image rebuilt and
pushed, a new RC created before the old one goes), by SIGINT (Ctrl-C) and SIGKILL (a lost terminal or machine).

What is kept, after each: `tools/pulumi/recover.py` (what tools/up.sh runs before every up) removes a dead
process's lock and settles the pending operations; the next `up` then converges: no pending operation left, no
"pending operations" warning, exactly one RC (the stack's), every pod of it ready, nothing in the namespace the
state does not know, and a preview with no change. Without the repair a killed up's stack stays locked.
"""

from __future__ import annotations

import json
import secrets
import signal
import time
import urllib.request
from collections.abc import Callable, Iterator

import pytest

from tests.engine.stack import ProjectStack
from tests.reliability.common import IMAGE_LINE, admin_password, assert_converged, interrupt, make_stack, rcs, recover

RUN = secrets.token_hex(4)
NAMESPACE = f"wso2k8s-rel-interrupt-{RUN}"
FIGURES: dict[str, float] = {}
REPAIRS: dict[str, list[str]] = {}  # what recover.py did after each interruption (printed)


@pytest.fixture(scope="module")
def stack(engines_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProjectStack]:
    s = make_stack(tmp_path_factory.mktemp("interrupt"), "interrupt", engines_env, NAMESPACE, admin_password(RUN))
    s.up()
    yield s
    recover(s)
    s.pulumi("destroy", "--yes", "--skip-preview", check=False)
    print("\ninterrupted-up figures:", json.dumps(FIGURES, indent=1), "repairs:", json.dumps(REPAIRS, indent=1),
          *s.log, sep="\n  ")


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


CASES = [  # (signal, point): a rollout is started for each, with a new clustering domain
    (signal.SIGKILL, "build"),
    (signal.SIGKILL, "push"),
    (signal.SIGKILL, "workload"),
    # Ctrl-C while the new RC is applied: Pulumi records it with init errors and the old one marked for deletion;
    # recover.py keeps the old one and deletes the cut one (owned by the interrupted run's field manager, it
    # would make the next up's apply of the same name stop on a field conflict)
    (signal.SIGINT, "workload"),
]


@pytest.mark.parametrize(("sig", "point"), CASES, ids=["SIGKILL-build", "SIGKILL-push", "SIGKILL-workload",
                                                      "SIGINT-workload"])
def test_an_interrupted_up_is_finished_by_the_next(stack: ProjectStack, sig: signal.Signals, point: str) -> None:
    old_rcs, old_digest = rcs(stack, NAMESPACE), _manifest_digest(stack)
    stack.set_config("clustering", {"domain": f"rel.{point}.{sig.name.lower()}.{secrets.token_hex(2)}"})
    at: dict[str, Callable[[str], bool]] = {
        "build": lambda out: bool(IMAGE_LINE.search(out)),
        "push": lambda out: _manifest_digest(stack) not in ("", old_digest),
        "workload": lambda out: bool(rcs(stack, NAMESPACE) - old_rcs),
    }
    _, when = interrupt(stack, sig, at[point])
    FIGURES[f"{sig.name} at {point}: signal sent after s"] = when

    recovered = recover(stack)
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    REPAIRS[f"{sig.name} at {point}"] = [line for line in recovered.stderr.splitlines()
                                         if line.startswith("wso2-kubernetes:") or " stays, " in line]
    if sig == signal.SIGKILL:
        assert "removing the lock of a pulumi process that is gone" in recovered.stderr, recovered.stderr
    started = time.monotonic()
    up = stack.pulumi("up", "--yes", "--skip-preview", timeout=600)
    FIGURES[f"{sig.name} at {point}: next up s"] = time.monotonic() - started
    assert "pending operations" not in up.stdout + up.stderr
    assert_converged(stack, NAMESPACE)


def test_without_the_repair_a_killed_up_leaves_the_stack_locked(stack: ProjectStack) -> None:
    """Why tools/up.sh runs recover.py: Pulumi itself does not clear a dead process's lock."""
    stack.set_config("clustering", {"domain": f"rel.locked.{secrets.token_hex(2)}"})
    interrupt(stack, signal.SIGKILL, lambda out: bool(IMAGE_LINE.search(out)))
    blocked = stack.pulumi("up", "--yes", "--skip-preview", check=False)
    assert blocked.returncode != 0 and "the stack is currently locked" in blocked.stdout + blocked.stderr
    assert recover(stack).returncode == 0
    stack.pulumi("up", "--yes", "--skip-preview", timeout=600)
    assert_converged(stack, NAMESPACE)
