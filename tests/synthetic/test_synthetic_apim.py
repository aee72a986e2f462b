"""The synthetic API Manager 1.10.0 pack: the product's name and ports, and a gateway worker that reads the
rendered api-manager.xml and reaches its key manager there (the Service names are proven on the cluster by
tests/engine/test_products.py; here the worker's file points at the key manager on loopback)."""

from __future__ import annotations

from pathlib import Path

import pytest
from synthetic_helpers import HOST_KEYSTORES, get_json, http_get, on_host

from tests.unit.helpers import stack_settings
from wso2k8s.pack.inspect import inspect_pack
from wso2k8s.pack.render import render_conf, secret_token
from wso2k8s.synthetic.pack import STOCK_KEYSTORE_PASSWORD, extract_pack, make_pack
from wso2k8s.synthetic.runner import pick_free_offset, ports_for

pytestmark = pytest.mark.engine
PROFILES = ["api-key-manager", "api-publisher", "api-store", "gateway-manager", "gateway-worker"]


@pytest.fixture(scope="module")
def apim_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pack(tmp_path_factory.mktemp("apim"), product="wso2am", version="1.10.0")


def _configured(zip_path: Path, where: Path, profile: str) -> Path:
    home = extract_pack(zip_path, where)
    settings = next(s for s in stack_settings(product="wso2am", version="1.10.0", profiles=PROFILES,
                                              clustering={"enabled": False},
                                              **HOST_KEYSTORES).profiles
                    if s.profile == profile)
    for item in render_conf(settings, home):
        content = item.content.replace(secret_token("keystore_password").encode(), STOCK_KEYSTORE_PASSWORD.encode())
        (home / item.path).write_bytes(on_host(content.replace(secret_token("admin_password").encode(), b"admin")))
    return home


def test_the_pack_is_api_manager_1_10_0_with_its_own_files(apim_zip: Path) -> None:
    info = inspect_pack(apim_zip)
    assert (info.root, info.name, info.version) == ("wso2am-1.10.0", "WSO2 API Manager", "1.10.0")
    home = extract_pack(apim_zip, apim_zip.parent / "look")
    assert (home / "repository/conf/api-manager.xml").is_file()
    assert (home / "dbscripts/apimgt/mysql.sql").is_file()
    plugins = [p.name for p in (home / "repository/components/plugins").iterdir()]
    assert any(name.startswith("org.wso2.carbon.apimgt.gateway_") for name in plugins)


def test_the_gateway_worker_reaches_its_key_manager_where_api_manager_xml_says(apim_zip: Path, tmp_path: Path,
                                                                             servers) -> None:
    km_home = _configured(apim_zip, tmp_path / "km", "api-key-manager")
    km_offset = pick_free_offset()
    km = ports_for(km_offset)
    servers(km_home, args=[f"-DportOffset={km_offset}"])

    worker_home = _configured(apim_zip, tmp_path / "worker", "gateway-worker")
    apim_xml = worker_home / "repository/conf/api-manager.xml"
    rendered = apim_xml.read_text()
    assert "<ServerURL>https://wso2am-api-key-manager:9443/services/</ServerURL>" in rendered
    # no cluster DNS here: the same file, with the key manager's Service name swapped for loopback
    apim_xml.write_text(rendered.replace("wso2am-api-key-manager:9443", f"127.0.0.1:{km['https']}"))
    worker_offset = pick_free_offset()
    worker = ports_for(worker_offset)
    server = servers(worker_home, args=[f"-DportOffset={worker_offset}"])
    assert f"Pass-through HTTP Listener started on 0:0:0:0:0:0:0:0:{8280 + worker_offset}" in server.output()

    probe = get_json(f"http://127.0.0.1:{worker['http']}/wso2k8s/apim")
    assert probe["key_validator"]["url"] == f"https://127.0.0.1:{km['https']}/services/"
    assert probe["key_validator"]["status"] == 200
    assert probe["key_validator"]["server"] == "WSO2 API Manager 1.10.0"
    status, headers, _ = http_get(f"http://127.0.0.1:{8280 + worker_offset}/")
    assert headers["X-Carbon-Product"] == "WSO2 API Manager 1.10.0"
    status, _, body = http_get(f"https://127.0.0.1:{worker['https']}/carbon/admin/login.jsp")
    assert status == 200 and "WSO2 API Manager" in body
