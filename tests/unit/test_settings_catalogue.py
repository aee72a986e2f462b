"""A catalogue of bad inputs. Each must fail before any resource is registered, with a message that names
the key, the layer it came from, what is wrong, and the fix; and nothing may be written outside the build
folder (nor a Dockerfile inside it)."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pytest

from tests.unit.classfile import CURRENT, OLD_2016, SCHEME, dnsjava_jar, jar, scheme_jar
from tests.unit.crafted import KEYSTORE, ROOT, corrupt_member, entry, jdk_archive, keystore, tiny_pack
from tests.unit.helpers import PROJECT_DIR, SECRET_KEYS, stack_config
from tests.unit.test_graph import Mocks
from wso2k8s.settings import SettingsError

JARS = ["repository/components/lib/dnsjava-2.1.8.jar",
        "repository/components/lib/kubernetes-membership-scheme-1.0.5.jar"]
PACK = "wso2is-5.1.0.zip"
STOCK = "wso2carbon"  # the pack's keystores open with it: the catalogue's stacks use it unless a case says


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
    tiny_pack(tmp_path / PACK)
    return Project(tmp_path)


JAVA_OK = {"java": {"allow_unsupported_version": True}}  # the tiny pack on the jlink'd 17: not the case tested


def path_pack(path: str = "wso2is-5.1.0.zip", **pack: Any) -> dict[str, Any]:
    return {"pack": {"source": "path", "path": path, **pack}, "base_image": JAVA_OK}


STOCK_KEYS = {"keystores": {"mode": "stock"}}
USER_KEYS = {"keystores": {"mode": "user", "keystore": "keys/mine.jks"}}


def _user_keystore(p: Project, data: bytes) -> None:
    (p.dir / "keys").mkdir(exist_ok=True)
    (p.dir / "keys/mine.jks").write_bytes(data)
PATH_PACK = path_pack()


@dataclass(frozen=True)
class Case:
    id: str
    config: dict[str, Any]
    key: str  # expected in the message: the key as the user spells it
    layer: str  # expected: the file that set (or should set) it
    says: str  # expected: what is wrong
    setup: Callable[[Project], Any] | None = None  # may return config to merge in (a checksum, say)
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
    Case("nodePort outside 30000-32767", {"ports": {"servlet-https": {"node_port": 40000}}},
         "wso2-kubernetes:ports.servlet-https.node_port", "Pulumi.unit.yaml", "outside the NodePort range 30000-32767"),
    Case("nodePort duplicated", {"ports": {"servlet-https": {"node_port": 32001}}},
         "wso2-kubernetes:ports.servlet-https.node_port", "Pulumi.unit.yaml",
         "nodePort 32001 is used twice (by servlet-http and servlet-https)"),
    Case("ports as a list (the old form)", {"ports": [{"name": "servlet-https", "container_port": 9443}]},
         "wso2-kubernetes:ports", "Pulumi.unit.yaml", "ports are a map keyed by the Service port's name"),
    Case("a port's name written inside it", {"ports": {"servlet-https": {"name": "https"}}},
         "wso2-kubernetes:ports.servlet-https.name", "Pulumi.unit.yaml", "is the map's key"),
    Case("port clash after offset", {"port_offset": 1, "clustering": {"local_member_port": 9764}},
         "wso2-kubernetes:clustering.local_member_port", "Pulumi.unit.yaml", "clashes with servlet-http"),
    Case("offset pushes a port above 65535",
         {"port_offset": 6000, "ports": {"servlet-https": {"container_port": 60000}}},
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
    Case("pack that is not a zip", path_pack("notes.txt"), "wso2-kubernetes:pack.path",
         "Pulumi.unit.yaml", "is neither a zip nor a folder", setup=lambda p: p.write("notes.txt", "hello")),
    Case("pack without carbon.xml", PATH_PACK, "wso2-kubernetes:pack.path", "Pulumi.unit.yaml",
         "lacks repository/conf/carbon.xml",
         setup=lambda p: tiny_pack(p.dir / "wso2is-5.1.0.zip", skip="carbon.xml") and None),
    Case("pack of another version", PATH_PACK, "wso2-kubernetes:pack.path", "Pulumi.unit.yaml",
         "is WSO2 Identity Server 5.0.0, the stack deploys WSO2 Identity Server 5.1.0",
         setup=lambda p: tiny_pack(p.dir / "wso2is-5.1.0.zip", version="5.0.0") and None),
    Case("pack path that does not exist", path_pack("missing.zip"),
         "wso2-kubernetes:pack.path", "Pulumi.unit.yaml", "missing.zip does not exist"),
    Case("pack checksum mismatch", path_pack(sha256="a" * 64),
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
    Case("nodePort on a ClusterIP service", {"service": {"type": "ClusterIP"}}, "ports.servlet-http.node_port",
         "hieradata/wso2is/5.1.0.yaml", "a nodePort needs service.type NodePort"),
    Case("JDK archive without checksum", {"base_image": {"java": {"source": "archive", "archive": "jdk.tgz"}}},
         "wso2-kubernetes:base_image.java.source", "Pulumi.unit.yaml",
         "java.archive or java.archive_sha256 is missing"),
    Case("JDK archive with a wrong checksum",
         {**PATH_PACK, "base_image": {"java": {"source": "archive", "archive": "jdk.tgz",
                                                "archive_sha256": "b" * 64}}},
         "wso2-kubernetes:base_image.java.archive_sha256", "Pulumi.unit.yaml", "not the configured one",
         setup=lambda p: p.write("jdk.tgz", "not really a jdk")),
    Case("override for a profile that is not deployed", {"profile_overrides": {"worker": {}}},
         "wso2-kubernetes:profile_overrides.worker", "Pulumi.unit.yaml", "'worker' is not a deployed profile"),
    Case("registry user without a password", {"registry": {"server": "r.example.com", "username": "ci"}},
         "wso2-kubernetes:registry_password", "Pulumi.unit.yaml", "is not set"),
    Case("zero replicas while waiting for readiness", {"workload": {"replicas": 0}},
         "wso2-kubernetes:workload.replicas", "Pulumi.unit.yaml", "cannot wait for 0 replicas"),
    Case("pod port name too long for Kubernetes", {"ports": {"thrift-entitlement": {
        "pod_port_name": "thrift-entitlement"}}},
         "wso2-kubernetes:ports.thrift-entitlement.pod_port_name", "Pulumi.unit.yaml", "at most 15 lower-case letters"),
    Case("Pod Security level Kubernetes lacks", {"kubernetes": {"pod_security": "strict"}},
         "wso2-kubernetes:kubernetes.pod_security", "Pulumi.unit.yaml", "'strict' is not allowed"),
    Case("two profiles create one namespace with different Pod Security levels",
         {"profiles": ["default", "worker"], "kubernetes": {"namespace": "wso2-two", "create_namespace": True}},
         "kubernetes.pod_security", "hieradata/wso2is/5.1.0/worker.yaml",
         "create namespace 'wso2-two' with different Pod Security levels",
         setup=lambda p: p.write("hieradata/wso2is/5.1.0/worker.yaml",
                                 "name: wso2is-worker\nkubernetes: {pod_security: baseline}\n"
                                 "clustering: {kubernetes: {extra_services: [wso2is]}}\n"
                                 "ports: {servlet-http: null, kdc-server: null, thrift-entitlement: null, "
                                 "servlet-https: {node_port: 32012}}\n")),
]


def _hiera(relative: str, text: str, *, append: bool = True) -> Callable[[Project], None]:
    """Append `text` to (or replace) a copied hieradata file."""
    def setup(p: Project) -> None:
        path = p.dir / "hieradata" / relative
        p.write(f"hieradata/{relative}", (path.read_text() if append else "") + text)
    return setup


def _pack(**kwargs: Any) -> Callable[[Project], None]:
    def setup(p: Project) -> None:
        tiny_pack(p.dir / PACK, **kwargs)
    return setup


def _jdk(name: str = "jdk.tar.gz", **kwargs: Any) -> Callable[[Project], dict[str, Any]]:
    """The archive, and its checksum in the stack's config (as a user would set it)."""
    def setup(p: Project) -> dict[str, Any]:
        archive = jdk_archive(p.dir / name, **kwargs)
        return {"base_image": {"java": {"archive_sha256": hashlib.sha256(archive.read_bytes()).hexdigest()}}}
    return setup


