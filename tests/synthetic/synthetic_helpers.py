"""Helpers for the synthetic-pack tests: config edits, HTTP(S) probes and a fake Kubernetes API server."""

from __future__ import annotations

import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

CONF = "repository/conf"


# --------------------------------------------------------------------------- config edits


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= count, f"{old!r} not found in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def set_offset(home: Path, offset: int) -> None:
    p = home / CONF / "carbon.xml"
    text = re.sub(r"<Offset>\d+</Offset>", f"<Offset>{offset}</Offset>", p.read_text(encoding="utf-8"))
    p.write_text(text, encoding="utf-8")


def set_carbon_keystore_password(home: Path, password: str) -> None:
    """carbon.xml Security/KeyStore/Password only (the https Connector keeps its keystorePass)."""
    p = home / CONF / "carbon.xml"
    text = p.read_text(encoding="utf-8")
    ks = re.search(r"<KeyStore>.*?</KeyStore>", text, re.S)
    assert ks
    block = re.sub(r"<Password>[^<]*</Password>", f"<Password>{password}</Password>", ks.group(0))
    p.write_text(text[: ks.start()] + block + text[ks.end():], encoding="utf-8")


def set_connector_keystore_pass(home: Path, password: str) -> None:
    p = home / CONF / "tomcat" / "catalina-server.xml"
    text = re.sub(r'keystorePass="[^"]*"', f'keystorePass="{password}"', p.read_text(encoding="utf-8"))
    p.write_text(text, encoding="utf-8")


SCHEME_CLASS = "org.wso2.carbon.membership.scheme.kubernetes.KubernetesMembershipScheme"


def set_clustering(home: Path, *, scheme: str = "kubernetes", enable: bool = True,
                   params: dict[str, str] | None = None, class_name: str | None = SCHEME_CLASS) -> None:
    """Edit axis2.xml's <clustering> the way a renderer would: enable, scheme, the scheme's class (kubernetes),
    extra parameters (inserted before any added earlier)."""
    p = home / CONF / "axis2" / "axis2.xml"
    text = p.read_text(encoding="utf-8")
    text, n = re.subn(r'(<clustering class="[^"]+"\s+enable=")(?:true|false)(")',
                      rf"\g<1>{'true' if enable else 'false'}\g<2>", text)
    assert n == 1
    params = dict(params or {})
    if scheme == "kubernetes" and class_name:
        params = {"membershipSchemeClassName": class_name, **params}
    extra = "".join(f'\n        <parameter name="{k}">{v}</parameter>' for k, v in params.items())
    text, n = re.subn(r'<parameter name="membershipScheme">[^<]*</parameter>',
                      f'<parameter name="membershipScheme">{scheme}</parameter>{extra}', text)
    assert n == 1
    p.write_text(text, encoding="utf-8")


def install_scheme(home: Path, version: str = "current", *, dnsjava: bool = True) -> Path:
    """Copy the synthetic scheme jar of `version` (and dnsjava) into repository/components/lib, as file_list does."""
    from wso2k8s.synthetic.scheme_jars import build_dnsjava_jar, build_scheme_jar

    lib = home / "repository" / "components" / "lib"
    lib.mkdir(parents=True, exist_ok=True)
    jar = build_scheme_jar(version)  # type: ignore[arg-type]
    shutil.copyfile(jar, lib / jar.name)
    if dnsjava:
        shutil.copyfile(build_dnsjava_jar(), lib / build_dnsjava_jar().name)
    return lib / jar.name


# --------------------------------------------------------------------------- probes


