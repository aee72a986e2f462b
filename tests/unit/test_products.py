"""Products plural: a product is hieradata plus one module (wso2k8s/products/). API Manager 1.10.0's five
distributed profiles, wired to one another from the Services the program creates."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pulumi
import pytest
from lxml import etree

from tests.unit.helpers import PROJECT_DIR, stack_settings, synthetic_conf
from tests.unit.test_graph import IMAGE, Mocks, build, registered
from wso2k8s.pack.database_context import schema_scripts
from wso2k8s.pack.render import render_conf, secret_token
from wso2k8s.products import PRODUCTS
from wso2k8s.settings import SettingsError

APIM = {"product": "wso2am", "version": "1.10.0"}
DISTRIBUTED = ["api-key-manager", "api-publisher", "api-store", "gateway-manager", "gateway-worker"]
KM = "https://wso2am-api-key-manager:9443/services/"


@pytest.fixture(scope="module")
def apim_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_conf(tmp_path_factory.mktemp("apim"), "wso2am", "1.10.0")


def _api_manager(pack: Path, profile: str) -> etree._Element:
    s = next(p for p in stack_settings(**APIM, profiles=DISTRIBUTED).profiles if p.profile == profile)
    rendered = {r.path: r.content for r in render_conf(s, pack)}
    return etree.fromstring(rendered["repository/conf/api-manager.xml"])


def _text(root: etree._Element, path: str) -> str:
    found = root.xpath(path)
    assert len(found) == 1, path
    return str(found[0].text)


def test_the_gateway_worker_validates_keys_at_the_key_managers_service(apim_pack: Path) -> None:
    worker = _api_manager(apim_pack, "gateway-worker")
    assert _text(worker, "/APIManager/APIKeyValidator/ServerURL") == KM
    assert _text(worker, "/APIManager/AuthManager/ServerURL") == KM
    # what it has no relation for stays the pack's own
    assert "${carbon.local.ip}" in _text(worker, "/APIManager/APIGateway/Environments/Environment/ServerURL")


def test_the_publisher_is_wired_to_every_other_profile(apim_pack: Path) -> None:
    publisher = _api_manager(apim_pack, "api-publisher")
    env = "/APIManager/APIGateway/Environments/Environment"
    assert _text(publisher, "/APIManager/APIKeyValidator/ServerURL") == KM
    assert _text(publisher, f"{env}/ServerURL") == "https://wso2am-gateway-manager:9443/services/"
    assert _text(publisher, f"{env}/GatewayEndpoint") == \
        "http://wso2am-gateway-worker:8280,https://wso2am-gateway-worker:8243"
    assert _text(publisher, "/APIManager/OAuthConfigurations/RevokeAPIURL") == "https://wso2am-gateway-worker:8243/revoke"
    assert _text(publisher, "/APIManager/APIStore/URL") == "https://wso2am-api-store:9443/store"
    # the admin credentials stay Carbon's own references: no password is rendered into api-manager.xml
    assert _text(publisher, "/APIManager/AuthManager/Password") == "${admin.password}"


def test_a_renamed_key_manager_is_followed_without_typing_it_twice(apim_pack: Path) -> None:
    s = next(p for p in stack_settings(**APIM, profiles=DISTRIBUTED, profile_overrides={
        "api-key-manager": {"name": "km"}}).profiles if p.profile == "gateway-worker")
    rendered = {r.path: r.content for r in render_conf(s, apim_pack)}
    doc = etree.fromstring(rendered["repository/conf/api-manager.xml"])
    assert _text(doc, "/APIManager/APIKeyValidator/ServerURL") == "https://km:9443/services/"


def test_the_default_profile_keeps_the_packs_api_manager_xml(apim_pack: Path) -> None:
    s = stack_settings(**APIM).profiles[0]
    rendered = {r.path: r.content for r in render_conf(s, apim_pack)}
    assert rendered["repository/conf/api-manager.xml"] == (apim_pack / "repository/conf/api-manager.xml").read_bytes()


def test_gateway_manager_and_worker_share_a_domain_in_their_sub_domains(apim_pack: Path) -> None:
    subs = {}
    for s in stack_settings(**APIM, profiles=DISTRIBUTED).profiles:
        axis2 = etree.fromstring({r.path: r.content for r in render_conf(s, apim_pack)}[
            "repository/conf/axis2/axis2.xml"])
        clustering = axis2.xpath("/axisconfig/clustering")[0]
        params = {p.get("name"): p.text for p in clustering.findall("parameter")}
        sub = clustering.xpath("parameter[@name='properties']/property[@name='subDomain']/@value")[0]
        subs[s.profile] = (params["domain"], sub, params["KUBERNETES_SERVICES"])
    assert subs["gateway-manager"] == ("gw.am.wso2.domain", "mgt", "wso2am-gateway-manager,wso2am-gateway-worker")
    assert subs["gateway-worker"] == ("gw.am.wso2.domain", "worker", "wso2am-gateway-worker,wso2am-gateway-manager")
    assert subs["api-key-manager"][0] == "km.am.wso2.domain"


@pytest.fixture
def mocks() -> Mocks:
    m = Mocks()
    pulumi.runtime.set_mocks(m, project="wso2-kubernetes", stack="unit", preview=False)
    return m


@pulumi.runtime.test
def test_the_distributed_stack_is_five_images_members_and_services_on_one_base(mocks: Mocks) -> Any:
    graph = build(**APIM, profiles=DISTRIBUTED)

    def check(_: Any) -> None:
        images = sorted(r.inputs["tags"][0] for r in mocks.resources if r.typ == IMAGE)
        assert images == sorted([f"127.0.0.1:5000/wso2/am-1.10.0-{p}:1.0.0" for p in DISTRIBUTED]
                                + ["127.0.0.1:5000/wso2/k8s-base:1.0.0"])
        services = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in mocks.resources
                    if r.typ == "kubernetes:core/v1:Service"}
        assert set(services) == {f"wso2am-{p}" for p in DISTRIBUTED}
        worker = {p["name"]: p["nodePort"] for p in services["wso2am-gateway-worker"]["ports"]}
        assert worker == {"servlet-http": 32111, "servlet-https": 32112, "passthrough-http": 32123,
                          "passthrough-https": 32124}
        assert [p["name"] for p in services["wso2am-api-key-manager"]["ports"]] == ["servlet-http", "servlet-https"]

    return registered(graph).apply(check)


def _refused(**config: Any) -> str:
    with pytest.raises(SettingsError) as err:
        stack_settings(**config)
    return str(err.value)


def test_a_relation_to_a_profile_the_stack_does_not_deploy_is_refused() -> None:
    message = _refused(**APIM, profiles=["gateway-worker"])
    assert ("relations.key_manager (hieradata/wso2am/1.10.0/gateway-worker.yaml): points at profile "
            "'api-key-manager', which this stack does not deploy") in message
    assert "add 'api-key-manager' to wso2-kubernetes:profiles" in message


def test_an_unknown_relation_role_is_refused_with_did_you_mean() -> None:
    message = _refused(**APIM, profiles=DISTRIBUTED,
                       profile_overrides={"gateway-worker": {"relations": {"keymanager": "api-key-manager"}}})
    assert "wso2-kubernetes:profile_overrides.gateway-worker.relations.keymanager" in message
    assert "Did you mean 'key_manager'?" in message


def test_a_product_module_missing_an_editor_its_hieradata_needs_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    module = PRODUCTS["wso2am"]
    monkeypatch.setitem(PRODUCTS, "wso2am", type(module)(**{**module.__dict__, "editors": {}}))
    message = _refused(**APIM)
    assert ("managed_files[0] (hieradata/wso2am/1.10.0.yaml): repository/conf/api-manager.xml has no editor in "
            "the wso2am product module") in message
    assert "add an editor for repository/conf/api-manager.xml to `editors` in wso2k8s/products/wso2am.py" in message


def test_hieradata_without_a_product_module_is_refused(tmp_path: Path) -> None:
    shutil.copytree(PROJECT_DIR / "hieradata", tmp_path / "hieradata")
    shutil.copytree(tmp_path / "hieradata/wso2is", tmp_path / "hieradata/wso2esb")
    message = _refused(project_dir=tmp_path, product="wso2esb")
    assert "wso2-kubernetes:product (Pulumi.unit.yaml): 'wso2esb' has hieradata but no product module" in message
    assert "add wso2k8s/products/wso2esb.py" in message


def test_peers_cannot_be_set_by_hand() -> None:
    message = _refused(**APIM, profiles=DISTRIBUTED, profile_overrides={"gateway-worker": {"peers": {
        "key_manager": {"profile": "x", "service": "evil.example.com", "ports": {"servlet-https": 443}}}}})
    assert "is derived from `relations`, not set" in message


# --------------------------------------------------------------------------- the shared databases

DB_ON = {"database": {"enabled": True}, "database_password": "unit-db-Pa55"}
AM_DB_URL = "jdbc:postgresql://wso2am-db:5432/apimdb"


def _datasource(doc: etree._Element, name: str) -> dict[str, str]:
    (ds,) = doc.xpath(f"/datasources-configuration/datasources/datasource[name='{name}']")
    values = {e.tag: (e.text or "") for e in ds.find("definition/configuration")}
    return {**values, "jndi": ds.findtext("jndiConfig/name")}


def test_every_profile_has_wso2am_db_on_the_stacks_one_server(apim_pack: Path) -> None:
    """api-manager.xml names jdbc/WSO2AM_DB as shipped; master-datasources.xml's WSO2AM_DB moves to the shared
    server, in its own database (apimdb), with the password as the start-time token; so do the registry and user
    store (WSO2_CARBON_DB); what the pack has beyond them (WSO2_METRICS_DB) stays its own H2."""
    for s in stack_settings(**APIM, profiles=DISTRIBUTED, **DB_ON).profiles:
        rendered = {r.path: r for r in render_conf(s, apim_pack)}
        datasources = rendered["repository/conf/datasources/master-datasources.xml"]
        assert datasources.holds_secrets, s.profile
        doc = etree.fromstring(datasources.content)
        am = _datasource(doc, "WSO2AM_DB")
        assert (am["url"], am["jndi"], am["username"], am["driverClassName"]) == (
            AM_DB_URL, "jdbc/WSO2AM_DB", "wso2carbon", "org.postgresql.Driver"), s.profile
        assert am["password"] == secret_token("database_password")
        carbon = _datasource(doc, "WSO2_CARBON_DB")
        assert carbon["url"] == "jdbc:postgresql://wso2am-db:5432/wso2carbon_db", s.profile
        assert _datasource(doc, "WSO2_METRICS_DB")["url"].startswith("jdbc:h2:")
        api_manager = etree.fromstring(rendered["repository/conf/api-manager.xml"].content)
        assert _text(api_manager, "/APIManager/DataSourceName") == am["jndi"]


def test_without_a_shared_database_wso2am_db_stays_the_packs_h2(apim_pack: Path) -> None:
    s = stack_settings(**APIM, profiles=DISTRIBUTED).profiles[0]
    rendered = {r.path: r.content for r in render_conf(s, apim_pack)}
    path = "repository/conf/datasources/master-datasources.xml"
    assert rendered[path] == (apim_pack / path).read_bytes()


def test_the_schema_job_creates_apimdb_from_the_packs_apimgt_script(apim_pack: Path) -> None:
    s = stack_settings(**APIM, profiles=DISTRIBUTED, **DB_ON).profiles[0]
    got = [(x.database, x.file, x.marker) for x in schema_scripts(s, apim_pack)]
    # API Manager ships the identity tables at the head of apimgt/<type>.sql (IDN_BASE_TABLE: the marker)
    assert got == [("wso2carbon_db", "dbscripts/postgresql.sql", "reg_cluster_lock"),
                   ("apimdb", "dbscripts/apimgt/postgresql.sql", "idn_base_table")]
    apimgt = schema_scripts(s, apim_pack)[1].sql
    for table in ("AM_SUBSCRIBER", "AM_APPLICATION", "AM_API"):
        assert f"CREATE TABLE IF NOT EXISTS {table} (" in apimgt


def test_the_five_profiles_share_one_database_server_and_start_after_its_schema(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pulumi.apim.yaml as committed (database.enabled): one StatefulSet, Service, volume and schema Job for the
    stack, named for it (wso2am-db), not one per profile; every profile's members depend on the Job and resolve
    the Service's name."""
    from tests.unit.test_resource_snapshot import registered as snapshot_records

    records = snapshot_records("apim", tmp_path, monkeypatch)

    def of(typ: str) -> list[dict[str, Any]]:  # by the last type of the URN's parent chain
        return [r for r in records if r["urn"].count("::") == 3 and r["urn"].split("::")[2].endswith(f"${typ}")]

    for typ in ("wso2k8s:kubernetes:EmbeddedDatabase", "kubernetes:apps/v1:StatefulSet", "kubernetes:batch/v1:Job",
                "kubernetes:core/v1:PersistentVolume", "kubernetes:core/v1:PersistentVolumeClaim",
                "kubernetes:core/v1:ConfigMap"):
        assert len(of(typ)) == 1, typ
    (server,) = of("kubernetes:apps/v1:StatefulSet")
    assert server["inputs"]["metadata"]["name"] == "wso2am-db"
    assert "wso2k8s.io/profile" not in server["inputs"]["metadata"]["labels"]  # it serves all five
    services = [r["inputs"]["metadata"]["name"] for r in of("kubernetes:core/v1:Service")]
    assert sorted(services) == sorted(["wso2am-db", *(f"wso2am-{p}" for p in DISTRIBUTED)])
    (job,) = of("kubernetes:batch/v1:Job")
    clusters = of("wso2k8s:kubernetes:CarbonCluster")
    assert len(clusters) == len(DISTRIBUTED)
    assert all(job["urn"] in c["dependencies"] for c in clusters)
    for rc in of("kubernetes:core/v1:ReplicationController"):
        assert rc["inputs"]["spec"]["template"]["spec"]["hostAliases"][0]["hostnames"] == ["wso2am-db"]


