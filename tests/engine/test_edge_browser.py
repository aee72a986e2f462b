"""The edge proxy on the real cluster, seen by a real browser: Debian's chromium (tools/browser.sh) driven by
Playwright reaches the stack's hostname on the node's 443 (EdgeProxy: Caddy, TLS from a Secret, cookie-sticky
reverse proxy over HTTPS to 2 members), signs in to the console and stays on one member; fresh browsers spread.
Its own stacks (members, then the edge: tests/engine/edge_program.py), namespace and node ports
(tests/engine/isolation.py). Prints the numbers the issue asks for; the screenshot of the signed-in console is kept
in build/test-artefacts/."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import shutil
import socket
import ssl
import statistics
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.engine.conftest import PROJECT_DIR
from tests.engine.isolation import cluster_snapshot, differences, free_node_ports, services_on
from tests.engine.stack import ProjectStack, kube_json, kubectl, wait_until

NAMESPACE = f"wso2k8s-test-edge-{secrets.token_hex(4)}"
HOST = "is.wso2k8s.test"  # the stack's hostname: only the browser's resolver rule maps it to the node
NODE_IP = "10.245.0.1"  # the local cluster's node (tools/kubernetes/cluster.sh)
ADMIN_PASSWORD = f"Adm1n-{secrets.token_hex(4)}"
MEMBERS = "name=wso2is"
STICKY_LOADS = 20
FRESH_CLIENTS = 16  # all on one member by chance: 2 * 2**-16
ARTEFACTS = PROJECT_DIR / "build" / "test-artefacts"
LOGIN = f"https://{HOST}/carbon/admin/login.jsp"
INDEX = f"https://{HOST}/carbon/admin/index.jsp"


@dataclass
class Edge:
    env: dict[str, str]
    members: dict[str, str]  # pod IP → pod name
    cert: Path
    spki: str  # base64 sha256 of the certificate's public key: the one key chromium is told to trust
    node_https_port: int
    before: dict[str, str] = field(default_factory=dict)


def _certificate(work: Path) -> tuple[Path, Path, str]:
    """A self-signed certificate for HOST (what the entry makes for dev), and its key's SPKI hash."""
    cert, key = work / "tls.crt", work / "tls.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "2", "-subj", f"/CN={HOST}", "-addext", f"subjectAltName=DNS:{HOST}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    spki_der = subprocess.run(f"openssl x509 -in {cert} -pubkey -noout | openssl pkey -pubin -outform der",
                              shell=True, check=True, capture_output=True).stdout
    return cert, key, base64.b64encode(hashlib.sha256(spki_der).digest()).decode()


@pytest.fixture(scope="module")
def edge(engines_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    held = services_on(engines_env, NODE_IP, 443)
    assert not held, f"{NODE_IP}:443 is held by {held}: this test needs the node's 443 for its edge"
    before = cluster_snapshot(engines_env, except_namespace=NAMESPACE)
    members = ProjectStack.create(tmp_path_factory.mktemp("edge-members"), "edgem", engines_env,
                                  passphrase=secrets.token_hex(16))
    members.set_config("profiles", ["default"])
    members.isolate("wso2is", "5.1.0", NAMESPACE, free_node_ports(engines_env, 4))
    members.set_config("workload", {"replicas": 2, "java_opts": "-Xms32m -Xmx96m",
                                    "resources": {"cpu_request": "50m", "memory_request": "128Mi", "cpu_limit": "1",
                                                  "memory_limit": "384Mi"}})
    members.set_secret("admin_password", ADMIN_PASSWORD)
    members.set_secret("keystore_password", "wso2carbon")  # the stock keystore
    proxy: ProjectStack | None = None
    try:
        members.up()
        work = tmp_path_factory.mktemp("edge-tls")
        cert, key, spki = _certificate(work)
        # the user's certificate, as a Secret they made (the private key never reaches Pulumi's state)
        kubectl(engines_env, "create", "secret", "tls", "wso2is-edge-tls", "-n", NAMESPACE,
                f"--cert={cert}", f"--key={key}")
        key.unlink()
        proxy = ProjectStack.create(tmp_path_factory.mktemp("edge-proxy"), "edge", engines_env,
                                    passphrase=secrets.token_hex(16))
        shutil.copy2(PROJECT_DIR / "tests" / "engine" / "edge_program.py", proxy.dir / "__main__.py")
        for k, v in {"namespace": NAMESPACE, "host": HOST, "tls_secret_name": "wso2is-edge-tls",
                     "os_image": "local/debian:bookworm", "registry": "127.0.0.1:5000", "external_ip": NODE_IP,
                     "member_selector.name": "wso2is"}.items():
            proxy.pulumi("config", "set", "--plaintext", "--path", f"edge:{k}", v)
        proxy.pulumi("config", "set", "--secret", "edge:cookie_secret", stdin=secrets.token_hex(32))
        seconds, _ = proxy.up()
        print(f"\nedge stack up: {seconds:.0f}s")
        pods = [p for p in kube_json(engines_env, "get", "pods", "-n", NAMESPACE, "-l", MEMBERS)["items"]
                if not p["metadata"].get("deletionTimestamp")]
        assert len(pods) == 2, [p["metadata"]["name"] for p in pods]
        wait_until(lambda: _edge_answers(cert), 120, f"the edge to answer on {NODE_IP}:443")
        yield Edge(engines_env, {p["status"]["podIP"]: p["metadata"]["name"] for p in pods}, cert, spki,
                   members.node_ports["servlet-https"], before)
    finally:
        if proxy is not None:
            proxy.pulumi("destroy", "--yes", "--skip-preview", check=False)
        members.pulumi("destroy", "--yes", "--skip-preview", check=False)


def _edge_answers(cert: Path) -> bool:
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", str(cert),
                          "--resolve", f"{HOST}:443:{NODE_IP}", LOGIN], capture_output=True, text=True)
    return out.stdout == "200"


