"""The synthetic pack's layout and file shapes (no server started here)."""

from __future__ import annotations

import shutil
import stat
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from wso2k8s.products import PRODUCTS
from wso2k8s.synthetic import pack
from wso2k8s.synthetic.pack import (
    KERNEL_TEMPLATE,
    PACK_DIR_NAME,
    SERVER_JAR_NAME,
    SERVER_MAIN_CLASS,
    TEMPLATE_DIR,
    extract_pack,
    make_jar,
    make_pack,
    template_files,
)

pytestmark = pytest.mark.engine

NS = {"c": "http://wso2.org/projects/carbon/carbon.xml"}

FILES = [
    "bin/wso2server.sh",
    "bin/version.txt",
    "bin/wso2carbon-version.txt",
    "LICENSE.txt",
    "README.txt",
    "release-notes.html",
    f"lib/{SERVER_JAR_NAME}",
    "repository/conf/carbon.xml",
    "repository/conf/axis2/axis2.xml",
    "repository/conf/tomcat/catalina-server.xml",
    "repository/conf/embedded-ldap.xml",
    "repository/conf/identity/identity.xml",
    "repository/conf/user-mgt.xml",
    "repository/conf/datasources/master-datasources.xml",
    "repository/conf/log4j.properties",
    "repository/resources/security/wso2carbon.jks",
    "repository/resources/security/client-truststore.jks",
    "repository/resources/security/userRP.jks",
    "dbscripts/h2.sql",
    "dbscripts/mysql.sql",
    "dbscripts/oracle_rac.sql",
    "dbscripts/identity/h2.sql",
    "dbscripts/identity/postgresql.sql",
]
DIRS = ["repository/components/lib", "repository/components/dropins", "repository/components/plugins",
        "repository/logs"]


def test_zip_layout(pack_zip: Path) -> None:
    assert pack_zip.name == "wso2is-5.1.0.zip"
    with zipfile.ZipFile(pack_zip) as zf:
        names = set(zf.namelist())
        assert {n.split("/", 1)[0] for n in names} == {PACK_DIR_NAME}
        for f in FILES:
            assert f"{PACK_DIR_NAME}/{f}" in names, f
        for d in DIRS:
            assert f"{PACK_DIR_NAME}/{d}/" in names, d
        plugins = [n for n in names if n.startswith(f"{PACK_DIR_NAME}/repository/components/plugins/")
                   and n.endswith(".jar")]
        assert len(plugins) >= 3
        script = zf.getinfo(f"{PACK_DIR_NAME}/bin/wso2server.sh")
        assert (script.external_attr >> 16) & 0o777 == 0o755
        assert zf.read(f"{PACK_DIR_NAME}/bin/version.txt").decode().strip() == "WSO2 Identity Server v5.1.0"
        jar = zipfile.ZipFile(zf.open(f"{PACK_DIR_NAME}/lib/{SERVER_JAR_NAME}"))
        assert f"Main-Class: {SERVER_MAIN_CLASS}" in jar.read("META-INF/MANIFEST.MF").decode()


def test_extract_keeps_exec_bit(carbon_home: Path) -> None:
    mode = (carbon_home / "bin/wso2server.sh").stat().st_mode
    assert mode & stat.S_IXUSR
    assert (carbon_home / "repository/components/dropins").is_dir()


def test_carbon_xml_shape(carbon_home: Path) -> None:
    root = ET.parse(carbon_home / "repository/conf/carbon.xml").getroot()
    assert root.tag == "{http://wso2.org/projects/carbon/carbon.xml}Server"

    def text(path: str) -> str:
        el = root.find(path, NS)
        assert el is not None, path
        return (el.text or "").strip()

    assert text("c:Name") == "WSO2 Identity Server"
    assert text("c:ServerKey") == "IS"
    assert text("c:Version") == "5.1.0"
    # As shipped: both commented out (the renderer inserts them), so the server falls back to its own.
    assert root.find("c:HostName", NS) is None and root.find("c:MgtHostName", NS) is None
    raw = (carbon_home / "repository/conf/carbon.xml").read_bytes()
    assert raw.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert b"<!--HostName>www.wso2.org</HostName-->" in raw
    assert text("c:Ports/c:Offset") == "0"
    assert text("c:Ports/c:EmbeddedLDAP/c:KDCServerPort") == "8000"
    assert text("c:Ports/c:ThriftEntitlementReceivePort") == "10500"
    assert text("c:Security/c:KeyStore/c:Location") == \
        "${carbon.home}/repository/resources/security/wso2carbon.jks"
    assert text("c:Security/c:KeyStore/c:Type") == "JKS"
    assert text("c:Security/c:KeyStore/c:Password") == "wso2carbon"
    assert text("c:Security/c:KeyStore/c:KeyAlias") == "wso2carbon"
    assert text("c:Security/c:KeyStore/c:KeyPassword") == "wso2carbon"
    assert text("c:Security/c:TrustStore/c:Password") == "wso2carbon"


