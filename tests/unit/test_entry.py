"""The entry under Pulumi mocks and on the synthetic pack's conf: the objects each kind makes, the annotations
of each Ingress dialect, the ClusterIP Service, the rendered host and proxy ports, the generated certificate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from tests.unit.helpers import PROJECT_DIR, stack_config, stack_settings, synthetic_conf
from tests.unit.test_graph import Mocks, build, registered
from wso2k8s.pack.render import render_conf
from wso2k8s.settings import SettingsError

HOST = "is.example.com"
INGRESS = {"kind": "ingress", "host": HOST, "tls": {"secret_name": "is-example-tls"}}
GATEWAY = {"kind": "gateway", "host": HOST, "gateway": {
    "parent_ref": {"name": "public", "namespace": "gateways", "section_name": "https"},
    "backend_ca_config_map": "members-ca"}}
ING = "kubernetes:networking.k8s.io/v1:Ingress"
ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
POLICY = "kubernetes:gateway.networking.k8s.io/v1:BackendTLSPolicy"
SERVICE = "kubernetes:core/v1:Service"


@pytest.fixture
def mocks() -> Mocks:
    m = Mocks()
    pulumi.runtime.set_mocks(m, project="wso2-kubernetes", stack="unit", preview=False)
    return m


def _done(graph: Any) -> pulumi.Output[list[Any]]:
    """Resolves once the graph and the entry's own objects (registered after the certificate) are in the mocks."""
    entry = graph.profiles["default"].entry
    objects = [o.id for o in entry.objects] if entry is not None else []
    return pulumi.Output.all(registered(graph), graph.profiles["default"].console_url, *objects)


@pulumi.runtime.test
def test_an_ingress_entry_makes_a_clusterip_service_and_an_ingress_with_tls(mocks: Mocks) -> Any:
    graph = build(entry=INGRESS)

    def check(values: list[Any]) -> None:
        svc = mocks.one(SERVICE).inputs["spec"]
        assert svc["type"] == "ClusterIP" and svc["sessionAffinity"] == "None"
        assert [p["port"] for p in svc["ports"]] == [9763, 9443, 8000, 10500]  # ports list as in hieradata
        assert all("nodePort" not in p for p in svc["ports"])
        ing = mocks.one(ING).inputs
        assert ing["metadata"]["name"] == "wso2is" and ing["metadata"]["namespace"] == "default"
        assert ing["spec"]["tls"] == [{"hosts": [HOST], "secretName": "is-example-tls"}]
        rule = ing["spec"]["rules"][0]
        assert rule["host"] == HOST
        assert rule["http"]["paths"][0]["backend"]["service"] == {"name": "wso2is", "port": {"number": 9443}}
        assert "ingressClassName" not in ing["spec"]  # null: the cluster's default class
        assert values[1] == f"https://{HOST}/carbon/"
        assert not [r for r in mocks.resources if r.typ in (ROUTE, POLICY) or "dynamic" in r.typ]

    return _done(graph).apply(check)


def _annotations(mocks: Mocks) -> dict[str, str]:
    notes: dict[str, str] = mocks.one(ING).inputs["metadata"]["annotations"]
    return notes


@pulumi.runtime.test
def test_ingress_nginx_dialect_cookie_affinity_and_verified_https_backend(mocks: Mocks) -> Any:
    graph = build(entry={**INGRESS, "cookie_samesite": "Lax", "ingress": {
        "class_name": "nginx", "backend_ca_secret_name": "members-ca", "annotations": {"x.io/extra": "1"}}})

    def check(_: Any) -> None:
        n = "nginx.ingress.kubernetes.io/"
        notes = _annotations(mocks)
        assert {k: notes[n + k] for k in ("affinity", "affinity-mode", "session-cookie-name",
                                          "session-cookie-secure", "session-cookie-samesite", "backend-protocol",
                                          "proxy-ssl-secret", "proxy-ssl-verify", "proxy-ssl-name")} == {
            "affinity": "cookie", "affinity-mode": "persistent", "session-cookie-name": "wso2-route",
            "session-cookie-secure": "true", "session-cookie-samesite": "Lax", "backend-protocol": "HTTPS",
            "proxy-ssl-secret": "default/members-ca", "proxy-ssl-verify": "on", "proxy-ssl-name": "localhost"}
        assert notes["x.io/extra"] == "1"
        assert mocks.one(ING).inputs["spec"]["ingressClassName"] == "nginx"

    return _done(graph).apply(check)


