"""The synthetic server runs the membership scheme jar named in axis2.xml (the synthetic stand-ins of the real
jars, per version) against a fake Kubernetes API server and a fake cluster DNS."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from synthetic_helpers import (
    FakeDns,
    FakeKubeApi,
    get_json,
    install_scheme,
    make_ca_and_server_cert,
    set_clustering,
    set_offset,
    trust_opts,
    wait_until,
)

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
    return [*trust_opts(ca or api.ca_crt),
            "-Dkubernetes.membership.interval.ms=250",
            f"-Dcarbon.local.ip={SELF}"]


def _env(api: FakeKubeApi, **more: str) -> dict[str, str]:
    """The real scheme's token file override (BEARER_TOKEN_FILE_LOCATION, an environment variable)."""
    return {"BEARER_TOKEN_FILE_LOCATION": str(api.token_file), **more}


@pytest.fixture
def carbon_home(carbon_home: Path) -> Path:
    """The pack with the current scheme jar and dnsjava in repository/components/lib (the default file_list)."""
    install_scheme(carbon_home, "current")
    return carbon_home


def _members(offset: int) -> dict:
    return get_json(f"http://127.0.0.1:{ports_for(offset)['http']}/cluster/members")


def test_members_follow_endpoints_and_rbac_errors_are_clear(carbon_home: Path, offset: int, api: FakeKubeApi,
                                                            servers) -> None:
    """In-cluster style: no KUBERNETES_API_SERVER, the API server comes from KUBERNETES_SERVICE_HOST/PORT_HTTPS
    and its certificate is verified against the service account's ca.crt."""
    set_offset(carbon_home, offset)
    set_clustering(carbon_home, params={"KUBERNETES_NAMESPACE": "wso2", "KUBERNETES_SERVICES": "wso2is,wso2is-mgt",
                                        "USE_DNS": "false", "KUBERNETES_MASTER_SKIP_SSL_VERIFICATION": "false"})
    server = servers(carbon_home, java_opts=_java_opts(api),
                     env=_env(api, KUBERNETES_SERVICE_HOST="127.0.0.1", KUBERNETES_SERVICE_PORT_HTTPS=str(api.port),
                              KUBERNETES_SERVICE_PORT="1"))

    m = wait_until(lambda: (lambda j: j if j["updated_at"] else None)(_members(offset)), what="first poll")
    assert m["scheme"] == "kubernetes"
    assert m["clustering_enabled"] is True
    assert m["domain"] == "wso2.carbon.domain"
    assert m["namespace"] == "wso2"
    assert m["services"] == ["wso2is", "wso2is-mgt"]
    assert m["api_server"] == f"https://127.0.0.1:{api.port}"
    assert m["self"] == SELF
    assert m["members"] == [IP1, IP2, NOT_READY]  # sorted, de-duplicated; notReadyAddresses count, as in 1.0.5
    assert m["last_error"] is None
    assert "Using kubernetes based membership management scheme" in server.output()
    assert "Parameter KUBERNETES_API_SERVER not found, checking KUBERNETES_SERVICE_HOST" in server.output()

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
    assert wait_until(lambda: _members(offset)["members"] == [IP1, IP3, NOT_READY], what="members updated")

    # RBAC missing: a clear ERROR line and last_error; the last known members are kept.
    api.mode = "forbidden"
    expected = ("Kubernetes membership: API server refused GET endpoints/wso2is in namespace wso2 (HTTP 403) "
                "\u2014 the pod's service account needs get/list on endpoints (Role + RoleBinding)")
    line = server.wait_for_output(r"\[[^\]]+\] ERROR \{org\.wso2\.carbon\.membership\.scheme\.kubernetes\."
                                  r"KubernetesMembershipScheme\} -  Kubernetes membership: API server refused.*", 20)
    assert line.group(0).endswith(expected)
    m = wait_until(lambda: (lambda j: j if j["last_error"] else None)(_members(offset)), what="last_error")
    assert m["last_error"] == expected
    assert m["members"] == [IP1, IP3, NOT_READY]

    # Fixed (Role + RoleBinding applied): polling recovers by itself.
    api.mode = "ok"
    assert wait_until(lambda: _members(offset)["last_error"] is None, what="recovery")
    assert not api.violations


def test_rejected_token_is_reported(carbon_home: Path, offset: int, api: FakeKubeApi, servers) -> None:
    set_offset(carbon_home, offset)
    set_clustering(carbon_home, params={"KUBERNETES_NAMESPACE": "wso2", "KUBERNETES_SERVICES": "wso2is",
                                        "USE_DNS": "false", "KUBERNETES_API_SERVER": api.url})
    api.token = "a-different-token"  # the server still sends the one in its token file
    servers(carbon_home, java_opts=_java_opts(api), env=_env(api))
    m = wait_until(lambda: (lambda j: j if j["last_error"] else None)(_members(offset)), what="last_error")
    assert "(HTTP 401)" in m["last_error"] and "token" in m["last_error"]
    assert m["members"] == []


