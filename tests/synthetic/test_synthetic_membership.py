"""The Kubernetes membership scheme of the synthetic server against a fake Kubernetes API server."""

from __future__ import annotations

from pathlib import Path

import pytest
from synthetic_helpers import FakeKubeApi, get_json, make_ca_and_server_cert, set_clustering, set_offset, wait_until

from wso2k8s.synthetic.runner import ports_for

pytestmark = pytest.mark.engine

# Addresses in the documentation range: reported as members only, never contacted.
SELF, IP1, IP2, IP3, NOT_READY = "192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.99"


@pytest.fixture
def api(tmp_path: Path):
    fake = FakeKubeApi(tmp_path / "kube", namespace="wso2",
                       endpoints={"wso2is": [IP2, IP1], "wso2is-mgt": [IP1]},
                       not_ready={"wso2is": [NOT_READY]}).start()
    yield fake
    fake.stop()


def _java_opts(api: FakeKubeApi, ca: Path | None = None) -> list[str]:
    return [f"-Dkubernetes.membership.token.file={api.token_file}",
            f"-Dkubernetes.membership.ca.file={ca or api.ca_crt}",
            "-Dkubernetes.membership.interval.ms=250",
            f"-Dcarbon.local.ip={SELF}"]


def _members(offset: int) -> dict:
    return get_json(f"http://127.0.0.1:{ports_for(offset)['http']}/cluster/members")


def test_members_follow_endpoints_and_rbac_errors_are_clear(carbon_home: Path, offset: int, api: FakeKubeApi,
                                                            servers) -> None:
    """In-cluster style: no KUBERNETES_MASTER, the API server comes from KUBERNETES_SERVICE_HOST/PORT_HTTPS
    and its certificate is verified against the service account's ca.crt."""
    set_offset(carbon_home, offset)
    set_clustering(carbon_home, params={"KUBERNETES_NAMESPACE": "wso2", "KUBERNETES_SERVICES": "wso2is,wso2is-mgt",
                                        "KUBERNETES_MASTER_SKIP_SSL_VERIFICATION": "false"})
    server = servers(carbon_home, java_opts=_java_opts(api),
                     env={"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT_HTTPS": str(api.port),
                          "KUBERNETES_SERVICE_PORT": "1"})

    m = wait_until(lambda: (lambda j: j if j["updated_at"] else None)(_members(offset)), what="first poll")
    assert m["scheme"] == "kubernetes"
    assert m["clustering_enabled"] is True
    assert m["domain"] == "wso2.carbon.domain"
    assert m["namespace"] == "wso2"
    assert m["services"] == ["wso2is", "wso2is-mgt"]
    assert m["api_server"] == f"https://127.0.0.1:{api.port}"
    assert m["self"] == SELF
    assert m["members"] == [IP1, IP2]  # sorted, de-duplicated, notReadyAddresses left out
    assert m["last_error"] is None
    assert "Using kubernetes based membership management scheme" in server.output()

    assert not api.violations
    paths = {r.path for r in api.requests}
    assert paths == {"/api/v1/namespaces/wso2/endpoints/wso2is", "/api/v1/namespaces/wso2/endpoints/wso2is-mgt"}
    for r in api.requests:
        assert r.headers["Authorization"] == f"Bearer {api.token}"
        assert r.query == {}

    # A pod is replaced: one member leaves, another joins.
    api.endpoints["wso2is"] = [IP1, IP3]
    server.wait_for_output(rf"Member joined: {IP3}", 20)
    server.wait_for_output(rf"Member left: {IP2}", 20)
    assert wait_until(lambda: _members(offset)["members"] == [IP1, IP3], what="members updated")

    # RBAC missing: a clear ERROR line and last_error; the last known members are kept.
    api.mode = "forbidden"
    expected = ("Kubernetes membership: API server refused GET endpoints/wso2is in namespace wso2 (HTTP 403) "
                "\u2014 the pod's service account needs get/list on endpoints (Role + RoleBinding)")
    line = server.wait_for_output(r"\[[^\]]+\] ERROR \{org\.wso2\.carbon\.membership\.scheme\.kubernetes\."
                                  r"KubernetesMembershipScheme\} -  Kubernetes membership: API server refused.*", 20)
    assert line.group(0).endswith(expected)
    m = wait_until(lambda: (lambda j: j if j["last_error"] else None)(_members(offset)), what="last_error")
    assert m["last_error"] == expected
    assert m["members"] == [IP1, IP3]

    # Fixed (Role + RoleBinding applied): polling recovers by itself.
    api.mode = "ok"
    assert wait_until(lambda: _members(offset)["last_error"] is None, what="recovery")
    assert not api.violations


