"""The entry on the real 1.34 API server (Gateway API CRDs from tools/kubernetes/gateway-api.sh): an Ingress with a
generated dev certificate, then the same stack moved to a Gateway API HTTPRoute + BackendTLSPolicy; each object
accepted as the program wrote it, and the running member's conf naming the entry's host on 443. No controller
acts on these objects here (none can be had offline). Then the same stack moved to `entry.kind: edge` with two
members: the program's own proxy, built and pushed by `pulumi up`, answers real HTTPS on the node's 443 with the
stack's certificate for its host and keeps a client on one member by its cookie (the generated key only encrypted
in the state); destroy leaves nothing. Its own stack, namespace and image tags (tests/engine/isolation.py); one
member until the edge, to stay lean."""

from __future__ import annotations

import base64
import http.client
import json
import secrets
import socket
import ssl
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from tests.engine.conftest import PROJECT_DIR
from tests.engine.isolation import cluster_snapshot, differences, free_node_ports, services_on
from tests.engine.stack import ProjectStack, kube_json, kubectl, wait_until

NAMESPACE = f"wso2k8s-test-entry-{secrets.token_hex(4)}"
HOST = "is.entry.test"
CONF = "/home/wso2carbon/wso2is-5.1.0/repository/conf"
NODE_IP = "10.245.0.1"  # the local cluster's node (tools/kubernetes/cluster.sh): the edge's external IP
COOKIE = "wso2-route"  # entry.cookie_name's default
STICKY_REQUESTS = 20
FRESH_CLIENTS = 16  # all on one of two members by chance: 2 * 2**-16


@pytest.fixture(scope="module")
def untouched(engines_env: dict[str, str]) -> dict[str, str]:
    subprocess.run(["bash", str(PROJECT_DIR / "tools/kubernetes/gateway-api.sh")], check=True, env=engines_env)
    return cluster_snapshot(engines_env, except_namespace=NAMESPACE)


@pytest.fixture(scope="module")
def stack(engines_env: dict[str, str], untouched: dict[str, str],
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProjectStack]:
    s = ProjectStack.create(tmp_path_factory.mktemp("entry"), "entry", engines_env, passphrase=secrets.token_hex(16))
    s.set_config("profiles", ["default"])
    s.isolate("wso2is", "5.1.0", NAMESPACE, free_node_ports(engines_env, 4))
    s.set_config("workload", {"replicas": 1, "java_opts": "-Xms32m -Xmx128m",
                              "resources": {"cpu_request": "100m", "memory_request": "128Mi", "cpu_limit": "1",
                                            "memory_limit": "512Mi"}})
    s.set_config("entry", {"kind": "ingress", "host": HOST, "tls": {"generate": True},
                           "ingress": {"class_name": "nginx"}})
    s.set_secret("admin_password", f"Adm1n-{secrets.token_hex(4)}")
    s.set_secret("keystore_password", "wso2carbon")
    yield s
    s.pulumi("destroy", "--yes", "--skip-preview", check=False)
    assert differences(untouched, cluster_snapshot(s.env, except_namespace=NAMESPACE)) == []


def _get(stack: ProjectStack, kind: str, name: str) -> dict[str, Any]:
    result: dict[str, Any] = kube_json(stack.env, "get", kind, name, "-n", NAMESPACE)
    return result


def _exec(stack: ProjectStack, command: str) -> str:
    pod = kube_json(stack.env, "get", "pods", "-n", NAMESPACE, "-l", "name=wso2is")["items"][0]["metadata"]["name"]
    return kubectl(stack.env, "exec", "-n", NAMESPACE, pod, "--", "bash", "-c", command).stdout


def test_ingress_with_a_generated_certificate_is_accepted(stack: ProjectStack) -> None:
    started = time.monotonic()
    stack.up()
    print(f"\n[entry] up with an Ingress entry (cold images may be cached): {time.monotonic() - started:.1f}s")
    ingress = _get(stack, "ingress.networking.k8s.io", "wso2is")
    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert notes["nginx.ingress.kubernetes.io/session-cookie-name"] == "wso2-route"
    assert notes["nginx.ingress.kubernetes.io/session-cookie-secure"] == "true"
    assert notes["nginx.ingress.kubernetes.io/backend-protocol"] == "HTTPS"
    spec = ingress["spec"]
    assert spec["ingressClassName"] == "nginx"
    assert spec["tls"] == [{"hosts": [HOST], "secretName": "wso2is-entry-tls"}]
    backend = spec["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert spec["rules"][0]["host"] == HOST and backend == {"name": "wso2is", "port": {"number": 9443}}
    service = _get(stack, "service", "wso2is")["spec"]
    assert service["type"] == "ClusterIP" and all("nodePort" not in p for p in service["ports"])
    assert [p["port"] for p in service["ports"]] == [9763, 9443, 8000, 10500]  # the ports list as it was


def test_the_generated_certificate_names_the_host_and_its_key_is_only_encrypted_in_state(stack: ProjectStack) -> None:
    secret = _get(stack, "secret", "wso2is-entry-tls")
    assert secret["type"] == "kubernetes.io/tls"
    cert = x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["tls.crt"]))
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [HOST]
    key = base64.b64decode(secret["data"]["tls.key"]).decode()
    assert "PRIVATE KEY" in key
    body = key.splitlines()[1]  # a line of the key's base64: what any plain copy would contain
    states = [p.read_text(errors="replace") for p in stack.state_dir.rglob("*.json")]
    export = stack.pulumi("stack", "export").stdout
    assert states and not any(body in text for text in states) and body not in export
    assert "BEGIN PRIVATE KEY" not in export and '"ciphertext"' in export
    assert body in stack.pulumi("stack", "export", "--show-secrets").stdout  # the search could have found it


