"""The images on the real Docker engine: built from the contexts the program writes, run, and inspected."""

from __future__ import annotations

import io
import json
import secrets
import socket
import ssl
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.console import INDEX, LOGIN, log_in, request
from tests.engine.conftest import PROJECT_DIR, docker, http_get
from wso2k8s.keys.certificates import KeyPair, pem_certificates, private_key_der, self_signed
from wso2k8s.keys.stores import KEYSTORES_DIR, TRUSTSTORE_FILE
from wso2k8s.pack.keystore import jks_bytes
from wso2k8s.prepare import PreparedStack, prepare
from wso2k8s.settings import load_stack_settings

RUN = secrets.token_hex(4)
ADMIN_PASSWORD = f"Adm1n-{RUN}-engine pä$$ wörd ✓\t<&>\"' \\1 / & | @@ 0042"  # byte for byte through the image
ADMIN_HEAD = f"Adm1n-{RUN}-engine"  # ASCII: found even where the rest is XML-escaped
KEYSTORE_PASSWORD = "wso2carbon"  # the stock keystores open with it (the loader checks): nothing to hunt for
NAMESPACE = "wso2-images"


@dataclass(frozen=True)
class Built:
    prepared: PreparedStack
    base: str
    product: str
    container: str
    ports: dict[int, int]  # container port → host port on 127.0.0.1
    key_pair: KeyPair  # in the keystore mounted as the stack's keystores Secret is


def _keystores(directory: Path, pair: KeyPair) -> None:
    """What components/keystores.py puts in the Secret in generate mode: the key pair, and a truststore with
    the server's own certificate, both opened by keystore_password."""
    directory.mkdir()
    own = pem_certificates(pair.certificate_pem)[0]
    stores = {"wso2carbon.jks": jks_bytes(KEYSTORE_PASSWORD, private_key=("wso2carbon",
                                                                           private_key_der(pair.private_key_pem),
                                                                           [own])),
              TRUSTSTORE_FILE: jks_bytes(KEYSTORE_PASSWORD, trusted=[("wso2carbon-self", own)])}
    for name, data in stores.items():
        (directory / name).write_bytes(data)
        (directory / name).chmod(0o444)