def test_rejected_token_is_reported(carbon_home: Path, offset: int, api: FakeKubeApi, servers) -> None:
    set_offset(carbon_home, offset)
    set_clustering(carbon_home, params={"KUBERNETES_NAMESPACE": "wso2", "KUBERNETES_SERVICES": "wso2is",
                                        "KUBERNETES_MASTER": api.url})
    api.token = "a-different-token"  # the server still sends the one in its token file
    servers(carbon_home, java_opts=_java_opts(api))
    m = wait_until(lambda: (lambda j: j if j["last_error"] else None)(_members(offset)), what="last_error")
    assert "(HTTP 401)" in m["last_error"] and "token" in m["last_error"]
    assert m["members"] == []


def test_tls_verification_and_skip(carbon_home: Path, tmp_path: Path, offset: int, api: FakeKubeApi,
                                   servers) -> None:
    other_ca, _, _ = make_ca_and_server_cert(tmp_path / "other", "other")
    set_offset(carbon_home, offset)
    set_clustering(carbon_home, params={"KUBERNETES_NAMESPACE": "wso2", "KUBERNETES_SERVICES": "wso2is",
                                        "KUBERNETES_MASTER": api.url})
    server = servers(carbon_home, java_opts=_java_opts(api, ca=other_ca))
    m = wait_until(lambda: (lambda j: j if j["last_error"] else None)(_members(offset)), what="TLS failure")
    assert "TLS handshake" in m["last_error"] and str(other_ca) in m["last_error"]
    assert m["members"] == []
    assert api.requests == []  # nothing was sent to an unverified server
    server.stop()

    # KUBERNETES_MASTER_SKIP_SSL_VERIFICATION=true (a development option) accepts any certificate.
    # Environment variables win over axis2.xml parameters, as in the real scheme.
    set_clustering(carbon_home, params={"KUBERNETES_NAMESPACE": "not-this-one"})
    servers(carbon_home, java_opts=_java_opts(api, ca=other_ca),
            env={"KUBERNETES_NAMESPACE": "wso2", "KUBERNETES_MASTER_SKIP_SSL_VERIFICATION": "true"})
    m = wait_until(lambda: (lambda j: j if j["updated_at"] else None)(_members(offset)), what="first poll")
    assert m["members"] == [IP1, IP2]
    assert m["namespace"] == "wso2"
    assert m["last_error"] is None


def test_unreachable_api_server_keeps_retrying(carbon_home: Path, offset: int, api: FakeKubeApi, servers) -> None:
    api.stop()  # nothing listens on its port any more
    set_offset(carbon_home, offset)
    set_clustering(carbon_home, params={"KUBERNETES_NAMESPACE": "wso2", "KUBERNETES_SERVICES": "wso2is",
                                        "KUBERNETES_MASTER": api.url})
    server = servers(carbon_home, java_opts=_java_opts(api))
    m = wait_until(lambda: (lambda j: j if j["last_error"] else None)(_members(offset)), what="last_error")
    assert "cannot reach the API server" in m["last_error"]
    assert get_json(f"http://127.0.0.1:{ports_for(offset)['http']}/health")["status"] == "UP"
    assert server.proc.poll() is None


def test_other_schemes_only_see_themselves(carbon_home: Path, offset: int, servers) -> None:
    set_offset(carbon_home, offset)
    set_clustering(carbon_home, scheme="wka")
    servers(carbon_home, java_opts=[f"-Dcarbon.local.ip={SELF}"])
    m = _members(offset)
    assert m["scheme"] == "wka"
    assert m["clustering_enabled"] is True
    assert m["members"] == [SELF]
    assert "not simulated" in m["last_error"]
