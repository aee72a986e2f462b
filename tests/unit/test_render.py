"""Rendering the pack's conf files and laying out the build context (pure Python, on the synthetic pack's
conf files, which have the real IS 5.1.0 shapes)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lxml import etree

from tests.unit.helpers import ADMIN_PASSWORD, KEYSTORE_PASSWORD, PROJECT_DIR, stack_settings, synthetic_conf
from wso2k8s.pack.context import write_base_context, write_product_context
from wso2k8s.pack.inspect import inspect_pack
from wso2k8s.pack.render import RenderError, render_conf, secret_token


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    root = synthetic_conf(tmp_path)
    (root / "repository/components/lib").mkdir(parents=True, exist_ok=True)
    return root


def _rendered(pack: Path, **config: object) -> dict[str, etree._Element]:
    settings = stack_settings(**config).profiles[0]
    return {r.path: etree.fromstring(r.content) for r in render_conf(settings, pack) if r.path.endswith(".xml")}


def _text(root: etree._Element, xpath: str) -> list[str]:
    return [str(v) for v in root.xpath(xpath)]


def test_carbon_xml_gets_hostname_offset_and_product_ports(pack: Path) -> None:
    carbon = _rendered(pack, hostname="is.example.com", port_offset=3)["repository/conf/carbon.xml"]
    assert _text(carbon, "//*[local-name()='HostName']/text()") == ["is.example.com"]
    assert _text(carbon, "//*[local-name()='MgtHostName']/text()") == ["is.example.com"]
    assert _text(carbon, "//*[local-name()='Ports']/*[local-name()='Offset']/text()") == ["3"]
    assert _text(carbon, "//*[local-name()='KDCServerPort']/text()") == ["8000"]
    assert _text(carbon, "//*[local-name()='ThriftEntitlementReceivePort']/text()") == ["10500"]
    assert carbon.nsmap[None] == "http://wso2.org/projects/carbon/carbon.xml"  # namespace kept as the default


def test_axis2_clustering_uses_the_kubernetes_membership_scheme(pack: Path) -> None:
    axis2 = _rendered(pack, kubernetes={"namespace": "wso2-dev"})["repository/conf/axis2/axis2.xml"]
    clustering = axis2.xpath("/axisconfig/clustering")
    assert len(clustering) == 1 and clustering[0].get("enable") == "true"
    params = {p.get("name"): p.text for p in clustering[0].findall("parameter")}
    assert params["membershipScheme"] == "kubernetes"
    assert params["membershipSchemeClassName"] == \
        "org.wso2.carbon.membership.scheme.kubernetes.KubernetesMembershipScheme"
    assert params["KUBERNETES_NAMESPACE"] == "wso2-dev"
    assert params["KUBERNETES_SERVICES"] == "wso2is"
    assert params["KUBERNETES_MASTER_SKIP_SSL_VERIFICATION"] == "false"
    assert "KUBERNETES_API_SERVER" not in params  # in-cluster API by default
    assert params["localMemberPort"] == "4000"


def test_membership_services_default_to_the_profiles_own_service_plus_extras(pack: Path) -> None:
    def services(**config: object) -> str | None:
        axis2 = _rendered(pack, **config)["repository/conf/axis2/axis2.xml"]
        return {p.get("name"): p.text for p in axis2.xpath("/axisconfig/clustering/parameter")}["KUBERNETES_SERVICES"]

    assert services(name="idp") == "idp"  # renamed profile: its own Service, never typed twice
    assert services(name="idp", clustering={"kubernetes": {"extra_services": ["idp-worker", "idp"]}}) == \
        "idp,idp-worker"
    assert services(name="idp", clustering={"kubernetes": {"mode": "dns", "extra_services": ["idp-worker"]}}) == \
        "idp-headless,idp-worker-headless"


def test_axis2_keeps_everything_else_of_the_pack(pack: Path) -> None:
    original = etree.parse(str(pack / "repository/conf/axis2/axis2.xml")).getroot()
    axis2 = _rendered(pack)["repository/conf/axis2/axis2.xml"]
    assert [c.tag for c in original if c.tag != "clustering"] == [c.tag for c in axis2 if c.tag != "clustering"]
    outside = "//comment()[not(ancestor::clustering)]"
    assert len(axis2.xpath(outside)) == len(original.xpath(outside)) > 10  # the pack's comments survive


def test_clustering_off_and_an_api_server(pack: Path) -> None:
    axis2 = _rendered(pack, clustering={"enabled": False})["repository/conf/axis2/axis2.xml"]
    assert axis2.xpath("/axisconfig/clustering/@enable") == ["false"]
    axis2 = _rendered(pack, clustering={"kubernetes": {"api_server": "https://10.0.0.1:443",
                                                       "skip_ssl_verification": True}})[
        "repository/conf/axis2/axis2.xml"]
    params = {p.get("name"): p.text for p in axis2.xpath("/axisconfig/clustering/parameter")}
    assert params["KUBERNETES_API_SERVER"] == "https://10.0.0.1:443"
    assert params["KUBERNETES_MASTER_SKIP_SSL_VERIFICATION"] == "true"


def test_tomcat_connectors_get_ports_and_the_node_ports_as_proxy_ports(pack: Path) -> None:
    catalina = _rendered(pack)["repository/conf/tomcat/catalina-server.xml"]
    http = catalina.xpath("//Connector[not(@scheme='https')]")[0]
    https = catalina.xpath("//Connector[@scheme='https']")[0]
    assert (http.get("port"), http.get("proxyPort")) == ("9763", "32001")
    assert (https.get("port"), https.get("proxyPort")) == ("9443", "32002")
    assert https.get("keystorePass") == secret_token("keystore_password")


def test_passwords_are_tokens_never_values(pack: Path) -> None:
    rendered = render_conf(stack_settings().profiles[0], pack)
    for item in rendered:
        assert KEYSTORE_PASSWORD.encode() not in item.content and ADMIN_PASSWORD.encode() not in item.content
    by_path = {r.path: r for r in rendered}
    assert by_path["repository/conf/user-mgt.xml"].holds_secrets
    assert secret_token("admin_password").encode() in by_path["repository/conf/user-mgt.xml"].content
    carbon = etree.fromstring(by_path["repository/conf/carbon.xml"].content)
    assert set(_text(carbon, "//*[local-name()='Security']//*[local-name()='Password' or "
                             "local-name()='KeyPassword']/text()")) == {secret_token("keystore_password")}
    assert not by_path["repository/conf/axis2/axis2.xml"].holds_secrets
    identity = etree.fromstring(by_path["repository/conf/identity/identity.xml"].content)
    assert _text(identity, "//*[local-name()='ThirftBasedEntitlementConfig']/*[local-name()='KeyStore']/"
                           "*[local-name()='Password']/text()") == [secret_token("keystore_password")]


def test_a_pack_without_the_element_is_refused_clearly(pack: Path) -> None:
    carbon = pack / "repository/conf/carbon.xml"
    carbon.write_text(carbon.read_text().replace("<Offset>0</Offset>", ""))
    with pytest.raises(RenderError, match=r"carbon.xml: expected one <Server/Ports/Offset>, found 0"):
        render_conf(stack_settings().profiles[0], pack)


def test_build_context_layout_and_dockerfile_layers(pack: Path, tmp_path: Path) -> None:
    settings = stack_settings().profiles[0]
    files = tmp_path / "files"
    for jar in settings.file_list:
        (files / jar).parent.mkdir(parents=True, exist_ok=True)
        shutil.make_archive(str(files / jar).removesuffix(".jar"), "zip", pack / "bin")
        Path(str(files / jar).removesuffix(".jar") + ".zip").rename(files / jar)
    settings = settings.model_copy(update={"files_dir": str(files)})
    info = inspect_pack(pack)
    out = write_product_context(settings, info, tmp_path / "ctx", PROJECT_DIR)
    assert (out / "pack/wso2is-5.1.0/bin/wso2server.sh").stat().st_mode & 0o111
    assert sorted(p.name for p in (out / "overlay/wso2is-5.1.0/repository/components/lib").iterdir()) == sorted(
        Path(j).name for j in settings.file_list)
    assert (out / "overlay/wso2is-5.1.0/repository/conf/axis2/axis2.xml").is_file()
    dockerfile = (out / "Dockerfile").read_text()
    pack_copy, overlay_copy = dockerfile.index("COPY --chown=802:802 pack/"), dockerfile.index(
        "COPY --chown=802:802 overlay/")
    assert pack_copy < overlay_copy  # the big layer first, the thin one after
    assert "USER 802" in dockerfile and "FROM ${BASE_IMAGE}" in dockerfile
    entrypoint = (out / "docker-entrypoint.sh").read_text()
    assert "repository/conf/user-mgt.xml" in entrypoint and "repository/conf/axis2/axis2.xml" not in entrypoint
    assert not (out / "pack" / ".pack-sha256").exists()  # markers stay out of the image

    # a second write with the same pack does not unpack again
    marker_time = (out / "pack.sha256").stat().st_mtime_ns
    write_product_context(settings, info, tmp_path / "ctx", PROJECT_DIR)
    assert (out / "pack.sha256").stat().st_mtime_ns == marker_time


def test_base_context_uses_jlink_with_the_configured_modules(tmp_path: Path) -> None:
    settings = stack_settings().profiles[0]
    out = write_base_context(settings, tmp_path / "base", PROJECT_DIR)
    dockerfile = (out / "Dockerfile").read_text()
    assert "jlink --add-modules java.base," in dockerfile and "jdk.httpserver" in dockerfile
    assert "--uid 802" in dockerfile and "USER 802" in dockerfile
    assert "FROM local/debian:bookworm AS runtime" in dockerfile
