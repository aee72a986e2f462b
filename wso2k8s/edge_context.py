"""The edge proxy's build context and its Caddyfile (no Pulumi here).

context:
  Dockerfile   FROM the project's OS image, the static caddy, a fixed non-root uid
  caddy        tools/caddy/build.sh's binary, copied in (only when it changed)
The Caddyfile is not in the image: components/edge.py puts it in a ConfigMap.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from .pack.context import write_if_changed

CADDY_VERSION = "2.11.9"  # tools/caddy/build.sh builds this one
LISTEN_PORT = 8443  # inside the pod (non-root cannot bind 443); the Service maps 443 to it
HEALTH_PORT = 8081
USER_ID = 65532  # the edge image's user (written into its Dockerfile) and its pod's runAsUser
TLS_DIR = "/etc/edge/tls"
BACKEND_CA_DIR = "/etc/edge/backend-ca"
TEMPLATES = Environment(loader=PackageLoader("wso2k8s", "templates/edge"), undefined=StrictUndefined,
                        keep_trailing_newline=True, autoescape=False)


class EdgeContextError(Exception):
    def __init__(self, message: str, fix: str):
        super().__init__(f"{message}; fix: {fix}")
        self.message, self.fix = message, fix


def caddy_binary() -> Path:
    """Where tools/caddy/build.sh leaves the binary (WSO2K8S_CACHE moves the root, as for every engine)."""
    cache = Path(os.environ.get("WSO2K8S_CACHE", "/var/cache/wso2-kubernetes"))
    return cache / f"caddy-{CADDY_VERSION}" / "bin" / "caddy"


def write_edge_context(out: Path, os_image: str, user_id: int, caddy: Path | None = None) -> Path:
    """The edge image's context in `out`; a clear error (what to run) when the caddy binary is missing."""
    binary = caddy or caddy_binary()
    if not binary.is_file():
        raise EdgeContextError(f"the edge proxy's binary {binary} does not exist",
                               "run `bash tools/caddy/build.sh` (tools/engines.sh does it; ~1.5 min once)")
    if user_id == 0:
        raise EdgeContextError("the edge image's user_id is 0 (root)", "give it a non-root uid")
    write_if_changed(out / "Dockerfile", TEMPLATES.get_template("Dockerfile.j2").render(
        os_image=os_image, user_id=user_id, caddy_version=CADDY_VERSION).encode())
    target = out / "caddy"
    if not target.is_file() or target.stat().st_size != binary.stat().st_size \
            or target.read_bytes() != binary.read_bytes():
        write_if_changed(target, binary.read_bytes())
        target.chmod(0o755)
    return out


REFRESH_SECONDS = 5  # how often the edge re-reads the members' addresses (the headless Service's A records)


def member_drain_seconds(dns_cache_seconds: int) -> int:
    """How long a member leaving keeps serving behind the edge: the edge may dial it until the cluster DNS's cached
    answer expires and its next refresh (a rollout through the edge failed requests with the 5 s drain that
    suffices for kube-proxy: connection refused from the stale list, no other member in it)."""
    return dns_cache_seconds + REFRESH_SECONDS


@dataclass(frozen=True)
class CaddyfileArgs:
    host: str
    backend_service: str
    backend_port: int
    cookie_name: str
    refresh: str = f"{REFRESH_SECONDS}s"
    backend_ca: bool = False  # verify the members against the CA mounted at BACKEND_CA_DIR/ca.crt
    backend_tls_server_name: str = ""


def caddyfile(a: CaddyfileArgs) -> str:
    return TEMPLATES.get_template("Caddyfile.j2").render(
        host=a.host, backend_service=a.backend_service, backend_port=a.backend_port, cookie_name=a.cookie_name,
        refresh=a.refresh, listen_port=LISTEN_PORT, health_port=HEALTH_PORT, tls_dir=TLS_DIR,
        backend_ca=f"{BACKEND_CA_DIR}/ca.crt" if a.backend_ca else "",
        backend_tls_server_name=a.backend_tls_server_name)
