"""The shared database: bad settings refused before any resource (key + layer + fix), master-datasources.xml
rendered with the smallest change, the driver jar fetched and checked, and the graph (embedded server, schema
Job, members after it; an external server gets only the Secret) with Pulumi mocks."""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pulumi
import pytest
from lxml import etree
from pulumi.runtime import rpc

from tests.unit.helpers import stack_settings, synthetic_conf
from tests.unit.test_graph import Mocks
from tests.unit.test_render_text import CONF, _diff
from wso2k8s.pack import jdbc
from wso2k8s.pack.database_context import write_database_context
from wso2k8s.pack.inspect import PackInfo
from wso2k8s.pack.render import render_conf, secret_names, secret_token
from wso2k8s.prepare import PreparedProfile, PreparedStack

ON = {"enabled": True}
DATASOURCES = f"{CONF}/datasources/master-datasources.xml"



# --------------------------------------------------------------------------- rendering


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    return synthetic_conf(tmp_path)


def _settings(**database: Any) -> Any:
    return stack_settings(database={**ON, **database}, database_password="unit-db-Pa55").profiles[0]


def test_master_datasources_changes_only_the_carbon_db_lines_it_owns(pack: Path) -> None:
    original = (pack / DATASOURCES).read_bytes()
    rendered = {r.path: r for r in render_conf(_settings(), pack)}[DATASOURCES]
    assert rendered.holds_secrets
    removed, added = _diff(original, rendered.content, "utf-8")
    # url, username (same as shipped, so unchanged), password, driverClassName; the pool options are the
    # pack's own defaults, so their lines stay as shipped; WSO2_METRICS_DB is untouched.
    assert added == ["                    <url>jdbc:postgresql://wso2is-db:5432/wso2carbon_db</url>",
                     f"                    <password>{secret_token('database_password')}</password>",
                     "                    <driverClassName>org.postgresql.Driver</driverClassName>"]
    assert len(removed) == 3 and all("WSO2CARBON_DB" in r or "wso2carbon" in r or "h2" in r for r in removed)
    assert rendered.content.count(b"jdbc:h2:repository/database/WSO2METRICS_DB") == 1


def test_pool_options_and_an_external_mysql_server_are_rendered(pack: Path) -> None:
    s = _settings(type="mysql", external=True, host="db.example.com", pool={"max_active": 80,
                                                                           "validation_query": "SELECT 2"})
    content = {r.path: r for r in render_conf(s, pack)}[DATASOURCES].content.decode()
    assert ("<url>jdbc:mysql://db.example.com:3306/wso2carbon_db?useSSL=false&amp;allowPublicKeyRetrieval=true"
            "</url>") in content
    assert "<driverClassName>com.mysql.cj.jdbc.Driver</driverClassName>" in content
    assert "<maxActive>80</maxActive>" in content and "<validationQuery>SELECT 2</validationQuery>" in content


def test_without_a_database_the_pack_keeps_its_h2_and_no_password_is_expected(pack: Path) -> None:
    s = stack_settings().profiles[0]
    rendered = {r.path: r for r in render_conf(s, pack)}[DATASOURCES]
    assert rendered.content == (pack / DATASOURCES).read_bytes() and not rendered.holds_secrets
    assert "database_password" not in secret_names(s)
    assert "database_password" in secret_names(_settings())


# --------------------------------------------------------------------------- the driver jar


def _fake_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    jar = tmp_path / "repo/org/example/driver/1.0/driver-1.0.jar"
    jar.parent.mkdir(parents=True)
    with zipfile.ZipFile(jar, "w") as zf:
        zf.writestr("org/example/Driver.class", b"\xca\xfe\xba\xbe")
    monkeypatch.setattr(jdbc, "MAVEN_CENTRAL", (tmp_path / "repo").as_uri())
    monkeypatch.setenv("WSO2K8S_CACHE", str(tmp_path / "cache"))
    return hashlib.sha256(jar.read_bytes()).hexdigest(), jar


def test_a_maven_driver_is_fetched_once_checked_and_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sha, source = _fake_repository(tmp_path, monkeypatch)
    jar = jdbc.DriverJar("database.driver", "org.example:driver:1.0", None, sha)
    first = jdbc.resolve(jar, tmp_path)
    assert first == tmp_path / "cache/maven/org/example/driver/1.0/driver-1.0.jar"
    source.unlink()  # the second resolve never asks the repository again
    assert jdbc.resolve(jar, tmp_path).read_bytes() == first.read_bytes()


def test_a_maven_driver_with_another_checksum_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_repository(tmp_path, monkeypatch)
    with pytest.raises(jdbc.DriverError) as raised:
        jdbc.resolve(jdbc.DriverJar("database.driver", "org.example:driver:1.0", None, "1" * 64), tmp_path)
    assert "another sha256" in raised.value.message and "database.driver.sha256" in raised.value.fix
    assert not (tmp_path / "cache/maven/org/example/driver/1.0/driver-1.0.jar").exists()


