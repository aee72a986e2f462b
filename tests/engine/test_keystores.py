"""The stack's own keystores on the real cluster: the members serve TLS with the certificate generated for
this stack (not the pack's stock one), the membership scheme verifies the API server against the mounted
truststore (KUBERNETES_MASTER_SKIP_SSL_VERIFICATION false), no key material is in an image layer or in the
plain state, and a new key rolls the members while a client keeps calling the Service. Own stack, namespace,
node ports and image tags (tests/engine/isolation.py)."""

from __future__ import annotations

import hashlib
import json
import secrets
import socket
import ssl
import subprocess
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.engine.isolation import free_node_ports
from tests.engine.stack import ProjectStack, kube_json, kubectl, wait_until
from wso2k8s.keys.certificates import pem_certificates
from wso2k8s.pack.keystore import jks_entries

NAMESPACE = f"wso2k8s-test-keys-{secrets.token_hex(4)}"
TIMINGS: dict[str, Any] = {}


@pytest.fixture(scope="module")
def stack(engines_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProjectStack]:
    s = ProjectStack.create(tmp_path_factory.mktemp("keys"), "keys", engines_env, passphrase=secrets.token_hex(16))
    s.set_config("profiles", ["default"])
    s.isolate("wso2is", "5.1.0", NAMESPACE, free_node_ports(engines_env, 4))
    s.set_config("hostname", "wso2is.keys.test")
    s.set_config("workload", {"replicas": 2, "java_opts": "-Xms32m -Xmx128m",
                              "resources": {"cpu_request": "100m", "memory_request": "128Mi", "cpu_limit": "1",
                                            "memory_limit": "512Mi"}})
    s.set_secret("admin_password", f"Adm1n-{secrets.token_hex(4)}")
    s.set_secret("keystore_password", f"Ks-{secrets.token_hex(6)}")  # not the stock one
    s.up()
    yield s
    print(f"\nkeystores engine timings: {json.dumps(TIMINGS)}")
    s.pulumi("destroy", "--yes", "--skip-preview", check=False)


def _served_certificate(port: int) -> bytes:
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # we compare the certificate, not trust it
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, ctx.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der
    return der


def _generated_pem(stack: ProjectStack) -> str:
    state = json.loads(stack.pulumi("stack", "export").stdout)
    found = [r["outputs"]["certificate_pem"] for r in state["deployment"]["resources"]
             if r["type"] == "pulumi-python:dynamic:Resource" and "certificate_pem" in r.get("outputs", {})]
    assert len(found) == 1, found
    pem: str = found[0]
    return pem


def _stock_certificate(stack: ProjectStack) -> bytes:
    import zipfile
    zips = list((stack.dir / "build").rglob("wso2is-5.1.0.zip"))
    with zipfile.ZipFile(zips[0]) as z:
        data = z.read("wso2is-5.1.0/repository/resources/security/wso2carbon.jks")
    return next(e for e in jks_entries(data) if e.protected_key).certificates[0]


def _members(env: dict[str, str], pod: str) -> dict[str, Any]:
    script = ('exec 3<>/dev/tcp/127.0.0.1/9763; printf "GET /cluster/members HTTP/1.0\\r\\n\\r\\n" >&3; '
              'sed "1,/^\\r$/d" <&3')
    result: dict[str, Any] = json.loads(kubectl(env, "exec", "-n", NAMESPACE, pod, "--", "bash", "-c",
                                                script).stdout)
    return result


def _pods(env: dict[str, str]) -> list[dict[str, Any]]:
    return [p for p in kube_json(env, "get", "pods", "-n", NAMESPACE, "-l", "name=wso2is")["items"]
            if not p["metadata"].get("deletionTimestamp") and p["status"].get("podIP")]


def test_members_serve_the_stacks_own_certificate_not_the_stock_one(stack: ProjectStack) -> None:
    served = _served_certificate(stack.node_ports["servlet-https"])
    generated = pem_certificates(_generated_pem(stack))[0]
    stock = _stock_certificate(stack)
    assert hashlib.sha256(served).hexdigest() == hashlib.sha256(generated).hexdigest()
    assert hashlib.sha256(served).hexdigest() != hashlib.sha256(stock).hexdigest()
    from cryptography import x509
    cert = x509.load_der_x509_certificate(served)
    assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "wso2is.keys.test"
    pod = _pods(stack.env)[0]
    annotation = pod["metadata"]["annotations"]["wso2k8s.io/keystores"]
    assert len(annotation) == 16
    mounts = pod["spec"]["containers"][0]["volumeMounts"]
    assert {"name": "wso2carbon-keystores", "mountPath": "/run/secrets/wso2carbon-keystores",
            "readOnly": True} in mounts