def _browser(p: Any, edge: Edge) -> Any:
    chromium = subprocess.run(["bash", str(PROJECT_DIR / "tools" / "browser.sh")], check=True,
                              capture_output=True, text=True).stdout.strip()
    # The hostname resolves to the node only inside this browser; the certificate is trusted by its key only.
    return p.chromium.launch(executable_path=chromium, args=[
        f"--host-resolver-rules=MAP {HOST} {NODE_IP}", f"--ignore-certificate-errors-spki-list={edge.spki}"])


def _watch(page: Any) -> list[dict[str, str]]:
    """Every page load's response (redirects included): url, status, member, Location."""
    seen: list[dict[str, str]] = []

    def record(response: Any) -> None:
        if response.request.resource_type == "document":
            headers = response.headers
            seen.append({"url": response.url, "status": str(response.status),
                         "member": headers.get("x-synthetic-member", ""), "location": headers.get("location", "")})
    page.on("response", record)
    return seen


def test_tls_ends_at_the_edge_on_443_with_the_stack_hostname(edge: Edge) -> None:
    """Python's own TLS client, verifying: the certificate served on the node's 443 is the Secret's, for HOST."""
    context = ssl.create_default_context(cafile=str(edge.cert))
    with socket.create_connection((NODE_IP, 443), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=HOST) as tls:
        served = tls.getpeercert(binary_form=True)
        assert served is not None
        expected = ssl.PEM_cert_to_DER_cert(edge.cert.read_text())
        assert served == expected, "the edge serves another certificate than the Secret's"
        tls.sendall(f"GET /carbon/admin/login.jsp HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
        head = tls.recv(4096).decode(errors="replace")
    assert head.startswith("HTTP/1.1 200"), head[:200]
    assert "x-synthetic-member:" in head.lower(), "the answer did not come from a member"


def test_browser_signs_in_and_stays_on_one_member(edge: Edge) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = _browser(p, edge)
        try:
            context = browser.new_context()
            page = context.new_page()
            seen = _watch(page)
            page.goto(LOGIN)
            page.fill("#txtUserName", "admin")
            page.fill("#txtPassword", ADMIN_PASSWORD)
            with page.expect_navigation():
                page.click("input[type=submit]")
            assert page.url == f"{INDEX}?loginStatus=true", page.url
            assert "Signed-in as: admin" in page.inner_text("#signed-in")
            for _ in range(STICKY_LOADS - 1):
                page.goto(INDEX)
                assert page.url == INDEX, f"sent back to {page.url}: the session was lost (another member?)"
            ARTEFACTS.mkdir(parents=True, exist_ok=True)
            shot = ARTEFACTS / "edge-console.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 1000
            cookies = {c["name"]: c for c in context.cookies(f"https://{HOST}/")}
        finally:
            browser.close()

    loads = [s for s in seen if s["member"]]
    per_member = Counter(s["member"] for s in loads)
    print(f"\nsticky client: {len(loads)} page loads (login page, login POST 302, redirect target, "
          f"{STICKY_LOADS - 1} reloads) per member {dict(per_member)}; screenshot {shot}")
    assert len(loads) >= STICKY_LOADS + 2, seen
    assert len(per_member) == 1, f"the signed-in browser moved between members: {dict(per_member)}"
    assert set(per_member) <= set(edge.members), (per_member, edge.members)
    assert any(s["status"] == "302" and "login_action.jsp" in s["url"] for s in loads), "no login redirect seen"
    # Redirects name the external host (or are relative to it), never 9443, a pod IP or a pod name.
    for s in seen:
        url = urlsplit(s["url"])
        assert url.hostname == HOST and url.port is None and url.scheme == "https", s
        loc = s["location"]
        if loc:
            target = urlsplit(loc)
            assert target.hostname in (None, HOST) and target.port in (None, 443), s
            assert not any(bad in loc for bad in ("9443", *edge.members, *edge.members.values())), s
    # The cookies as the browser stored them: both Secure; the session HttpOnly; SameSite a value browsers keep.
    session, sticky = cookies.get("JSESSIONID"), cookies.get("wso2lb")
    assert session is not None and sticky is not None, sorted(cookies)
    assert session["secure"] and session["httpOnly"] and session["sameSite"] in ("Lax", "Strict"), session
    # SameSite=None is accepted only with Secure; Caddy sets both when the client came over TLS.
    assert sticky["secure"] and sticky["httpOnly"] and sticky["sameSite"] in ("None", "Lax", "Strict"), sticky
    assert not any(ip in sticky["value"] for ip in edge.members), "the sticky cookie names a pod"


def test_fresh_browsers_spread_over_both_members(edge: Edge) -> None:
    from playwright.sync_api import sync_playwright

    first: list[str] = []
    with sync_playwright() as p:
        browser = _browser(p, edge)
        try:
            for _ in range(FRESH_CLIENTS):
                context = browser.new_context()
                page = context.new_page()
                response = page.goto(LOGIN)
                assert response is not None and response.status == 200
                first.append(response.headers.get("x-synthetic-member", ""))
                context.close()
        finally:
            browser.close()
    spread = Counter(first)
    print(f"\nfresh clients: {FRESH_CLIENTS} new browser contexts per member {dict(spread)}")
    assert set(spread) == set(edge.members), f"fresh browsers did not reach both members: {dict(spread)}"


def _timings(args: list[str], runs: int = 15) -> tuple[float, float]:
    """Median (TLS handshake done, first byte) in ms over `runs` new connections."""
    tls, first = [], []
    for _ in range(runs):
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{time_appconnect} %{time_starttransfer}",
                              *args], check=True, capture_output=True, text=True).stdout.split()
        tls.append(float(out[0]) * 1000)
        first.append(float(out[1]) * 1000)
    return statistics.median(tls), statistics.median(first)


