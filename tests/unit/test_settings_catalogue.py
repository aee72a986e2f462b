"""A catalogue of bad inputs. Each must fail before any resource is registered, with a message that names
the key, the layer it came from, what is wrong, and the fix."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pytest

from tests.unit.classfile import CURRENT, OLD_2016, SCHEME, dnsjava_jar, jar, scheme_jar
from tests.unit.helpers import PROJECT_DIR, SECRET_KEYS, stack_config
from tests.unit.test_graph import Mocks
from wso2k8s.settings import SettingsError

JARS = ["repository/components/lib/dnsjava-2.1.8.jar",
        "repository/components/lib/kubernetes-membership-scheme-1.0.5.jar"]
CARBON_XML = """<?xml version="1.0" encoding="ISO-8859-1"?>
<Server xmlns="http://wso2.org/projects/carbon/carbon.xml">
    <Name>{name}</Name><ServerKey>IS</ServerKey><Version>{version}</Version>
</Server>
"""


def tiny_pack(path: Path, *, name: str = "WSO2 Identity Server", version: str = "5.1.0",
              skip: str = "") -> Path:
    """Just enough of a pack for inspection (the catalogue never gets as far as rendering)."""
    with zipfile.ZipFile(path, "w") as zf:
        files = {"wso2is-5.1.0/bin/wso2server.sh": "#!/bin/sh\n",
                 "wso2is-5.1.0/repository/conf/carbon.xml": CARBON_XML.format(name=name, version=version),
                 "wso2is-5.1.0/repository/conf/axis2/axis2.xml": "<axisconfig/>",
                 "wso2is-5.1.0/repository/components/lib/": ""}
        for file, text in files.items():
            if skip and skip in file:
                continue
            zf.writestr(file, text)
    return path


@dataclass
class Project:
    dir: Path

    def write(self, relative: str, text: str) -> None:
        (self.dir / relative).parent.mkdir(parents=True, exist_ok=True)
        (self.dir / relative).write_text(text)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A copy of the real hieradata, a real-pack (path) setup with the seed's jars present."""
    shutil.copytree(PROJECT_DIR / "hieradata", tmp_path / "hieradata")
    dnsjava_jar(tmp_path / "files" / JARS[0])
    scheme_jar(tmp_path / "files" / JARS[1])
    tiny_pack(tmp_path / "wso2is-5.1.0.zip")
    return Project(tmp_path)


PATH_PACK = {"pack": {"source": "path", "path": "wso2is-5.1.0.zip"}}


@dataclass(frozen=True)
class Case:
    id: str
    config: dict[str, Any]
    key: str  # expected in the message: the key as the user spells it
    layer: str  # expected: the file that set (or should set) it
    says: str  # expected: what is wrong
    setup: Callable[[Project], None] | None = None
    plain: tuple[str, ...] = ()


def _remove_jar(p: Project) -> None:
    (p.dir / "files" / JARS[1]).unlink()


