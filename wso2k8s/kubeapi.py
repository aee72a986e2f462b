"""A small read-only client of the Kubernetes API from a kubeconfig file (the stack's), for the formation gate.

Only what a kubeconfig's cluster/user hold directly: the server, its CA (file or data, or
insecure-skip-tls-verify), and client certificates (file or data) or a bearer token (token or tokenFile).
An `exec` or `auth-provider` user is refused with a clear message. Certificate data is written to a private
temporary folder only for the moment the TLS context loads it (Python's ssl reads key pairs from files).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import ssl
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml


class KubeApiError(Exception):
    """The API server could not be asked (bad kubeconfig, network) or answered with an error."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class KubeApi:
    server: str
    context: ssl.SSLContext | None
    token: str | None
    timeout: float = 10

    @classmethod
    def from_kubeconfig(cls, path: str | Path, context: str | None = None) -> KubeApi:
        path = Path(path).expanduser()
        try:
            config = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as err:
            raise KubeApiError(f"cannot read the kubeconfig {path}: {err}") from None
        ctx_name = context or config.get("current-context")
        ctx = _named(config, "contexts", ctx_name, path)["context"]
        cluster = _named(config, "clusters", ctx["cluster"], path)["cluster"]
        user = _named(config, "users", ctx["user"], path).get("user") or {}
        if "exec" in user or "auth-provider" in user:
            raise KubeApiError(f"the kubeconfig {path} user '{ctx['user']}' authenticates with an exec/auth-provider "
                               "plugin, which the formation gate cannot run: give it a kubeconfig with a token or "
                               "client certificates, or set clustering.await_formation.enabled: false")
        base = path.parent
        server = str(cluster["server"]).rstrip("/")
        tls: ssl.SSLContext | None = None
        if server.startswith("https://"):
            tls = ssl.create_default_context()
            if cluster.get("insecure-skip-tls-verify"):
                tls.check_hostname = False
                tls.verify_mode = ssl.CERT_NONE
            elif "certificate-authority-data" in cluster:
                tls.load_verify_locations(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
            elif "certificate-authority" in cluster:
                tls.load_verify_locations(cafile=str(base / cluster["certificate-authority"]))
            _client_cert(tls, user, base)
        token = user.get("token")
        if token is None and user.get("tokenFile"):
            token = (base / user["tokenFile"]).read_text().strip()
        return cls(server, tls, token)

    def request(self, path: str, *, accept: str = "application/json") -> bytes:
        req = urllib.request.Request(self.server + path, headers={"Accept": accept})
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self.context) as resp:
                return bytes(resp.read())
        except urllib.error.HTTPError as err:
            body = err.read().decode(errors="replace")
            with contextlib.suppress(ValueError, AttributeError):
                body = json.loads(body).get("message", body)
            raise KubeApiError(f"HTTP {err.code}: {body.strip()[:300]}", err.code) from None
        except (OSError, ssl.SSLError) as err:
            raise KubeApiError(f"cannot reach the API server {self.server}: {getattr(err, 'reason', err)}") from None

    def get_json(self, path: str) -> Any:
        return json.loads(self.request(path))

    def pods(self, namespace: str, selector: dict[str, str]) -> list[dict[str, Any]]:
        labels = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        items: list[dict[str, Any]] = self.get_json(
            f"/api/v1/namespaces/{quote(namespace)}/pods?labelSelector={quote(labels)}")["items"]
        return items

    def pod_proxy(self, namespace: str, pod: str, port: int, path: str) -> str:
        """GET http://<pod>:<port><path> through the API server (works wherever the API server reaches pods)."""
        return self.request(f"/api/v1/namespaces/{quote(namespace)}/pods/{quote(pod)}:{port}/proxy{path}",
                            accept="*/*").decode(errors="replace")

    def pod_log(self, namespace: str, pod: str, lines: int) -> str:
        return self.request(f"/api/v1/namespaces/{quote(namespace)}/pods/{quote(pod)}/log?tailLines={lines}",
                            accept="*/*").decode(errors="replace")


def _named(config: dict[str, Any], kind: str, name: str | None, path: Path) -> dict[str, Any]:
    for entry in config.get(kind) or []:
        if entry.get("name") == name:
            return dict(entry)
    raise KubeApiError(f"the kubeconfig {path} has no {kind[:-1]} named '{name}'")


def _client_cert(tls: ssl.SSLContext, user: dict[str, Any], base: Path) -> None:
    if "client-certificate" in user:
        tls.load_cert_chain(str(base / user["client-certificate"]), str(base / user["client-key"]))
    elif "client-certificate-data" in user:
        with tempfile.TemporaryDirectory(prefix="wso2k8s-kube-") as tmp:
            os.chmod(tmp, 0o700)
            cert, key = Path(tmp) / "crt", Path(tmp) / "key"
            cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
            key.touch(mode=0o600)
            key.write_bytes(base64.b64decode(user["client-key-data"]))
            tls.load_cert_chain(str(cert), str(key))
