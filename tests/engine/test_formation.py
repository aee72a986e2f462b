"""`pulumi up` waits until the members formed one Hazelcast cluster, and fails naming them when they did not.
Its own stack, namespace, node ports and image tags (tests/engine/isolation.py). Each member's Hazelcast is read
here the way the gate reads it: GET /hazelcast/rest/cluster on the member port through the API server's pod
proxy (`kubectl get --raw`)."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator

import pytest

from tests.engine.isolation import free_node_ports
from tests.engine.stack import ProjectStack, kube_json, kubectl, wait_until

NAMESPACE = f"wso2k8s-test-formation-{secrets.token_hex(4)}"
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def stack(engines_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProjectStack]:
    s = ProjectStack.create(tmp_path_factory.mktemp("formation"), "formation", engines_env,
                            passphrase=secrets.token_hex(16))
    s.set_config("profiles", ["default"])
    s.isolate("wso2is", "5.1.0", NAMESPACE, free_node_ports(engines_env, 4))
    s.set_config("clustering", {"await_formation": {"timeout_seconds": 180}})
    s.set_config("workload", {"replicas": 2, "java_opts": "-Xms32m -Xmx192m",
                              "resources": {"cpu_request": "100m", "memory_request": "128Mi", "cpu_limit": "1",
                                            "memory_limit": "512Mi"}})
    s.set_secret("admin_password", f"Adm1n-{secrets.token_hex(4)}")
    s.set_secret("keystore_password", "wso2carbon")
    yield s
    print("\n".join(["", "formation timings:", *(f"  {k}: {v:.1f}s" for k, v in TIMINGS.items()), *s.log]))
    s.pulumi("destroy", "--yes", "--skip-preview", check=False)


def _pods(stack: ProjectStack) -> dict[str, str]:
    """name → IP of the members now running (not leaving)."""
    pods = kube_json(stack.env, "get", "pods", "-n", NAMESPACE, "-l", "name=wso2is")["items"]
    return {p["metadata"]["name"]: p["status"]["podIP"] for p in pods
            if not p["metadata"].get("deletionTimestamp") and p["status"].get("podIP")
            and p["status"].get("phase") == "Running"}


def _hazelcast_members(stack: ProjectStack, pod: str, port: int = 4000) -> set[str]:
    proc = kubectl(stack.env, "get", "--raw",
                   f"/api/v1/namespaces/{NAMESPACE}/pods/{pod}:{port}/proxy/hazelcast/rest/cluster", check=False)
    return set(re.findall(r"Member \[([^\]]+)\]:\d+", proc.stdout)) if proc.returncode == 0 else set()


def _formed(stack: ProjectStack, port: int = 4000) -> bool:
    pods = _pods(stack)
    return len(pods) == 2 and all(_hazelcast_members(stack, p, port) == set(pods.values()) for p in pods)


def test_up_returns_once_both_members_see_each_other_in_hazelcast(stack: ProjectStack) -> None:
    TIMINGS["up → cluster formed (cold: images, pods, formation)"], _ = stack.up()
    # Right after `up` returned, with no waiting: each member's own Hazelcast lists both.
    pods = _pods(stack)
    assert len(pods) == 2
    for pod in pods:
        assert _hazelcast_members(stack, pod) == set(pods.values()), pod
    formed = stack.outputs()["formed_members"]["default"]
    assert set(formed) == set(pods)
    assert all(sorted(m.split(":")[0] for m in seen) == sorted(pods.values()) for seen in formed.values())
    log = kubectl(stack.env, "logs", "-n", NAMESPACE, next(iter(pods))).stdout
    assert "Hazelcast TCP-IP members from the membership scheme" in log and "Members [2]" in log

    seconds, changes = stack.up()  # nothing changed: the gate is not asked again
    TIMINGS["up, nothing changed (warm)"] = seconds
    assert set(changes) == {"same"}, changes


def test_a_killed_member_leaves_and_its_replacement_joins(stack: ProjectStack) -> None:
    before = _pods(stack)
    victim, survivor = sorted(before)
    started = time.monotonic()
    kubectl(stack.env, "delete", "pod", "-n", NAMESPACE, victim, "--wait=false")
    wait_until(lambda: _hazelcast_members(stack, survivor) == {before[survivor]}, 60, "the killed member to leave")
    TIMINGS["pod deleted → left the survivor's Hazelcast"] = time.monotonic() - started
    wait_until(lambda: _formed(stack) and victim not in _pods(stack), 180, "the replacement to join")
    TIMINGS["pod deleted → replacement joined (2 members on each)"] = time.monotonic() - started
    assert survivor in _pods(stack)


def test_up_fails_naming_the_members_that_did_not_form_then_recovers(stack: ProjectStack) -> None:
    # A privileged port as localMemberPort: the non-root member cannot bind it (no NET_BIND_SERVICE), so its
    # Hazelcast does not start; the pods still become ready (the console does not need it).
    stack.set_config("clustering", {"local_member_port": 80, "await_formation": {"timeout_seconds": 20}})
    proc = stack.pulumi("up", "--yes", "--skip-preview", check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "wso2is (profile default): the members did not form one Hazelcast cluster in" in output, output[-4000:]
    new = {p: ip for p, ip in _pods(stack).items() if p.startswith(_new_rc_prefix(output))}
    assert len(new) == 2, (new, output[-3000:])
    for pod, ip in new.items():  # each member named, with its own reason from its log
        assert f"  - {pod} ({ip}): its Hazelcast does not answer on port 80" in output, output[-4000:]
    assert "Hazelcast could not start on port 80: " in output and "Permission denied" in output
    assert "clustering.await_formation.enabled: false" in output
    assert "Traceback" not in output

    # the fix: a port the members can bind (a new generation; going back to the very settings of the old one
    # would reuse its RC name while that RC is still marked for deletion: README, "When things go wrong")
    stack.set_config("clustering", {"local_member_port": 4001, "await_formation": {"timeout_seconds": 180}})
    TIMINGS["rollout to a fixed setting → cluster formed"], _ = stack.up()
    wait_until(lambda: len(_pods(stack)) == 2, 120, "the failed generation to go")
    assert _formed(stack, 4001)
    assert len(_pods(stack)) == 2  # the failed generation is gone


def _new_rc_prefix(output: str) -> str:
    found = re.findall(r"  - (wso2is-[0-9a-f]{10})-[a-z0-9]{5} \(", output)
    assert found, output[-4000:]
    return found[0]