def test_axis2_clustering_shape(carbon_home: Path) -> None:
    root = ET.parse(carbon_home / "repository/conf/axis2/axis2.xml").getroot()
    assert root.tag == "axisconfig"
    cl = root.find("clustering")
    assert cl is not None
    assert cl.get("class") == "org.wso2.carbon.core.clustering.hazelcast.HazelcastClusteringAgent"
    assert cl.get("enable") == "false"
    params = {p.get("name"): (p.text or "").strip() for p in cl.findall("parameter")}
    assert params["membershipScheme"] == "multicast"
    assert params["domain"] == "wso2.carbon.domain"
    assert params["localMemberPort"] == "4000"
    assert params["AvoidInitiation"] == "true"
    assert cl.find("members/member/port").text == "4000"
    assert cl.find("groupManagement").get("enable") == "false"
    receivers = {t.get("name"): t.find("parameter").text for t in root.findall("transportReceiver")
                 if t.find("parameter") is not None}
    assert receivers == {"http": "9763", "https": "9443"}


def test_catalina_ldap_identity_usermgt_shapes(carbon_home: Path) -> None:
    conf = carbon_home / "repository/conf"
    connectors = ET.parse(conf / "tomcat/catalina-server.xml").getroot().findall("Service/Connector")
    assert [c.get("port") for c in connectors] == ["9763", "9443"]
    http, https = connectors
    assert http.get("redirectPort") == "9443" and "proxyPort" not in http.attrib
    assert https.get("SSLEnabled") == "true" and https.get("scheme") == "https"
    assert "proxyPort" not in https.attrib
    assert https.get("keystoreFile") == "${carbon.home}/repository/resources/security/wso2carbon.jks"
    assert https.get("keystorePass") == "wso2carbon"
    raw = (conf / "tomcat/catalina-server.xml").read_text()
    assert 'proxyPort="80"' in raw and 'proxyPort="443"' in raw  # commented out, as in the real file

    ldap = ET.parse(conf / "embedded-ldap.xml").getroot()
    kdc = {p.get("name"): p.text for p in ldap.findall("KDCServer/Property")}
    assert kdc["port"] == "${Ports.EmbeddedLDAP.KDCServerPort}"  # 8000 via carbon.xml

    ident = ET.parse(conf / "identity/identity.xml").getroot()
    thrift = ident.find("c:EntitlementSettings/c:ThirftBasedEntitlementConfig", NS)
    assert thrift.find("c:ReceivePort", NS).text == "${Ports.ThriftEntitlementReceivePort}"  # 10500

    um = ET.parse(conf / "user-mgt.xml").getroot()
    assert um.find("Realm/Configuration/AdminUser/UserName").text == "admin"
    assert um.find("Realm/Configuration/AdminUser/Password").text == "admin"
    ds = ET.parse(conf / "datasources/master-datasources.xml").getroot()
    assert ds.find("datasources/datasource/jndiConfig/name").text == "jdbc/WSO2CarbonDB"


def test_keystores(carbon_home: Path) -> None:
    sec = carbon_home / "repository/resources/security"
    out = subprocess.run(["keytool", "-list", "-v", "-keystore", str(sec / "wso2carbon.jks"),
                          "-storepass", "wso2carbon"], check=True, capture_output=True, text=True).stdout
    assert "Keystore type: JKS" in out or "Keystore type: jks" in out.lower()
    assert "Alias name: wso2carbon" in out
    assert "PrivateKeyEntry" in out
    assert "CN=localhost" in out
    out = subprocess.run(["keytool", "-list", "-keystore", str(sec / "client-truststore.jks"),
                          "-storepass", "wso2carbon"], check=True, capture_output=True, text=True).stdout
    assert "wso2carbon" in out and "trustedCertEntry" in out
    out = subprocess.run(["keytool", "-list", "-keystore", str(sec / "userRP.jks"),
                          "-storepass", "wso2carbon"], check=True, capture_output=True, text=True).stdout
    assert "wso2carbon" in out and "trustedCertEntry" in out
    ident = ET.parse(carbon_home / "repository/conf/identity/identity.xml").getroot()
    rp = ident.find("c:Security/c:UserTrustedRPStore", NS)
    assert rp.find("c:Location", NS).text == "${carbon.home}/repository/resources/security/userRP.jks"
    assert rp.find("c:Password", NS).text == rp.find("c:KeyPassword", NS).text == "wso2carbon"
    bad = subprocess.run(["keytool", "-list", "-keystore", str(sec / "wso2carbon.jks"), "-storepass", "nottheone"],
                         capture_output=True, text=True)
    assert bad.returncode != 0


def test_zip_is_reproducible(pack_zip: Path, tmp_path: Path) -> None:
    again = make_pack(tmp_path)
    assert again.read_bytes() == pack_zip.read_bytes()