@pulumi.runtime.test
def test_haproxy_and_nginx_inc_dialects_speak_their_own_annotations(mocks: Mocks) -> Any:
    graph = build(entry={**INGRESS, "ingress": {"dialect": "haproxy", "backend_ca_secret_name": "members-ca"}})

    def check(_: Any) -> None:
        notes = _annotations(mocks)
        assert notes == {"haproxy.org/server-ssl": "true", "haproxy.org/ssl-redirect": "true",
                         "haproxy.org/cookie-persistence": "wso2-route", "haproxy.org/server-ca": "default/members-ca",
                         "pulumi.com/skipAwait": "true"}  # no controller address to wait for by default

    return _done(graph).apply(check)


@pulumi.runtime.test
def test_nginx_inc_dialect(mocks: Mocks) -> Any:
    graph = build(entry={**INGRESS, "ingress": {"dialect": "nginx-inc"}})

    def check(_: Any) -> None:
        notes = _annotations(mocks)
        assert notes["nginx.org/ssl-services"] == "wso2is"
        assert notes["nginx.com/sticky-cookie-services"] == "serviceName=wso2is wso2-route secure httponly path=/"
        assert not any(k.startswith("nginx.ingress.kubernetes.io/") for k in notes)

    return _done(graph).apply(check)


@pulumi.runtime.test
def test_a_gateway_entry_makes_an_httproute_with_cookie_sessions_and_a_backend_tls_policy(mocks: Mocks) -> Any:
    graph = build(entry=GATEWAY)

    def check(_: Any) -> None:
        route = mocks.one(ROUTE).inputs
        assert route["apiVersion"] == "gateway.networking.k8s.io/v1" and route["kind"] == "HTTPRoute"
        assert route["spec"]["parentRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway",
                                                "name": "public", "namespace": "gateways", "sectionName": "https"}]
        assert route["spec"]["hostnames"] == [HOST]
        rule = route["spec"]["rules"][0]
        assert rule["backendRefs"] == [{"name": "wso2is", "port": 9443}]
        assert rule["sessionPersistence"] == {"type": "Cookie",
                                              "cookie": {"name": "wso2-route", "lifetimeType": "Session"}}
        policy = mocks.one(POLICY).inputs["spec"]
        assert policy["targetRefs"] == [{"group": "", "kind": "Service", "name": "wso2is",
                                         "sectionName": "servlet-https"}]
        assert policy["validation"] == {"caCertificateRefs": [{"group": "", "kind": "ConfigMap",
                                                               "name": "members-ca"}], "hostname": "localhost"}
        assert not [r for r in mocks.resources if r.typ == ING]
        assert mocks.one(SERVICE).inputs["spec"]["type"] == "ClusterIP"

    return _done(graph).apply(check)


@pulumi.runtime.test
def test_a_generated_certificate_becomes_a_tls_secret_named_by_the_ingress(mocks: Mocks) -> Any:
    graph = build(entry={**INGRESS, "tls": {"generate": True}})

    def check(_: Any) -> None:
        cert = mocks.one("pulumi-python:dynamic:Resource")
        assert cert.inputs["common_name"] == HOST and cert.inputs["dns_names"] == [HOST]
        secrets = [r for r in mocks.resources if r.typ == "kubernetes:core/v1:Secret"
                   and r.inputs.get("type") == "kubernetes.io/tls"]
        assert len(secrets) == 1 and secrets[0].inputs["metadata"]["name"] == "wso2is-entry-tls"
        assert mocks.one(ING).inputs["spec"]["tls"][0]["secretName"] == "wso2is-entry-tls"

    return _done(graph).apply(check)


@pulumi.runtime.test
def test_without_an_entry_the_seeds_nodeport_service_stays(mocks: Mocks) -> Any:
    graph = build()

    def check(values: list[Any]) -> None:
        svc = mocks.one(SERVICE).inputs["spec"]
        assert svc["type"] == "NodePort" and svc["sessionAffinity"] == "ClientIP"
        assert [p["nodePort"] for p in svc["ports"]] == [32001, 32002, 32003, 32004]
        assert not [r for r in mocks.resources if r.typ in (ING, ROUTE, POLICY)]
        assert values[1] == "https://localhost:32002/carbon/"

    return _done(graph).apply(check)