def test_tls_verification_and_skip(carbon_home: Path, tmp_path: Path, offset: int, api: FakeKubeApi,
                                   servers) -> None:
    other_ca, _, _ = make_ca_and_server_cert(tmp_path / "other", "other")
    set_offset(carbon_home, offset)
    set_clustering(carbon_home, params={"KUBERNETES_NAMESPACE": "wso2", "KUBERNETES_SERVICES": "wso2is",
                                        "USE_DNS": "false", "KUBERNETES_API_SERVER": api.url})
    server = servers(carbon_home, java_opts=_java_opts(api, ca=other_ca), env=_env(api))
    m = wait_until(lambda: (lambda j: j if j["last_error"] else None)(_members(offset)), what="TLS failure")
    assert "TLS handshake" in m["last_error"] and str(other_ca.with_suffix(".truststore.p12")) in m["last_error"]
    assert m["members"] == []
    assert api.requests == []  # nothing was sent to an unverified server
    server.stop()

    # KUBERNETES_MASTER_SKIP_SSL_VERIFICATION=true (a development option) accepts any certificate.
    # Environment variables win over axis2.xml parameters, as in the real scheme.
    set_clustering(carbon_home, params={"KUBERNETES_NAMESPACE": "not-this-one"}, class_name=None)
    servers(carbon_home, java_opts=_java_opts(api, ca=other_ca),
            env=_env(api, KUBERNETES_NAMESPACE="wso2", KUBERNETES_MASTER_SKIP_SSL_VERIFICATION="true"))
    m = wait_until(lambda: (lambda j: j if j["updated_at"] else None)(_members(offset)), what="first poll")
    assert m["members"] == [IP1, IP2, NOT_READY]
    assert m["namespace"] == "wso2"
    assert m["last_error"] is None


def test_unreachable_api_server_keeps_retrying(carbon_home: Path, offset: int, api: FakeKubeApi, servers) -> None:
    api.stop()  # nothing listens on its port any more
    set_offset(carbon_home, offset)
    set_clustering(carbon_home, params={"KUBERNETES_NAMESPACE": "wso2", "KUBERNETES_SERVICES": "wso2is",
                                        "USE_DNS": "false", "KUBERNETES_API_SERVER": api.url})
    server = servers(carbon_home, java_opts=_java_opts(api), env=_env(api))
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


def test_a_parameter_name_the_jar_does_not_read_is_a_failure(carbon_home: Path, offset: int, api: FakeKubeApi,
                                                              servers) -> None:
    """The 2016 name KUBERNETES_MASTER means nothing to the current jar: it falls back to the pod's
    KUBERNETES_SERVICE_HOST, absent here, and clustering fails as the real 1.0.5 does."""
    set_offset(carbon_home, offset)
    set_clustering(carbon_home, params={"KUBERNETES_NAMESPACE": "wso2", "KUBERNETES_SERVICES": "wso2is",
                                        "USE_DNS": "false", "KUBERNETES_MASTER": api.url})
    servers(carbon_home, java_opts=_java_opts(api), env=_env(api))
    m = wait_until(lambda: (lambda j: j if j["last_error"] else None)(_members(offset)), what="last_error")
    assert m["last_error"] == ("Kubernetes membership initialization failed: Environment variable "
                               "KUBERNETES_SERVICE_HOST not found")
    assert m["members"] == [] and api.requests == []


def test_without_the_scheme_jar_clustering_fails(carbon_home: Path, offset: int, servers) -> None:
    for jar in (carbon_home / "repository/components/lib").glob("kubernetes-membership-scheme-*.jar"):
        jar.unlink()
    set_offset(carbon_home, offset)
    set_clustering(carbon_home, params={"KUBERNETES_SERVICES": "wso2is"})
    server = servers(carbon_home, java_opts=[f"-Dcarbon.local.ip={SELF}"])
    m = wait_until(lambda: (lambda j: j if j["last_error"] else None)(_members(offset)), what="last_error")
    assert "KubernetesMembershipScheme is in no jar of repository/components/lib or dropins" in m["last_error"]
    assert server.proc.poll() is None  # the server keeps running, alone