def _corrupt(member: str) -> Callable[[Project], None]:
    def setup(p: Project) -> None:
        corrupt_member(p.dir / PACK, f"{ROOT}/{member}")
    return setup


def _sha_of_jdk(p: Project) -> dict[str, Any]:
    return {"base_image": {"java": {"archive_sha256": hashlib.sha256((p.dir / "jdk.tar.gz").read_bytes()).hexdigest()}}}


def _truncate(p: Project) -> None:
    data = (p.dir / PACK).read_bytes()
    (p.dir / PACK).write_bytes(data[: len(data) // 2])


def _folder_pack_with_link_out(p: Project) -> None:
    with zipfile.ZipFile(p.dir / PACK) as zf:
        zf.extractall(p.dir / "unpacked")
    (p.dir / "unpacked" / ROOT / "repository" / "outside").symlink_to("/etc")


def _java(archive: str = "jdk.tar.gz") -> dict[str, Any]:
    return {"java": {"source": "archive", "archive": archive}}


CARBON_NO_VERSION = b"""<Server xmlns="http://wso2.org/projects/carbon/carbon.xml"><Name>WSO2 Identity Server</Name>
<ServerKey>IS</ServerKey></Server>"""
JDK_STACK = {"pack": {"source": "path", "path": PACK}, "base_image": _java()}

CASES += [
    # secrets: kept byte for byte, so an empty or unwritable one is refused, never "fixed"
    Case("empty admin password", {"admin_password": ""}, "wso2-kubernetes:admin_password", "Pulumi.unit.yaml",
         "is empty"),
    Case("keystore password of white space only", {"keystore_password": "   "},
         "wso2-kubernetes:keystore_password", "Pulumi.unit.yaml", "is only white space"),
    Case("admin password with a newline", {"admin_password": "line1\nline2"}, "wso2-kubernetes:admin_password",
         "Pulumi.unit.yaml", "holds a control character"),
    Case("admin password with a leading space (Carbon trims it)", {"admin_password": " pw"},
         "wso2-kubernetes:admin_password", "Pulumi.unit.yaml", "starts or ends with white space, which Carbon trims"),
    Case("secret set as a structured value", {"admin_password": {"a": 1}}, "wso2-kubernetes:admin_password",
         "Pulumi.unit.yaml", "is a structured value, not a password"),
    Case("secret key misspelt", {"admin_pasword": "x"}, "wso2-kubernetes:admin_pasword", "Pulumi.unit.yaml",
         "Did you mean 'admin_password'?"),
    # The pack's own keystore is used (and checked) only with keystores.mode: stock.
    Case("keystore password that does not open the pack's keystore",
         {**PATH_PACK, **STOCK_KEYS, "keystore_password": "nope-123"},
         "wso2-kubernetes:keystore_password", "Pulumi.unit.yaml",
         "does not open the pack's repository/resources/security/wso2carbon.jks (it opens with the stock"),
    Case("keystore password with a trailing space (kept, so it does not open)",
         {**PATH_PACK, **STOCK_KEYS, "keystore_password": STOCK + " "}, "wso2-kubernetes:keystore_password",
         "Pulumi.unit.yaml",
         "(it opens with the stock password wso2carbon)"),
    Case("keystore password that does not open the synthetic pack's keystore",
         {**STOCK_KEYS, "keystore_password": "random-Pa55"},
         "wso2-kubernetes:keystore_password", "Pulumi.unit.yaml", "does not open the pack's"),
    Case("keystore whose private key has another password", {**PATH_PACK, **STOCK_KEYS},
         "wso2-kubernetes:keystore_password",
         "Pulumi.unit.yaml", "opens the pack's repository/resources/security/wso2carbon.jks but not its private key",
         setup=lambda p: _pack(replace={KEYSTORE: keystore(STOCK, key_password="changed-key-pass")})(p)),
    Case("pack without a keystore", {**PATH_PACK, **STOCK_KEYS}, "wso2-kubernetes:pack.path", "Pulumi.unit.yaml",
         "has no repository/resources/security/wso2carbon.jks", setup=_pack(skip="wso2carbon.jks")),
    Case("keystore that is not a keystore", {**PATH_PACK, **STOCK_KEYS}, "wso2-kubernetes:pack.path",
         "Pulumi.unit.yaml",
         "wso2carbon.jks is neither a JKS, JCEKS nor PKCS12 keystore",
         setup=_pack(replace={KEYSTORE: b"not a keystore"})),
    # keystores (wso2k8s/keys/stores.py): the user's file is opened and checked before anything exists
    Case("user keystore mode without a file", {"keystores": {"mode": "user"}}, "keystores.keystore",
         "hieradata/common.yaml", "is not set, and keystores.mode is 'user'"),  # where its null default is
    Case("user keystore file missing", USER_KEYS, "keystores.keystore", "Pulumi.unit.yaml",
         "keys/mine.jks cannot be read"),
    Case("user keystore not opened by keystore_password", USER_KEYS, "wso2-kubernetes:keystore_password",
         "Pulumi.unit.yaml", "does not open", setup=lambda p: _user_keystore(p, keystore("other-Pa55"))),
    Case("user keystore without the alias", {"keystores": {"mode": "user", "keystore": "keys/mine.jks",
                                                           "alias": "myhost"}},
         "keystores.alias", "Pulumi.unit.yaml", "'myhost' is not in it", setup=lambda p: _user_keystore(p, keystore())),
    Case("user keystore alias that is a trusted certificate",
         {"keystores": {"mode": "user", "keystore": "keys/mine.jks", "alias": "ca"}}, "keystores.alias",
         "Pulumi.unit.yaml", "'ca' is a trusted certificate, not a private key",
         setup=lambda p: _user_keystore(p, keystore(trusted=True))),
    Case("user keystore whose key has another password", USER_KEYS, "wso2-kubernetes:keystore_password",
         "Pulumi.unit.yaml", "but not its private key 'wso2carbon'",
         setup=lambda p: _user_keystore(p, keystore(key_password="other-key-Pa55"))),
    Case("user PKCS12 keystore without the alias",
         {"keystores": {"mode": "user", "keystore": "keys/mine.jks", "alias": "nope"}}, "keystores.alias",
         "Pulumi.unit.yaml", "'nope' is not in it", setup=lambda p: _user_keystore(p, keystore(storetype="PKCS12"))),
    Case("user keystore that is not a keystore", USER_KEYS, "keystores.keystore", "Pulumi.unit.yaml",
         "is neither a JKS, JCEKS nor PKCS12 keystore", setup=lambda p: _user_keystore(p, b"not a keystore")),
    Case("keystore file given while generating", {"keystores": {"keystore": "keys/mine.jks"}}, "keystores.keystore",
         "Pulumi.unit.yaml", "is set, but keystores.mode is 'generate'"),
    Case("cluster CA file that holds no certificate", {"keystores": {"cluster_ca": "keys/ca.pem"}},
         "keystores.cluster_ca", "Pulumi.unit.yaml", "holds no PEM certificate",
         setup=lambda p: p.write("keys/ca.pem", "not a certificate\n")),
    # top-level keys and the selection
    Case("profile for profiles", {"profile": "default"}, "wso2-kubernetes:profile", "Pulumi.unit.yaml",
         "unknown key 'profile'. Did you mean 'profiles'?"),
    Case("misspelt top-level stack key", {"regsitry": {"server": "r.example.com"}}, "wso2-kubernetes:regsitry",
         "Pulumi.unit.yaml", "Did you mean 'registry'?"),
    Case("product set in a hieradata layer", {}, "product", "hieradata/wso2is/5.1.0.yaml",
         "is chosen by the stack (wso2-kubernetes:product)", setup=_hiera("wso2is/5.1.0.yaml", "product: other\n")),
    Case("profile set in a profile override", {"profile_overrides": {"default": {"profile": "worker"}}},
         "wso2-kubernetes:profile_overrides.default.profile", "Pulumi.unit.yaml",
         "is chosen by the stack (wso2-kubernetes:profiles)"),
    Case("registry in a profile override (stack-wide)",
         {"profile_overrides": {"default": {"registry": {"server": "other.example.com"}}}},
         "wso2-kubernetes:profile_overrides.default.registry", "Pulumi.unit.yaml",
         "is a stack-wide setting (every profile shares one registry)"),
    Case("kubeconfig in a profile's hieradata (stack-wide)", {}, "kubernetes.kubeconfig",
         "hieradata/wso2is/5.1.0/default.yaml", "so profile 'default' cannot set its own",
         setup=lambda p: p.write("hieradata/wso2is/5.1.0/default.yaml",
                                 (p.dir / "hieradata/wso2is/5.1.0/default.yaml").read_text()
                                 + "\nkubernetes:\n  kubeconfig: /etc/other\n")),
    Case("base image in a profile override (stack-wide)",
         {"profile_overrides": {"default": {"base_image": {"tag": "2.0.0"}}}},
         "wso2-kubernetes:profile_overrides.default.base_image", "Pulumi.unit.yaml",
         "`wso2-kubernetes:base_image` in Pulumi.unit.yaml"),
    Case("profile override that is not a mapping", {"profile_overrides": {"default": 3}},
         "wso2-kubernetes:profile_overrides.default", "Pulumi.unit.yaml", "must be a mapping of settings"),
    Case("profile overrides that are not a mapping", {"profile_overrides": ["default"]},
         "wso2-kubernetes:profile_overrides", "Pulumi.unit.yaml", "must be a mapping of profile"),
    Case("profiles that are not a list", {"profiles": "default"}, "wso2-kubernetes:profiles", "Pulumi.unit.yaml",
         "is not a list of profile names"),
    Case("a profile listed twice", {"profiles": ["default", "default"]}, "wso2-kubernetes:profiles",
         "Pulumi.unit.yaml", "lists a profile twice"),
    Case("version that YAML read as a number", {"version": "5.1"}, "wso2-kubernetes:version", "Pulumi.unit.yaml",
         "is read as a number: quote it"),
    Case("product not set", {"product": None}, "wso2-kubernetes:product", "Pulumi.unit.yaml", "is not set"),
    Case("version not set", {"version": None}, "wso2-kubernetes:version", "Pulumi.unit.yaml", "is not set"),
    # YAML layers
    Case("duplicate key in a layer", {}, "name", "hieradata/wso2is/5.1.0.yaml line 2",
         "is set twice in one mapping (first on line 1)",
         setup=_hiera("wso2is/5.1.0.yaml", "name: wso2is\nname: other\n", append=False)),
    Case("duplicate nested key in a layer", {}, "enabled", "hieradata/common.yaml line 4",
         "is set twice in one mapping (first on line 3)",
         setup=_hiera("common.yaml", "x: 1\nclustering:\n  enabled: true\n  enabled: false\n", append=False)),
    Case("layer that is not UTF-8", {}, "(file)", "hieradata/wso2is/5.1.0/default.yaml", "not UTF-8 text",
         setup=lambda p: (p.dir / "hieradata/wso2is/5.1.0/default.yaml").write_bytes(b"name: \xff\n")),
    # values derived from the settings that Kubernetes or Docker would refuse later
    Case("name that makes a label over 63 characters",
         {"name": "w" * 59, "clustering": {"kubernetes": {"services": ["w" * 59]}}}, "wso2-kubernetes:name",
         "Pulumi.unit.yaml", "characters long (<name>-<stack>); Kubernetes allows 63"),
    Case("registry with a scheme", {"registry": {"server": "https://registry.example.com/"}},
         "wso2-kubernetes:registry.server", "Pulumi.unit.yaml", "has a scheme"),
    Case("registry that is not an address", {"registry": {"server": "my registry"}},
         "wso2-kubernetes:registry.server", "Pulumi.unit.yaml", "is not a registry address"),
    Case("wka scheme without members", {"clustering": {"membership_scheme": "wka"}},
         "wso2-kubernetes:clustering.membership_scheme", "Pulumi.unit.yaml", "clustering.wka.members is empty"),
    Case("wka member with a bad host", {"clustering": {"membership_scheme": "wka",
                                                       "wka": {"members": [{"host": "-bad-", "port": 4000}]}}},
         "wso2-kubernetes:clustering.wka.members[0].host", "Pulumi.unit.yaml", "use a DNS host name"),
    Case("API server without a scheme", {"clustering": {"kubernetes": {"api_server": "10.0.0.1:6443"}}},
         "wso2-kubernetes:clustering.kubernetes.api_server", "Pulumi.unit.yaml", "is not an API server URL"),
    Case("unknown membership scheme", {"clustering": {"membership_scheme": "dns"}},
         "wso2-kubernetes:clustering.membership_scheme", "Pulumi.unit.yaml", "'dns' is not allowed"),
    Case("kubeconfig that does not exist", {"kubernetes": {"kubeconfig": "kube/missing.yaml"}},
         "wso2-kubernetes:kubernetes.kubeconfig", "Pulumi.unit.yaml", "kube/missing.yaml does not exist"),
    Case("kubeconfig under ~ that does not exist", {"kubernetes": {"kubeconfig": "~/no-such-dir/kubeconfig"}},
         "wso2-kubernetes:kubernetes.kubeconfig", "Pulumi.unit.yaml", "no-such-dir/kubeconfig does not exist"),
    # Java: what the pack runs on
    Case("real pack on the jlink'd Java 17", {"pack": {"source": "path", "path": PACK}},
         "base_image.java.source", "hieradata/common.yaml", "runs on Java 7 or 8"),
    Case("real pack on a JDK 11 archive", JDK_STACK, "wso2-kubernetes:base_image.java.archive",
         "Pulumi.unit.yaml", "is Java 11.0.2; Carbon 4.4 (WSO2 Identity Server 5.1.0) runs on Java 7 or 8",
         setup=_jdk(version="11.0.2", top="jdk-11.0.2")),
    Case("JDK archive that is not a tar.gz", JDK_STACK, "wso2-kubernetes:base_image.java.archive",
         "Pulumi.unit.yaml", "is not a readable .tar.gz",
         setup=lambda p: (p.write("jdk.tar.gz", "plain text"), _sha_of_jdk(p))[1]),
    Case("JDK archive without bin/java", JDK_STACK, "wso2-kubernetes:base_image.java.archive", "Pulumi.unit.yaml",
         "has no <top folder>/bin/java", setup=_jdk(java=False)),
    Case("JDK archive without a release file", JDK_STACK, "wso2-kubernetes:base_image.java.archive",
         "Pulumi.unit.yaml", "its Java version is unknown", setup=_jdk(version=None)),
    Case("JDK archive for macOS", JDK_STACK, "wso2-kubernetes:base_image.java.archive", "Pulumi.unit.yaml",
         "is a JDK for Darwin", setup=_jdk(os_name="Darwin")),
    Case("synthetic pack on a JDK 8 archive", {"base_image": _java()}, "wso2-kubernetes:base_image.java.archive",
         "Pulumi.unit.yaml", "the synthetic pack's server needs Java 17", setup=_jdk()),
    Case("jlink runtime without java.base", {"base_image": {"java": {"jlink_modules": ["java.xml"]}}},
         "wso2-kubernetes:base_image.java.jlink_modules", "Pulumi.unit.yaml", "does not include java.base"),
    Case("path pack without a path", {"pack": {"source": "path"}, "base_image": JAVA_OK},
         "wso2-kubernetes:pack.source", "Pulumi.unit.yaml", "no pack.path is given"),
    # packs that must not reach outside the build folder, or are damaged
    Case("pack entry with '..'", PATH_PACK, "wso2-kubernetes:pack.path", "Pulumi.unit.yaml",
         f"entry '{ROOT}/../../victim' is not a plain relative path",
         setup=_pack(extra=[(entry(f"{ROOT}/../../victim", 0o777), b"x")])),
    Case("pack entry with an absolute path", PATH_PACK, "wso2-kubernetes:pack.path", "Pulumi.unit.yaml",
         "entry '/tmp/victim' is an absolute path", setup=_pack(extra=[(entry("/tmp/victim"), b"x")])),
    Case("pack link to an absolute path", PATH_PACK, "wso2-kubernetes:pack.path", "Pulumi.unit.yaml",
         f"entry '{ROOT}/repository/logs' is a link to '/etc', outside the pack",
         setup=_pack(extra=[(entry(f"{ROOT}/repository/logs", 0o777, stat.S_IFLNK), b"/etc")])),
    Case("pack link that climbs out", PATH_PACK, "wso2-kubernetes:pack.path", "Pulumi.unit.yaml",
         "is a link to '../../../etc', outside the pack's folder",
         setup=_pack(extra=[(entry(f"{ROOT}/repository/logs", 0o777, stat.S_IFLNK), b"../../../etc")])),
    Case("pack entry written through a link", PATH_PACK, "wso2-kubernetes:pack.path", "Pulumi.unit.yaml",
         f"would be written through the link '{ROOT}/tmp'",
         setup=_pack(extra=[(entry(f"{ROOT}/tmp", 0o777, stat.S_IFLNK), b"bin"),
                            (entry(f"{ROOT}/tmp/x.sh"), b"x")])),
    Case("pack entry twice", PATH_PACK, "wso2-kubernetes:pack.path", "Pulumi.unit.yaml",
         f"entry '{ROOT}/bin/wso2server.sh' repeats", setup=_pack(extra=[(f"{ROOT}/bin/wso2server.sh", b"#2")])),
    Case("pack entry that is a device", PATH_PACK, "wso2-kubernetes:pack.path", "Pulumi.unit.yaml",
         "is a device, FIFO or socket", setup=_pack(extra=[(entry(f"{ROOT}/dev", 0o666, stat.S_IFCHR), b"")])),
    Case("pack entry below a file", PATH_PACK, "wso2-kubernetes:pack.path", "Pulumi.unit.yaml",
         "which is a file", setup=_pack(extra=[(f"{ROOT}/bin/wso2server.sh/x", b"x")])),
    Case("pack member with a bad CRC", PATH_PACK, "wso2-kubernetes:pack.path", "Pulumi.unit.yaml",
         f"entry '{ROOT}/bin/wso2server.sh' is damaged", setup=_corrupt("bin/wso2server.sh")),
    Case("pack whose carbon.xml has a bad CRC", PATH_PACK, "wso2-kubernetes:pack.path", "Pulumi.unit.yaml",
         f"entry '{ROOT}/repository/conf/carbon.xml' is damaged", setup=_corrupt("repository/conf/carbon.xml")),
    Case("truncated pack", PATH_PACK, "wso2-kubernetes:pack.path", "Pulumi.unit.yaml",
         "is not a complete zip: truncated or damaged", setup=_truncate),
    Case("pack folder with a link outside", path_pack("unpacked"), "wso2-kubernetes:pack.path", "Pulumi.unit.yaml",
         "'repository/outside' is a link to /etc, outside the pack", setup=_folder_pack_with_link_out),
    Case("pack with two top folders", PATH_PACK, "wso2-kubernetes:pack.path", "Pulumi.unit.yaml",
         "has 2 top-level entries", setup=_pack(extra=[("other/readme.txt", b"x")])),
    Case("pack whose carbon.xml is not XML", PATH_PACK, "wso2-kubernetes:pack.path", "Pulumi.unit.yaml",
         "carbon.xml is not well-formed XML", setup=_pack(replace={"repository/conf/carbon.xml": b"<Server>"})),
    Case("pack whose carbon.xml has no version", PATH_PACK, "wso2-kubernetes:pack.path", "Pulumi.unit.yaml",
         "carbon.xml has no <Version>", setup=_pack(replace={"repository/conf/carbon.xml": CARBON_NO_VERSION})),
    # more values a user types
    Case("host name with an underscore", {"hostname": "is_host"}, "wso2-kubernetes:hostname", "Pulumi.unit.yaml",
         "use a DNS host name"),
    Case("workload kind Kubernetes lacks", {"workload": {"kind": "StatefulSets"}}, "wso2-kubernetes:workload.kind",
         "Pulumi.unit.yaml", "'StatefulSets' is not allowed"),
    Case("probe period of zero", {"workload": {"probes": {"period_seconds": 0}}},
         "wso2-kubernetes:workload.probes.period_seconds", "Pulumi.unit.yaml", "out of range"),
    Case("jar listed twice", {"file_list": [JARS[0], JARS[0]]}, "wso2-kubernetes:file_list", "Pulumi.unit.yaml",
         "lists a jar twice"),
    Case("no servlet-https port", {"ports": {"servlet-https": None}},
         "wso2-kubernetes:ports.servlet-https", "Pulumi.unit.yaml", "no 'servlet-https' port"),
    Case("hostname given as a number", {"hostname": 5.1}, "wso2-kubernetes:hostname", "Pulumi.unit.yaml",
         "put the value in quotes"),
]

# the shared database (WSO2_CARBON_DB): its settings and its password secret
DB_ON = {"enabled": True}
CASES += [
    Case("unknown database type", {"database": {**DB_ON, "type": "oracle"}, "database_password": "x"},
         "wso2-kubernetes:database.type", "Pulumi.unit.yaml", "'oracle'"),
    Case("database on without its password", {"database": DB_ON}, "wso2-kubernetes:database_password",
         "Pulumi.unit.yaml", "is not set"),
    Case("database password in plain config", {"database": DB_ON, "database_password": "plain"},
         "wso2-kubernetes:database_password", "Pulumi.unit.yaml", "is a password stored in plain text",
         plain=("database_password",)),
    Case("database password in hieradata", {}, "database.password", "hieradata/common.yaml",
         "looks like a secret in plain text",
         setup=lambda p: p.write("hieradata/common.yaml", (PROJECT_DIR / "hieradata/common.yaml").read_text()
                                 .replace("  username: wso2carbon\n", "  username: wso2carbon\n  password: x\n"))),
    Case("external database without a host", {"database": {**DB_ON, "external": True}, "database_password": "x"},
         "wso2-kubernetes:database.external", "Pulumi.unit.yaml", "database.host is not set"),
    Case("embedded mysql", {"database": {**DB_ON, "type": "mysql"}, "database_password": "x"},
         "wso2-kubernetes:database.type", "Pulumi.unit.yaml", "has no embedded server here"),
    Case("a host for the embedded server", {"database": {**DB_ON, "host": "db.example.com"}, "database_password": "x"},
         "wso2-kubernetes:database.host", "Pulumi.unit.yaml", "the embedded server's address is derived"),
    Case("driver with both maven and path", {"database": {**DB_ON, "driver": {
        "maven": "org.postgresql:postgresql:42.7.4", "path": "x.jar", "sha256": "0" * 64}}, "database_password": "x"},
         "wso2-kubernetes:database.driver", "Pulumi.unit.yaml", "needs exactly one of maven"),
    Case("a database name that is not an SQL name", {"database": {**DB_ON, "name": "wso2; drop"},
                                                     "database_password": "x"},
         "wso2-kubernetes:database.name", "Pulumi.unit.yaml", "'wso2; drop' is not a valid value"),
    Case("the user's driver jar is missing", {"database": {**DB_ON, "driver": {"path": "jars/none.jar",
                                                                             "sha256": "0" * 64}},
                                              "database_password": "x"},
         "wso2-kubernetes:database.driver.path", "Pulumi.unit.yaml", "does not exist"),
    Case("the user's driver jar has another checksum", {"database": {**DB_ON, "driver": {"path": "jars/d.jar",
                                                                                       "sha256": "0" * 64}},
                                                        "database_password": "x"},
         "wso2-kubernetes:database.driver.sha256", "Pulumi.unit.yaml", "has sha256",
         setup=lambda p: p.write("jars/d.jar", "not the trusted jar")),
    # per-database overrides (database.databases.<registry|user_store|identity>)
    Case("an unknown database of the product", {"database": {**DB_ON, "databases": {"users": {"name": "u"}}},
                                               "database_password": "x"},
         "wso2-kubernetes:database.databases.users", "Pulumi.unit.yaml", "unknown key 'users'"),
    Case("a user store database that is not an SQL name",
         {"database": {**DB_ON, "databases": {"user_store": {"name": "user-db"}}}, "database_password": "x"},
         "wso2-kubernetes:database.databases.user_store.name", "Pulumi.unit.yaml", "'user-db' is not a valid value"),
    Case("another host for one database on the embedded server",
         {"database": {**DB_ON, "databases": {"identity": {"host": "idp-db.example.com"}}}, "database_password": "x"},
         "wso2-kubernetes:database.databases.identity.host", "Pulumi.unit.yaml", "the embedded server"),
    Case("another user for one database on the embedded server",
         {"database": {**DB_ON, "databases": {"registry": {"username": "reg"}}}, "database_password": "x"},
         "wso2-kubernetes:database.databases.registry.username", "Pulumi.unit.yaml", "one address and one user"),
    Case("a pool option of one database out of range",
         {"database": {**DB_ON, "databases": {"user_store": {"pool": {"max_active": 0}}}}, "database_password": "x"},
         "wso2-kubernetes:database.databases.user_store.pool.max_active", "Pulumi.unit.yaml", "0 is out of range"),
    Case("a password for one database in plain config",
         {"database": {**DB_ON, "databases": {"user_store": {"password": "plain"}}}, "database_password": "x"},
         "wso2-kubernetes:database.databases.user_store.password", "Pulumi.unit.yaml", "secret in plain text"),
]

# the entry (settings `entry`): combinations that cannot work are refused with the fix
HOST = "is.example.com"
GW_REF = {"parent_ref": {"name": "public"}, "backend_ca_config_map": "members-ca"}
CASES += [
    Case("ingress entry without a host", {"entry": {"kind": "ingress", "tls": {"generate": True}}},
         "wso2-kubernetes:entry.kind", "Pulumi.unit.yaml", "entry.host is not set"),
    Case("ingress entry without a certificate", {"entry": {"kind": "ingress", "host": HOST}},
         "wso2-kubernetes:entry.kind", "Pulumi.unit.yaml", "entry.tls gives no certificate"),
    Case("entry certificate both named and generated",
         {"entry": {"kind": "ingress", "host": HOST, "tls": {"secret_name": "t", "generate": True}}},
         "wso2-kubernetes:entry.tls.generate", "Pulumi.unit.yaml", "both secret_name and generate"),
    Case("a certificate with no entry", {"entry": {"tls": {"generate": True}}}, "wso2-kubernetes:entry.tls.generate",
         "Pulumi.unit.yaml", "entry.kind is none"),
    Case("gateway entry without its Gateway", {"entry": {"kind": "gateway", "host": HOST,
                                                         "gateway": {"backend_ca_config_map": "ca"}}},
         "wso2-kubernetes:entry.kind", "Pulumi.unit.yaml", "must name the Gateway it joins"),
    Case("gateway entry with its own certificate",
         {"entry": {"kind": "gateway", "host": HOST, "tls": {"secret_name": "t"}, "gateway": GW_REF}},
         "wso2-kubernetes:entry.tls.secret_name", "Pulumi.unit.yaml", "TLS ends at the Gateway's listener"),
    Case("gateway entry without the members' CA",
         {"entry": {"kind": "gateway", "host": HOST, "gateway": {"parent_ref": {"name": "public"}}}},
         "wso2-kubernetes:entry.kind", "Pulumi.unit.yaml", "must name the CA"),
    Case("an Ingress dialect nobody speaks", {"entry": {"kind": "ingress", "host": HOST, "tls": {"generate": True},
                                                        "ingress": {"dialect": "traefik"}}},
         "wso2-kubernetes:entry.ingress.dialect", "Pulumi.unit.yaml", "'traefik' is not allowed"),
    Case("entry host in upper case", {"entry": {"kind": "ingress", "host": "IS.example.com",
                                                "tls": {"generate": True}}},
         "wso2-kubernetes:entry.host", "Pulumi.unit.yaml", "is not a lower-case DNS name"),
    Case("entry host an address", {"entry": {"kind": "ingress", "host": "10.1.2.3", "tls": {"generate": True}}},
         "wso2-kubernetes:entry.host", "Pulumi.unit.yaml", "is not a lower-case DNS name"),
    Case("backend CA in the nginx-inc dialect",
         {"entry": {"kind": "ingress", "host": HOST, "tls": {"generate": True},
                    "ingress": {"dialect": "nginx-inc", "backend_ca_secret_name": "ca"}}},
         "wso2-kubernetes:entry.ingress.backend_ca_secret_name", "Pulumi.unit.yaml", "nginx-inc dialect"),
    Case("entry kind misspelt", {"entry": {"kind": "ingres"}}, "wso2-kubernetes:entry.kind", "Pulumi.unit.yaml",
         "'ingres' is not allowed"),
    Case("a cookie name with a space", {"entry": {"kind": "ingress", "host": HOST, "tls": {"generate": True},
                                                  "cookie_name": "my route"}},
         "wso2-kubernetes:entry.cookie_name", "Pulumi.unit.yaml", "'my route' is not a valid value"),
    Case("the entry's cookie named like the members' session",
         {"entry": {"kind": "ingress", "host": HOST, "tls": {"generate": True}, "cookie_name": "JSESSIONID"}},
         "wso2-kubernetes:entry.cookie_name", "Pulumi.unit.yaml", "the members' own session cookie"),
    Case("entry host with an empty label", {"entry": {"kind": "ingress", "host": "is..example.com",
                                                      "tls": {"generate": True}}},
         "wso2-kubernetes:entry.host", "Pulumi.unit.yaml", "is not a DNS name"),
]

# kind edge: the program's own proxy listens on the nodes' 443 (entry.edge.external_ips)
EDGE = {"kind": "edge", "host": HOST, "tls": {"generate": True}}
CASES += [
    Case("edge entry without a certificate", {"entry": {"kind": "edge", "host": HOST}},
         "wso2-kubernetes:entry.kind", "Pulumi.unit.yaml", "entry.tls gives no certificate"),
    Case("edge address that is no address", {"entry": {**EDGE, "edge": {"external_ips": ["10.245.0"]}}},
         "wso2-kubernetes:entry.edge.external_ips[0]", "Pulumi.unit.yaml", "'10.245.0' is not an IP address"),
    Case("edge address a host name", {"entry": {**EDGE, "edge": {"external_ips": ["10.245.0.1", "node-1"]}}},
         "wso2-kubernetes:entry.edge.external_ips[1]", "Pulumi.unit.yaml", "'node-1' is not an IP address"),
    Case("edge address in IPv6", {"entry": {**EDGE, "edge": {"external_ips": ["fd00::1"]}}},
         "wso2-kubernetes:entry.edge.external_ips[0]", "Pulumi.unit.yaml", "takes IPv4 node addresses only"),
    Case("edge address on loopback", {"entry": {**EDGE, "edge": {"external_ips": ["127.0.0.1"]}}},
         "wso2-kubernetes:entry.edge.external_ips[0]", "Pulumi.unit.yaml", "is not a node's address"),
    Case("edge address unspecified", {"entry": {**EDGE, "edge": {"external_ips": ["0.0.0.0"]}}},
         "wso2-kubernetes:entry.edge.external_ips[0]", "Pulumi.unit.yaml", "is not a node's address"),
    Case("edge address twice", {"entry": {**EDGE, "edge": {"external_ips": ["10.245.0.1", "10.245.0.1"]}}},
         "wso2-kubernetes:entry.edge.external_ips[1]", "Pulumi.unit.yaml", "is listed twice"),
    Case("edge addresses not a list", {"entry": {**EDGE, "edge": {"external_ips": "10.245.0.1"}}},
         "wso2-kubernetes:entry.edge.external_ips", "Pulumi.unit.yaml", "'10.245.0.1' is not a list"),
    Case("edge with no pod", {"entry": {**EDGE, "edge": {"replicas": 0}}},
         "wso2-kubernetes:entry.edge.replicas", "Pulumi.unit.yaml", "0 is out of range"),
    Case("edge image tag with a colon", {"entry": {**EDGE, "edge": {"image": {"tag": "v1:2"}}}},
         "wso2-kubernetes:entry.edge.image.tag", "Pulumi.unit.yaml", "'v1:2' is not a valid value"),
    Case("edge setting misspelt", {"entry": {**EDGE, "edge": {"external_ip": ["10.245.0.1"]}}},
         "wso2-kubernetes:entry.edge.external_ip", "Pulumi.unit.yaml", "Did you mean 'external_ips'?"),
]

# availability controls (wso2k8s/settings/availability.py): what the API server, the scheduler or the disruption
# controller would refuse later, or quietly get wrong
W = "wso2-kubernetes:workload"
TWO = {"kind": "Deployment", "replicas": 2}
CASES += [
    Case("workload kind Kubernetes has but the program does not make", {"workload": {"kind": "DaemonSet"}},
         f"{W}.kind", "Pulumi.unit.yaml", "'DaemonSet' is not allowed"),
    Case("a governing Service for a kind that has none", {"workload": {"statefulset": {"service_name": "mine"}}},
         f"{W}.statefulset.service_name", "Pulumi.unit.yaml", "only a StatefulSet has a governing Service"),
    Case("the NodePort Service as a StatefulSet's governing Service",
         {"workload": {"kind": "StatefulSet", "statefulset": {"service_name": "wso2is"}}},
         f"{W}.statefulset.service_name", "Pulumi.unit.yaml", "which is not headless"),
    Case("disruption budget with both numbers", {"workload": {**TWO, "disruption_budget": {"max_unavailable": 1}}},
         f"{W}.disruption_budget.max_unavailable", "Pulumi.unit.yaml", "is set and so is min_available"),
    Case("disruption budget with neither number",
         {"workload": {**TWO, "disruption_budget": {"min_available": None}}},
         f"{W}.disruption_budget.min_available", "Pulumi.unit.yaml", "is null and so is max_unavailable"),
    Case("disruption budget in words", {"workload": {**TWO, "disruption_budget": {"min_available": "half"}}},
         f"{W}.disruption_budget.min_available", "Pulumi.unit.yaml", "neither a whole number nor a percentage"),
    Case("disruption budget above 100%", {"workload": {**TWO, "disruption_budget": {"min_available": "150%"}}},
         f"{W}.disruption_budget.min_available", "Pulumi.unit.yaml", "neither a whole number nor a percentage"),
    Case("disruption budget that blocks every drain", {"workload": {**TWO, "disruption_budget": {"min_available": 2}}},
         f"{W}.disruption_budget.min_available", "Pulumi.unit.yaml", "allows no voluntary eviction at all"),
    Case("disruption budget of no unavailable member",
         {"workload": {**TWO, "disruption_budget": {"min_available": None, "max_unavailable": 0}}},
         f"{W}.disruption_budget.max_unavailable", "Pulumi.unit.yaml", "allows no voluntary eviction at all"),
    Case("autoscaler on the program's renamed RC", {"workload": {"autoscaler": {"enabled": True}}},
         f"{W}.autoscaler.enabled", "Pulumi.unit.yaml", "needs workload.kind Deployment or StatefulSet"),
    Case("autoscaler maximum below its minimum",
         {"workload": {"kind": "Deployment", "replicas": 3, "autoscaler": {"enabled": True, "max_replicas": 2}}},
         f"{W}.autoscaler.max_replicas", "Pulumi.unit.yaml", "below the autoscaler's minimum 3"),
    Case("autoscaler with no member", {"workload": {"kind": "Deployment", "replicas": 0,
                                                    "autoscaler": {"enabled": True}}},
         f"{W}.replicas", "Pulumi.unit.yaml", "an autoscaler keeps at least one member"),
    Case("autoscaler CPU target of zero", {"workload": {"autoscaler": {"cpu_utilization": 0}}},
         f"{W}.autoscaler.cpu_utilization", "Pulumi.unit.yaml", "out of range"),
    Case("pod label that is a selector label", {"workload": {"pod_labels": {"name": "other"}}},
         f"{W}.pod_labels.name", "Pulumi.unit.yaml", "one of the program's own pod labels"),
    Case("pod label in the program's domain", {"workload": {"pod_labels": {"wso2k8s.io/pod-template-hash": "x"}}},
         f"{W}.pod_labels.wso2k8s.io/pod-template-hash", "Pulumi.unit.yaml", "one of the program's own pod labels"),
    Case("pod label value with a space", {"workload": {"pod_labels": {"example.com/team": "identity team"}}},
         f"{W}.pod_labels.example.com/team", "Pulumi.unit.yaml", "is not a valid label value"),
    Case("pod label value YAML read as a number", {"workload": {"pod_labels": {"example.com/tier": 1}}},
         f"{W}.pod_labels.example.com/tier", "Pulumi.unit.yaml", "put the value in quotes"),
    Case("pod annotation in the program's domain", {"workload": {"pod_annotations": {"wso2k8s.io/x": "y"}}},
         f"{W}.pod_annotations.wso2k8s.io/x", "Pulumi.unit.yaml", "in the program's own domain"),
    Case("node selector key with a space", {"workload": {"node_selector": {"disk type": "ssd"}}},
         f"{W}.node_selector.disk type", "Pulumi.unit.yaml", "is not a valid node label"),
    Case("toleration of any value with a value",
         {"workload": {"tolerations": [{"key": "dedicated", "operator": "Exists", "value": "wso2"}]}},
         f"{W}.tolerations[0].value", "Pulumi.unit.yaml", "operator is Exists"),
    Case("toleration without a key for Equal", {"workload": {"tolerations": [{"value": "wso2"}]}},
         f"{W}.tolerations[0].key", "Pulumi.unit.yaml", "only Exists may tolerate every taint"),
    Case("toleration seconds for a NoSchedule taint",
         {"workload": {"tolerations": [{"key": "dedicated", "value": "wso2", "effect": "NoSchedule",
                                        "toleration_seconds": 30}]}},
         f"{W}.tolerations[0].toleration_seconds", "Pulumi.unit.yaml", "applies only to effect NoExecute"),
    Case("toleration effect misspelt", {"workload": {"tolerations": [{"key": "a", "effect": "NoScheduling"}]}},
         f"{W}.tolerations[0].effect", "Pulumi.unit.yaml", "'NoScheduling' is not allowed"),
    Case("the same spread constraint twice", {"workload": {"topology_spread": [
        {"topology_key": "kubernetes.io/hostname"}, {"topology_key": "kubernetes.io/hostname", "max_skew": 2}]}},
         f"{W}.topology_spread[1]", "Pulumi.unit.yaml", "the API server refuses two such constraints"),
    Case("spread over a key that is no label", {"workload": {"topology_spread": [{"topology_key": "zone/"}]}},
         f"{W}.topology_spread[0].topology_key", "Pulumi.unit.yaml", "is not a valid node label"),
    Case("anti-affinity of a kind Kubernetes lacks", {"workload": {"anti_affinity": {"type": "preferred-ish"}}},
         f"{W}.anti_affinity.type", "Pulumi.unit.yaml", "'preferred-ish' is not allowed"),
]


def _merged(config: dict[str, Any], extra: Any) -> dict[str, Any]:
    if not isinstance(extra, dict):
        return config
    out = dict(config)
    for key, value in extra.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    """(size, mtime, mode) of everything outside the build folder, links not followed."""
    out = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if Path(folder, d) != root / "build"]
        for name in [*dirs, *files]:
            st = Path(folder, name).lstat()
            out[str(Path(folder, name).relative_to(root))] = (st.st_size, st.st_mtime_ns, st.st_mode)
    return out


def test_the_catalogue_is_big_enough() -> None:
    assert len({c.id for c in CASES}) == len(CASES) >= 70


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_before_anything_is_created(case: Case, project: Project) -> None:
    from program import deploy

    config = _merged(case.config, case.setup(project) if case.setup else None)
    before = _snapshot(project.dir)
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="wso2-kubernetes", stack="unit", preview=True)
    values = stack_config(**{"keystore_password": STOCK, **config})
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
    assert _snapshot(project.dir) == before, "something outside the build folder changed"
