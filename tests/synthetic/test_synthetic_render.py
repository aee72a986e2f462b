"""The server reads what the renderer writes: the shipped-shape pack's conf files rendered as text (HostName
inserted after its commented-out form, carbon.xml still ISO-8859-1), the secret tokens replaced as the image's
entrypoint does, then the synthetic server started on them."""

from __future__ import annotations

from pathlib import Path

import pytest
from synthetic_helpers import HOST_KEYSTORES, get_json, http_get, on_host

from tests.unit.helpers import stack_settings
from wso2k8s.pack.render import render_conf, secret_token
from wso2k8s.synthetic.pack import STOCK_KEYSTORE_PASSWORD
from wso2k8s.synthetic.runner import ports_for

pytestmark = pytest.mark.engine


def test_the_server_starts_on_rendered_files(carbon_home: Path, offset: int, servers) -> None:
    settings = stack_settings(hostname="is.example.test", clustering={"enabled": False}, **HOST_KEYSTORES).profiles[0]
    for item in render_conf(settings, carbon_home):
        content = item.content.replace(secret_token("keystore_password").encode(), STOCK_KEYSTORE_PASSWORD.encode())
        content = content.replace(secret_token("admin_password").encode(), b"admin")
        (carbon_home / item.path).write_bytes(on_host(content))
    carbon = (carbon_home / "repository/conf/carbon.xml").read_bytes()
    assert carbon.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert b"<!--HostName>www.wso2.org</HostName-->\n    <HostName>is.example.test</HostName>" in carbon

    ports = ports_for(offset)
    server = servers(carbon_home, args=[f"-DportOffset={offset}"])
    assert f"Mgt Console URL  : https://is.example.test:{ports['https']}/carbon/" in server.output()
    assert get_json(f"http://127.0.0.1:{ports['http']}/health")["status"] == "UP"
    status, _, body = http_get(f"https://127.0.0.1:{ports['https']}/carbon/admin/login.jsp")
    assert status == 200 and "WSO2 Identity Server" in body
    assert get_json(f"http://127.0.0.1:{ports['http']}/cluster/members")["clustering_enabled"] is False
