"""The synthetic server started through bin/wso2server.sh, as a container would start it."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from synthetic_helpers import (
    get_json,
    http_get,
    keystore_cert_der,
    port_open,
    served_cert_der,
    set_carbon_keystore_password,
    set_connector_keystore_pass,
    set_offset,
    tcp_banner,
)

from wso2k8s.synthetic.pack import PACK_DIR_NAME, make_pack
from wso2k8s.synthetic.runner import ports_for

pytestmark = pytest.mark.engine


def test_serves_all_ports_and_shuts_down(carbon_home: Path, offset: int, servers) -> None:
    set_offset(carbon_home, offset)
    ports = ports_for(offset)
    server = servers(carbon_home)
    out = server.output()
    # HostName and MgtHostName are commented out, as shipped: the console is announced on the node's address.
    self_ip = get_json(f"http://127.0.0.1:{ports['http']}/cluster/members")["self"]
    assert self_ip and f"Mgt Console URL  : https://{self_ip}:{ports['https']}/carbon/" in out
    assert re.search(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\]  INFO \{org\.wso2\.carbon\.core\.internal\."
                     r"StartupFinalizerServiceComponent\} -  WSO2 Carbon started in \d+ sec$", out, re.M)

    health = get_json(f"http://127.0.0.1:{ports['http']}/health")
    assert health == {"status": "UP", "listeners": ports}
    for scheme in ("http", "https"):
        base = f"{scheme}://127.0.0.1:{ports[scheme]}"
        for path in ("/carbon/", "/carbon/admin/login.jsp"):
            status, headers, body = http_get(base + path)
            assert status == 200, (base, path)
            assert "<title>WSO2 Identity Server</title>" in body
            assert headers["Content-Type"].startswith("text/html")
        assert http_get(base + "/no/such/page")[0] == 404
        status, headers, _ = http_get(base + "/")
        assert status == 302 and headers["Location"] == "/carbon/"
        assert get_json(base + "/health")["status"] == "UP"

    members = get_json(f"https://127.0.0.1:{ports['https']}/cluster/members")
    assert members["scheme"] == "none"
    assert members["members"] == [members["self"]]
    assert members["last_error"] is None

    # HTTPS is served with the key pair of the pack's keystore.
    keystore = carbon_home / "repository/resources/security/wso2carbon.jks"
    assert served_cert_der(ports["https"]) == keystore_cert_der(keystore, "wso2carbon")

    assert "KDC" in tcp_banner(ports["kdc"])
    assert "Thrift" in tcp_banner(ports["thrift"])

    log_file = (carbon_home / "repository/logs/wso2carbon.log").read_text()
    assert "WSO2 Carbon started in" in log_file
    assert (carbon_home / "wso2carbon.pid").read_text().strip() == str(server.proc.pid)

    code = server.stop()
    assert code == 143  # the JVM itself got SIGTERM (the script execs it)
    assert "Shutdown complete" in server.output()
    assert not any(port_open(p) for p in ports.values())


def test_custom_password_folder_pack_and_offset_argument(tmp_path: Path, offset: int, servers) -> None:
    """A folder pack with its own keystore password; the offset comes as a -DportOffset argument
    (Carbon's Bootstrap turns -Dkey=value arguments into system properties)."""
    home = make_pack(tmp_path, keystore_password="0ther-Secret", as_zip=False)
    assert home.name == PACK_DIR_NAME
    ports = ports_for(offset)
    servers(home, args=[f"-DportOffset={offset}"])
    status, _, body = http_get(f"https://127.0.0.1:{ports['https']}/carbon/admin/login.jsp")
    assert status == 200 and "WSO2 Identity Server" in body
    keystore = home / "repository/resources/security/wso2carbon.jks"
    assert served_cert_der(ports["https"]) == keystore_cert_der(keystore, "0ther-Secret")


def test_wrong_keystore_password_fails_startup(carbon_home: Path, offset: int, servers) -> None:
    set_offset(carbon_home, offset)
    set_carbon_keystore_password(carbon_home, "not-the-password")
    server = servers(carbon_home, wait=False)
    assert server.wait_exit(60) == 1
    out = server.output()
    assert re.search(r"ERROR \{org\.wso2\.carbon\.core\.init\.CarbonServerManager\} -  Cannot load keystore "
                     r".*wso2carbon\.jks \(JKS\): keystore password was incorrect .*carbon\.xml "
                     r"Server/Security/KeyStore", out), out
    assert "Cannot start WSO2 Carbon" in out
    assert "WSO2 Carbon started" not in out
    assert not any(port_open(p) for p in ports_for(offset).values())


def test_wrong_connector_keystore_password_fails_startup(carbon_home: Path, offset: int, servers) -> None:
    set_offset(carbon_home, offset)
    set_connector_keystore_pass(carbon_home, "not-the-password")
    server = servers(carbon_home, wait=False)
    assert server.wait_exit(60) == 1
    out = server.output()
    assert "keystore password was incorrect" in out
    assert "catalina-server.xml https Connector" in out


def test_port_in_use_fails_startup(carbon_home: Path, offset: int, servers) -> None:
    set_offset(carbon_home, offset)
    https = ports_for(offset)["https"]
    with socket.socket() as blocker:
        blocker.bind(("0.0.0.0", https))
        blocker.listen()
        server = servers(carbon_home, wait=False)
        assert server.wait_exit(60) == 1
    out = server.output()
    assert f"Cannot bind the HTTPS port {https}" in out
    assert not port_open(ports_for(offset)["http"])  # what had started was closed again


def test_bad_config_value_is_reported(carbon_home: Path, offset: int, servers) -> None:
    set_offset(carbon_home, offset)
    identity = carbon_home / "repository/conf/identity/identity.xml"
    identity.write_text(identity.read_text().replace("${Ports.ThriftEntitlementReceivePort}", "ten-five-hundred"))
    server = servers(carbon_home, wait=False)
    assert server.wait_exit(60) == 1
    assert ("repository/conf/identity/identity.xml: Server/EntitlementSettings/ThirftBasedEntitlementConfig/"
            "ReceivePort is 'ten-five-hundred', not a number") in server.output()