def test_the_running_member_names_the_host_on_443(stack: ProjectStack) -> None:
    carbon = _exec(stack, f"cat {CONF}/carbon.xml")
    assert f"<HostName>{HOST}</HostName>" in carbon and f"<MgtHostName>{HOST}</MgtHostName>" in carbon
    catalina = _exec(stack, f"cat {CONF}/tomcat/catalina-server.xml")
    assert 'proxyPort="443"' in catalina and 'proxyPort="80"' in catalina
    assert 'proxyPort="3' not in catalina  # no node port left


def test_a_second_up_changes_nothing_not_even_the_certificate(stack: ProjectStack) -> None:
    steps = [s for s in stack.preview_steps() if s.get("op") not in ("same", None)]
    assert steps == [], [(s["op"], s.get("urn")) for s in steps]


def test_the_same_stack_on_a_gateway_gets_an_httproute_and_a_backend_tls_policy(stack: ProjectStack) -> None:
    stack.set_config("entry", {"kind": "gateway", "tls": {"generate": False},
                               "gateway": {"parent_ref": {"name": "public", "namespace": "gateways",
                                                          "section_name": "https"},
                                           "backend_ca_config_map": "wso2is-members-ca"}})
    started = time.monotonic()
    stack.up()
    print(f"\n[entry] ingress -> gateway: {time.monotonic() - started:.1f}s")
    route = _get(stack, "httproute.gateway.networking.k8s.io", "wso2is")
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["spec"]["hostnames"] == [HOST]
    assert route["spec"]["parentRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway",
                                            "name": "public", "namespace": "gateways", "sectionName": "https"}]
    rule = route["spec"]["rules"][0]
    assert rule["backendRefs"][0]["name"] == "wso2is" and rule["backendRefs"][0]["port"] == 9443
    # kept by the API server (the experimental channel's schema has it; a standard one would prune it)
    assert rule["sessionPersistence"]["type"] == "Cookie"
    assert rule["sessionPersistence"]["cookie"]["name"] == "wso2-route"
    policy = _get(stack, "backendtlspolicy.gateway.networking.k8s.io", "wso2is")
    assert policy["spec"]["targetRefs"] == [{"group": "", "kind": "Service", "name": "wso2is",
                                             "sectionName": "servlet-https"}]
    assert policy["spec"]["validation"]["hostname"] == "localhost"
    assert policy["spec"]["validation"]["caCertificateRefs"][0]["name"] == "wso2is-members-ca"
    gone = kubectl(stack.env, "get", "ingress", "wso2is", "-n", NAMESPACE, check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr  # the Ingress went with the kind
    assert kubectl(stack.env, "get", "secret", "wso2is-entry-tls", "-n", NAMESPACE, check=False).returncode != 0


def test_the_api_server_refuses_what_the_crd_forbids(stack: ProjectStack) -> None:
    """The accepted objects above were checked against a real schema: a cookie type without its cookie is not."""
    bad = ('{"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","metadata":{"name":"bad","namespace":"'
           + NAMESPACE + '"},"spec":{"rules":[{"backendRefs":[{"name":"wso2is","port":9443}],'
           '"sessionPersistence":{"type":"Cookie"}}]}}')
    proc = subprocess.run(["kubectl", "apply", "--dry-run=server", "-f", "-"], input=bad, text=True,
                          capture_output=True, env=stack.env)
    assert proc.returncode != 0 and "cookie must be specified for Cookie type" in proc.stderr


# entry.kind edge: the same stack behind the program's own proxy, with real HTTPS through the node's 443


@dataclass
class Edge:
    stack: ProjectStack
    seconds: float  # the `pulumi up` that moved the stack to the edge
    changes: dict[str, int]
    cert: Path  # the stack's certificate for HOST, as the TLS Secret holds it
    members: dict[str, str]  # pod IP → pod name


def _https(edge: Edge, path: str, cookie: str | None = None) -> tuple[int, dict[str, str], list[str]]:
    """GET https://HOST<path> through NODE_IP:443 (HOST resolved to the node here, not by DNS), verifying the
    served certificate against the stack's own for HOST: (status, headers lower-cased, Set-Cookie values)."""
    context = ssl.create_default_context(cafile=str(edge.cert))
    conn = http.client.HTTPSConnection(HOST, 443, context=context, timeout=10)
    conn.sock = context.wrap_socket(socket.create_connection((NODE_IP, 443), timeout=10), server_hostname=HOST)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        response.read()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return response.status, headers, response.headers.get_all("Set-Cookie") or []
    finally:
        conn.close()


@pytest.fixture(scope="module")
def edge(stack: ProjectStack, tmp_path_factory: pytest.TempPathFactory) -> Edge:
    held = services_on(stack.env, NODE_IP, 443)
    assert not held, f"{NODE_IP}:443 is held by {held}: this test needs the node's 443 for its edge"
    stack.set_config("entry", {"kind": "edge", "tls": {"generate": True},
                               "edge": {"external_ips": [NODE_IP], "image": {"tag": "engine-test"}}})
    stack.set_config("workload", {"replicas": 2})
    seconds, changes = stack.up()
    print(f"\n[entry] -> edge with 2 members (edge image built and pushed): {seconds:.1f}s, {changes}")
    pods = [p for p in kube_json(stack.env, "get", "pods", "-n", NAMESPACE, "-l", "name=wso2is")["items"]
            if not p["metadata"].get("deletionTimestamp")]
    assert len(pods) == 2, [p["metadata"]["name"] for p in pods]
    cert = tmp_path_factory.mktemp("edge") / "tls.crt"
    cert.write_bytes(base64.b64decode(_get(stack, "secret", "wso2is-entry-tls")["data"]["tls.crt"]))
    found = Edge(stack, seconds, changes, cert, {p["status"]["podIP"]: p["metadata"]["name"] for p in pods})
    waited = wait_until(lambda: _https(found, "/carbon/")[0] == 200, 120, f"the edge to answer on {NODE_IP}:443")
    print(f"[entry] the edge answered {waited:.1f}s after the up")
    return found


def test_the_edge_answers_on_the_nodes_443_with_the_stacks_certificate_for_its_host(edge: Edge) -> None:
    context = ssl.create_default_context(cafile=str(edge.cert))  # verifies the chain and HOST
    with socket.create_connection((NODE_IP, 443), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=HOST) as tls:
        served = tls.getpeercert(binary_form=True)
    assert served == ssl.PEM_cert_to_DER_cert(edge.cert.read_text()), "the edge serves another certificate"
    status, headers, _ = _https(edge, "/carbon/")
    assert status == 200 and headers["x-synthetic-member"] in edge.members, headers
    # what the program made for it: the members' headless Service, the edge's Deployment and its Service on 443
    assert _get(edge.stack, "service", "wso2is-members")["spec"]["clusterIP"] == "None"
    service = _get(edge.stack, "service", "wso2is-edge")["spec"]
    assert service["externalIPs"] == [NODE_IP] and service["ports"][0]["port"] == 443
    (container,) = _get(edge.stack, "deployment", "wso2is-edge")["spec"]["template"]["spec"]["containers"]
    assert container["image"].startswith("127.0.0.1:5000/wso2/edge:engine-test@sha256:")


def test_the_edge_cookie_keeps_a_client_on_one_member_and_new_clients_spread(edge: Edge) -> None:
    status, headers, cookies = _https(edge, "/carbon/")
    assert status == 200, headers
    sticky = next(c.split(";", 1)[0] for c in cookies if c.startswith(f"{COOKIE}="))
    attributes = next(c for c in cookies if c.startswith(f"{COOKIE}=")).lower()
    assert "secure" in attributes and "httponly" in attributes, attributes
    assert not any(ip in sticky for ip in edge.members), "the sticky cookie names a pod"
    first = headers["x-synthetic-member"]
    seen = Counter(_https(edge, "/carbon/admin/login.jsp", sticky)[1]["x-synthetic-member"]
                   for _ in range(STICKY_REQUESTS))
    spread = Counter(_https(edge, "/carbon/")[1]["x-synthetic-member"] for _ in range(FRESH_CLIENTS))
    print(f"\n[entry] edge: {STICKY_REQUESTS} requests with one cookie per member {dict(seen)}; "
          f"{FRESH_CLIENTS} new clients per member {dict(spread)}")
    assert seen == Counter({first: STICKY_REQUESTS}), f"the cookie did not keep the client on {first}: {seen}"
    assert set(spread) == set(edge.members), f"new clients did not reach both members: {dict(spread)}"


def test_the_edge_cookie_key_is_the_stacks_only_encrypted_and_a_second_up_changes_nothing(edge: Edge) -> None:
    stack = edge.stack
    shown = json.loads(stack.pulumi("stack", "export", "--show-secrets").stdout)
    (shown_key,) = [r["outputs"]["value"] for r in shown["deployment"]["resources"]
                    if r["urn"].endswith("::edge-cookie-key")]
    assert isinstance(shown_key, dict), "the cookie key is not a secret in the state"  # {sig, plaintext}
    key = json.loads(shown_key["plaintext"])
    assert len(key) == 64 and int(key, 16) >= 0
    secret = _get(stack, "secret", "wso2is-edge-cookie")
    assert base64.b64decode(secret["data"]["cookie_secret"]).decode() == key  # what the pods sign with
    states = [p.read_text(errors="replace") for p in stack.state_dir.rglob("*.json")]
    export = stack.pulumi("stack", "export").stdout
    assert states and not any(key in text for text in states) and key not in export
    steps = [s for s in stack.preview_steps() if s.get("op") not in ("same", None)]
    assert steps == [], [(s["op"], s.get("urn")) for s in steps]  # not a new key, image or certificate



def _edge_errors(stack: ProjectStack) -> list[str]:
    """What the edge pods logged about requests that did not get a 200 (Caddy's JSON error and access lines)."""
    lines = kubectl(stack.env, "logs", "-n", NAMESPACE, "-l", "app.kubernetes.io/component=edge", "--tail=5000",
                    check=False).stdout.splitlines()
    found = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("level") == "error" or entry.get("status", 200) != 200:
            found.append(json.dumps({k: entry[k] for k in ("ts", "logger", "msg", "error", "err", "upstream",
                                                           "status", "duration") if k in entry}))
    return found

def test_a_keystore_change_rolls_the_members_behind_the_edge_without_failed_requests(edge: Edge) -> None:
    """What users of the entry see of a key rotation: a new generated key pair rolls both members (new RC) while
    new clients and one sticky client call through the edge the whole time; none of their requests fails and the
    sticky one is moved to a member of the new generation when its own goes."""
    stack = edge.stack
    old_rcs = {r["metadata"]["name"] for r in kube_json(stack.env, "get", "rc", "-n", NAMESPACE)["items"]}
    _, _, cookies = _https(edge, "/carbon/")
    sticky = next(c.split(";", 1)[0] for c in cookies if c.startswith(f"{COOKIE}="))
    counts: Counter[str] = Counter()
    failures: list[str] = []
    done = threading.Event()

    def load(cookie: str | None, name: str) -> None:
        while not done.is_set():
            try:
                status = _https(edge, "/carbon/admin/login.jsp", cookie)[0]
                counts[f"{name} {'ok' if status == 200 else 'failed'}"] += 1
                if status != 200:
                    failures.append(f"{name}: HTTP {status}")
            except OSError as e:
                counts[f"{name} failed"] += 1
                failures.append(f"{name}: {e}")
            time.sleep(0.1)

    workers = [threading.Thread(target=load, args=(None, "new clients")),
               threading.Thread(target=load, args=(sticky, "sticky client"))]
    for worker in workers:
        worker.start()
    stack.set_config("keystores", {"validity_days": 400})  # replaces the generated key pair: the members roll
    try:
        seconds, changes = stack.up()
    finally:
        done.set()
        for worker in workers:
            worker.join()
    new_rcs = {r["metadata"]["name"] for r in kube_json(stack.env, "get", "rc", "-n", NAMESPACE)["items"]}
    print(f"\n[entry] keystore rollout behind the edge: {seconds:.1f}s, {changes}; requests {dict(counts)}")
    assert new_rcs and not new_rcs & old_rcs, (old_rcs, new_rcs)  # a new generation of members
    assert counts["new clients ok"] > 0 and counts["sticky client ok"] > 0, counts
    if failures:
        print("[entry] the edge's log on them:", *_edge_errors(stack), sep="\n  ")
    assert failures == [], failures[:10]
    new_members = {p["status"].get("podIP") for p in kube_json(stack.env, "get", "pods", "-n", NAMESPACE, "-l",
                                                                "name=wso2is")["items"]
                   if p["metadata"]["name"].rsplit("-", 1)[0] in new_rcs}
    assert _https(edge, "/carbon/", sticky)[1]["x-synthetic-member"] in new_members

def test_destroy_removes_the_entry(stack: ProjectStack) -> None:
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert services_on(stack.env, NODE_IP, 443) == []  # the edge gave the node's 443 back
    gone = kubectl(stack.env, "get", "namespace", NAMESPACE, check=False)
    assert gone.returncode != 0 or kube_json(stack.env, "get", "namespace", NAMESPACE)["status"]["phase"] \
        == "Terminating"