def http_get(url: str, *, timeout: float = 10) -> tuple[int, Message, str]:
    """GET without following redirects, without verifying TLS (the pack's cert is self-signed).
    Headers are case-insensitive (the JDK server sends "Content-type")."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx), NoRedirect)
    try:
        with opener.open(url, timeout=timeout) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def get_json(url: str) -> dict:
    status, _, body = http_get(url)
    assert status == 200, (status, body)
    return json.loads(body)


def tcp_banner(port: int, timeout: float = 5) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.settimeout(timeout)
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(1024)
            if not chunk:
                break
            data += chunk
        return data.decode()


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def wait_until(predicate, timeout: float = 20, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not met in {timeout}s")
        time.sleep(interval)


def keystore_cert_der(keystore: Path, password: str, alias: str = "wso2carbon") -> bytes:
    pem = subprocess.run(
        ["keytool", "-exportcert", "-rfc", "-alias", alias, "-keystore", str(keystore),
         "-storepass", password],
        check=True, capture_output=True, text=True,
    ).stdout
    block = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", pem, re.S)
    assert block, pem
    return ssl.PEM_cert_to_DER_cert(block.group(0))


def served_cert_der(port: int) -> bytes:
    pem = ssl.get_server_certificate(("127.0.0.1", port), timeout=10)
    return ssl.PEM_cert_to_DER_cert(pem)


# --------------------------------------------------------------------------- fake Kubernetes API


def make_ca_and_server_cert(workdir: Path, name: str = "fake-kube") -> tuple[Path, Path, Path]:
    """An EC CA and a server certificate for 127.0.0.1/localhost signed by it (openssl CLI).
    Returns (ca.crt, server.crt, server.key)."""
    workdir.mkdir(parents=True, exist_ok=True)
    ca_key, ca_crt = workdir / f"{name}-ca.key", workdir / f"{name}-ca.crt"
    key, csr, crt = workdir / f"{name}.key", workdir / f"{name}.csr", workdir / f"{name}.crt"
    ext = workdir / f"{name}.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                   "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(ca_key))
    run("req", "-x509", "-new", "-key", str(ca_key), "-sha256", "-days", "2", "-subj", f"/CN={name}-ca",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-out", str(ca_crt))
    run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(key))
    run("req", "-new", "-key", str(key), "-subj", "/CN=kubernetes", "-out", str(csr))
    run("x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key), "-CAcreateserial",
        "-days", "2", "-sha256", "-extfile", str(ext), "-out", str(crt))
    return ca_crt, crt, key


@dataclass
class SeenRequest:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class FakeKubeApi:
    """HTTPS server answering GET /api/v1/namespaces/{ns}/endpoints/{svc} like the Kubernetes API.

    ``endpoints`` maps service -> ready IPs; ``not_ready`` service -> notReadyAddresses IPs.
    ``mode``: "ok", or "forbidden" (403 for every request). A request with ``?pretty`` or a
    curl/Wget/Mozilla User-Agent gets a 500, as the local API server it stands for would crash.
    """

    workdir: Path
    namespace: str = "default"
    token: str = "fake-service-account-token"
    endpoints: dict[str, list[str]] = field(default_factory=dict)
    not_ready: dict[str, list[str]] = field(default_factory=dict)
    mode: str = "ok"
    warning: str | None = None  # a Warning header on every answer (Kubernetes 1.33+ on v1 Endpoints)
    requests: list[SeenRequest] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def start(self) -> FakeKubeApi:
        self.ca_crt, crt, key = make_ca_and_server_cert(self.workdir)
        self.token_file = self.workdir / "token"
        self.token_file.write_text(self.token + "\n")
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep pytest output quiet
                pass

            def _send(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                if api.warning:
                    self.send_header("Warning", api.warning)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _status(self, code: int, reason: str, message: str) -> None:
                self._send(code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                  "message": message, "reason": reason, "code": code})

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = parse_qs(url.query, keep_blank_values=True)
                headers = {k: v for k, v in self.headers.items()}
                api.requests.append(SeenRequest(url.path, query, headers))
                ua = self.headers.get("User-Agent", "")
                if "pretty" in query:
                    api.violations.append(f"?pretty in {self.path}")
                    return self._status(500, "InternalError", "pretty output crashes this API server")
                if ua.startswith(("curl", "Wget", "Mozilla")):
                    api.violations.append(f"User-Agent {ua}")
                    return self._status(500, "InternalError", f"unexpected User-Agent {ua}")
                if self.headers.get("Authorization") != f"Bearer {api.token}":
                    return self._status(401, "Unauthorized", "Unauthorized")
                m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/endpoints/([^/]+)", url.path)
                if api.mode == "forbidden":
                    svc = m.group(2) if m else "?"
                    ns = m.group(1) if m else "?"
                    return self._status(403, "Forbidden", f'endpoints "{svc}" is forbidden: User '
                                        f'"system:serviceaccount:{ns}:default" cannot get resource "endpoints"')
                if not m or m.group(1) != api.namespace or m.group(2) not in api.endpoints:
                    return self._status(404, "NotFound", f"not found: {url.path}")
                svc = m.group(2)
                subset: dict = {"addresses": [{"ip": ip, "targetRef": {"kind": "Pod"}} for ip in api.endpoints[svc]],
                                "ports": [{"name": "servlet-https", "port": 9443, "protocol": "TCP"}]}
                if api.not_ready.get(svc):
                    subset["notReadyAddresses"] = [{"ip": ip} for ip in api.not_ready[svc]]
                self._send(200, {"kind": "Endpoints", "apiVersion": "v1",
                                 "metadata": {"name": svc, "namespace": api.namespace},
                                 "subsets": [subset] if api.endpoints[svc] or api.not_ready.get(svc) else []})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --------------------------------------------------------------------------- fake cluster DNS


@dataclass
class FakeDns:
    """UDP DNS server on 127.0.0.1 answering like CoreDNS for headless Services: an SRV query of
    `<svc>.<ns>.svc.cluster.local` gets one record per pod (target `<ip-dashed>.<svc>...`), whose A record is
    the pod IP. ``services`` maps the full service name -> pod IPs; anything else is NXDOMAIN."""

    services: dict[str, list[str]] = field(default_factory=dict)
    queries: list[tuple[str, str]] = field(default_factory=list)

    def start(self) -> FakeDns:
        from dnslib import QTYPE, RCODE, RR, SRV, A, DNSRecord  # type: ignore[import-untyped]

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        dns = self

        def answer(data: bytes) -> bytes:
            q = DNSRecord.parse(data)
            name, qtype = str(q.q.qname).rstrip("."), QTYPE[q.q.qtype]
            dns.queries.append((name, qtype))
            reply = q.reply()
            targets = {f"{ip.replace('.', '-')}.{svc}": ip for svc, ips in dns.services.items() for ip in ips}
            if qtype == "SRV" and name in dns.services:
                for ip in dns.services[name]:
                    reply.add_answer(RR(name, QTYPE.SRV, ttl=5,
                                        rdata=SRV(0, 100, 4000, f"{ip.replace('.', '-')}.{name}.")))
            elif qtype == "A" and name in targets:
                reply.add_answer(RR(name, QTYPE.A, ttl=5, rdata=A(targets[name])))
            elif name not in dns.services and name not in targets:
                reply.header.rcode = RCODE.NXDOMAIN
            return bytes(reply.pack())

        def serve() -> None:
            while True:
                try:
                    data, peer = self.sock.recvfrom(4096)
                    self.sock.sendto(answer(data), peer)
                except OSError:  # stop() closed the socket, possibly between the two calls
                    return

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.sock.close()


def trust_opts(ca_crt: Path) -> list[str]:
    """JVM options that trust `ca_crt`: the scheme, like the real 1.0.5 jar, verifies the API server against the
    JVM's truststore (on a pod, carbon.xml's TrustStore, which the server makes the JVM's)."""
    store = ca_crt.with_suffix(".truststore.p12")
    if not store.exists():
        subprocess.run(["keytool", "-importcert", "-noprompt", "-alias", "kube-ca", "-file", str(ca_crt),
                        "-keystore", str(store), "-storetype", "PKCS12", "-storepass", "changeit"],
                       check=True, capture_output=True)
    return [f"-Djavax.net.ssl.trustStore={store}", "-Djavax.net.ssl.trustStoreType=PKCS12",
            "-Djavax.net.ssl.trustStorePassword=changeit"]


# Rendered conf files name the keystores where a member mounts them from its Secret; a server run on the host
# (no Secret volume) reads the pack's own instead: the stack's `keystores.mode: stock` and this path swap.
HOST_KEYSTORES = {"keystores": {"mode": "stock"}}


def on_host(content: bytes) -> bytes:
    """A rendered conf file as a server on the host reads it: the mounted keystore folder is the pack's own."""
    from wso2k8s.keys.stores import KEYSTORES_DIR

    return content.replace(f"{KEYSTORES_DIR}/".encode(), b"${carbon.home}/repository/resources/security/")