def test_the_database_server_is_named_for_what_the_profiles_names_share() -> None:
    renamed = stack_settings(**APIM, profiles=DISTRIBUTED, **DB_ON,
                             profile_overrides={"api-key-manager": {"name": "km"}})
    assert {s.database.host for s in renamed.profiles} == {"wso2am-db"}  # nothing shared: the product's
    one = stack_settings(**DB_ON, profile_overrides={"default": {"name": "iam"}})  # one profile: its own name
    assert one.profiles[0].database.host == "iam-db"
    apart = stack_settings(**APIM, profiles=DISTRIBUTED, **DB_ON,
                           profile_overrides={"api-store": {"kubernetes": {"namespace": "store"}}})
    hosts = {s.profile: s.database.host for s in apart.profiles}
    assert hosts["api-store"] == "wso2am-db.default.svc" and hosts["api-publisher"] == "wso2am-db"


def test_a_profiles_own_database_settings_are_refused(tmp_path: Path) -> None:
    message = _refused(**APIM, profiles=DISTRIBUTED, **DB_ON,
                       profile_overrides={"api-store": {"database": {"pool": {"max_active": 10}}}})
    assert ("wso2-kubernetes:profile_overrides.api-store.database (Pulumi.unit.yaml): is a stack-wide setting "
            "(every profile shares one database), so profile 'api-store' cannot set its own") in message
    assert "set it once for the stack: `wso2-kubernetes:database` in Pulumi.unit.yaml" in message
    shutil.copytree(PROJECT_DIR / "hieradata", tmp_path / "hieradata")
    with (tmp_path / "hieradata/wso2am/1.10.0/gateway-worker.yaml").open("a") as f:
        f.write("database: {name: gwdb}\n")
    message = _refused(project_dir=tmp_path, **APIM, profiles=DISTRIBUTED, **DB_ON)
    assert "database (hieradata/wso2am/1.10.0/gateway-worker.yaml): is a stack-wide setting" in message


