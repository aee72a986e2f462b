"""The membership scheme jar decides the axis2.xml parameter names; DNS mode and EndpointSlice access."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pulumi
import pytest
from lxml import etree

from tests.unit.classfile import CURRENT, OLD_2016, SCHEME, class_file, dnsjava_jar, jar, scheme_jar
from tests.unit.helpers import PROJECT_DIR, stack_settings, synthetic_conf
from tests.unit.test_graph import Mocks, build, registered
from wso2k8s.pack.context import check_files
from wso2k8s.pack.render import render_conf
from wso2k8s.pack.scheme_jar import SchemeJarError, class_strings, membership_parameters, read_scheme_jar


@pytest.fixture
def graph_mocks() -> Mocks:
    m = Mocks()
    pulumi.runtime.set_mocks(m, project="wso2-kubernetes", stack="unit", preview=False)
    return m


SCHEME_ENTRY = "repository/components/lib/kubernetes-membership-scheme-1.0.5.jar"
DNSJAVA_ENTRY = "repository/components/lib/dnsjava-2.1.8.jar"


def test_constant_pool_strings_are_read_from_a_class_file() -> None:
    data = class_file("a.B", ["KUBERNETES_SERVICES", "ünïcode"])
    strings = class_strings(data)
    assert "a/B" in strings and "java/lang/Object" in strings
    assert "KUBERNETES_SERVICES" in strings and "ünïcode" in strings
    with pytest.raises(ValueError, match="CAFEBABE"):
        class_strings(b"PK\x03\x04" + data[4:])
    with pytest.raises(ValueError, match="past the end"):
        class_strings(data[:40])


def test_current_jar_names_are_read(tmp_path: Path) -> None:
    scheme = read_scheme_jar(scheme_jar(tmp_path / "s.jar"))
    assert scheme.parameters == frozenset(CURRENT)


def test_the_2016_jar_is_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(SchemeJarError) as raised:
        read_scheme_jar(scheme_jar(tmp_path / "kubernetes-membership-scheme-1.0.0.jar", OLD_2016))
    assert "2016 membership scheme" in raised.value.message and "basic auth" in raised.value.message
    assert "kubernetes-membership-scheme-1.0.5.jar" in raised.value.fix
    assert "org.wso2.carbon.kubernetes.artifacts:kubernetes-membership-scheme:1.0.5" in raised.value.fix


def test_a_jar_without_the_scheme_class_is_refused(tmp_path: Path) -> None:
    path = jar(tmp_path / "kubernetes-membership-scheme-1.0.5.jar",
               {"org.wso2.carbon.membership.scheme.kubernetes.Other": CURRENT})
    with pytest.raises(SchemeJarError, match=f"has no {SCHEME}"):
        read_scheme_jar(path)


def _pack(tmp_path: Path) -> Path:
    return synthetic_conf(tmp_path)


def _clustering_params(settings: Any, pack: Path) -> dict[str, str]:
    rendered = {r.path: r.content for r in render_conf(settings, pack)}
    axis2 = etree.fromstring(rendered["repository/conf/axis2/axis2.xml"])
    return {p.get("name"): p.text for p in axis2.xpath("/axisconfig/clustering/parameter")}


@pytest.mark.parametrize("mode", ["api", "dns"])
def test_rendered_names_are_the_ones_the_jar_reads(tmp_path: Path, mode: str) -> None:
    files = tmp_path / "files"
    dnsjava_jar(files / DNSJAVA_ENTRY)
    # A jar that reads no DNS_LOOKUP_TIMEOUT and no skip flag: those are not written even when set.
    names = [n for n in CURRENT if n != "KUBERNETES_MASTER_SKIP_SSL_VERIFICATION"]
    scheme_jar(files / SCHEME_ENTRY, names)
    settings = stack_settings(files_dir=str(files), clustering={"kubernetes": {
        "mode": mode, "api_server": "https://10.0.0.1:6443", "skip_ssl_verification": True}}).profiles[0]
    params = _clustering_params(settings, _pack(tmp_path))
    ours = {k: v for k, v in params.items() if k.isupper()}
    assert set(ours) <= set(names)
    if mode == "api":
        assert ours == {"KUBERNETES_NAMESPACE": "default", "KUBERNETES_SERVICES": "wso2is", "USE_DNS": "false",
                        "KUBERNETES_API_SERVER": "https://10.0.0.1:6443"}
    else:
        assert ours == {"KUBERNETES_NAMESPACE": "default", "KUBERNETES_SERVICES": "wso2is-headless",
                        "USE_DNS": "true"}
    assert params["membershipSchemeClassName"] == SCHEME


def test_an_unusable_jar_renders_the_current_names(tmp_path: Path) -> None:
    """Rendering never refuses (prepare() has, before it): with a 2016 jar it falls back to the current names."""
    files = tmp_path / "files"
    scheme_jar(files / SCHEME_ENTRY, OLD_2016)
    settings = stack_settings(files_dir=str(files), clustering={"kubernetes": {
        "api_server": "http://10.0.0.1:8080"}}).profiles[0]
    with pytest.raises(SchemeJarError):
        read_scheme_jar(files / SCHEME_ENTRY)
    # membership_parameters falls back to the current names when the jar cannot be used
    assert ("KUBERNETES_API_SERVER", "http://10.0.0.1:8080") in membership_parameters(settings).parameters


def test_check_files_names_the_entry_and_the_fix(tmp_path: Path) -> None:
    files = tmp_path / "files"
    dnsjava_jar(files / DNSJAVA_ENTRY)
    scheme_jar(files / SCHEME_ENTRY, OLD_2016)
    settings = stack_settings(files_dir=str(files)).profiles[0]
    problems = check_files(settings, PROJECT_DIR)
    assert [(p.key, "2016" in p.message) for p in problems] == [("file_list[1]", True)]
    scheme_jar(files / SCHEME_ENTRY)
    assert check_files(settings, PROJECT_DIR) == []
    # clustering off: the scheme jar is not needed, nothing to check
    (files / SCHEME_ENTRY).unlink()
    with zipfile.ZipFile(files / SCHEME_ENTRY, "w") as zf:
        zf.writestr("x", "y")
    off = stack_settings(files_dir=str(files), clustering={"enabled": False}).profiles[0]
    assert check_files(off, PROJECT_DIR) == []


@pulumi.runtime.test
def test_dns_mode_adds_a_headless_twin_and_no_role(graph_mocks: Mocks) -> Any:
    mocks = graph_mocks
    graph = build(clustering={"kubernetes": {"mode": "dns"}})

    def check(_: Any) -> None:
        services = {r.inputs["metadata"]["name"]: r for r in mocks.resources if r.typ == "kubernetes:core/v1:Service"}
        assert set(services) == {"wso2is", "wso2is-headless"}
        headless = services["wso2is-headless"].inputs["spec"]
        assert headless["clusterIP"] == "None" and headless["publishNotReadyAddresses"] is True
        # Every generation's pods, as the NodePort Service selects them (not one RC's pod-template hash).
        assert headless["selector"] == services["wso2is"].inputs["spec"]["selector"]
        assert headless["ports"] == [{"name": "hazelcast", "port": 4000, "targetPort": 4000, "protocol": "TCP"}]
        assert not [r for r in mocks.resources if r.typ.startswith("kubernetes:rbac")]

    return registered(graph).apply(check)


@pulumi.runtime.test
def test_endpointslices_are_granted_when_asked(graph_mocks: Mocks) -> Any:
    mocks = graph_mocks
    graph = build(clustering={"kubernetes": {"endpointslices": True}})

    def check(_: Any) -> None:
        role = mocks.one("kubernetes:rbac.authorization.k8s.io/v1:Role")
        assert role.inputs["rules"] == [
            {"apiGroups": [""], "resources": ["endpoints", "pods"], "verbs": ["get", "list"]},
            {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list"]}]
        assert not [r for r in mocks.resources if r.inputs.get("metadata", {}).get("name") == "wso2is-headless"]

    return registered(graph).apply(check)