def test_membership_verifies_the_api_server_with_the_mounted_truststore(stack: ProjectStack) -> None:
    env = stack.env
    axis2 = kubectl(env, "exec", "-n", NAMESPACE, _pods(env)[0]["metadata"]["name"], "--", "bash", "-c",
                    "grep -A1 SKIP_SSL $CARBON_HOME/repository/conf/axis2/axis2.xml || true").stdout
    assert "KUBERNETES_MASTER_SKIP_SSL_VERIFICATION" not in axis2 or "false" in axis2

    def everyone() -> bool:
        pods = _pods(env)
        ips = {p["status"]["podIP"] for p in pods}
        return len(pods) == 2 and all(set(_members(env, p["metadata"]["name"])["members"]) == ips for p in pods)

    wait_until(everyone, 180, "both members to see each other through the verified API")
    name = _pods(env)[0]["metadata"]["name"]
    assert not _members(env, name)["last_error"]
    log = kubectl(env, "logs", "-n", NAMESPACE, name).stdout
    assert "Using truststore /run/secrets/wso2carbon-keystores/client-truststore.jks" in log


def test_no_key_material_in_an_image_layer_or_the_plain_state(stack: ProjectStack, tmp_path: Path) -> None:
    served = _served_certificate(stack.node_ports["servlet-https"])
    image = stack.outputs()["product_images"]["default"]
    tar = tmp_path / "image.tar"
    subprocess.run(["docker", "pull", image], env=stack.env, check=True, capture_output=True)
    subprocess.run(["docker", "save", "-o", str(tar), image], env=stack.env, check=True, capture_output=True)
    with tarfile.open(tar) as outer:
        layers = [m for m in outer.getmembers() if m.isfile()]
        assert len(layers) > 2
        for member in layers:
            data = outer.extractfile(member).read()  # type: ignore[union-attr]
            assert served not in data, f"the stack's certificate is in {member.name}"
            assert b"wso2carbon-keystores" not in data or member.name.endswith(".json") or b"<Location>" in data
    exported = stack.pulumi("stack", "export").stdout
    assert "PRIVATE KEY" not in exported and "/u3+7Q" not in exported  # PEM keys; base64 of a JKS file
    outputs = stack.pulumi("stack", "output", "--json").stdout
    assert "PRIVATE KEY" not in outputs and "/u3+7Q" not in outputs


def test_a_new_key_rolls_the_members_without_failed_requests(stack: ProjectStack) -> None:
    port = stack.node_ports["servlet-https"]
    before = hashlib.sha256(_served_certificate(port)).hexdigest()
    old_rcs = {r["metadata"]["name"] for r in kube_json(stack.env, "get", "rc", "-n", NAMESPACE)["items"]}
    stack.set_config("keystores", {"validity_days": 400})  # replaces the generated key pair
    counts = {"ok": 0, "failed": 0}
    done = threading.Event()
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE

    def loop() -> None:
        import urllib.request
        while not done.is_set():
            try:
                with urllib.request.urlopen(f"https://127.0.0.1:{port}/carbon/admin/login.jsp", context=ctx,
                                            timeout=5) as resp:
                    counts["ok" if resp.status == 200 else "failed"] += 1
            except Exception:
                counts["failed"] += 1
            time.sleep(0.1)

    worker = threading.Thread(target=loop)
    worker.start()
    try:
        seconds, _changes = stack.up()
    finally:
        done.set()
        worker.join()
    after = hashlib.sha256(_served_certificate(port)).hexdigest()
    new_rcs = {r["metadata"]["name"] for r in kube_json(stack.env, "get", "rc", "-n", NAMESPACE)["items"]}
    TIMINGS.update(rollout_seconds=round(seconds, 1), requests_ok=counts["ok"], requests_failed=counts["failed"])
    assert after != before and after == hashlib.sha256(pem_certificates(_generated_pem(stack))[0]).hexdigest()
    assert new_rcs and not new_rcs & old_rcs, (old_rcs, new_rcs)  # a new generation of members
    assert counts["ok"] > 0 and counts["failed"] == 0, counts
