"""The Pulumi graph under mocks: what depends on what, and the values that must agree."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from tests.unit.helpers import ADMIN_PASSWORD, KEYSTORE_PASSWORD, PROJECT_DIR, stack_settings
from wso2k8s.pack.inspect import PackInfo
from wso2k8s.prepare import PreparedProfile, PreparedStack

IMAGE = "docker-build:index:Image"


@dataclass
class Recorded:
    typ: str
    name: str
    inputs: dict[str, Any]
    provider: str | None


@dataclass
class Mocks(pulumi.runtime.Mocks):
    resources: list[Recorded] = field(default_factory=list)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        if args.typ == IMAGE:
            outputs["ref"] = f"{args.inputs['tags'][0]}@sha256:{hashlib.sha256(args.name.encode()).hexdigest()}"
        self.resources.append(Recorded(args.typ, args.name, dict(args.inputs), args.provider))
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}

    def one(self, typ: str) -> Recorded:
        found = [r for r in self.resources if r.typ == typ]
        assert len(found) == 1, f"{typ}: {[r.name for r in found]}"
        return found[0]


def prepared_stack(project_dir: Path = PROJECT_DIR, **config: Any) -> PreparedStack:
    stack = stack_settings(project_dir, **config)
    pack = PackInfo(Path("/nonexistent/wso2is-5.1.0.zip"), "wso2is-5.1.0", "WSO2 Identity Server", "IS", "5.1.0",
                    "0" * 64)
    profiles = [PreparedProfile(s, pack, Path(f"/tmp/ctx/{s.profile}")) for s in stack.profiles]
    return PreparedStack(stack, Path("/tmp/ctx/base"), profiles)


@pytest.fixture
def mocks() -> Mocks:
    m = Mocks()
    pulumi.runtime.set_mocks(m, project="wso2-kubernetes", stack="unit", preview=False)
    return m


def build(project_dir: Path = PROJECT_DIR, **config: Any) -> Any:
    from components.graph import build_graph

    return build_graph(prepared_stack(project_dir, **config))


def settle(*outputs: pulumi.Output[Any]) -> pulumi.Output[list[Any]]:
    return pulumi.Output.all(*outputs)


def registered(graph: Any) -> pulumi.Output[list[Any]]:
    """Resolves once every resource of the graph is registered with the mocks."""
    ends = [graph.base.repo_digest]
    for g in graph.profiles.values():
        ends += [g.image.repo_digest, g.cluster.workload_name, g.service.service_name,
                 g.access.service_account_name]
    return pulumi.Output.all(*ends)


@pulumi.runtime.test
def test_product_image_builds_from_the_base_image_digest(mocks: Mocks) -> Any:
    graph = build()

    def check(values: list[Any]) -> None:
        base_digest, product_digest = values
        images = {r.name: r for r in mocks.resources if r.typ == IMAGE}
        assert set(images) == {"base-image", "default-image"}
        assert images["default-image"].inputs["buildArgs"]["BASE_IMAGE"] == base_digest
        assert images["base-image"].inputs["tags"] == ["127.0.0.1:5000/wso2/k8s-base:1.0.0"]
        assert images["default-image"].inputs["tags"] == ["127.0.0.1:5000/wso2/is-5.1.0:1.0.0"]
        assert images["default-image"].inputs["push"] is True
        assert images["default-image"].inputs["context"]["location"] == "/tmp/ctx/default"
        assert product_digest.startswith("127.0.0.1:5000/wso2/is-5.1.0:1.0.0@sha256:")

    return settle(graph.base.repo_digest, graph.profiles["default"].image.repo_digest).apply(check)


@pulumi.runtime.test
def test_replication_controller_runs_the_product_digest_with_the_seed_ports(mocks: Mocks) -> Any:
    graph = build()
    profile = graph.profiles["default"]

    def check(values: list[Any]) -> None:
        digest, _ = values
        rc = mocks.one("kubernetes:core/v1:ReplicationController")
        pod = rc.inputs["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert container["image"] == digest
        assert [p["containerPort"] for p in container["ports"]] == [9763, 9443, 8000, 10500]
        assert all(p["protocol"] == "TCP" for p in container["ports"])
        assert rc.inputs["spec"]["replicas"] == 1
        assert rc.inputs["metadata"]["name"].startswith("wso2is-")
        # probes: HTTPS on the console port
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            assert container[probe]["httpGet"] == {"scheme": "HTTPS", "port": 9443, "path": "/carbon/admin/login.jsp"}
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 802
        assert container["resources"]["limits"]["memory"] == "2Gi"
        assert {"name": "JAVA_OPTS", "value": "-Xms256m -Xmx1024m"} in container["env"]

    return settle(profile.image.repo_digest, profile.cluster.workload_name).apply(check)


@pulumi.runtime.test
def test_service_is_the_seeds_nodeport_service_and_selects_the_pods(mocks: Mocks) -> Any:
    graph = build()
    profile = graph.profiles["default"]

    def check(values: list[Any]) -> None:
        url = values[1]
        svc = mocks.one("kubernetes:core/v1:Service")
        rc = mocks.one("kubernetes:core/v1:ReplicationController")
        spec = svc.inputs["spec"]
        assert svc.inputs["metadata"]["name"] == "wso2is"
        assert spec["type"] == "NodePort"
        assert spec["sessionAffinity"] == "ClientIP"
        ports = {p["name"]: (p["port"], p["targetPort"], p["nodePort"], p["protocol"]) for p in spec["ports"]}
        assert ports == {"servlet-http": (9763, "http", 32001, "TCP"), "servlet-https": (9443, "https", 32002, "TCP"),
                         "kdc-server": (8000, "kdc", 32003, "TCP"),
                         "thrift-entitlement": (10500, "thrift", 32004, "TCP")}
        container = rc.inputs["spec"]["template"]["spec"]["containers"][0]
        named = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert named == {"http": 9763, "https": 9443, "kdc": 8000, "thrift": 10500}
        pod_labels = rc.inputs["spec"]["template"]["metadata"]["labels"]
        assert spec["selector"].items() <= pod_labels.items()
        assert rc.inputs["spec"]["selector"] == pod_labels
        assert spec["selector"]["name"] == "wso2is"  # the seed's label
        assert url == "https://localhost:32002/carbon/"

    return settle(registered(graph), profile.service.console_url).apply(check)


@pulumi.runtime.test
def test_rbac_is_bound_to_the_service_account_the_pods_use(mocks: Mocks) -> Any:
    graph = build()

    def check(_: Any) -> None:
        sa = mocks.one("kubernetes:core/v1:ServiceAccount")
        role = mocks.one("kubernetes:rbac.authorization.k8s.io/v1:Role")
        binding = mocks.one("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
        rc = mocks.one("kubernetes:core/v1:ReplicationController")
        assert role.inputs["rules"] == [{"apiGroups": [""], "resources": ["endpoints", "pods"],
                                         "verbs": ["get", "list"]}]
        assert binding.inputs["roleRef"]["name"] == role.inputs["metadata"]["name"]
        assert binding.inputs["subjects"] == [{"kind": "ServiceAccount", "name": sa.inputs["metadata"]["name"],
                                               "namespace": "default"}]
        assert rc.inputs["spec"]["template"]["spec"]["serviceAccountName"] == sa.inputs["metadata"]["name"]

    return registered(graph).apply(check)


@pulumi.runtime.test
def test_every_kubernetes_object_goes_through_the_stack_provider(mocks: Mocks) -> Any:
    graph = build()

    def check(_: Any) -> None:
        k8s = [r for r in mocks.resources if r.typ.startswith("kubernetes:") and not r.typ.startswith(
            "pulumi:providers")]
        assert len(k8s) == 6  # SA, Role, RoleBinding, Secret, RC, Service
        assert all(r.provider and "pulumi:providers:kubernetes::cluster" in r.provider for r in k8s)
        provider = mocks.one("pulumi:providers:kubernetes")
        assert not provider.inputs.get("kubeconfig")  # none named: the provider's default, nothing in the state
        assert provider.inputs["enableServerSideApply"] == "true"

    return registered(graph).apply(check)


@pulumi.runtime.test
def test_passwords_reach_the_engine_only_as_secrets(mocks: Mocks) -> Any:
    graph = build()

    def check(_: Any) -> None:
        secret = mocks.one("kubernetes:core/v1:Secret")
        string_data = secret.inputs["stringData"]
        assert rpc.is_rpc_secret(string_data), "stringData was sent to the engine in plain text"
        assert rpc.unwrap_rpc_secret(string_data) == {"admin_password": ADMIN_PASSWORD,
                                                      "keystore_password": KEYSTORE_PASSWORD}
        for recorded in mocks.resources:  # nowhere else, not even as a secret
            if recorded is not secret:
                assert ADMIN_PASSWORD not in repr(recorded.inputs) and KEYSTORE_PASSWORD not in repr(recorded.inputs)

    return registered(graph).apply(check)


@pulumi.runtime.test
def test_a_changed_pod_template_names_a_new_replication_controller(mocks: Mocks) -> Any:
    first = build()
    second_mocks = Mocks()
    pulumi.runtime.set_mocks(second_mocks, project="wso2-kubernetes", stack="unit", preview=False)
    second = build(workload={"java_opts": "-Xmx2g"})

    def check(names: list[str]) -> None:
        assert names[0] != names[1]
        assert names[0].startswith("wso2is-") and names[1].startswith("wso2is-")

    return settle(first.profiles["default"].cluster.workload_name,
                  second.profiles["default"].cluster.workload_name).apply(check)


@pulumi.runtime.test
def test_deployment_kind_keeps_the_seed_name_and_rolls_by_itself(mocks: Mocks) -> Any:
    graph = build(workload={"kind": "Deployment", "replicas": 3})

    def check(_: Any) -> None:
        dep = mocks.one("kubernetes:apps/v1:Deployment")
        assert dep.inputs["metadata"]["name"] == "wso2is"
        assert dep.inputs["spec"]["replicas"] == 3
        assert dep.inputs["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
        assert not [r for r in mocks.resources if r.typ == "kubernetes:core/v1:ReplicationController"]

    return registered(graph).apply(check)


@pulumi.runtime.test
def test_port_offset_moves_container_and_target_ports_not_node_ports(mocks: Mocks) -> Any:
    graph = build(port_offset=1)

    def check(_: Any) -> None:
        svc = mocks.one("kubernetes:core/v1:Service")
        https = next(p for p in svc.inputs["spec"]["ports"] if p["name"] == "servlet-https")
        assert (https["port"], https["targetPort"], https["nodePort"]) == (9443, "https", 32002)
        rc = mocks.one("kubernetes:core/v1:ReplicationController")
        container = rc.inputs["spec"]["template"]["spec"]["containers"][0]
        assert container["readinessProbe"]["httpGet"]["port"] == 9444
        assert {"name": "https", "containerPort": 9444, "protocol": "TCP"} in container["ports"]

    return registered(graph).apply(check)


@pulumi.runtime.test
def test_two_profiles_share_the_base_image_and_one_namespace(mocks: Mocks, tmp_path: Path) -> Any:
    """Another Carbon profile is a hieradata file: its own image, members and Service, one base image."""
    shutil.copytree(PROJECT_DIR / "hieradata", tmp_path / "hieradata")
    (tmp_path / "hieradata/wso2is/5.1.0/worker.yaml").write_text(
        "name: wso2is-worker\n"
        "clustering: {kubernetes: {extra_services: [wso2is]}}\n"
        "ports:  # merged key by key into the product's: only the node ports change\n"
        "  servlet-http: {node_port: 32011}\n  servlet-https: {node_port: 32012}\n"
        "  kdc-server: {node_port: 32013}\n  thrift-entitlement: {node_port: 32014}\n")
    graph = build(tmp_path, profiles=["default", "worker"],
                  kubernetes={"namespace": "wso2-two", "create_namespace": True})

    def check(_: Any) -> None:
        images = sorted(r.inputs["tags"][0] for r in mocks.resources if r.typ == IMAGE)
        assert images == ["127.0.0.1:5000/wso2/is-5.1.0-worker:1.0.0", "127.0.0.1:5000/wso2/is-5.1.0:1.0.0",
                          "127.0.0.1:5000/wso2/k8s-base:1.0.0"]
        services = {r.inputs["metadata"]["name"]: r for r in mocks.resources if r.typ == "kubernetes:core/v1:Service"}
        assert set(services) == {"wso2is", "wso2is-worker"}
        assert [(p["name"], p["port"], p["nodePort"]) for p in services["wso2is-worker"].inputs["spec"]["ports"]] == [
            ("servlet-http", 9763, 32011), ("servlet-https", 9443, 32012), ("kdc-server", 8000, 32013),
            ("thrift-entitlement", 10500, 32014)]
        assert services["wso2is-worker"].inputs["spec"]["selector"]["wso2k8s.io/profile"] == "worker"
        namespaces = [r for r in mocks.resources if r.typ == "kubernetes:core/v1:Namespace"]
        assert [n.inputs["metadata"]["name"] for n in namespaces] == ["wso2-two"]

    return registered(graph).apply(check)



RESTRICTED_CONTAINER = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}


@pytest.mark.parametrize("kind", ["ReplicationController", "Deployment"])
@pulumi.runtime.test
def test_pods_carry_what_pod_security_restricted_asks(mocks: Mocks, kind: str) -> Any:
    graph = build(workload={"kind": kind})

    def check(_: Any) -> None:
        workload = mocks.one(f"kubernetes:{'core/v1' if kind == 'ReplicationController' else 'apps/v1'}:{kind}")
        pod = workload.inputs["spec"]["template"]["spec"]
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        for container in pod["containers"]:
            assert container["securityContext"] == RESTRICTED_CONTAINER
            assert all("hostPort" not in port for port in container["ports"])
        assert all(set(volume) <= {"name", "secret"} for volume in pod["volumes"])  # no hostPath
        assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC")

    return registered(graph).apply(check)


@pytest.mark.parametrize("level", [None, "baseline", "privileged"])
@pulumi.runtime.test
def test_created_namespaces_carry_the_pod_security_labels_of_the_setting(mocks: Mocks, level: str | None) -> Any:
    kubernetes: dict[str, Any] = {"namespace": "wso2-psa", "create_namespace": True}
    if level is not None:
        kubernetes["pod_security"] = level
    graph = build(kubernetes=kubernetes)

    def check(_: Any) -> None:
        labels = mocks.one("kubernetes:core/v1:Namespace").inputs["metadata"]["labels"]
        want = level or "restricted"  # hieradata/common.yaml
        assert {k: v for k, v in labels.items() if k.startswith("pod-security.")} == {
            "pod-security.kubernetes.io/enforce": want, "pod-security.kubernetes.io/audit": want,
            "pod-security.kubernetes.io/warn": want}
        assert labels["app.kubernetes.io/managed-by"] == "wso2-kubernetes"

    return registered(graph).apply(check)


@pulumi.runtime.test
def test_an_existing_namespace_is_neither_created_nor_labelled(mocks: Mocks) -> Any:
    graph = build()  # hieradata: namespace default, create_namespace false

    def check(_: Any) -> None:
        assert not [r for r in mocks.resources if r.typ == "kubernetes:core/v1:Namespace"]

    return registered(graph).apply(check)


def test_a_stack_without_a_kubeconfig_takes_the_one_the_tools_export(monkeypatch: pytest.MonkeyPatch) -> None:
    from program import with_exported_kubeconfig

    monkeypatch.setenv("KUBECONFIG", "/var/lib/wso2-kubernetes/cluster/kubeconfig:/root/.kube/config")
    exported = with_exported_kubeconfig(stack_settings()).profiles[0]
    assert exported.kubernetes.kubeconfig == "/var/lib/wso2-kubernetes/cluster/kubeconfig"  # a path: no token
    named = with_exported_kubeconfig(stack_settings(kubernetes={"kubeconfig": "/etc/k.yaml"})).profiles[0]
    assert named.kubernetes.kubeconfig == "/etc/k.yaml"  # the stack's own wins
    monkeypatch.delenv("KUBECONFIG")
    assert with_exported_kubeconfig(stack_settings()).profiles[0].kubernetes.kubeconfig is None