def test_the_pinned_drivers_are_java_8_lines() -> None:
    assert jdbc.DRIVERS["postgresql"].maven.startswith("org.postgresql:postgresql:42.")
    assert jdbc.DRIVERS["mysql"].maven.startswith("com.mysql:mysql-connector-j:8.")


# --------------------------------------------------------------------------- the graph


def _prepared(tmp_path: Path, **database: Any) -> PreparedStack:
    stack = stack_settings(database={**ON, **database}, database_password="unit-db-Pa55")
    pack = PackInfo(Path("/nonexistent/wso2is-5.1.0.zip"), "wso2is-5.1.0", "WSO2 Identity Server", "IS", "5.1.0",
                    "0" * 64)
    context = tmp_path / "ctx" / "default"
    shutil.copytree(synthetic_conf(tmp_path / "conf") / "dbscripts", context / "pack/wso2is-5.1.0/dbscripts")
    s = stack.profiles[0]
    database = None if s.database.external else write_database_context(
        s, context / "pack/wso2is-5.1.0", context.parent / "default-database")  # as prepare() does
    return PreparedStack(stack, tmp_path / "ctx/base", [PreparedProfile(s, pack, context)], database=database)


class ServiceMocks(Mocks):
    """Services get a cluster IP, as the API server gives them."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        rid, outputs = super().new_resource(args)
        if args.typ == "kubernetes:core/v1:Service":
            outputs["spec"] = {**outputs["spec"], "clusterIP": "10.0.0.99"}
        return rid, outputs


def _secret_data(mocks: Mocks) -> list[dict[str, Any]]:
    out = []
    for r in _typed(mocks, "core/v1:Secret"):
        data = r.inputs["stringData"]
        assert rpc.is_rpc_secret(data), "stringData was sent to the engine in plain text"
        out.append(rpc.unwrap_rpc_secret(data))
    return out


def _typed(mocks: Mocks, typ: str) -> list[Any]:
    return [r for r in mocks.resources if r.typ == f"kubernetes:{typ}"]


@pulumi.runtime.test
def test_the_embedded_server_its_schema_job_and_members_after_it(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> Any:
    from components.graph import build_graph

    monkeypatch.setenv("WSO2K8S_STATE", str(tmp_path / "state"))
    mocks = ServiceMocks()
    pulumi.runtime.set_mocks(mocks, project="wso2-kubernetes", stack="unit", preview=False)
    graph = build_graph(_prepared(tmp_path))
    g = graph.profiles["default"]
    assert g.database is not None

    def check(_: Any) -> None:
        sts = mocks.one("kubernetes:apps/v1:StatefulSet").inputs
        pod = sts["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 803
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        c = pod["containers"][0]["securityContext"]
        assert c == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
        pv = mocks.one("kubernetes:core/v1:PersistentVolume").inputs["spec"]
        volume_dir = tmp_path / "state/volumes/default/wso2is-db"
        assert pv["local"]["path"] == str(volume_dir) and pv["persistentVolumeReclaimPolicy"] == "Retain"
        assert volume_dir.is_dir() and volume_dir.stat().st_mode & 0o777 == 0o700
        pv_name = mocks.one("kubernetes:core/v1:PersistentVolume").inputs["metadata"]["name"]
        assert mocks.one("kubernetes:core/v1:PersistentVolumeClaim").inputs["spec"]["volumeName"] == pv_name
        svc = [r for r in _typed(mocks, "core/v1:Service") if r.inputs["metadata"]["name"] == "wso2is-db"]
        assert len(svc) == 1 and svc[0].inputs["spec"]["ports"][0]["port"] == 5432
        job = mocks.one("kubernetes:batch/v1:Job").inputs["spec"]["template"]["spec"]
        assert job["containers"][0]["command"] == ["/usr/local/bin/schema.sh"]
        scripts = mocks.one("kubernetes:core/v1:ConfigMap").inputs["data"]
        assert set(scripts) == {"dbscripts-postgresql.sql", "dbscripts-identity-postgresql.sql"}
        assert "CREATE TABLE REG_CLUSTER_LOCK" in scripts["dbscripts-postgresql.sql"]
        assert "CREATE TABLE UM_USER (" in scripts["dbscripts-postgresql.sql"]
        env = {e["name"]: e.get("value") for e in job["containers"][0]["env"]}
        # Both scripts into the shared database, each skipped when its first table is there.
        assert env["SCHEMAS"] == ("wso2carbon_db dbscripts/postgresql.sql reg_cluster_lock\n"
                                  "wso2carbon_db dbscripts/identity/postgresql.sql idn_base_table\n")
        rc = mocks.one("kubernetes:core/v1:ReplicationController")
        member = rc.inputs["spec"]["template"]["spec"]
        assert member["hostAliases"] == [{"ip": "10.0.0.99", "hostnames": ["wso2is-db"]}]
        assert "tcpSocket" in member["containers"][0]["livenessProbe"]
        secrets = _secret_data(mocks)  # the members' and the server's
        assert len(secrets) == 2 and all(s["database_password"] == "unit-db-Pa55" for s in secrets)

    return pulumi.Output.all(g.cluster.workload_name, g.database.cluster_ip,
                             g.database.schema_job.id).apply(check)


@pulumi.runtime.test
def test_an_external_server_gets_only_the_secret(tmp_path: Path) -> Any:
    from components.graph import build_graph

    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="wso2-kubernetes", stack="unit", preview=False)
    graph = build_graph(_prepared(tmp_path, external=True, host="db.example.com"))
    g = graph.profiles["default"]
    assert g.database is None

    def check(_: Any) -> None:
        for typ in ("apps/v1:StatefulSet", "batch/v1:Job", "core/v1:PersistentVolume", "core/v1:ConfigMap"):
            assert _typed(mocks, typ) == [], typ
        (secret,) = _secret_data(mocks)
        assert set(secret) == {"admin_password", "keystore_password", "database_password"}
        member = mocks.one("kubernetes:core/v1:ReplicationController").inputs["spec"]["template"]["spec"]
        assert "hostAliases" not in member

    return g.cluster.workload_name.apply(check)


def test_the_primary_user_store_moves_to_the_shared_database(pack: Path) -> None:
    user_mgt = f"{CONF}/user-mgt.xml"
    original = (pack / user_mgt).read_bytes()
    content = {r.path: r for r in render_conf(_settings(), pack)}[user_mgt].content
    root = etree.fromstring(content)
    stores = root.findall("Realm/UserStoreManager")
    assert [s.get("class") for s in stores] == ["org.wso2.carbon.user.core.jdbc.JDBCUserStoreManager"]
    assert root.findtext("Realm/Configuration/Property[@name='dataSource']") == "jdbc/WSO2CarbonDB"
    # Outside the replaced element nothing moved but the admin password's token.
    start, end = original.index(b"<UserStoreManager"), original.index(b"</UserStoreManager>") + 19
    new_start = content.index(b"<UserStoreManager")
    new_end = content.index(b"</UserStoreManager>") + 19
    assert content[new_end:] == original[end:]
    assert content[:new_start].replace(secret_token("admin_password").encode(), b"admin") == original[:start]
    # Without the database the embedded LDAP stays primary, byte for byte.
    plain = {r.path: r for r in render_conf(stack_settings().profiles[0], pack)}[user_mgt].content
    assert b"ReadWriteLDAPUserStoreManager" in plain and b"JDBCUserStoreManager" not in plain


def test_a_pack_on_another_user_store_keeps_it(pack: Path) -> None:
    user_mgt = pack / CONF / "user-mgt.xml"
    text = user_mgt.read_text().replace("org.wso2.carbon.user.core.ldap.ReadWriteLDAPUserStoreManager",
                                        "org.wso2.carbon.user.core.ldap.ReadOnlyLDAPUserStoreManager")
    user_mgt.write_text(text)
    content = {r.path: r for r in render_conf(_settings(), pack)}[f"{CONF}/user-mgt.xml"].content
    assert b"ReadOnlyLDAPUserStoreManager" in content and b"JDBCUserStoreManager" not in content


def test_the_local_volume_directory_is_made_once_and_then_left_alone(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A later `up` must not reset the directory kubelet regrouped (fsGroup), or the next mount regroups the
    data inside it again."""
    from components.database import local_volume_dir

    monkeypatch.setenv("WSO2K8S_STATE", str(tmp_path))
    pulumi.runtime.set_mocks(Mocks(), project="wso2-kubernetes", stack="unit", preview=False)
    path = local_volume_dir("ns", "wso2is-db", os.getuid())
    assert path == tmp_path / "volumes/ns/wso2is-db" and path.stat().st_mode & 0o7777 == 0o700
    path.chmod(0o2770)  # what kubelet's fsGroup handling leaves
    local_volume_dir("ns", "wso2is-db", os.getuid())
    assert path.stat().st_mode & 0o7777 == 0o2770


