"""The entry under Pulumi mocks and on the synthetic pack's conf: the objects each kind makes, the annotations
of each Ingress dialect, the ClusterIP Service, the rendered host and proxy ports, the generated certificate; the
edge proxy wired into a stack (its image context from prepare(), its image, its cookie key)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pulumi
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from pulumi.runtime import rpc

from tests.unit.helpers import PROJECT_DIR, stack_config, stack_settings, synthetic_conf
from tests.unit.test_graph import IMAGE, Mocks, build, prepared_stack, registered
from wso2k8s.pack.render import render_conf
from wso2k8s.prepare import prepare
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


# kind edge: the program's own proxy, wired into the stack


EDGE = {"kind": "edge", "host": HOST, "tls": {"generate": True}}
DEPLOYMENT, CONFIG_MAP, SECRET = "kubernetes:apps/v1:Deployment", "kubernetes:core/v1:ConfigMap", \
    "kubernetes:core/v1:Secret"
DYNAMIC = "pulumi-python:dynamic:Resource"
COOKIE_KEY = "c0" * 32  # what the mocked GeneratedSecret answers


@dataclasses.dataclass
class EdgeMocks(Mocks):
    """The generated secret answers a value, as its provider would."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        name, outputs = super().new_resource(args)
        if args.typ == DYNAMIC and "length" in args.inputs:
            outputs["value"] = COOKIE_KEY
        return name, outputs


@pytest.fixture
def edge_mocks() -> EdgeMocks:
    m = EdgeMocks()
    pulumi.runtime.set_mocks(m, project="wso2-kubernetes", stack="unit", preview=False)
    return m


def _edge_graph(**config: Any) -> Any:
    from components.graph import build_graph

    prepared = prepared_stack(**config)
    return build_graph(dataclasses.replace(prepared, edge_context=Path("/tmp/ctx/edge-image")))


def _by_name(mocks: Mocks, typ: str) -> dict[str, Any]:
    return {r.inputs["metadata"]["name"]: r.inputs for r in mocks.resources if r.typ == typ}


@pulumi.runtime.test
def test_an_edge_entry_makes_the_members_headless_service_and_the_edge_on_the_nodes_443(edge_mocks: EdgeMocks) -> Any:
    graph = _edge_graph(entry={**EDGE, "cookie_name": "wso2lb"}, workload={"replicas": 2})

    def check(values: list[Any]) -> None:
        services = _by_name(edge_mocks, SERVICE)
        assert set(services) == {"wso2is", "wso2is-members", "wso2is-edge"}
        assert services["wso2is"]["spec"]["type"] == "ClusterIP"  # the members' own Service, no node ports
        members = services["wso2is-members"]["spec"]
        assert members["clusterIP"] == "None" and "publishNotReadyAddresses" not in members
        # every generation's members: the members' Service's selector (CarbonCluster.selector), not retyped
        assert members["selector"] == services["wso2is"]["spec"]["selector"]
        assert members["ports"] == [{"name": "servlet-https", "port": 9443, "targetPort": "https", "protocol": "TCP"}]
        edge = services["wso2is-edge"]["spec"]
        assert edge["type"] == "ClusterIP" and edge["externalIPs"] == ["10.245.0.1"]  # hieradata's local node
        assert edge["ports"] == [{"name": "https", "port": 443, "targetPort": "https"}]
        deployment = edge_mocks.one(DEPLOYMENT).inputs
        assert deployment["metadata"]["name"] == "wso2is-edge" and deployment["spec"]["replicas"] == 2  # hieradata
        assert edge["selector"] == deployment["spec"]["selector"]["matchLabels"]
        assert edge["selector"]["name"] == "wso2is-edge"  # never the members' `name: wso2is`
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["image"].startswith("127.0.0.1:5000/wso2/edge:1.0.0@sha256:")  # by digest
        assert pod["securityContext"]["runAsUser"] == 65532 and pod["securityContext"]["runAsNonRoot"] is True
        assert {"name": "tls", "secret": {"secretName": "wso2is-entry-tls", "defaultMode": 0o440}} in pod["volumes"]
        caddyfile = edge_mocks.one(CONFIG_MAP).inputs["data"]["Caddyfile"]
        assert f"https://{HOST}:8443 {{" in caddyfile
        assert "name wso2is-members.default.svc.cluster.local\n\t\t\tport 9443" in caddyfile
        assert "lb_policy cookie wso2lb {$EDGE_COOKIE_SECRET}" in caddyfile
        assert "tls_insecure_skip_verify" in caddyfile  # no backend CA given: encrypted, not verified
        assert values[1] == f"https://{HOST}/carbon/"

    return _done(graph).apply(check)


