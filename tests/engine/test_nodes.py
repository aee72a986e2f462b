"""Real scheduling over two nodes of the local cluster: `NODES=2 tools/kubernetes/cluster.sh up` adds node 2 (its
own network and mount namespaces, node IP 10.245.0.2, pods 10.244.1.0/24, its own kubelet, kube-proxy and
containerd). Two replicas with preferred pod anti-affinity land on different nodes; pods reach each other across
nodes by pod IP, by ClusterIP and by DNS name; `kubectl drain` moves the pod off node 2; a node whose kubelet dies
turns NotReady and its pod leaves the Service's endpoints.

The module brings the cluster to two nodes and, at the end, back to the number it had (a restart: the cluster's
objects are kept). Run it the way every engine test is run here: `flock /tmp/engine-tests.lock pytest ...`.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.engine.conftest import PROJECT_DIR, _exports
from tests.engine.stack import kube_json, kubectl, wait_until

CLUSTER = str(PROJECT_DIR / "tools/kubernetes/cluster.sh")
STATE = Path(os.environ.get("WSO2K8S_STATE", "/var/lib/wso2-kubernetes"))
NAMESPACE = f"wso2-nodes-{secrets.token_hex(3)}"
NODE1, NODE2 = "wso2k8s-node", "wso2k8s-node2"
APP = "web"
HTTPD = "hostname > /www/index.html; exec httpd -f -p 8080 -h /www"   # answers GET / with the pod's name
PREFER_SPREAD = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
    "weight": 100,
    "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": APP}}, "topologyKey": "kubernetes.io/hostname"}}]}}


def _nodes_before() -> int:
    """How many nodes the cluster runs now (1 when it is down): the module puts that number back."""
    extra = STATE / "cluster/run/extra-nodes"
    return 1 + (len(extra.read_text().split()) if extra.exists() else 0)


def _cluster_up(nodes: int) -> float:
    started = time.monotonic()
    subprocess.run([CLUSTER, "up"], check=True, env={**os.environ, "NODES": str(nodes)}, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


@pytest.fixture(scope="module")
def cluster() -> Iterator[dict[str, str]]:
    before = _nodes_before()
    seconds = _cluster_up(2)
    print(f"\nNODES=2 cluster.sh up (from {before} node(s)): {seconds:.1f} s")
    env = _exports(f"{CLUSTER} env")
    try:
        kubectl(env, "create", "namespace", NAMESPACE)
        wait_until(lambda: kubectl(env, "-n", NAMESPACE, "get", "sa", "default", check=False).returncode == 0, 60,
                   "the namespace's default ServiceAccount")
        _apply(env, _statefulset(), _service(APP, {"app": APP}),
               *[_service(f"{APP}-{i}", {"statefulset.kubernetes.io/pod-name": f"{APP}-{i}"}) for i in (0, 1)])
        yield env
    finally:
        kubectl(env, "delete", "namespace", NAMESPACE, "--wait=false", check=False)
        kubectl(env, "uncordon", NODE2, check=False)
        print(f"cluster.sh up back to {before} node(s): {_cluster_up(before):.1f} s")


def _statefulset() -> dict[str, Any]:
    """Two busybox httpd pods answering their own name on :8080; podManagementPolicy Parallel (both at once)."""
    pod = {"metadata": {"labels": {"app": APP}},
           "spec": {"affinity": PREFER_SPREAD, "terminationGracePeriodSeconds": 0,
                    "containers": [{"name": "httpd", "image": "local/busybox:1", "imagePullPolicy": "Never",
                                    "command": ["sh", "-c", HTTPD],
                                    "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                                    "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1}}]}}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": APP, "namespace": NAMESPACE},
            "spec": {"replicas": 2, "serviceName": APP, "podManagementPolicy": "Parallel",
                     "selector": {"matchLabels": {"app": APP}}, "template": pod}}


def _service(name: str, selector: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {"selector": selector, "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]}}


def _apply(env: dict[str, str], *manifests: dict[str, Any]) -> None:
    proc = subprocess.run(["kubectl", "apply", "-f", "-"], env=env, text=True, capture_output=True, timeout=120,
                          input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(manifests)}))
    assert proc.returncode == 0, proc.stderr


def _pods(env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """name -> {node, ip, ready} of the web pods that are not being deleted."""
    out = {}
    for pod in kube_json(env, "-n", NAMESPACE, "get", "pods", "-l", f"app={APP}")["items"]:
        if pod["metadata"].get("deletionTimestamp"):
            continue
        ready = any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))
        out[pod["metadata"]["name"]] = {"node": pod["spec"].get("nodeName"), "ip": pod["status"].get("podIP"),
                                        "ready": ready}
    return out


def _ready_pods(env: dict[str, str], count: int = 2) -> dict[str, dict[str, Any]]:
    pods: dict[str, dict[str, Any]] = {}

    def ready() -> bool:
        pods.clear()
        pods.update(_pods(env))
        return len(pods) == count and all(p["ready"] for p in pods.values())
    wait_until(ready, 120, f"{count} web pods Ready", every=0.5)
    return pods


def _http(env: dict[str, str], pod: str, host: str) -> str:
    """The page `pod` gets from host:port (busybox nc: the static busybox wget crashes here, see the README)."""
    proc = kubectl(env, "-n", NAMESPACE, "exec", pod, "--", "sh", "-c",
                   f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {host}", check=False)
    # text mode turned the head's CRLFs into plain newlines: the body follows the first empty line
    return proc.stdout.split("\n\n", 1)[-1].strip() if proc.returncode == 0 else f"<failed: {proc.stderr.strip()}>"


def _node_ready(env: dict[str, str], node: str) -> str:
    conditions = kube_json(env, "get", "node", node)["status"]["conditions"]
    return next(c["status"] for c in conditions if c["type"] == "Ready")


def test_two_nodes_each_with_its_own_address_and_pod_range(cluster: dict[str, str]) -> None:
    nodes = {n["metadata"]["name"]: n for n in kube_json(cluster, "get", "nodes")["items"]}
    assert set(nodes) == {NODE1, NODE2}
    for name, ip in ((NODE1, "10.245.0.1"), (NODE2, "10.245.0.2")):
        addresses = {a["type"]: a["address"] for a in nodes[name]["status"]["addresses"]}
        assert addresses["InternalIP"] == ip
        assert _node_ready(cluster, name) == "True"
    status = subprocess.run([CLUSTER, "status"], text=True, capture_output=True)
    assert status.returncode == 0, status.stdout
    assert f"node {NODE2}" in status.stdout and "(10.245.0.2)" in status.stdout, status.stdout


def test_preferred_anti_affinity_puts_the_replicas_on_different_nodes(cluster: dict[str, str]) -> None:
    pods = _ready_pods(cluster)
    assert {p["node"] for p in pods.values()} == {NODE1, NODE2}, pods
    for p in pods.values():   # each pod's address comes from its own node's range
        assert p["ip"].startswith("10.244.0." if p["node"] == NODE1 else "10.244.1."), pods


def test_pods_reach_each_other_across_nodes_by_pod_ip(cluster: dict[str, str]) -> None:
    pods = _ready_pods(cluster)
    for src, dst in ((f"{APP}-0", f"{APP}-1"), (f"{APP}-1", f"{APP}-0")):
        assert pods[src]["node"] != pods[dst]["node"]
        assert _http(cluster, src, f"{pods[dst]['ip']} 8080") == dst


def test_pods_reach_each_other_across_nodes_by_cluster_ip_and_dns(cluster: dict[str, str]) -> None:
    pods = _ready_pods(cluster)
    for src, dst in ((f"{APP}-0", f"{APP}-1"), (f"{APP}-1", f"{APP}-0")):
        cluster_ip = kube_json(cluster, "-n", NAMESPACE, "get", "service", dst)["spec"]["clusterIP"]
        assert _http(cluster, src, f"{cluster_ip} 80") == dst, (src, pods[src]["node"], cluster_ip)
        # CoreDNS runs on one of the nodes: the other one's pod asks it across nodes, through ClusterIP 10.0.0.10
        lookup = kubectl(cluster, "-n", NAMESPACE, "exec", src, "--", "nslookup",
                         f"{dst}.{NAMESPACE}.svc.cluster.local", check=False)
        assert lookup.returncode == 0 and f"Address: {cluster_ip}" in lookup.stdout, lookup.stdout + lookup.stderr


def test_drain_moves_the_pod_off_node_2(cluster: dict[str, str]) -> None:
    before = _ready_pods(cluster)
    moved = next(name for name, p in before.items() if p["node"] == NODE2)
    kubectl(cluster, "drain", NODE2, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=90s")
    assert kube_json(cluster, "get", "node", NODE2)["spec"].get("unschedulable") is True
    after = _ready_pods(cluster)
    assert {p["node"] for p in after.values()} == {NODE1}, after
    assert after[moved]["ip"] != before[moved]["ip"] and after[moved]["ip"].startswith("10.244.0."), (before, after)
    assert _http(cluster, next(n for n in after if n != moved), f"{after[moved]['ip']} 8080") == moved


def test_a_lost_node_turns_not_ready_and_its_pod_leaves_the_service(cluster: dict[str, str]) -> None:
    kubectl(cluster, "uncordon", NODE2)
    # put one replica back on node 2: anti-affinity sends the recreated pod to the emptier node
    kubectl(cluster, "-n", NAMESPACE, "delete", "pod", f"{APP}-1", "--wait=true")
    pods = _ready_pods(cluster)
    assert pods[f"{APP}-1"]["node"] == NODE2, pods
    assert _endpoint_ips(cluster) == {p["ip"] for p in pods.values()}
    pid = int((STATE / "cluster/run/node2-kubelet.pid").read_text())
    assert Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].endswith(b"/kubelet")
    os.kill(pid, 9)
    took = wait_until(lambda: _node_ready(cluster, NODE2) != "True", 60, f"{NODE2} NotReady", every=0.5)
    print(f"\n{NODE2} NotReady {took:.1f} s after its kubelet was killed")
    assert _node_ready(cluster, NODE1) == "True"
    # the node lifecycle controller marks its pods not Ready: the Service keeps only the pod on node 1
    wait_until(lambda: _endpoint_ips(cluster) == {pods[f"{APP}-0"]["ip"]}, 60, "the lost pod out of the endpoints")
    service = f"{_cluster_ip(cluster, APP)} 80"   # kube-proxy follows within a second or two
    wait_until(lambda: all(_http(cluster, f"{APP}-0", service) == f"{APP}-0" for _ in range(4)), 30,
               "the Service answering from the pod on node 1 only")


def _cluster_ip(env: dict[str, str], service: str) -> str:
    return str(kube_json(env, "-n", NAMESPACE, "get", "service", service)["spec"]["clusterIP"])


def _endpoint_ips(env: dict[str, str]) -> set[str]:
    slices = kube_json(env, "-n", NAMESPACE, "get", "endpointslices", "-l", f"kubernetes.io/service-name={APP}")
    return {addr for s in slices["items"] for e in s.get("endpoints") or []
            if (e.get("conditions") or {}).get("ready") for addr in e["addresses"]}
