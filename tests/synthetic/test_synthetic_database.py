"""Two synthetic members on one real PostgreSQL (Debian's postgresql-15 on this machine), started the way the
images start them: the embedded server's own entrypoint and schema script, the renderer's master-datasources.xml
with the password token, the entrypoint replacing it, the pinned pgJDBC jar in repository/components/lib.
A user added through one member is read through the other; with the database stopped both answer 503 and log
it, and both recover when it is back."""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from synthetic_helpers import HOST_KEYSTORES, on_host

from tests.synthetic.synthetic_helpers import wait_until
from tests.unit.helpers import PROJECT_DIR, stack_settings
from wso2k8s.pack.database_context import schema_scripts
from wso2k8s.pack.jdbc import place_driver
from wso2k8s.pack.render import TEMPLATES, render_conf, secret_names
from wso2k8s.settings.schema import Settings
from wso2k8s.synthetic.pack import extract_pack, make_pack
from wso2k8s.synthetic.runner import ServerProcess, pick_free_offset, ports_for

pytestmark = pytest.mark.engine

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SCRIPTS = PROJECT_DIR / "wso2k8s/templates/database"
DB_PASSWORD = "Db-pa55 &<x> ä"  # markup and non-ASCII reach initdb raw and the XML escaped
ADMIN_PASSWORD = "Adm1n-pass"
KEYSTORE_PASSWORD = "wso2carbon"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Postgres:
    """The embedded server's database-entrypoint.sh on this machine, as the `postgres` user (it refuses root)."""

    def __init__(self, root: Path):
        if not (PG_BIN / "postgres").is_file():
            pytest.fail("PostgreSQL 15 is needed for this test: apt-get install postgresql-15")
        self.root, self.port = root, _free_port()
        self.password_file = root / "database_password"
        self.password_file.write_text(DB_PASSWORD, encoding="utf-8")
        self.env = {"PATH": f"{PG_BIN}:{os.environ['PATH']}", "PGDATA": str(root / "data/pgdata"),
                    "DB_NAME": "wso2carbon_db", "DB_USER": "wso2carbon", "DB_PASSWORD_FILE": str(self.password_file)}
        (root / "data").mkdir()
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
            for p in root.rglob("*"):
                shutil.chown(p, "postgres")
        self.proc: subprocess.Popen[bytes] | None = None

    def _as_postgres(self, *cmd: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else list(cmd)

    def start(self) -> None:
        log = (self.root / "postgres.log").open("ab")
        self.proc = subprocess.Popen(self._as_postgres("env", *[f"{k}={v}" for k, v in self.env.items()],
                                                       "bash", str(SCRIPTS / "database-entrypoint.sh"),
                                                       "-c", f"port={self.port}", "-c", "listen_addresses=127.0.0.1"),
                                     stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: subprocess.run([str(PG_BIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p",
                                           str(self.port)]).returncode == 0, 30, what="PostgreSQL to accept")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()  # postgres' smart shutdown: refuses new connections at once
            self.proc.wait(30)
            self.proc = None

    def schema(self, s: Settings, pack_root: Path) -> str:
        """schema.sh as the Job runs it: the scripts schema_scripts() picks, mounted by key."""
        scripts = self.root / "schema"  # where the postgres user can read them
        scripts.mkdir(exist_ok=True)
        schemas = schema_scripts(s, pack_root)
        for x in schemas:
            (scripts / x.key).write_text(x.sql, encoding="utf-8")
            (scripts / x.key).chmod(0o644)
        scripts.chmod(0o755)
        env = {**self.env, "DB_HOST": "127.0.0.1", "DB_PORT": str(self.port), "SCHEMA_DIR": str(scripts),
               "SCHEMAS": "".join(f"{x.database} {x.file} {x.marker}\n" for x in schemas)}
        return subprocess.run(self._as_postgres("env", *[f"{k}={v}" for k, v in env.items()], "bash",
                                                str(SCRIPTS / "schema.sh")),
                              check=True, capture_output=True, text=True).stdout


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    root = Path(tempfile.mkdtemp(prefix="wso2k8s-pg-"))  # not under pytest's root-only folder: postgres reads it
    try:
        pg = Postgres(root)
        pg.start()
        yield pg
        pg.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _settings(port: int, **database: Any) -> Settings:
    return stack_settings(clustering={"enabled": False}, **HOST_KEYSTORES, database_password=DB_PASSWORD, database={
        "enabled": True, "external": True, "host": "127.0.0.1", "port": port, **database}).profiles[0]


def _member(pack_zip: Path, tmp_path: Path, name: str, port: int, db_password: str = DB_PASSWORD,
            settings: Settings | None = None, **database: Any) -> ServerProcess:
    home = extract_pack(pack_zip, tmp_path / name)
    s = settings or _settings(port, **database)
    conf_files = []
    for item in render_conf(s, home):
        (home / item.path).write_bytes(on_host(item.content))
        if item.holds_secrets:
            conf_files.append(item.path)
    place_driver(s.database, PROJECT_DIR, home)  # pgJDBC from Maven Central (cached)
    secrets = tmp_path / f"{name}-secrets"
    secrets.mkdir()
    values = {"admin_password": ADMIN_PASSWORD, "keystore_password": KEYSTORE_PASSWORD,
              "database_password": db_password}
    for secret in secret_names(s):
        (secrets / secret).write_text(values[secret], encoding="utf-8")
    entrypoint = tmp_path / f"{name}-entrypoint.sh"
    entrypoint.write_text(TEMPLATES.get_template("docker/docker-entrypoint.sh.j2").render(
        carbon_home=str(home), secret_names=secret_names(s), conf_files=conf_files))
    entrypoint.chmod(0o755)
    server = ServerProcess(home, env={"CARBON_HOME": str(home), "WSO2K8S_SECRETS_DIR": str(secrets)})
    offset = pick_free_offset()
    server.offset = offset  # type: ignore[attr-defined]
    with open(server.output_path, "wb") as out:
        server.proc = subprocess.Popen([str(entrypoint), f"-DportOffset={offset}"], stdout=out,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=server.env, cwd=home)
    server.wait_started()
    return server


def _apim_settings(port: int, profile: str) -> Settings:
    """API Manager's distributed profiles, as the apim stack has them, on the test's server."""
    profiles = ["api-key-manager", "api-publisher", "api-store", "gateway-manager", "gateway-worker"]
    stack = stack_settings(product="wso2am", version="1.10.0", profiles=profiles, clustering={"enabled": False},
                           **HOST_KEYSTORES, database_password=DB_PASSWORD, database={
                               "enabled": True, "external": True, "host": "127.0.0.1", "port": port})
    return next(s for s in stack.profiles if s.profile == profile)


def _call(server: ServerProcess, path: str, form: str | None = None) -> int:
    url = f"http://127.0.0.1:{ports_for(server.offset)['http']}{path}"  # type: ignore[attr-defined]
    request = urllib.request.Request(url, data=form.encode() if form else None)
    if form:
        request.add_header("Authorization", "Basic " + base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode())
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def test_two_members_share_users_and_recover_from_a_database_outage(postgres: Postgres, pack_zip: Path,
                                                                      tmp_path: Path) -> None:
    source = extract_pack(pack_zip, tmp_path / "schema-source")  # the pack's own dbscripts
    created = postgres.schema(_settings(postgres.port), source)
    assert "schema created in wso2carbon_db from dbscripts/postgresql.sql: 8 tables" in created
    assert "schema created in wso2carbon_db from dbscripts/identity/postgresql.sql: 3 tables" in created
    again = postgres.schema(_settings(postgres.port), source)  # a second run changes nothing
    assert "created" not in again and again.count("schema already present") == 2

    a = _member(pack_zip, tmp_path, "a", postgres.port)
    b = _member(pack_zip, tmp_path, "b", postgres.port)
    try:
        wait_until(lambda: _call(a, "/carbon/admin/login.jsp") == 200 and _call(b, "/carbon/admin/login.jsp") == 200,
                   30, what="both members ready")
        assert _call(b, "/synthetic/users/alice") == 404
        assert _call(a, "/synthetic/users", "username=alice&password=Al1ce-pass") == 201
        assert _call(b, "/synthetic/users/alice") == 200  # read through the other member
        assert _call(b, "/synthetic/users", "username=alice&password=x2345") == 409
        port = ports_for(a.offset)["http"]  # type: ignore[attr-defined]
        unauthorised = urllib.request.Request(f"http://127.0.0.1:{port}/synthetic/users",
                                              data=b"username=eve&password=Ev3-pass")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(unauthorised, timeout=10)
        assert refused.value.code == 401
        out = a.output() + b.output()
        assert "Created the registry root collection" in out and "root collection present" in out
        assert DB_PASSWORD not in out

        postgres.stop()
        started = time.monotonic()
        wait_until(lambda: _call(a, "/carbon/admin/login.jsp") == 503 and _call(b, "/carbon/admin/login.jsp") == 503,
                   30, what="both members to report the database down")
        down = time.monotonic() - started
        assert "wso2k8s-db: Datasource WSO2_CARBON_DB is unreachable" in a.output()
        assert _body(a, "/carbon/admin/login.jsp").startswith(
            "wso2k8s-db: Datasource WSO2_CARBON_DB is unreachable (jdbc:postgresql://127.0.0.1:")
        assert _call(b, "/synthetic/users/alice") == 503
        postgres.start()
        started = time.monotonic()
        wait_until(lambda: _call(a, "/carbon/admin/login.jsp") == 200 and _call(b, "/carbon/admin/login.jsp") == 200,
                   30, what="both members back")
        print(f"\n[numbers] synthetic members: database down noticed in {down:.1f} s, back in "
              f"{time.monotonic() - started:.1f} s")
        assert "Datasource WSO2_CARBON_DB is reachable" in b.output()
        assert _call(a, "/synthetic/users/alice") == 200  # the data survived the server's restart
    finally:
        a.stop()
        b.stop()


def _body(server: ServerProcess, path: str) -> str:
    url = f"http://127.0.0.1:{ports_for(server.offset)['http']}{path}"  # type: ignore[attr-defined]
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return str(response.read().decode())
    except urllib.error.HTTPError as err:
        return str(err.read().decode())


def test_each_database_on_its_own_datasource(postgres: Postgres, pack_zip: Path, tmp_path: Path) -> None:
    """The user store and the identity data in their own databases, the registry's mounts in a third: the
    schema goes where each belongs, the member watches all four datasources and keeps users in WSO2_USER_DB."""
    own = {"databases": {"user_store": {"name": "wso2user_db"}, "identity": {"name": "wso2identity_db"},
                         "registry": {"name": "wso2reg_db", "pool": {"max_active": 5}}}}
    source = extract_pack(pack_zip, tmp_path / "schema-source")
    created = postgres.schema(_settings(postgres.port, **own), source)
    for db, script in (("wso2carbon_db", "postgresql"), ("wso2reg_db", "postgresql"), ("wso2user_db", "postgresql"),
                       ("wso2identity_db", "identity/postgresql")):
        assert f"database {db} created" in created or db == "wso2carbon_db", created
        assert f"schema created in {db} from dbscripts/{script}.sql" in created, created
    assert "wso2carbon_db from dbscripts/identity" not in created  # the identity data is elsewhere

    a = _member(pack_zip, tmp_path, "a", postgres.port, **own)
    try:
        wait_until(lambda: _call(a, "/carbon/admin/login.jsp") == 200, 30, what="the member ready")
        assert _call(a, "/synthetic/users", "username=carol&password=Car0l-pass") == 201
        out = a.output()
        for name in ("WSO2_CARBON_DB", "WSO2_USER_DB", "WSO2_REG_DB", "WSO2_IDENTITY_DB"):
            assert f"wso2k8s-db: Datasource {name} is reachable" in out, out
        assert "User carol added to WSO2_USER_DB" in out
        rows = subprocess.run(postgres._as_postgres(
            "env", f"PGPASSWORD={DB_PASSWORD}", "psql", "-X", "-tA", "-h", "127.0.0.1", "-p", str(postgres.port),
            "-U", "wso2carbon", "-d", "wso2user_db", "-c", "SELECT UM_USER_NAME FROM UM_USER"),
            check=True, capture_output=True, text=True).stdout.split()
        assert rows == ["carol"]
    finally:
        a.stop()


def test_a_wrong_database_password_keeps_the_member_unready_with_the_servers_own_words(
        postgres: Postgres, pack_zip: Path, tmp_path: Path) -> None:
    postgres.schema(_settings(postgres.port), extract_pack(pack_zip, tmp_path / "schema-source"))
    a = _member(pack_zip, tmp_path, "a", postgres.port, db_password="not-the-password")
    try:
        wait_until(lambda: "wso2k8s-db:" in a.output(), 30, what="the member to log the datasource")
        assert _call(a, "/carbon/admin/login.jsp") == 503
        body = _body(a, "/carbon/admin/login.jsp")
        assert body.startswith("wso2k8s-db: Datasource WSO2_CARBON_DB is unreachable"), body
        assert 'password authentication failed for user "wso2carbon"' in body  # PostgreSQL's own text
        assert 'password authentication failed for user "wso2carbon"' in a.output()
        assert "not-the-password" not in a.output() + body
    finally:
        a.stop()


@pytest.fixture(scope="module")
def apim_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pack(tmp_path_factory.mktemp("apim-db"), product="wso2am", version="1.10.0")


def test_an_api_created_at_the_publisher_is_listed_at_the_store(postgres: Postgres, apim_zip: Path,
                                                                 tmp_path: Path) -> None:
    """API Manager's WSO2AM_DB (api-manager.xml DataSourceName jdbc/WSO2AM_DB) on the shared server, in apimdb:
    the schema Job's script creates it from the pack's apimgt/postgresql.sql, the publisher writes an AM_API row
    through the rendered datasource and the store, another server, reads it back."""
    source = extract_pack(apim_zip, tmp_path / "schema-source")
    created = postgres.schema(_apim_settings(postgres.port, "api-publisher"), source)
    assert "database apimdb created" in created, created
    assert "schema created in apimdb from dbscripts/apimgt/postgresql.sql: 4 tables" in created, created
    assert "from dbscripts/identity/" not in created  # API Manager keeps IDN_* in apimgt/<type>.sql

    publisher = _member(apim_zip, tmp_path, "publisher", postgres.port,
                        settings=_apim_settings(postgres.port, "api-publisher"))
    store = _member(apim_zip, tmp_path, "store", postgres.port, settings=_apim_settings(postgres.port, "api-store"))
    try:
        wait_until(lambda: _call(publisher, "/carbon/admin/login.jsp") == 200
                   and _call(store, "/carbon/admin/login.jsp") == 200, 30, what="both profiles ready")
        assert json.loads(_body(store, "/synthetic/apis")) == {"apis": []}
        assert _call(publisher, "/synthetic/apis", "name=PizzaShack&version=1.0.0&context=/pizzashack") == 201
        assert _call(publisher, "/synthetic/apis", "name=PizzaShack&version=1.0.0&context=/pizzashack") == 409
        assert json.loads(_body(store, "/synthetic/apis")) == {"apis": [{
            "provider": "admin", "name": "PizzaShack", "version": "1.0.0", "context": "/pizzashack/1.0.0"}]}
        out = publisher.output()
        assert "wso2k8s-db: Datasource WSO2AM_DB is reachable (jdbc:postgresql://127.0.0.1:" in out
        assert "API PizzaShack:1.0.0 (/pizzashack) of admin added to WSO2AM_DB" in out
    finally:
        publisher.stop()
        store.stop()
