"""Engine tests share the cluster and the registry with whatever the user runs there (the dev stack of
`tools/up.sh` above all): they use a namespace, node ports and image tags of their own, and prove afterwards
that everything else is as they found it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tests.engine.stack import kube_json

# Node ports the engine tests may take: the default node-port range (30000-32767) minus the seed's
# 32001-32004, which a dev stack holds, and minus the top of the range a user is likely to pick by hand.
TEST_NODE_PORTS = range(30100, 31000)
MANAGED = "app.kubernetes.io/managed-by=wso2-kubernetes"
# What a stack of ours creates, plus every Service (their node ports are what a test could steal).
KINDS = ("namespace,service,replicationcontroller,deployment,statefulset,secret,serviceaccount,role,rolebinding,"
         "pod,poddisruptionbudget,horizontalpodautoscaler")


def taken_node_ports(env: dict[str, str]) -> set[int]:
    services = kube_json(env, "get", "services", "--all-namespaces")["items"]
    return {p["nodePort"] for s in services for p in s["spec"].get("ports", []) if p.get("nodePort")}


def free_node_ports(env: dict[str, str], count: int) -> list[int]:
    """`count` consecutive node ports in TEST_NODE_PORTS that no Service holds now."""
    taken = taken_node_ports(env)
    for start in range(TEST_NODE_PORTS.start, TEST_NODE_PORTS.stop - count + 1, 10):
        ports = list(range(start, start + count))
        if not taken.intersection(ports):
            return ports
    raise AssertionError(f"no {count} free node ports in {TEST_NODE_PORTS}: {sorted(taken)}")


def services_on(env: dict[str, str], external_ip: str, port: int) -> list[str]:
    """namespace/name of every Service that takes `port` on `external_ip` (an edge proxy on a node's 443)."""
    services = kube_json(env, "get", "services", "--all-namespaces")["items"]
    return [f"{s['metadata']['namespace']}/{s['metadata']['name']}" for s in services
            if external_ip in s["spec"].get("externalIPs", []) and any(p["port"] == port for p in s["spec"]["ports"])]


def _fingerprint(item: dict[str, Any]) -> str:
    """A hash, so a failure names what changed without printing a Secret's data."""
    meta = item["metadata"]
    kept = {"uid": meta["uid"], "labels": meta.get("labels"), "generation": meta.get("generation"),
            **{k: item.get(k) for k in ("spec", "data", "rules", "subjects", "roleRef", "secrets")}}
    return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()[:16]


def cluster_snapshot(env: dict[str, str], *, except_namespace: str) -> dict[str, str]:
    """kind/namespace/name → fingerprint of every object of ours and every Service, outside the test's
    own namespace. Status (ready replicas, restarts) is left out: it moves by itself."""
    items = kube_json(env, "get", KINDS, "--all-namespaces", "-l", MANAGED)["items"]
    items += kube_json(env, "get", "services", "--all-namespaces")["items"]
    snapshot = {}
    for item in items:
        if item["metadata"].get("deletionTimestamp"):
            continue  # an earlier test's teardown still finishing: not ours to judge, and gone soon
        namespace = item["metadata"].get("namespace", "")
        if except_namespace in (namespace, item["metadata"]["name"] if item["kind"] == "Namespace" else None):
            continue
        snapshot[f"{item['kind']}/{namespace}/{item['metadata']['name']}"] = _fingerprint(item)
    return snapshot


def differences(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return ([f"gone: {k}" for k in sorted(before.keys() - after.keys())] +
            [f"new: {k}" for k in sorted(after.keys() - before.keys())] +
            [f"changed: {k}" for k in sorted(before.keys() & after.keys()) if before[k] != after[k]])