def _host_port(container: str, port: int) -> int:
    out = docker("port", container, f"{port}/tcp").stdout.strip().splitlines()[0]
    return int(out.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def built(docker_engine: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    tmp = tmp_path_factory.mktemp("images")
    stack = load_stack_settings(
        PROJECT_DIR, "images",
        {"product": "wso2is", "version": "5.1.0", "kubernetes": {"namespace": NAMESPACE},
         "workload": {"java_opts": "-Xmx128m"}, "admin_password": ADMIN_PASSWORD,
         "keystore_password": KEYSTORE_PASSWORD},
        {"admin_password", "keystore_password"})
    prepared = prepare(stack, PROJECT_DIR, tmp / "build")
    base, product = f"wso2k8s-test/k8s-base:{RUN}", f"wso2k8s-test/is-5.1.0:{RUN}"
    docker("build", "-q", "-t", base, str(prepared.base_context), capture=False)
    docker("build", "-q", "--build-arg", f"BASE_IMAGE={base}", "-t", product,
           str(prepared.profiles[0].product_context), capture=False)
    secrets_dir = tmp / "secrets"
    secrets_dir.mkdir()
    for name, value in (("admin_password", ADMIN_PASSWORD), ("keystore_password", KEYSTORE_PASSWORD)):
        (secrets_dir / name).write_text(value)
        (secrets_dir / name).chmod(0o444)
    pair = self_signed("localhost", ["localhost", "127.0.0.1"])
    _keystores(tmp / "keystores", pair)
    container = f"wso2k8s-test-{RUN}"
    ports = [9763, 9443, 8000, 10500]
    publish = [arg for p in ports for arg in ("-p", f"127.0.0.1::{p}")]
    docker("run", "-d", "--name", container, "-v", f"{secrets_dir}:/run/secrets/wso2carbon:ro",
           "-v", f"{tmp / 'keystores'}:{KEYSTORES_DIR}:ro", *publish, product)
    try:
        yield Built(prepared, base, product, container, {p: _host_port(container, p) for p in ports}, pair)
    finally:
        docker("rm", "-f", container, check=False)
        docker("rmi", "-f", product, base, check=False)


def test_console_answers_on_https_and_http(built: Built) -> None:
    status, body = http_get(f"https://127.0.0.1:{built.ports[9443]}/carbon/", wait=60)
    assert status == 200 and "WSO2 Identity Server" in body
    status, _ = http_get(f"http://127.0.0.1:{built.ports[9763]}/carbon/", wait=60)
    assert status == 200


def test_kdc_and_thrift_ports_accept_connections(built: Built) -> None:
    http_get(f"https://127.0.0.1:{built.ports[9443]}/carbon/", wait=60)  # the server is up
    for port in (8000, 10500):
        with socket.create_connection(("127.0.0.1", built.ports[port]), timeout=5) as conn:
            assert conn.recv(64), f"no banner on {port}"


def test_https_uses_the_keystore_opened_with_the_secret(built: Built) -> None:
    """The mounted keystore, not the pack's wso2carbon.jks: the certificate served is the stack's own."""
    http_get(f"https://127.0.0.1:{built.ports[9443]}/carbon/", wait=60)
    pem = ssl.get_server_certificate(("127.0.0.1", built.ports[9443]))
    assert pem_certificates(pem) == pem_certificates(built.key_pair.certificate_pem)
    log = docker("logs", built.container).stdout + docker("logs", built.container).stderr
    assert "secrets applied to" in log
    assert ADMIN_HEAD not in log


def test_the_mounted_admin_password_signs_in_to_the_console(built: Built) -> None:
    """The image's own bash runs the entrypoint: the secret reaches user-mgt.xml intact and signs in."""
    base = f"https://127.0.0.1:{built.ports[9443]}"
    http_get(base + "/carbon/", wait=60)
    answer = log_in(base, "admin", ADMIN_PASSWORD)
    assert (answer.status, answer.location) == (302, INDEX + "?loginStatus=true") and answer.session
    assert request(base + INDEX, cookie=answer.session).status == 200
    assert log_in(base, "admin", ADMIN_PASSWORD.replace("\t", " ")).location == LOGIN + "?loginStatus=false"


def test_rendered_axis2_has_the_kubernetes_membership_scheme(built: Built) -> None:
    home = "/home/wso2carbon/wso2is-5.1.0"
    axis2 = docker("exec", built.container, "cat", f"{home}/repository/conf/axis2/axis2.xml").stdout
    assert '<clustering class="org.wso2.carbon.core.clustering.hazelcast.HazelcastClusteringAgent" enable="true">' \
        in axis2
    assert "org.wso2.carbon.membership.scheme.kubernetes.KubernetesMembershipScheme" in axis2
    assert f'<parameter name="KUBERNETES_NAMESPACE">{NAMESPACE}</parameter>' in axis2
    assert '<parameter name="KUBERNETES_SERVICES">wso2is</parameter>' in axis2


def test_file_list_jars_are_in_lib(built: Built) -> None:
    lib = docker("exec", built.container, "ls", "/home/wso2carbon/wso2is-5.1.0/repository/components/lib").stdout
    for jar in built.prepared.profiles[0].settings.file_list:
        assert Path(jar).name in lib.split()


def test_server_runs_as_non_root(built: Built) -> None:
    assert docker("exec", built.container, "id", "-u").stdout.strip() == "802"
    config = json.loads(docker("image", "inspect", built.product).stdout)[0]["Config"]
    assert config["User"] == "802"
    status = docker("exec", built.container, "cat", "/proc/1/status").stdout
    uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    assert uid_line.split()[1:] == ["802"] * 4


def test_no_password_in_any_image_layer(built: Built, tmp_path: Path) -> None:
    archive = tmp_path / "image.tar"
    docker("save", "-o", str(archive), built.product, built.base)
    found: list[str] = []
    with tarfile.open(archive) as outer:
        for member in outer.getmembers():
            if not member.isfile():
                continue
            data = outer.extractfile(member)
            assert data is not None
            blob = data.read()
            if member.name.endswith((".tar", "layer.tar")):
                with tarfile.open(fileobj=io.BytesIO(blob)) as layer:
                    for entry in layer.getmembers():
                        f = layer.extractfile(entry) if entry.isfile() else None
                        content = f.read() if f else b""
                        for secret in (ADMIN_PASSWORD, ADMIN_HEAD):
                            if secret.encode() in content:
                                found.append(f"{member.name}:{entry.name}")
            for secret in (ADMIN_PASSWORD, ADMIN_HEAD):
                if secret.encode() in blob:
                    found.append(member.name)
    assert found == []
    # ...and the grep can find what is there: the rendered token is in the overlay layer.
    assert b"@@wso2k8s:keystore_password@@" in archive.read_bytes()


def test_pack_and_overlay_are_separate_layers(built: Built) -> None:
    history = docker("history", "--no-trunc", "--format", "{{.Size}}\t{{.CreatedBy}}", built.product).stdout
    copies = [line for line in history.splitlines() if "COPY" in line or "copy" in line]
    assert any("pack/" in line for line in copies) and any("overlay/" in line for line in copies), history