# --------------------------------------------------------------------------- one database per use

OWN = {"user_store": {"name": "wso2user_db"}, "identity": {"name": "wso2identity_db"},
       "registry": {"name": "wso2reg_db", "pool": {"max_active": 5}}}


def test_each_database_on_its_own_datasource_changes_only_the_pointer_to_it(pack: Path) -> None:
    rendered = {r.path: r for r in render_conf(_settings(databases=OWN), pack)}
    shared = {r.path: r for r in render_conf(_settings(), pack)}
    # user-mgt.xml and identity.xml: one line each beyond what the shared database changes.
    for path, line in ((f"{CONF}/user-mgt.xml", '<Property name="dataSource">jdbc/WSO2UserDB</Property>'),
                       (f"{CONF}/identity/identity.xml", "<Name>jdbc/WSO2IdentityDB</Name>")):
        removed, added = _diff(shared[path].content, rendered[path].content,
                               "iso-8859-1" if "identity" in path else "utf-8")
        assert [a.strip() for a in added] == [line] and len(removed) == 1 and "WSO2CarbonDB" in removed[0]
    # registry.xml: only added lines (dbConfig, remoteInstance, two mounts); the local registry stays shared.
    removed, added = _diff((pack / CONF / "registry.xml").read_bytes(), rendered[f"{CONF}/registry.xml"].content,
                           "iso-8859-1")
    assert removed == []
    registry = etree.fromstring(rendered[f"{CONF}/registry.xml"].content)
    assert registry.findtext("dbConfig[@name='wso2registry']/dataSource") == "jdbc/WSO2CarbonDB"
    assert registry.findtext("dbConfig[@name='WSO2_REG_DB']/dataSource") == "jdbc/WSO2RegDB"
    assert registry.findtext("remoteInstance/dbConfig") == "WSO2_REG_DB"
    assert [(m.get("path"), m.findtext("instanceId")) for m in registry.findall("mount")] == [
        ("/_system/config", "WSO2_REG_DB"), ("/_system/governance", "WSO2_REG_DB")]
    # master-datasources.xml: three datasources added after WSO2_CARBON_DB, which changes as before.
    removed, added = _diff(shared[DATASOURCES].content, rendered[DATASOURCES].content, "utf-8")
    assert removed == []
    root = etree.fromstring(rendered[DATASOURCES].content)
    names = [d.findtext("name") for d in root.iter("datasource")]
    assert names == ["WSO2_CARBON_DB", "WSO2_REG_DB", "WSO2_USER_DB", "WSO2_IDENTITY_DB", "WSO2_METRICS_DB"]
    user = next(d for d in root.iter("datasource") if d.findtext("name") == "WSO2_USER_DB")
    assert user.findtext("jndiConfig/name") == "jdbc/WSO2UserDB"
    assert user.findtext("definition/configuration/url") == "jdbc:postgresql://wso2is-db:5432/wso2user_db"
    assert user.findtext("definition/configuration/password") == secret_token("database_password")
    reg = next(d for d in root.iter("datasource") if d.findtext("name") == "WSO2_REG_DB")
    assert reg.findtext("definition/configuration/maxActive") == "5"  # its own pool option
    assert reg.findtext("definition/configuration/maxWait") == "60000"  # the shared one's


