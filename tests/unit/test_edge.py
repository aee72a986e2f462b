"""The edge proxy with Pulumi mocks: bad arguments refused before any resource, the Caddyfile it renders, a pod that
meets Pod Security `restricted`, the TLS key only mounted from its Secret, the cookie key only as a secret."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from components.edge import EdgeArgsError, EdgeProxy, EdgeProxyArgs
from components.registry import RegistryTarget
from tests.unit.test_graph import Mocks
from wso2k8s.edge_context import CaddyfileArgs, EdgeContextError, caddyfile, write_edge_context
from wso2k8s.settings.schema import ImageBuild

pytestmark = pytest.mark.unit


def _args(tmp_path: Path, **changes: Any) -> EdgeProxyArgs:
    args = EdgeProxyArgs(
        namespace="wso2", name="wso2is-edge", host="is.example.com", tls_secret_name="is-tls",
        backend_service="wso2is-members.wso2.svc.cluster.local", backend_port=9443, cookie_name="wso2lb",
        labels={"app.kubernetes.io/managed-by": "wso2-kubernetes"}, context=tmp_path,
        image_name="127.0.0.1:5000/wso2/edge:1", registry=RegistryTarget("127.0.0.1:5000"),
        build=ImageBuild(builder="default", exec=True), external_ips=("10.245.0.1",))
    return replace(args, **changes)


def test_the_caddyfile_terminates_tls_and_proxies_sticky_over_https() -> None:
    text = caddyfile(CaddyfileArgs("is.example.com", "wso2is-members.wso2.svc.cluster.local", 9443, "wso2lb"))
    assert "https://is.example.com:8443 {" in text
    assert "tls /etc/edge/tls/tls.crt /etc/edge/tls/tls.key" in text
    assert "dynamic a {\n\t\t\tname wso2is-members.wso2.svc.cluster.local\n\t\t\tport 9443" in text
    assert "lb_policy cookie wso2lb {$EDGE_COOKIE_SECRET}" in text
    assert "header_up X-Forwarded-Port 443" in text and "admin off" in text
    assert "tls_insecure_skip_verify" in text and "tls_trust_pool" not in text
    verified = caddyfile(CaddyfileArgs("is.example.com", "m.wso2", 9443, "lb", backend_ca=True,
                                       backend_tls_server_name="wso2is"))
    assert "tls_trust_pool file /etc/edge/backend-ca/ca.crt" in verified and "tls_insecure_skip_verify" not in verified


def test_the_context_needs_the_built_caddy(tmp_path: Path) -> None:
    with pytest.raises(EdgeContextError, match=r"tools/caddy/build\.sh"):
        write_edge_context(tmp_path / "ctx", "local/debian:bookworm", 65532, caddy=tmp_path / "missing")
    binary = tmp_path / "caddy"
    binary.write_bytes(b"\x7fELF fake")
    ctx = write_edge_context(tmp_path / "ctx", "local/debian:bookworm", 65532, caddy=binary)
    dockerfile = (ctx / "Dockerfile").read_text()
    assert "FROM local/debian:bookworm" in dockerfile and "USER 65532:65532" in dockerfile
    assert (ctx / "caddy").read_bytes() == binary.read_bytes() and (ctx / "caddy").stat().st_mode & 0o111
    assert "tls.key" not in dockerfile and "Caddyfile" not in {p.name for p in ctx.iterdir()}


@pytest.mark.parametrize(("changes", "named"), [
    ({"host": "IS_bad host"}, "host"), ({"cookie_name": "JSESSIONID"}, "cookie_name"),
    ({"cookie_name": "a;b"}, "cookie_name"), ({"port": 0}, "port"), ({"external_ips": ("10.0.0",)}, "external_ips"),
    ({"user_id": 0}, "user_id"), ({"backend_service": "under_score"}, "backend_service"),
])
def test_bad_arguments_are_refused_before_any_resource(tmp_path: Path, changes: dict[str, Any], named: str) -> None:
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="wso2-kubernetes", stack="unit", preview=False)
    with pytest.raises(EdgeArgsError, match=rf"{named}\b.*fix: "):
        EdgeProxy("edge", _args(tmp_path, **changes))
    assert mocks.resources == []


@pulumi.runtime.test
def test_the_edge_pod_is_restricted_and_reached_on_the_node_443(tmp_path: Path) -> Any:
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="wso2-kubernetes", stack="unit", preview=False)
    edge = EdgeProxy("edge", _args(tmp_path, cookie_secret=pulumi.Output.secret("k" * 64)))

    def check(values: list[Any]) -> None:
        url, ref = values[:2]
        assert url == "https://is.example.com/" and ref.startswith("127.0.0.1:5000/wso2/edge:1@sha256:")
        deployment = mocks.one("kubernetes:apps/v1:Deployment").inputs
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 65532
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        (c,) = pod["containers"]
        assert c["image"] == ref and "command" not in c
        assert c["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                        "capabilities": {"drop": ["ALL"]}}
        assert {"name": "tls", "secret": {"secretName": "is-tls", "defaultMode": 0o440}} in pod["volumes"]
        assert {v["name"] for v in pod["volumes"]} == {"tls", "config", "tmp"}  # kinds `restricted` allows
        assert "hostNetwork" not in pod and all("hostPort" not in p for p in c["ports"])
        assert c["env"] == [{"name": "EDGE_COOKIE_SECRET", "valueFrom": {"secretKeyRef": {
            "name": "wso2is-edge-cookie", "key": "cookie_secret"}}}]
        secret = mocks.one("kubernetes:core/v1:Secret").inputs["stringData"]
        assert rpc.is_rpc_secret(secret), "the cookie key was sent in plain text"
        svc = mocks.one("kubernetes:core/v1:Service").inputs["spec"]
        assert svc["type"] == "ClusterIP" and svc["externalIPs"] == ["10.245.0.1"]
        assert svc["ports"] == [{"name": "https", "port": 443, "targetPort": "https"}]
        config = mocks.one("kubernetes:core/v1:ConfigMap").inputs["data"]["Caddyfile"]
        assert "lb_policy cookie wso2lb" in config

    return pulumi.Output.all(edge.url, edge.image_ref, edge.deployment.id, edge.service.id).apply(check)


@pulumi.runtime.test
def test_without_a_cookie_key_each_pod_makes_one(tmp_path: Path) -> Any:
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="wso2-kubernetes", stack="unit", preview=False)
    edge = EdgeProxy("edge", _args(tmp_path, port=8443, external_ips=()))

    def check(values: list[Any]) -> None:
        url = values[0]
        assert url == "https://is.example.com:8443/"
        (c,) = mocks.one("kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"]["containers"]
        assert c["command"][:2] == ["/bin/sh", "-c"] and "/dev/urandom" in c["command"][2]
        assert "exec /usr/local/bin/caddy run" in c["command"][2]
        assert [r for r in mocks.resources if r.typ == "kubernetes:core/v1:Secret"] == []
        assert "externalIPs" not in mocks.one("kubernetes:core/v1:Service").inputs["spec"]

    return pulumi.Output.all(edge.url, edge.deployment.id, edge.service.id).apply(check)
