"""API Manager 1.10.0's distributed deployment on the real cluster, from hieradata and one product module: five
profiles, each its own image on the shared base image, members and Service; the gateway manager and workers in
one Hazelcast domain; the gateway worker's rendered api-manager.xml names the key manager's Service, and the key
manager answers there; one embedded database for all five (WSO2AM_DB in apimdb), where an API created through the
publisher's Service is listed through the store's. Its own stack, namespace, node ports and image tags
(tests/engine/isolation.py). Prints the figures the README quotes (cold and no-change `up`, images, registry
bytes)."""

from __future__ import annotations

import base64
import json
import secrets
import shutil
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.engine.conftest import PROJECT_DIR
from tests.engine.isolation import free_node_ports
from tests.engine.stack import ProjectStack, kube_json, kubectl, wait_until

NAMESPACE = f"wso2k8s-test-apim-{secrets.token_hex(4)}"
PROFILES = ["api-key-manager", "api-publisher", "api-store", "gateway-manager", "gateway-worker"]
KM_URL = "https://wso2am-api-key-manager:9443/services/"
ADMIN_PASSWORD = f"Adm1n-{secrets.token_hex(4)}"


def _ports_of(profile: str) -> list[str]:
    """The profile's Service port names: the product's, minus what its own file drops (null)."""
    product = yaml.safe_load((PROJECT_DIR / "hieradata/wso2am/1.10.0.yaml").read_text())["ports"]
    own = yaml.safe_load((PROJECT_DIR / f"hieradata/wso2am/1.10.0/{profile}.yaml").read_text()).get("ports", {})
    return [name for name in product if not (name in own and own[name] is None)]


@pytest.fixture(scope="module")
def stack(engines_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProjectStack]:
    s = ProjectStack.create(tmp_path_factory.mktemp("apim"), "apim", engines_env, passphrase=secrets.token_hex(16))
    s.set_config("product", "wso2am")
    s.set_config("version", "1.10.0")
    s.set_config("profiles", PROFILES)
    s.set_config("kubernetes", {"namespace": NAMESPACE, "create_namespace": True})
    s.set_config("base_image", {"tag": "engine-test"})
    s.set_config("product_image", {"tag": "engine-test"})
    s.set_config("workload", {"replicas": 1, "java_opts": "-Xms32m -Xmx96m",
                              "resources": {"cpu_request": "50m", "memory_request": "128Mi", "cpu_limit": "1",
                                            "memory_limit": "384Mi"}})
    names = {p: _ports_of(p) for p in PROFILES}
    free = iter(free_node_ports(engines_env, sum(len(n) for n in names.values())))
    node_ports = {p: {name: next(free) for name in n} for p, n in names.items()}
    s.set_config("profile_overrides", {p: {"ports": {name: {"node_port": port} for name, port in ports.items()}}
                                       for p, ports in node_ports.items()})
    s.node_ports = {f"{p}/{name}": port for p, ports in node_ports.items() for name, port in ports.items()}
    s.set_config("database", {"enabled": True, "embedded": {"image": {"tag": "engine-test"}}})  # as Pulumi.apim.yaml
    s.set_secret("admin_password", ADMIN_PASSWORD)
    s.set_secret("keystore_password", "wso2carbon")  # the stock keystore
    s.set_secret("database_password", f"Db-{secrets.token_hex(6)}")
    yield s
    s.pulumi("destroy", "--yes", "--skip-preview", check=False)
    # The local volume's directory outlives the stack by design (Retain); this test's goes with it.
    state = Path(engines_env.get("WSO2K8S_STATE", "/var/lib/wso2-kubernetes"))
    shutil.rmtree(state / "volumes" / NAMESPACE, ignore_errors=True)


def _get(url: str) -> tuple[int, Message, str]:
    """Status, headers (case-insensitive: the server's JDK HttpServer spells them its own way), body."""
    tls = ssl.create_default_context()
    tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE  # the stack's self-signed certificate
    with urllib.request.urlopen(url, context=tls, timeout=10) as r:
        return r.status, r.headers, r.read().decode()


def test_the_distributed_stack_comes_up_and_each_profile_answers(stack: ProjectStack) -> None:
    cold, changes = stack.up()
    print(f"\n[apim] cold up of 5 profiles: {cold:.0f}s ({changes})")
    for profile in PROFILES:
        status, headers, body = _get(f"https://127.0.0.1:{stack.node_ports[f'{profile}/servlet-https']}"
                                     "/carbon/admin/login.jsp")
        assert status == 200 and "WSO2 API Manager" in body, profile
        assert headers["X-Carbon-Product"] == "WSO2 API Manager 1.10.0"
    status, headers, _ = _get(f"http://127.0.0.1:{stack.node_ports['gateway-worker/passthrough-http']}/")
    assert headers["X-Carbon-Product"] == "WSO2 API Manager 1.10.0"  # the gateway's API port, through its Service
    warm, changes = stack.up()
    assert set(changes) == {"same"}, changes
    print(f"[apim] no-change up: {warm:.0f}s")
    digests = json.loads(stack.pulumi("stack", "output", "product_images", "--json").stdout)
    assert sorted(digests) == sorted(PROFILES) and len(set(digests.values())) == len(PROFILES)
    base = json.loads(stack.pulumi("stack", "output", "base_image", "--json").stdout)
    layers = {layer for ref in [base, *digests.values()] for layer in _layers(ref)}
    print(f"[apim] images: {len(digests)} product + 1 base; registry bytes (distinct compressed layers): "
          f"{sum(size for _, size in layers) / 1e6:.1f} MB")