def test_without_overrides_registry_and_identity_stay_as_shipped(pack: Path) -> None:
    rendered = {r.path: r for r in render_conf(_settings(), pack)}
    assert rendered[f"{CONF}/registry.xml"].content == (pack / CONF / "registry.xml").read_bytes()
    assert b"<Name>jdbc/WSO2CarbonDB</Name>" in rendered[f"{CONF}/identity/identity.xml"].content


def test_an_external_database_per_use_keeps_its_own_host_user_and_port(pack: Path) -> None:
    s = _settings(type="mysql", external=True, host="db.example.com",
                  databases={"identity": {"host": "idp.example.com", "port": 3307, "username": "idp"}})
    root = etree.fromstring({r.path: r for r in render_conf(s, pack)}[DATASOURCES].content)
    idp = next(d for d in root.iter("datasource") if d.findtext("name") == "WSO2_IDENTITY_DB")
    assert idp.findtext("definition/configuration/url").startswith("jdbc:mysql://idp.example.com:3307/wso2carbon_db")
    assert idp.findtext("definition/configuration/username") == "idp"


def test_the_schema_goes_to_each_database_once(tmp_path: Path) -> None:
    from wso2k8s.pack.database_context import schema_scripts

    s = _settings(databases={"user_store": {"name": "wso2user_db"}, "identity": {"name": "wso2user_db"}})
    got = [(x.database, x.file, x.marker) for x in schema_scripts(s, synthetic_conf(tmp_path))]
    assert got == [("wso2carbon_db", "dbscripts/postgresql.sql", "reg_cluster_lock"),
                   ("wso2user_db", "dbscripts/postgresql.sql", "reg_cluster_lock"),
                   ("wso2user_db", "dbscripts/identity/postgresql.sql", "idn_base_table")]