@pulumi.runtime.test
def test_the_edge_image_is_built_from_prepares_context_and_pushed_to_the_stacks_registry(
        edge_mocks: EdgeMocks) -> Any:
    graph = _edge_graph(entry={**EDGE, "edge": {"image": {"name": "team/edge", "tag": "7"}}},
                        registry={"server": "registry.example.com:5000"})

    def check(_: Any) -> None:
        images = {r.name: r.inputs for r in edge_mocks.resources if r.typ == IMAGE}
        assert set(images) == {"base-image", "default-image", "default-entry-edge-image"}
        edge = images["default-entry-edge-image"]
        assert edge["context"]["location"] == "/tmp/ctx/edge-image"
        assert edge["dockerfile"]["location"] == "/tmp/ctx/edge-image/Dockerfile"
        assert edge["tags"] == ["registry.example.com:5000/team/edge:7"] and edge["push"] is True
        assert edge["builder"] == images["base-image"]["builder"] and edge["exec"] == images["base-image"]["exec"]
        (container,) = edge_mocks.one(DEPLOYMENT).inputs["spec"]["template"]["spec"]["containers"]
        assert container["image"].startswith("registry.example.com:5000/team/edge:7@sha256:")

    return _done(graph).apply(check)


@pulumi.runtime.test
def test_the_cookie_key_is_generated_once_per_stack_and_reaches_the_pods_only_as_a_secret(
        edge_mocks: EdgeMocks) -> Any:
    graph = _edge_graph(entry=EDGE)

    def check(_: Any) -> None:
        generated = [r for r in edge_mocks.resources if r.typ == DYNAMIC and r.name == "edge-cookie-key"]
        assert len(generated) == 1 and generated[0].inputs["length"] == 32
        assert generated[0].inputs.get("value") is None  # an output only: never in an input, a diff or a log
        secrets = _by_name(edge_mocks, SECRET)
        cookie = secrets["wso2is-edge-cookie"]
        assert rpc.is_rpc_secret(cookie["stringData"]), "the cookie key was sent in plain text"
        assert rpc.unwrap_rpc_secret(cookie["stringData"]) == {"cookie_secret": COOKIE_KEY}
        (container,) = edge_mocks.one(DEPLOYMENT).inputs["spec"]["template"]["spec"]["containers"]
        assert container["env"] == [{"name": "EDGE_COOKIE_SECRET", "valueFrom": {"secretKeyRef": {
            "name": "wso2is-edge-cookie", "key": "cookie_secret"}}}]
        assert "command" not in container  # not the per-pod key of an edge without a secret
        assert COOKIE_KEY not in str(edge_mocks.one(CONFIG_MAP).inputs)

    return _done(graph).apply(check)


@pulumi.runtime.test
def test_edge_settings_reach_the_proxy_addresses_replicas_backend_ca_and_port_offset(edge_mocks: EdgeMocks) -> Any:
    graph = _edge_graph(entry={**EDGE, "backend_hostname": "wso2is", "edge": {
        "external_ips": ["192.0.2.10", "192.0.2.11"], "replicas": 3, "backend_ca_secret_name": "members-ca"}},
        port_offset=1)

    def check(_: Any) -> None:
        services = _by_name(edge_mocks, SERVICE)
        assert services["wso2is-edge"]["spec"]["externalIPs"] == ["192.0.2.10", "192.0.2.11"]
        deployment = edge_mocks.one(DEPLOYMENT).inputs
        assert deployment["spec"]["replicas"] == 3
        assert {"name": "backend-ca", "secret": {"secretName": "members-ca"}} in \
            deployment["spec"]["template"]["spec"]["volumes"]
        caddyfile = edge_mocks.one(CONFIG_MAP).inputs["data"]["Caddyfile"]
        assert "tls_trust_pool file /etc/edge/backend-ca/ca.crt" in caddyfile and "tls_server_name wso2is" in caddyfile
        assert "tls_insecure_skip_verify" not in caddyfile
        # The edge dials the members' pod IPs: the port they really listen on (9443 + offset), not the Service's.
        assert "port 9444" in caddyfile
        assert services["wso2is-members"]["spec"]["ports"][0]["targetPort"] == "https"

    return _done(graph).apply(check)


@pulumi.runtime.test
def test_without_an_edge_entry_there_is_no_cookie_key_and_no_edge_image(mocks: Mocks) -> Any:
    graph = build(entry=INGRESS)

    def check(_: Any) -> None:
        assert not [r for r in mocks.resources if r.name == "edge-cookie-key" or r.typ == DEPLOYMENT]
        assert {r.name for r in mocks.resources if r.typ == IMAGE} == {"base-image", "default-image"}

    return _done(graph).apply(check)


def test_the_cookie_key_provider_draws_a_new_key_and_keeps_it_until_its_length_changes() -> None:
    from components.generated_secret import _Provider

    provider = _Provider()
    made, other = provider.create({"length": 32}), provider.create({"length": 32})
    outs = made.outs or {}
    assert len(outs["value"]) == 64 and int(outs["value"], 16) >= 0
    assert outs["value"] != (other.outs or {})["value"]
    assert made.id not in outs["value"]  # the id gives nothing of the key away
    assert provider.diff(made.id, outs, {"length": 32, "value": None}).changes is False
    longer = provider.diff(made.id, outs, {"length": 48, "value": None})
    assert longer.changes is True and longer.replaces == ["length"]


