"""The entry under load (issues 11 and 14): one throwaway two-member stack of the project, first with no entry
(the Service's node ports, as the seed), then moved to `entry.kind: edge` (the program's own Caddy on the node's
443, cookie-sticky). Holds /tmp/engine-tests.lock throughout (minutes); needs the node's 443 free (no other edge).

    .venv/bin/python benchmarks/entry.py        → build/benchmarks/entry.json (benchmarks/run.py prints it)

Measured: TLS handshake + first byte (a fresh connection, GET /carbon/ to the status line), straight to a node
port and through the edge; the paced load of benchmarks/load.py through the edge, idle, while the member a
sticky client is on is deleted (that client's cookie on every request), and during a rollout of a keystore change
(new clients).
"""

from __future__ import annotations

import base64
import http.client
import json
import secrets
import shutil
import socket
import ssl
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from benchmarks.load import RATE, paced_load  # noqa: E402
from benchmarks.overhead import machine, timed  # noqa: E402
from benchmarks.stats import percentile  # noqa: E402
from tests.engine.conftest import _exports  # noqa: E402
from tests.engine.isolation import services_on  # noqa: E402
from tests.engine.stack import kube_json, kubectl, wait_until  # noqa: E402
from tests.reliability.common import admin_password, engine_lock, make_stack, pods, ready_pods  # noqa: E402

NODE_IP = "10.245.0.1"  # the local cluster's node: the edge's external IP
HOST = "is.bench.test"
COOKIE = "wso2-route"  # entry.cookie_name's default
FIRST_BYTES = 60  # sequential fresh connections per path
OUT = PROJECT_DIR / "build/benchmarks/entry.json"


def get(address: tuple[str, int], context: ssl.SSLContext, server_name: str | None,
        cookie: str | None = None) -> tuple[int, http.client.HTTPMessage]:
    """GET /carbon/ on a fresh TLS connection to `address` (SNI `server_name`): (status, headers)."""
    with socket.create_connection(address, timeout=10) as raw:
        conn = http.client.HTTPSConnection(server_name or address[0], address[1], context=context, timeout=10)
        conn.sock = context.wrap_socket(raw, server_hostname=server_name)
        conn.request("GET", "/carbon/", headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()  # the status line and headers: the first bytes
        response.read()
        return response.status, response.headers


def first_byte_ms(call: Callable[[], object]) -> dict[str, float]:
    times = []
    for _ in range(FIRST_BYTES):
        times.append(timed(call) * 1000)
    return {"p50_ms": percentile(times, 50), "p90_ms": percentile(times, 90), "count": len(times)}


def main() -> None:
    env = _exports(str(PROJECT_DIR / "tools/engines.sh"))
    root = Path(tempfile.mkdtemp(prefix="wso2k8s-bench-entry-"))
    run = secrets.token_hex(4)
    namespace = f"wso2k8s-bench-entry-{run}"
    results: dict[str, Any] = {"rate_rps": RATE, "machine": machine()}
    unverified = ssl.create_default_context()
    unverified.check_hostname, unverified.verify_mode = False, ssl.CERT_NONE
    try:
        with engine_lock():
            held = services_on(env, NODE_IP, 443)
            if held:
                sys.exit(f"{NODE_IP}:443 is held by {held}: destroy that edge first (this benchmark runs its own)")
            stack = make_stack(root / "stack", "bench-entry", env, namespace, admin_password(run))
            stack.up()
            node_port = ("127.0.0.1", stack.node_ports["servlet-https"])
            wait_until(lambda: len(ready_pods(env, namespace)) == 2 and get(node_port, unverified, None)[0] == 200,
                       300, "2 members answering on the node port")
            results["first byte node port"] = first_byte_ms(lambda: get(node_port, unverified, None))

            stack.set_config("entry", {"kind": "edge", "host": HOST, "tls": {"generate": True},
                                       "edge": {"external_ips": [NODE_IP], "image": {"tag": "bench"}}})
            results["up to the edge s"], _ = stack.up()
            edge = (NODE_IP, 443)
            verified = ssl.create_default_context(cadata=base64.b64decode(kube_json(
                env, "get", "secret", "wso2is-entry-tls", "-n", namespace)["data"]["tls.crt"]).decode())
            wait_until(lambda: get(edge, verified, HOST)[0] == 200, 120, "the edge to answer")
            results["first byte edge"] = first_byte_ms(lambda: get(edge, verified, HOST))

            results["edge load idle"] = paced_load(lambda: get(edge, verified, HOST)[0], int(RATE * 30))

            cookies = get(edge, verified, HOST)[1].get_all("Set-Cookie") or []
            sticky = next(c.split(";", 1)[0] for c in cookies if c.startswith(f"{COOKIE}="))

            def kill_sticky_member() -> None:
                member = get(edge, verified, HOST, sticky)[1]["X-Synthetic-Member"]  # the synthetic server's IP
                victim = next(p["metadata"]["name"] for p in pods(env, namespace) if p["status"].get("podIP") == member)
                kubectl(env, "delete", "pod", victim, "-n", namespace, "--wait=false")
                results["pod kill → member back (2 ready) s"] = wait_until(
                    lambda: victim not in {p["metadata"]["name"] for p in pods(env, namespace)}
                    and len(ready_pods(env, namespace)) == 2, 300, "member back")

            results["edge load pod kill (sticky client)"] = paced_load(
                lambda: get(edge, verified, HOST, sticky)[0], int(RATE * 40), kill_sticky_member)

            def keystore_rollout() -> None:
                old = {p["metadata"]["name"] for p in pods(env, namespace)}
                stack.set_config("keystores", {"validity_days": 400})  # a new generated key pair: the members roll
                seconds, _ = stack.up()
                settle = wait_until(lambda: not old & {p["metadata"]["name"] for p in pods(env, namespace)}
                                    and len(ready_pods(env, namespace)) == 2, 300, "new members serving")
                results["keystore rollout → all new members serving s"] = seconds + settle

            results["edge load keystore rollout"] = paced_load(lambda: get(edge, verified, HOST)[0], int(RATE * 120),
                                                               keystore_rollout)
            stack.pulumi("destroy", "--yes", "--skip-preview")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    started = time.monotonic()
    main()
    print(f"entry benchmark: {time.monotonic() - started:.0f} s", file=sys.stderr)
