"""Availability controls on the real cluster, one stack for the module: two members as a StatefulSet with an
autoscaler (its minimum: workload.replicas) and the default disruption budget (minAvailable 50%), then the
same stack as a Deployment. Shown: ordered start and serving; anti-affinity and spread on the live pods; the
HPA accepted and owning replicas (a hand scale survives `pulumi up --refresh`, a scale below the minimum is
undone by the HPA); an eviction that would leave fewer than the minimum refused by the API server.
Own namespace, node ports and image tags (tests/engine/isolation.py). Run under the engine lock:
`flock /tmp/engine-tests.lock .venv/bin/pytest tests/engine/test_availability.py`.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from tests.engine.conftest import http_get
from tests.engine.isolation import free_node_ports
from tests.engine.stack import ProjectStack, kube_json, kubectl, wait_until

RUN = secrets.token_hex(4)
NAMESPACE = f"wso2k8s-test-avail-{RUN}"
TEAM = {"example.com/team": "identity"}
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def stack(engines_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProjectStack]:
    s = ProjectStack.create(tmp_path_factory.mktemp("avail"), "avail", engines_env, passphrase=secrets.token_hex(16))
    s.set_config("profiles", ["default"])
    s.isolate("wso2is", "5.1.0", NAMESPACE, free_node_ports(engines_env, 4))
    s.set_config("workload", {
        "kind": "StatefulSet", "replicas": 2, "java_opts": "-Xms32m -Xmx128m",
        "resources": {"cpu_request": "100m", "memory_request": "128Mi", "cpu_limit": "1", "memory_limit": "512Mi"},
        "autoscaler": {"enabled": True, "max_replicas": 3}, "pod_labels": TEAM,
        "pod_annotations": {"example.com/owner": "iam-team"}})
    s.set_secret("admin_password", f"Adm1n-{RUN}-avail")
    s.set_secret("keystore_password", "wso2carbon")  # the stock keystore
    seconds, _ = s.up()
    TIMINGS["up, StatefulSet of 2 (OrderedReady) + HPA + PDB"] = seconds
    yield s
    s.pulumi("destroy", "--yes", "--skip-preview", check=False)
    print("\n" + "\n".join(f"  {k}: {v:.1f} s" for k, v in TIMINGS.items()))


def _members(env: dict[str, str]) -> list[dict[str, Any]]:
    pods = kube_json(env, "-n", NAMESPACE, "get", "pods", "-l", "name=wso2is")["items"]
    return sorted((p for p in pods if not p["metadata"].get("deletionTimestamp")),
                  key=lambda p: str(p["metadata"]["name"]))


def _ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))


def _ready_count(env: dict[str, str], count: int) -> bool:
    pods = _members(env)
    return len(pods) == count and all(_ready(p) for p in pods)


def _when(pod: dict[str, Any], condition: str) -> datetime:
    at = next(c["lastTransitionTime"] for c in pod["status"]["conditions"] if c["type"] == condition)
    return datetime.fromisoformat(at.replace("Z", "+00:00"))


def _console_answers(stack: ProjectStack) -> None:
    status, _ = http_get(f"https://127.0.0.1:{stack.node_ports['servlet-https']}/carbon/admin/login.jsp", wait=60)
    assert status == 200


def _evict(env: dict[str, str], pod: str) -> tuple[int, str, float]:
    body = json.dumps({"apiVersion": "policy/v1", "kind": "Eviction",
                       "metadata": {"name": pod, "namespace": NAMESPACE}})
    started = time.monotonic()
    proc = subprocess.run(["kubectl", "create", "--raw", f"/api/v1/namespaces/{NAMESPACE}/pods/{pod}/eviction",
                           "-f", "-"], env=env, input=body, text=True, capture_output=True, timeout=60)
    return proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started


def test_statefulset_members_start_in_order_under_their_headless_service_and_serve(stack: ProjectStack) -> None:
    env = stack.env
    wait_until(lambda: _ready_count(env, 2), 180, "2 Ready members")
    first, second = _members(env)
    assert [first["metadata"]["name"], second["metadata"]["name"]] == ["wso2is-0", "wso2is-1"]
    # OrderedReady: member 1 is created only once member 0 is Ready
    created = datetime.fromisoformat(second["metadata"]["creationTimestamp"].replace("Z", "+00:00"))
    assert created >= _when(first, "Ready"), (created, _when(first, "Ready"))
    TIMINGS["StatefulSet ordered start: member 0 created -> member 1 Ready (member 1 asked for by the HPA)"] = (
        _when(second, "Ready") - datetime.fromisoformat(first["metadata"]["creationTimestamp"].replace(
            "Z", "+00:00"))).total_seconds()
    sts = kube_json(env, "-n", NAMESPACE, "get", "statefulset", "wso2is")
    assert sts["spec"]["serviceName"] == "wso2is-headless"
    headless = kube_json(env, "-n", NAMESPACE, "get", "service", "wso2is-headless")["spec"]
    assert headless["clusterIP"] == "None"
    # extra pod metadata is there, and the program's selector labels are untouched
    assert TEAM.items() <= first["metadata"]["labels"].items()
    assert first["metadata"]["annotations"]["example.com/owner"] == "iam-team"
    service = kube_json(env, "-n", NAMESPACE, "get", "service", "wso2is")["spec"]["selector"]
    assert "example.com/team" not in service and service.items() <= first["metadata"]["labels"].items()
    _console_answers(stack)


def test_live_pods_carry_preferred_anti_affinity_and_zone_spread(stack: ProjectStack) -> None:
    pods = _members(stack.env)
    assert len(pods) >= 2
    for pod in pods:
        spec = pod["spec"]
        term = spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
        assert term["weight"] == 100 and term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
        assert term["podAffinityTerm"]["labelSelector"]["matchLabels"]["name"] == "wso2is"
        (spread,) = spec["topologySpreadConstraints"]
        assert (spread["topologyKey"], spread["whenUnsatisfiable"], spread["maxSkew"]) == (
            "topology.kubernetes.io/zone", "ScheduleAnyway", 1)
        assert spread["matchLabelKeys"] == ["controller-revision-hash"]
    # one node here: a preference, so both members still run on it (NODES=2 spreads them: tests/engine/test_nodes.py)
    nodes = {p["spec"]["nodeName"] for p in pods}
    assert len(nodes) >= 1 and all(_ready(p) for p in pods)


def test_the_disruption_budget_refuses_an_eviction_below_the_minimum(stack: ProjectStack) -> None:
    env = stack.env
    wait_until(lambda: _ready_count(env, 2), 180, "2 Ready members")
    pdb = kube_json(env, "-n", NAMESPACE, "get", "pdb", "wso2is")
    assert pdb["spec"]["minAvailable"] == "50%" and pdb["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
    wait_until(lambda: kube_json(env, "-n", NAMESPACE, "get", "pdb", "wso2is")["status"].get(
        "disruptionsAllowed") == 1, 60, "the budget to allow one disruption")
    code, out, allowed_took = _evict(env, "wso2is-1")
    assert code == 0, out  # 2 healthy, 1 needed: one may go
    code, out, refused_took = _evict(env, "wso2is-0")
    assert code != 0 and "TooManyRequests" in out and "disruption budget" in out, out
    assert any(p["metadata"]["name"] == "wso2is-0" for p in _members(env))  # still there
    TIMINGS["eviction allowed (API round trip)"] = allowed_took
    TIMINGS["eviction refused by the budget (API round trip)"] = refused_took
    TIMINGS["evicted member back Ready"] = wait_until(lambda: _ready_count(env, 2), 180, "2 Ready members again")


def test_the_autoscaler_owns_replicas_and_pulumi_does_not_fight_it(stack: ProjectStack) -> None:
    env = stack.env
    hpa = kube_json(env, "-n", NAMESPACE, "get", "hpa", "wso2is")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "wso2is"}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 3)
    wait_until(lambda: any(c["type"] == "AbleToScale" and c["status"] == "True" for c in kube_json(
        env, "-n", NAMESPACE, "get", "hpa", "wso2is")["status"].get("conditions", [])), 60, "the HPA AbleToScale")
    sts = kube_json(env, "-n", NAMESPACE, "get", "statefulset", "wso2is", "--show-managed-fields")
    pulumi_fields = [f for f in sts["metadata"]["managedFields"] if f["manager"].startswith("pulumi-kubernetes")]
    assert pulumi_fields and all("f:replicas" not in json.dumps(f["fieldsV1"]) for f in pulumi_fields)
    # by hand, within min..max: the HPA (no CPU metrics here) and Pulumi both leave it
    kubectl(env, "-n", NAMESPACE, "scale", "statefulset", "wso2is", "--replicas=3")
    # all Ready first: a refresh that finds a member still starting marks the object unhealthy, to be updated
    wait_until(lambda: _ready_count(env, 3), 180, "3 Ready members")
    stack.pulumi("preview", "--refresh", "--expect-no-changes")
    stack.up("--refresh")
    assert kube_json(env, "-n", NAMESPACE, "get", "statefulset", "wso2is")["spec"]["replicas"] == 3
    # below the minimum: the HPA brings it back
    kubectl(env, "-n", NAMESPACE, "scale", "statefulset", "wso2is", "--replicas=1")
    TIMINGS["hand scale to 1 -> HPA back to its minimum 2"] = wait_until(
        lambda: kube_json(env, "-n", NAMESPACE, "get", "statefulset", "wso2is")["spec"]["replicas"] == 2, 90,
        "the HPA to restore its minimum")


def test_the_same_stack_as_a_deployment_comes_up_and_serves(stack: ProjectStack) -> None:
    env = stack.env
    stack.set_config("workload", {"kind": "Deployment"})
    seconds, _ = stack.up()
    TIMINGS["up, StatefulSet -> Deployment"] = seconds
    assert kubectl(env, "-n", NAMESPACE, "get", "statefulset", "wso2is", check=False).returncode != 0
    hpa = kube_json(env, "-n", NAMESPACE, "get", "hpa", "wso2is")
    assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
    TIMINGS["Deployment at the HPA's minimum (2 Ready) after up"] = wait_until(
        lambda: _ready_count(env, 2), 180, "2 Ready Deployment members")
    for pod in _members(env):
        assert pod["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
        assert pod["spec"]["topologySpreadConstraints"][0]["matchLabelKeys"] == ["pod-template-hash"]
    _console_answers(stack)