def _fake_caddy(monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    binary = cache / "caddy-2.11.9" / "bin" / "caddy"
    binary.parent.mkdir(parents=True)
    binary.write_bytes(b"\x7fELF not really caddy")
    monkeypatch.setenv("WSO2K8S_CACHE", str(cache))


def _synthetic(**config: Any) -> Any:
    return stack_settings(stack="t", pack={"source": "synthetic"}, keystore_password="wso2carbon", **config)


def test_prepare_writes_the_edge_context_only_when_a_profile_uses_the_edge(monkeypatch: pytest.MonkeyPatch,
                                                                            tmp_path: Path) -> None:
    _fake_caddy(monkeypatch, tmp_path / "cache")
    with_edge = prepare(_synthetic(entry=EDGE), PROJECT_DIR, tmp_path / "edge")
    assert with_edge.edge_context == tmp_path / "edge" / "t" / "edge-image"
    dockerfile = (with_edge.edge_context / "Dockerfile").read_text()
    assert "FROM local/debian:bookworm" in dockerfile and "USER 65532:65532" in dockerfile  # base_image.os_image
    assert (with_edge.edge_context / "caddy").read_bytes() == b"\x7fELF not really caddy"
    without = prepare(_synthetic(entry=INGRESS), PROJECT_DIR, tmp_path / "ingress")
    assert without.edge_context is None and not (tmp_path / "ingress" / "t" / "edge-image").exists()


def test_an_edge_entry_without_the_caddy_binary_is_refused_before_any_context(monkeypatch: pytest.MonkeyPatch,
                                                                               tmp_path: Path) -> None:
    monkeypatch.setenv("WSO2K8S_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(SettingsError) as raised:
        prepare(_synthetic(entry=EDGE), PROJECT_DIR, tmp_path / "b")
    text = str(raised.value)
    assert "entry.kind (Pulumi.t.yaml): is 'edge' but the edge proxy's binary" in text
    assert "Fix: run `bash tools/caddy/build.sh`" in text
    assert not list((tmp_path / "b").rglob("Dockerfile"))  # checked before any build context was written


def test_two_profiles_cannot_share_an_edge_address() -> None:
    profiles = ["api-key-manager", "api-publisher", "api-store", "gateway-manager", "gateway-worker"]
    am = {"product": "wso2am", "version": "1.10.0", "profiles": profiles}
    with pytest.raises(SettingsError) as raised:
        stack_settings(**am, entry={**EDGE, "edge": {"external_ips": ["192.0.2.1", "192.0.2.2"]}})
    text = str(raised.value)
    assert "wso2-kubernetes:entry.edge.external_ips (Pulumi.unit.yaml): '192.0.2.1' is the edge address of " \
        "profiles api-key-manager and api-publisher" in text and "'192.0.2.2' is the edge address" in text
    assert "wso2-kubernetes:profile_overrides.api-publisher.entry.edge.external_ips" in text
    apart = stack_settings(**am, entry=EDGE, profile_overrides={p: {"entry": {
        "host": f"{p}.example.com", "edge": {"external_ips": [f"192.0.2.{i}"]}}} for i, p in enumerate(profiles[1:])})
    assert [s.entry.edge.external_ips for s in apart.profiles] == [
        ["10.245.0.1"], ["192.0.2.0"], ["192.0.2.1"], ["192.0.2.2"], ["192.0.2.3"]]


def test_members_behind_the_edge_keep_serving_until_its_dns_view_has_them_gone() -> None:
    """A rollout through the edge failed requests with the 5 s drain that suffices for kube-proxy: the edge dialled
    the old members from the cluster DNS's cached answer (up to 30 s) after they had stopped. Behind the edge a
    leaving member keeps serving for the DNS cache plus the edge's refresh, then gets Carbon's usual 25 s."""
    from components.carbon_cluster import pod_spec_dict
    from components.graph import members_of

    def pod(**config: Any) -> dict[str, Any]:
        s = stack_settings(**config).profiles[0]
        return pod_spec_dict(members_of(s).pod, image="i", service_account="sa", secret_name="s")

    def pre_stop(spec: dict[str, Any]) -> list[str]:
        return list(spec["containers"][0]["lifecycle"]["preStop"]["exec"]["command"])

    edge = pod(entry=EDGE)
    assert pre_stop(edge) == ["sleep", "35"] and edge["terminationGracePeriodSeconds"] == 60
    faster = pod(entry={**EDGE, "edge": {"dns_cache_seconds": 5}})
    assert pre_stop(faster) == ["sleep", "10"] and faster["terminationGracePeriodSeconds"] == 35
    for kind in ({}, {"entry": {"kind": "ingress", "host": HOST, "tls": {"generate": True}}}):
        other = pod(**kind)  # kube-proxy or a controller watching endpoints: 5 s, Kubernetes' default grace
        assert pre_stop(other) == ["sleep", "5"] and other["terminationGracePeriodSeconds"] == 30