CASES = [
    Case("unknown top-level key, did-you-mean", {"hostnme": "x"}, "wso2-kubernetes:hostnme", "Pulumi.unit.yaml",
         "Did you mean 'hostname'?"),
    Case("unknown nested key, did-you-mean", {"workload": {"replicaz": 2}}, "wso2-kubernetes:workload.replicaz",
         "Pulumi.unit.yaml", "Did you mean 'replicas'?"),
    Case("wrong type: number", {"workload": {"replicas": "two"}}, "wso2-kubernetes:workload.replicas",
         "Pulumi.unit.yaml", "'two' is not a whole number"),
    Case("wrong type: boolean", {"clustering": {"enabled": "maybe"}}, "wso2-kubernetes:clustering.enabled",
         "Pulumi.unit.yaml", "is not true or false"),
    Case("nodePort outside 30000-32767", {"ports": [{"name": "servlet-https", "pod_port_name": "https",
                                                     "container_port": 9443, "node_port": 40000}]},
         "wso2-kubernetes:ports[0].node_port", "Pulumi.unit.yaml", "outside the NodePort range 30000-32767"),
    Case("nodePort duplicated", {"ports": [
        {"name": "servlet-http", "pod_port_name": "http", "container_port": 9763, "node_port": 32002},
        {"name": "servlet-https", "pod_port_name": "https", "container_port": 9443, "node_port": 32002}]},
         "wso2-kubernetes:ports[1].node_port", "Pulumi.unit.yaml", "nodePort 32002 is used twice"),
    Case("port clash after offset", {"port_offset": 1, "clustering": {"local_member_port": 9764}},
         "wso2-kubernetes:clustering.local_member_port", "Pulumi.unit.yaml", "clashes with servlet-http"),
    Case("offset pushes a port above 65535",
         {"port_offset": 6000, "ports": [{"name": "servlet-https", "pod_port_name": "https", "container_port": 60000}]},
         "wso2-kubernetes:port_offset", "Pulumi.unit.yaml", "above 65535"),
    Case("negative offset", {"port_offset": -1}, "wso2-kubernetes:port_offset", "Pulumi.unit.yaml",
         "out of range"),
    Case("unknown profile", {"profiles": ["defualt"]}, "wso2-kubernetes:profiles[0]", "Pulumi.unit.yaml",
         "unknown Carbon profile 'defualt' for wso2is 5.1.0. Did you mean 'default'?"),
    Case("unknown product", {"product": "wso2iss"}, "wso2-kubernetes:product", "Pulumi.unit.yaml",
         "Did you mean 'wso2is'?"),
    Case("unknown version", {"version": "5.2.0"}, "wso2-kubernetes:version", "Pulumi.unit.yaml",
         "no hieradata for wso2is 5.2.0"),
    Case("file_list jar that does not exist", PATH_PACK, "file_list[1]", "hieradata/wso2is/5.1.0/default.yaml",
         "kubernetes-membership-scheme-1.0.5.jar is not in", setup=_remove_jar),
    Case("the 2016 membership scheme jar", PATH_PACK, "file_list[1]", "hieradata/wso2is/5.1.0/default.yaml",
         "is the 2016 membership scheme (it reads KUBERNETES_MASTER",
         setup=lambda p: scheme_jar(p.dir / "files" / JARS[1], OLD_2016)),
    Case("scheme jar without the scheme class", PATH_PACK, "file_list[1]", "hieradata/wso2is/5.1.0/default.yaml",
         "has no org.wso2.carbon.membership.scheme.kubernetes.KubernetesMembershipScheme",
         setup=lambda p: dnsjava_jar(p.dir / "files" / JARS[1])),
    Case("scheme jar with a broken class file", PATH_PACK, "file_list[1]", "hieradata/wso2is/5.1.0/default.yaml",
         "cannot be read as a membership scheme jar",
         setup=lambda p: jar(p.dir / "files" / JARS[1], {SCHEME: []}).write_bytes(
             (p.dir / "files" / JARS[1]).read_bytes().replace(b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf"))),
    Case("kubernetes scheme with no scheme jar listed", {**PATH_PACK, "file_list": [JARS[0]]},
         "wso2-kubernetes:file_list", "Pulumi.unit.yaml", "no jar in file_list holds"),
    Case("dns mode without dnsjava", {**PATH_PACK, "file_list": [JARS[1]],
                                      "clustering": {"kubernetes": {"mode": "dns"}}},
         "wso2-kubernetes:file_list", "Pulumi.unit.yaml", "need dnsjava"),
    Case("dns mode with a scheme jar that has no DNS mode",
         {**PATH_PACK, "clustering": {"kubernetes": {"mode": "dns"}}},
         "wso2-kubernetes:clustering.kubernetes.mode", "Pulumi.unit.yaml", "has no DNS mode",
         setup=lambda p: scheme_jar(p.dir / "files" / JARS[1], [s for s in CURRENT if s != "USE_DNS"])),
    Case("api_server in dns mode", {**PATH_PACK, "clustering": {"kubernetes": {"mode": "dns",
                                                                             "api_server": "https://10.0.0.1"}}},
         "wso2-kubernetes:clustering.kubernetes.api_server", "Pulumi.unit.yaml", "mode is dns"),
    Case("unknown membership mode", {"clustering": {"kubernetes": {"mode": "gossip"}}},
         "wso2-kubernetes:clustering.kubernetes.mode", "Pulumi.unit.yaml", "gossip"),
    Case("file_list entry that is not a jar path", {"file_list": ["lib/notes.txt"]},
         "wso2-kubernetes:file_list[0]", "Pulumi.unit.yaml", "is not a jar under repository/components/"),
    Case("file_list jar that is not a zip", PATH_PACK, "file_list[0]", "hieradata/wso2is/5.1.0/default.yaml",
         "is not a jar (not a zip file)",
         setup=lambda p: p.write("files/" + JARS[0], "not a zip")),
    Case("kubernetes scheme without services", {"clustering": {"kubernetes": {"services": []}}},
         "wso2-kubernetes:clustering.kubernetes.services", "Pulumi.unit.yaml", "no services are listed"),
    Case("services without the profile's own Service", {"clustering": {"kubernetes": {"services": ["other"]}}},
         "wso2-kubernetes:clustering.kubernetes.services", "Pulumi.unit.yaml", "own Service 'wso2is'"),
    Case("membership namespace differs from the pods'", {"clustering": {"kubernetes": {"namespace": "other"}}},
         "wso2-kubernetes:clustering.kubernetes.namespace", "Pulumi.unit.yaml", "differs from kubernetes.namespace"),
    Case("password in plain stack config", {}, "wso2-kubernetes:admin_password", "Pulumi.unit.yaml",
         "is a password stored in plain text", plain=("admin_password",)),
    Case("password in plain hieradata", {}, "datasources.password", "hieradata/common.yaml",
         "looks like a secret in plain text",
         setup=lambda p: p.write("hieradata/common.yaml", (PROJECT_DIR / "hieradata/common.yaml").read_text()
                                 + "datasources:\n  password: wso2carbon\n")),
    Case("admin password not set", {"admin_password": None}, "wso2-kubernetes:admin_password", "Pulumi.unit.yaml",
         "is not set"),
    Case("pack that is not a zip", {"pack": {"source": "path", "path": "notes.txt"}}, "wso2-kubernetes:pack.path",
         "Pulumi.unit.yaml", "is neither a zip nor a folder", setup=lambda p: p.write("notes.txt", "hello")),
    Case("pack without carbon.xml", PATH_PACK, "wso2-kubernetes:pack.path", "Pulumi.unit.yaml",
         "lacks repository/conf/carbon.xml",
         setup=lambda p: tiny_pack(p.dir / "wso2is-5.1.0.zip", skip="carbon.xml") and None),
    Case("pack of another version", PATH_PACK, "wso2-kubernetes:pack.path", "Pulumi.unit.yaml",
         "is WSO2 Identity Server 5.0.0, the stack deploys WSO2 Identity Server 5.1.0",
         setup=lambda p: tiny_pack(p.dir / "wso2is-5.1.0.zip", version="5.0.0") and None),
    Case("pack path that does not exist", {"pack": {"source": "path", "path": "missing.zip"}},
         "wso2-kubernetes:pack.path", "Pulumi.unit.yaml", "missing.zip does not exist"),
    Case("pack checksum mismatch", {"pack": {"source": "path", "path": "wso2is-5.1.0.zip", "sha256": "a" * 64}},
         "wso2-kubernetes:pack.sha256", "Pulumi.unit.yaml", "has sha256"),
    Case("broken YAML in a layer", {}, "(file)", "hieradata/wso2is/5.1.0.yaml line", "is not valid YAML",
         setup=lambda p: p.write("hieradata/wso2is/5.1.0.yaml", "name: wso2is\nports: [\n")),
    Case("layer that is not a mapping", {}, "(file)", "hieradata/wso2is/5.1.0/default.yaml",
         "must be a mapping of keys", setup=lambda p: p.write("hieradata/wso2is/5.1.0/default.yaml", "- a\n- b\n")),
    Case("memory that is not a quantity", {"workload": {"resources": {"memory_limit": "2 gigs"}}},
         "wso2-kubernetes:workload.resources.memory_limit", "Pulumi.unit.yaml", "Kubernetes quantity"),
    Case("image tag with a space", {"product_image": {"tag": "1.0 beta"}}, "wso2-kubernetes:product_image.tag",
         "Pulumi.unit.yaml", "use an image tag"),
    Case("name that is not a Kubernetes name", {"name": "WSO2_IS"}, "wso2-kubernetes:name", "Pulumi.unit.yaml",
         "a Kubernetes name"),
    Case("session affinity that Kubernetes lacks", {"service": {"session_affinity": "Sticky"}},
         "wso2-kubernetes:service.session_affinity", "Pulumi.unit.yaml", "'Sticky' is not allowed"),
    Case("nodePort on a ClusterIP service", {"service": {"type": "ClusterIP"}}, "ports[0].node_port",
         "hieradata/wso2is/5.1.0.yaml", "a nodePort needs service.type NodePort"),
    Case("JDK archive without checksum", {"base_image": {"java": {"source": "archive", "archive": "jdk.tgz"}}},
         "wso2-kubernetes:base_image.java.source", "Pulumi.unit.yaml",
         "java.archive or java.archive_sha256 is missing"),
    Case("JDK archive with a wrong checksum",
         {**PATH_PACK, "base_image": {"java": {"source": "archive", "archive": "jdk.tgz", "archive_sha256": "b" * 64}}},
         "wso2-kubernetes:base_image.java.archive_sha256", "Pulumi.unit.yaml", "not the configured one",
         setup=lambda p: p.write("jdk.tgz", "not really a jdk")),
    Case("override for a profile that is not deployed", {"profile_overrides": {"worker": {}}},
         "wso2-kubernetes:profile_overrides.worker", "Pulumi.unit.yaml", "'worker' is not a deployed profile"),
    Case("registry user without a password", {"registry": {"server": "r.example.com", "username": "ci"}},
         "wso2-kubernetes:registry_password", "Pulumi.unit.yaml", "is not set"),
    Case("zero replicas while waiting for readiness", {"workload": {"replicas": 0}},
         "wso2-kubernetes:workload.replicas", "Pulumi.unit.yaml", "cannot wait for 0 replicas"),
    Case("pod port name too long for Kubernetes", {"ports": [
        {"name": "thrift-entitlement", "pod_port_name": "thrift-entitlement", "container_port": 10500},
        {"name": "servlet-https", "pod_port_name": "https", "container_port": 9443}]},
         "wso2-kubernetes:ports[0].pod_port_name", "Pulumi.unit.yaml", "at most 15 lower-case letters"),
    Case("Pod Security level Kubernetes lacks", {"kubernetes": {"pod_security": "strict"}},
         "wso2-kubernetes:kubernetes.pod_security", "Pulumi.unit.yaml", "'strict' is not allowed"),
    Case("two profiles create one namespace with different Pod Security levels",
         {"profiles": ["default", "worker"], "kubernetes": {"namespace": "wso2-two", "create_namespace": True}},
         "kubernetes.pod_security", "hieradata/wso2is/5.1.0/worker.yaml",
         "create namespace 'wso2-two' with different Pod Security levels",
         setup=lambda p: p.write("hieradata/wso2is/5.1.0/worker.yaml",
                                 "name: wso2is-worker\nkubernetes: {pod_security: baseline}\n"
                                 "clustering: {kubernetes: {services: [wso2is, wso2is-worker]}}\n"
                                 "ports:\n"
                                 "  - {name: servlet-https, pod_port_name: https, container_port: 9443, "
                                 "node_port: 32012}\n")),
    Case("two ports with one name", {"ports": [
        {"name": "servlet-https", "pod_port_name": "a", "container_port": 9443},
        {"name": "servlet-https", "pod_port_name": "b", "container_port": 9444}]},
         "wso2-kubernetes:ports[1].name", "Pulumi.unit.yaml", "port name 'servlet-https' is used twice"),
]


def test_the_catalogue_is_big_enough() -> None:
    assert len({c.id for c in CASES}) == len(CASES) >= 25


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_before_anything_is_created(case: Case, project: Project) -> None:
    from components.graph import deploy

    if case.setup:
        case.setup(project)
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="wso2-kubernetes", stack="unit", preview=True)
    values = stack_config(**case.config)
    secret = {k for k in SECRET_KEYS if k in values and k not in case.plain}
    with pytest.raises(SettingsError) as raised:
        deploy(project.dir, "unit", values, secret, build_dir=project.dir / "build")
    text = str(raised.value)
    line = next((ln for ln in text.splitlines() if case.says in ln), None)
    assert line is not None, f"no line says {case.says!r}:\n{text}"
    assert case.key in line and case.layer in line, f"key/layer missing in: {line}"
    assert "Fix:" in line and line.rstrip().endswith(".")
    assert text.startswith("wso2-kubernetes: ") and "nothing was created" in text
    assert mocks.resources == []
    assert not (project.dir / "build").exists() or not any((project.dir / "build").rglob("Dockerfile"))