def test_the_certificate_provider_makes_a_matching_pair_for_the_host_and_replaces_it_only_for_a_new_host() -> None:
    from components.generated_certificate import _Provider

    provider = _Provider()
    inputs = {"common_name": HOST, "dns_names": [HOST], "key_size": 2048, "validity_days": 30}
    made = provider.create(inputs)
    outs = made.outs or {}
    cert = x509.load_pem_x509_certificate(outs["certificate_pem"].encode())
    key = serialization.load_pem_private_key(outs["private_key_pem"].encode(), password=None)
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()  # type: ignore[union-attr]
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [HOST]
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == 30
    assert provider.diff(made.id, outs, inputs).changes is False
    moved = provider.diff(made.id, outs, {**inputs, "common_name": "other.example.com",
                                          "dns_names": ["other.example.com"]})
    assert moved.changes is True and moved.replaces == ["common_name", "dns_names"]


def test_an_edge_entry_without_the_edge_component_is_refused_before_anything(monkeypatch: pytest.MonkeyPatch,
                                                                             mocks: Mocks, tmp_path: Path) -> None:
    import components.entry
    from program import deploy

    monkeypatch.setattr(components.entry, "EDGE_MODULE", "components.no_such_edge")
    values = stack_config(entry={"kind": "edge", "host": HOST, "tls": {"generate": True}})
    with pytest.raises(SettingsError) as raised:
        deploy(PROJECT_DIR, "unit", values, {"admin_password", "keystore_password"}, build_dir=tmp_path / "b")
    assert "wso2-kubernetes:entry.kind (Pulumi.unit.yaml): is 'edge' but this build has no edge proxy" in str(
        raised.value)
    assert mocks.resources == [] and not (tmp_path / "b").exists()


# the conf a member runs with: HostName and proxy ports name the entry


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    return synthetic_conf(tmp_path)


def _conf(pack: Path, **config: Any) -> dict[str, etree._Element]:
    settings = stack_settings(**config).profiles[0]
    return {r.path: etree.fromstring(r.content) for r in render_conf(settings, pack) if r.path.endswith(".xml")}


@pytest.mark.parametrize("entry", [INGRESS, GATEWAY], ids=["ingress", "gateway"])
def test_behind_an_entry_carbon_names_its_host_and_tomcat_proxies_443_and_80(pack: Path,
                                                                              entry: dict[str, Any]) -> None:
    conf = _conf(pack, hostname="internal.local", entry=entry)
    carbon = conf["repository/conf/carbon.xml"]
    for element in ("HostName", "MgtHostName"):
        assert carbon.xpath(f"//*[local-name()='{element}']/text()") == [HOST]
    catalina = conf["repository/conf/tomcat/catalina-server.xml"]
    http = catalina.xpath("//Connector[not(@scheme='https')]")[0]
    https = catalina.xpath("//Connector[@scheme='https']")[0]
    assert (http.get("port"), http.get("proxyPort")) == ("9763", "80")
    assert (https.get("port"), https.get("proxyPort")) == ("9443", "443")


def test_without_an_entry_tomcat_proxies_the_node_ports(pack: Path) -> None:
    conf = _conf(pack, hostname="internal.local")
    assert conf["repository/conf/carbon.xml"].xpath("//*[local-name()='HostName']/text()") == ["internal.local"]
    https = conf["repository/conf/tomcat/catalina-server.xml"].xpath("//Connector[@scheme='https']")[0]
    assert https.get("proxyPort") == "32002"


def test_an_edge_entry_is_refused_until_stacks_can_build_the_edge_image(mocks: Mocks, tmp_path: Path) -> None:
    from program import deploy

    values = stack_config(entry={"kind": "edge", "host": HOST, "tls": {"generate": True}})
    with pytest.raises(SettingsError) as raised:
        deploy(PROJECT_DIR, "unit", values, {"admin_password", "keystore_password"}, build_dir=tmp_path / "b")
    assert "entry.kind (Pulumi.unit.yaml): is 'edge' but the edge proxy is not wired into stacks yet" in str(
        raised.value)
    assert mocks.resources == [] and not (tmp_path / "b").exists()
