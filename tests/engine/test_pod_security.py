"""Pod Security Admission on the local cluster: a namespace labelled the way the program labels the namespaces it
creates (kubernetes.pod_security, default restricted) admits the program's own pod spec and refuses pods that
break the standard; the pod-level seccomp RuntimeDefault really confines the process under this containerd.

kubectl only (no Pulumi): `--dry-run=server` runs admission without scheduling anything, so the program's pod
spec is checked as the API server sees it, image and all.
"""

from __future__ import annotations

import copy
import json
import secrets
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from components.carbon_cluster import pod_spec_dict
from components.graph import members_of, namespace_labels
from tests.engine.conftest import PROJECT_DIR, _exports
from tests.engine.stack import kube_json, kubectl, wait_until
from tests.unit.helpers import stack_settings
from wso2k8s.settings import Settings

NAMESPACE = f"wso2-psa-{secrets.token_hex(3)}"
REFUSED = 'violates PodSecurity "restricted:latest"'


@pytest.fixture(scope="module")
def cluster() -> Iterator[dict[str, str]]:
    """The local cluster (started if needed) and a restricted namespace labelled by the program's own code."""
    env = _exports(f"{PROJECT_DIR}/tools/kubernetes/cluster.sh up >&2 && {PROJECT_DIR}/tools/kubernetes/cluster.sh env")
    ns = {"apiVersion": "v1", "kind": "Namespace",
          "metadata": {"name": NAMESPACE, "labels": namespace_labels(_settings())}}
    _apply(env, ns)
    wait_until(lambda: kubectl(env, "-n", NAMESPACE, "get", "sa", "default", check=False).returncode == 0, 60,
               "the namespace's default ServiceAccount")
    yield env
    kubectl(env, "delete", "namespace", NAMESPACE, "--wait=false", check=False)


def _settings() -> Settings:
    return stack_settings(kubernetes={"namespace": NAMESPACE, "create_namespace": True}).profiles[0]


def _program_pod(name: str) -> dict[str, Any]:
    s = _settings()
    spec = pod_spec_dict(members_of(s).pod, image="127.0.0.1:5000/wso2/is-5.1.0@sha256:" + "0" * 64,
                         service_account="default", secret_name=f"{s.name}-secrets")
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NAMESPACE}, "spec": spec}


def _apply(env: dict[str, str], manifest: dict[str, Any], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", "apply", "-f", "-", *extra], env=env, input=json.dumps(manifest), text=True,
                          capture_output=True, timeout=120)


def test_the_namespace_enforces_restricted(cluster: dict[str, str]) -> None:
    labels = kube_json(cluster, "get", "namespace", NAMESPACE)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"


def test_the_programs_pod_spec_is_admitted_without_warnings(cluster: dict[str, str]) -> None:
    proc = _apply(cluster, _program_pod("wso2is-admitted"), "--dry-run=server")
    assert proc.returncode == 0, proc.stderr
    assert "created (server dry run)" in proc.stdout
    assert "PodSecurity" not in proc.stderr and "Warning" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("breach,says", [
    ("no seccomp profile", "seccompProfile"),
    ("privilege escalation", "allowPrivilegeEscalation != false"),
    ("a capability kept", "unrestricted capabilities"),
    ("root allowed", "runAsNonRoot != true"),
    ("a hostPath volume", "restricted volume types"),
])
def test_a_pod_that_breaks_restricted_is_refused(cluster: dict[str, str], breach: str, says: str) -> None:
    pod = _program_pod("wso2is-refused")
    spec, container = pod["spec"], pod["spec"]["containers"][0]
    if breach == "no seccomp profile":
        del spec["securityContext"]["seccompProfile"]
    elif breach == "privilege escalation":
        container["securityContext"]["allowPrivilegeEscalation"] = True
    elif breach == "a capability kept":
        container["securityContext"]["capabilities"] = {"drop": ["ALL"], "add": ["NET_ADMIN"]}
    elif breach == "root allowed":
        spec["securityContext"] = {k: v for k, v in spec["securityContext"].items()
                                   if k not in ("runAsNonRoot", "runAsUser")}
    else:
        spec["volumes"].append({"name": "host", "hostPath": {"path": "/etc"}})
    proc = _apply(cluster, pod, "--dry-run=server")
    assert proc.returncode != 0, f"{breach}: admitted ({proc.stdout})"
    assert REFUSED in proc.stderr and says in proc.stderr, proc.stderr


def test_seccomp_runtime_default_really_confines_the_process(cluster: dict[str, str]) -> None:
    """The program's security contexts on a real pod (the local busybox image instead of the product's, so no
    build is needed): admitted, Running, non-root, and the kernel reports a seccomp filter on the process."""
    pod = _program_pod("wso2is-seccomp")
    container = pod["spec"]["containers"][0]
    pod["spec"] = {"securityContext": pod["spec"]["securityContext"], "terminationGracePeriodSeconds": 1,
                   "containers": [{"name": "probe", "image": "docker.io/local/busybox:1", "imagePullPolicy": "Never",
                                   "command": ["sleep", "3600"],
                                   "securityContext": copy.deepcopy(container["securityContext"])}]}
    proc = _apply(cluster, pod)
    assert proc.returncode == 0, proc.stderr
    try:
        wait_until(lambda: kube_json(cluster, "-n", NAMESPACE, "get", "pod", "wso2is-seccomp")["status"]
                   .get("phase") == "Running", 60, "the seccomp pod Running")
        status = kubectl(cluster, "-n", NAMESPACE, "exec", "wso2is-seccomp", "--", "cat", "/proc/1/status").stdout
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        assert fields["Seccomp"].strip() == "2", status  # 2 = SECCOMP_MODE_FILTER
        assert fields["Uid"].split()[0] == "802"
        assert fields["NoNewPrivs"].strip() == "1"
        assert int(fields["CapEff"].strip(), 16) == 0
    finally:
        kubectl(cluster, "-n", NAMESPACE, "delete", "pod", "wso2is-seccomp", "--grace-period=0", "--force",
                check=False)