def test_an_own_identity_database_is_refused_where_the_product_keeps_idn_tables_in_its_own_script() -> None:
    message = _refused(**APIM, profiles=DISTRIBUTED, database={"enabled": True, "databases": {
        "identity": {"name": "idn"}}}, database_password="unit-db-Pa55")
    assert ("wso2-kubernetes:database.databases.identity (Pulumi.unit.yaml): wso2am ships its identity tables "
            "(IDN_*) in dbscripts/apimgt/postgresql.sql, not in a schema of their own") in message
    assert "remove database.databases.identity" in message


def test_wso2am_db_can_have_its_own_name_and_pool_on_an_external_server(apim_pack: Path) -> None:
    s = stack_settings(**APIM, profiles=DISTRIBUTED, database_password="unit-db-Pa55", database={
        "enabled": True, "external": True, "host": "db.example.com",
        "databases": {"product": {"WSO2AM_DB": {"name": "am_prod", "username": "am", "pool": {"max_active": 80}}}},
    }).profiles[0]
    doc = etree.fromstring({r.path: r.content for r in render_conf(s, apim_pack)}[
        "repository/conf/datasources/master-datasources.xml"])
    am, carbon = _datasource(doc, "WSO2AM_DB"), _datasource(doc, "WSO2_CARBON_DB")
    assert (am["url"], am["username"], am["maxActive"]) == ("jdbc:postgresql://db.example.com:5432/am_prod", "am", "80")
    assert (carbon["url"], carbon["username"], carbon["maxActive"]) == (
        "jdbc:postgresql://db.example.com:5432/wso2carbon_db", "wso2carbon", "50")
    embedded = stack_settings(**APIM, profiles=DISTRIBUTED, database_password="unit-db-Pa55", database={
        "enabled": True, "databases": {"product": {"WSO2AM_DB": {"name": "am_dev"}}}}).profiles[0]
    assert [x.database for x in schema_scripts(embedded, apim_pack)] == ["wso2carbon_db", "am_dev"]


def test_a_product_database_the_product_does_not_have_or_a_host_for_the_embedded_server_is_refused() -> None:
    message = _refused(**APIM, profiles=DISTRIBUTED, database_password="unit-db-Pa55", database={
        "enabled": True, "databases": {"product": {"WSO2AM": {"name": "x"}, "WSO2AM_DB": {"host": "elsewhere"}}}})
    assert ("wso2-kubernetes:database.databases.product.WSO2AM (Pulumi.unit.yaml): 'WSO2AM' is not a database of "
            "wso2am. Did you mean 'WSO2AM_DB'?") in message
    assert ("wso2-kubernetes:database.databases.product.WSO2AM_DB.host (Pulumi.unit.yaml): is set but the database "
            "is the embedded server") in message
    assert "2 problems in the settings" in message  # stack-wide: said once, not once per profile