def test_handshake_and_first_byte_edge_vs_node_port(edge: Edge) -> None:
    via_edge = _timings(["--cacert", str(edge.cert), "--resolve", f"{HOST}:443:{NODE_IP}", LOGIN])
    direct = _timings(["-k", f"https://127.0.0.1:{edge.node_https_port}/carbon/admin/login.jsp"])
    print(f"\nTLS handshake / first byte, median of 15 new connections: edge {NODE_IP}:443 "
          f"{via_edge[0]:.1f} / {via_edge[1]:.1f} ms; NodePort 127.0.0.1:{edge.node_https_port} "
          f"{direct[0]:.1f} / {direct[1]:.1f} ms")
    assert 0 < via_edge[0] <= via_edge[1] and 0 < direct[0] <= direct[1]


def test_nothing_else_on_the_cluster_changed(edge: Edge) -> None:
    assert differences(edge.before, cluster_snapshot(edge.env, except_namespace=NAMESPACE)) == []


def test_why_externalips_the_namespace_refuses_host_ports(edge: Edge) -> None:
    """The alternative to externalIPs, a pod on the node's 443 (hostPort or hostNetwork), is what Pod Security
    refuses in the stack's namespace; the API server says so on a server-side dry run."""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "edge-hostport", "namespace": NAMESPACE},
           "spec": {"hostNetwork": True, "containers": [{
               "name": "c", "image": "local/debian:bookworm", "ports": [{"containerPort": 443, "hostPort": 443}],
               "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True,
                                   "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}}]}}
    proc = subprocess.run(["kubectl", "apply", "--dry-run=server", "-f", "-"], env=edge.env, text=True,
                          input=json.dumps(pod), capture_output=True, timeout=60)
    assert proc.returncode != 0, proc.stdout
    assert "violates PodSecurity" in proc.stderr and "host namespaces" in proc.stderr and "hostPort" in proc.stderr, \
        proc.stderr