def _layers(ref: str) -> set[tuple[str, int]]:
    """(digest, compressed size) of each layer of an image in the local registry, from its manifest."""
    registry, _, rest = ref.partition("/")
    repo, _, digest = rest.partition("@")
    repo = repo.rsplit(":", 1)[0]
    accept = ", ".join(["application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
                        "application/vnd.docker.distribution.manifest.v2+json",
                        "application/vnd.docker.distribution.manifest.list.v2+json"])
    request = urllib.request.Request(f"http://{registry}/v2/{repo}/manifests/{digest}", headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=10) as r:
        manifest = json.loads(r.read())
    if "manifests" in manifest:  # an index: the platform images it lists (attestations have no layers worth it)
        return {layer for m in manifest["manifests"] for layer in _layers(f"{registry}/{repo}@{m['digest']}")}
    return {(layer["digest"], int(layer["size"])) for layer in manifest.get("layers", [])}


def test_the_gateway_worker_reaches_its_key_manager_where_api_manager_xml_says(stack: ProjectStack) -> None:
    """What each running profile read from its api-manager.xml (the server's own /wso2k8s/apim): the Services
    the program created, never typed twice; and the worker's calls there, over TLS checked against its truststore
    (the stack's keystores), answered by the key manager."""
    worker = json.loads(_get(f"http://127.0.0.1:{stack.node_ports['gateway-worker/servlet-http']}/wso2k8s/apim")[2])
    assert worker["key_validator"]["url"] == KM_URL and worker["auth_manager"]["url"] == KM_URL
    publisher = json.loads(_get(f"http://127.0.0.1:{stack.node_ports['api-publisher/servlet-http']}"
                                "/wso2k8s/apim")[2])
    assert publisher["gateway"]["url"] == "https://wso2am-gateway-manager:9443/services/"
    assert publisher["gateway_endpoint"]["url"] == ("http://wso2am-gateway-worker:8280,"
                                                    "https://wso2am-gateway-worker:8243")
    assert publisher["store"]["url"] == "https://wso2am-api-store:9443/store"
    for call in ("key_validator", "auth_manager"):
        assert (worker[call]["status"], worker[call]["server"]) == (200, "WSO2 API Manager 1.10.0"), worker[call]


def test_gateway_manager_and_worker_are_one_cluster_domain(stack: ProjectStack) -> None:
    env = stack.env

    def pod(name: str) -> dict[str, Any]:
        pods = [p for p in kube_json(env, "get", "pods", "-n", NAMESPACE, "-l", f"name={name}")["items"]
                if not p["metadata"].get("deletionTimestamp")]
        assert len(pods) == 1, name
        return pods[0]

    manager, worker = pod("wso2am-gateway-manager"), pod("wso2am-gateway-worker")
    url = f"http://127.0.0.1:{stack.node_ports['gateway-manager/servlet-http']}/cluster/members"
    seen: dict[str, Any] = {}

    def both() -> bool:
        seen.update(json.loads(_get(url)[2]))
        return {manager["status"]["podIP"], worker["status"]["podIP"]} <= set(seen["members"])

    try:
        wait_until(both, 120, "the gateway manager to see the worker")
    except AssertionError as err:
        raise AssertionError(f"{err}\nlast seen: {seen}") from None
    km = pod("wso2am-api-key-manager")["status"]["podIP"]
    assert km not in seen["members"]  # another domain's Service is not looked up
    assert kubectl(env, "get", "svc", "-n", NAMESPACE, "-o", "name").stdout.split() == sorted(
        [*(f"service/wso2am-{p}" for p in PROFILES), "service/wso2am-db"])


def _post_form(url: str, form: str) -> tuple[int, dict[str, Any]]:
    auth = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    request = urllib.request.Request(url, data=form.encode(), headers={
        "Authorization": f"Basic {auth}", "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def test_one_database_for_the_five_profiles_and_the_store_lists_the_publishers_api(stack: ProjectStack) -> None:
    """One embedded PostgreSQL in the namespace (not one per profile), its schema Job having created apimdb from
    the pack's apimgt/postgresql.sql; an API created through the publisher's Service (its node port) is an
    AM_API row in WSO2AM_DB, listed through the store's Service: two profiles, two images, one database."""
    env = stack.env
    servers = kube_json(env, "get", "statefulsets", "-n", NAMESPACE)["items"]
    assert [s["metadata"]["name"] for s in servers] == ["wso2am-db"]
    jobs = kube_json(env, "get", "jobs", "-n", NAMESPACE, "-l", "app.kubernetes.io/component=database")["items"]
    assert len(jobs) == 1
    log = kubectl(env, "logs", "-n", NAMESPACE, f"job/{jobs[0]['metadata']['name']}").stdout
    assert "schema created in apimdb from dbscripts/apimgt/postgresql.sql" in log, log
    publisher = f"http://127.0.0.1:{stack.node_ports['api-publisher/servlet-http']}/synthetic/apis"
    store = f"http://127.0.0.1:{stack.node_ports['api-store/servlet-http']}/synthetic/apis"
    name = f"PizzaShack{secrets.token_hex(3)}"
    status, body = _post_form(publisher, f"name={name}&version=1.0.0&context=/pizzashack")
    assert status == 201, body
    listed = json.loads(_get(store)[2])["apis"]
    assert {"provider": "admin", "name": name, "version": "1.0.0", "context": "/pizzashack/1.0.0"} in listed, listed
    assert _post_form(publisher, f"name={name}&version=1.0.0&context=/pizzashack")[0] == 409