def test_folder_pack_and_password(tmp_path: Path) -> None:
    password = 'p&ss<w>"rd'
    root = make_pack(tmp_path, keystore_password=password, as_zip=False)
    assert root == tmp_path / PACK_DIR_NAME
    for f in FILES:
        assert (root / f).is_file(), f
    for d in DIRS:
        assert (root / d).is_dir(), d
    assert (root / "bin/wso2server.sh").stat().st_mode & stat.S_IXUSR
    carbon = ET.parse(root / "repository/conf/carbon.xml").getroot()
    assert carbon.find("c:Security/c:KeyStore/c:Password", NS).text == password
    assert carbon.find("c:Security/c:KeyStore/c:KeyPassword", NS).text == password
    https = ET.parse(root / "repository/conf/tomcat/catalina-server.xml").getroot().findall("Service/Connector")[1]
    assert https.get("keystorePass") == password
    rp = ET.parse(root / "repository/conf/identity/identity.xml").getroot().find("c:Security/c:UserTrustedRPStore", NS)
    assert rp.find("c:Password", NS).text == password
    ds = ET.parse(root / "repository/conf/datasources/master-datasources.xml").getroot()
    assert ds.find("datasources/datasource/definition/configuration/password").text == "wso2carbon"  # the H2 one
    for store in ("wso2carbon.jks", "client-truststore.jks", "userRP.jks"):
        subprocess.run(["keytool", "-list", "-keystore", str(root / "repository/resources/security" / store),
                        "-storepass", password], check=True, capture_output=True)
    with pytest.raises(FileExistsError):
        make_pack(tmp_path, keystore_password=password, as_zip=False)


def test_zip_and_folder_hold_the_same_files(pack_zip: Path, tmp_path: Path) -> None:
    folder = make_pack(tmp_path / "f", as_zip=False)
    unzipped = extract_pack(pack_zip, tmp_path / "z")

    def listing(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    assert listing(folder) == listing(unzipped)


@pytest.mark.parametrize(("product", "version"), [(m.product, v) for m in PRODUCTS.values() for v in m.versions])
def test_each_products_pack_holds_the_kernel_files_and_its_own(product: str, version: str, tmp_path: Path) -> None:
    """The stock pack's text files are the templates' as written (bar wso2server.sh's @@…@@ names): the Carbon
    kernel's and the product's own."""
    with zipfile.ZipFile(make_pack(tmp_path, product=product, version=version)) as zf:
        packed = {n.split("/", 1)[1]: zf.read(n) for n in zf.namelist() if not n.endswith("/")}
    layers = {KERNEL_TEMPLATE: 0, PRODUCTS[product].synthetic.template: 0}
    for rel, src in template_files(product, version).items():
        layers[src.relative_to(TEMPLATE_DIR).parts[0]] += 1
        assert rel in packed, rel
        if b"@@" not in src.read_bytes():
            assert packed[rel] == src.read_bytes(), rel
    assert all(layers.values()), layers  # files from both
    assert packed["bin/wso2carbon-version.txt"] == b"WSO2 Carbon Framework v4.4.3\n"
    assert b"<Name>" + PRODUCTS[product].display_name.encode() + b"</Name>" in packed["repository/conf/carbon.xml"]


def test_a_product_file_at_a_kernel_path_is_the_one_packed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    templates = tmp_path / "template"
    shutil.copytree(TEMPLATE_DIR, templates)
    own = templates / "wso2is-5.1.0/repository/conf/log4j.properties"
    own.write_text("log4j.rootLogger=INFO, CARBON_CONSOLE\n")
    monkeypatch.setattr(pack, "TEMPLATE_DIR", templates)
    with zipfile.ZipFile(make_pack(tmp_path / "out")) as zf:
        assert zf.read(f"{PACK_DIR_NAME}/repository/conf/log4j.properties") == own.read_bytes()
        assert zf.read(f"{PACK_DIR_NAME}/repository/conf/user-mgt.xml") == \
            (TEMPLATE_DIR / KERNEL_TEMPLATE / "repository/conf/user-mgt.xml").read_bytes()  # the kernel's still


def test_short_password_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 6"):
        make_pack(tmp_path, keystore_password="abc")


def test_make_jar(tmp_path: Path) -> None:
    jar = make_jar(tmp_path / "dropins", name="kubernetes-membership-scheme", version="1.0.0")
    assert jar == tmp_path / "dropins" / "kubernetes-membership-scheme-1.0.0.jar"
    explicit = make_jar(tmp_path / "lib" / "jackson-core-2.5.4.jar", name="jackson-core", version="2.5.4")
    assert explicit.name == "jackson-core-2.5.4.jar"
    for path, name, version in ((jar, "kubernetes-membership-scheme", "1.0.0"),
                                (explicit, "jackson-core", "2.5.4")):
        with zipfile.ZipFile(path) as zf:
            assert zf.testzip() is None
            assert zf.namelist()[0] == "META-INF/MANIFEST.MF"
            manifest = zf.read("META-INF/MANIFEST.MF").decode()
        fields = dict(line.split(": ", 1) for line in manifest.strip().splitlines())
        assert fields["Manifest-Version"] == "1.0"
        assert fields["Bundle-SymbolicName"] == name
        assert fields["Bundle-Version"] == version
    # The JDK's jar tool reads it too.
    listing = subprocess.run(["jar", "tf", str(jar)], check=True, capture_output=True, text=True).stdout
    assert "META-INF/MANIFEST.MF" in listing
    assert make_jar(tmp_path / "again", name="kubernetes-membership-scheme", version="1.0.0").read_bytes() == \
        jar.read_bytes()