def test_the_2016_jar_cannot_authenticate_to_a_current_api_server(carbon_home: Path, tmp_path: Path, offset: int,
                                                                  api: FakeKubeApi, servers) -> None:
    """Why prepare() refuses it: no bearer token, so the API server answers 401 whatever the RBAC."""
    for jar in (carbon_home / "repository/components/lib").glob("kubernetes-membership-scheme-*.jar"):
        jar.unlink()
    install_scheme(carbon_home, "2016", dnsjava=False)
    trust = tmp_path / "trust.p12"  # the 2016 jar trusts the JVM's truststore
    subprocess.run(["keytool", "-importcert", "-noprompt", "-alias", "kube", "-file", str(api.ca_crt),
                    "-keystore", str(trust), "-storetype", "PKCS12", "-storepass", "changeit"],
                   check=True, capture_output=True)
    opts = [*_java_opts(api), f"-Djavax.net.ssl.trustStore={trust}", "-Djavax.net.ssl.trustStorePassword=changeit"]
    set_offset(carbon_home, offset)
    # Its names: KUBERNETES_API_SERVER is not one of them.
    set_clustering(carbon_home, params={"KUBERNETES_NAMESPACE": "wso2", "KUBERNETES_SERVICES": "wso2is",
                                        "USE_DNS": "false", "KUBERNETES_API_SERVER": api.url})
    server = servers(carbon_home, java_opts=opts, env=_env(api))
    m = wait_until(lambda: (lambda j: j if j["last_error"] else None)(_members(offset)), what="last_error")
    assert m["last_error"] == "Kubernetes membership initialization failed: Kubernetes master parameter not found"
    server.stop()

    set_clustering(carbon_home, params={"KUBERNETES_MASTER": api.url, "KUBERNETES_MASTER_USERNAME": "admin",
                                        "KUBERNETES_MASTER_PASSWORD": "admin"}, class_name=None)
    servers(carbon_home, java_opts=opts, env=_env(api))
    m = wait_until(lambda: (lambda j: j if j["last_error"] else None)(_members(offset)), what="last_error")
    assert "HTTP 401" in m["last_error"] and m["members"] == []
    assert api.requests and all(r.headers["Authorization"].startswith("Basic ") for r in api.requests)


def test_v1_endpoints_deprecation_warning_is_logged_once(carbon_home: Path, offset: int, api: FakeKubeApi,
                                                         servers) -> None:
    api.warning = '299 - "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice"'
    set_offset(carbon_home, offset)
    set_clustering(carbon_home, params={"KUBERNETES_NAMESPACE": "wso2", "KUBERNETES_SERVICES": "wso2is",
                                        "USE_DNS": "false", "KUBERNETES_API_SERVER": api.url})
    server = servers(carbon_home, java_opts=_java_opts(api), env=_env(api))
    wait_until(lambda: len(api.requests) >= 4, what="four polls")
    assert _members(offset)["members"] == [IP1, IP2, NOT_READY]  # still working
    assert server.output().count("v1 Endpoints is deprecated in v1.33+") == 1
    assert "WARN {org.wso2.carbon.membership.scheme.kubernetes.KubernetesMembershipScheme} -  Kubernetes API " \
           "server warning (logged once)" in server.output()


def test_dns_mode_finds_members_by_srv_and_a_lookups(carbon_home: Path, offset: int, servers) -> None:
    """USE_DNS=true (the real scheme's default): SRV of <svc>.<ns>.svc.cluster.local, then A of each target."""
    name = "wso2is-headless.wso2.svc.cluster.local"
    dns = FakeDns({name: [IP2, IP1]}).start()
    try:
        set_offset(carbon_home, offset)
        set_clustering(carbon_home, params={"KUBERNETES_NAMESPACE": "wso2", "KUBERNETES_SERVICES": "wso2is-headless",
                                            "USE_DNS": "true", "DNS_LOOKUP_TIMEOUT": "2"})
        opts = [f"-Ddns.server=127.0.0.1:{dns.port}", "-Dkubernetes.membership.interval.ms=250",
                f"-Dcarbon.local.ip={SELF}"]
        server = servers(carbon_home, java_opts=opts)
        m = wait_until(lambda: (lambda j: j if j["updated_at"] else None)(_members(offset)), what="first lookup")
        assert m["members"] == [IP1, IP2] and m["last_error"] is None
        assert m["dns_names"] == [name] and m["api_server"] is None
        assert (name, "SRV") in dns.queries and ("192-0-2-11." + name, "A") in dns.queries
        dns.services[name] = [IP1, IP3]  # a pod is replaced
        server.wait_for_output(rf"Member joined: {IP3}", 20)
        dns.services.pop(name)  # the headless Service is deleted
        m = wait_until(lambda: (lambda j: j if j["last_error"] else None)(_members(offset)), what="lookup failure")
        assert m["last_error"].startswith(f"DNS lookup for name '{name}' failed: host not found")
        server.stop()

        # Without dnsjava in repository/components/lib the DNS mode cannot start, as with the real jar.
        (carbon_home / "repository/components/lib/dnsjava-2.1.8.jar").unlink()
        servers(carbon_home, java_opts=opts)
        m = wait_until(lambda: (lambda j: j if j["last_error"] else None)(_members(offset)), what="no dnsjava")
        assert "org/xbill/DNS/ExtendedResolver" in m["last_error"]
    finally:
        dns.stop()
