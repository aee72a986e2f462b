"""Membership on the real cluster in DNS mode (cluster DNS, a headless twin Service), and the 2016 scheme jar
refused by `pulumi preview` before anything is built. Its own stack, namespace, node ports and image tags
(tests/engine/isolation.py), so it runs beside test_stack.py's stack and a dev stack."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.engine.isolation import free_node_ports
from tests.engine.stack import ProjectStack, kube_json, kubectl, wait_until

NAMESPACE = f"wso2k8s-test-dns-{secrets.token_hex(4)}"


@pytest.fixture(scope="module")
def stack(engines_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProjectStack]:
    s = ProjectStack.create(tmp_path_factory.mktemp("dns"), "dns", engines_env, passphrase=secrets.token_hex(16))
    s.set_config("profiles", ["default"])
    s.isolate("wso2is", "5.1.0", NAMESPACE, free_node_ports(engines_env, 4))  # own namespace, ports, tags
    s.set_config("clustering", {"kubernetes": {"mode": "dns"}})
    s.set_config("workload", {"replicas": 2, "java_opts": "-Xms32m -Xmx128m",
                              "resources": {"cpu_request": "100m", "memory_request": "128Mi", "cpu_limit": "1",
                                            "memory_limit": "512Mi"}})
    s.set_secret("admin_password", f"Adm1n-{secrets.token_hex(4)}")
    s.set_secret("keystore_password", "wso2carbon")  # the stock keystore
    yield s
    s.pulumi("destroy", "--yes", "--skip-preview", check=False)


def _members_seen_by(env: dict[str, str], pod: str) -> dict[str, Any]:
    script = ('exec 3<>/dev/tcp/127.0.0.1/9763; printf "GET /cluster/members HTTP/1.0\\r\\n\\r\\n" >&3; '
              'sed "1,/^\\r$/d" <&3')
    result: dict[str, Any] = json.loads(kubectl(env, "exec", "-n", NAMESPACE, pod, "--", "bash", "-c",
                                                script).stdout)
    return result


def test_the_2016_scheme_jar_is_refused_by_preview(stack: ProjectStack) -> None:
    good = stack.stack_file.read_text()
    stack.set_config("file_list", ["repository/components/lib/kubernetes-membership-scheme-1.0.0.jar"])
    try:
        proc = stack.pulumi("preview", check=False)
    finally:
        stack.stack_file.write_text(good)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Traceback" not in output
    assert "wso2-kubernetes:file_list[0] (Pulumi.dns.yaml): kubernetes-membership-scheme-1.0.0.jar is the 2016 " \
           "membership scheme" in output
    assert "kubernetes-membership-scheme-1.0.5.jar" in output  # the fix names the current jar
    assert kubectl(stack.env, "get", "namespace", NAMESPACE, check=False).returncode != 0  # nothing created


def test_two_members_find_each_other_by_dns(stack: ProjectStack) -> None:
    stack.up()
    env = stack.env
    headless = kube_json(env, "get", "svc", "wso2is-headless", "-n", NAMESPACE)["spec"]
    assert headless["clusterIP"] == "None" and headless["publishNotReadyAddresses"] is True
    assert kubectl(env, "get", "role", "-n", NAMESPACE, "-o", "name").stdout.strip() == ""  # DNS needs no API

    def everyone() -> bool:
        pods = [p for p in kube_json(env, "get", "pods", "-n", NAMESPACE, "-l", "name=wso2is")["items"]
                if not p["metadata"].get("deletionTimestamp") and p["status"].get("podIP")]
        ips = {p["status"]["podIP"] for p in pods}
        return len(pods) == 2 and all(
            set(_members_seen_by(env, p["metadata"]["name"])["members"]) == ips for p in pods)

    wait_until(everyone, 300, "both members to find each other by DNS")
    pod = kube_json(env, "get", "pods", "-n", NAMESPACE, "-l", "name=wso2is")["items"][0]["metadata"]["name"]
    seen = _members_seen_by(env, pod)
    assert seen["dns_names"] == [f"wso2is-headless.{NAMESPACE}.svc.cluster.local"] and not seen["last_error"]
