"""The shared database on the real cluster: the embedded PostgreSQL server, its schema Job, the members' user
store in it. Its own stack, namespace, node ports and image tags (tests/engine/isolation.py). Prints the
numbers the issue asks for (schema creation, user on A -> visible on B, recovery after the database pod is
deleted)."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.engine.conftest import PROJECT_DIR
from tests.engine.isolation import free_node_ports
from tests.engine.stack import ProjectStack, kube_json, kubectl, wait_until
from tests.reliability.common import recover

NAMESPACE = f"wso2k8s-test-db-{secrets.token_hex(4)}"
ADMIN_PASSWORD = f"Adm1n-{secrets.token_hex(4)}"
MEMBERS = "name=wso2is"
DATABASE = "name=wso2is-db"


@pytest.fixture(scope="module")
def stack(engines_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProjectStack]:
    s = ProjectStack.create(tmp_path_factory.mktemp("db"), "db", engines_env, passphrase=secrets.token_hex(16))
    s.set_config("profiles", ["default"])
    s.isolate("wso2is", "5.1.0", NAMESPACE, free_node_ports(engines_env, 4))
    s.set_config("workload", {"replicas": 2, "java_opts": "-Xms32m -Xmx128m",
                              "resources": {"cpu_request": "100m", "memory_request": "128Mi", "cpu_limit": "1",
                                            "memory_limit": "512Mi"}})
    s.set_config("database", {"enabled": True, "embedded": {"image": {"tag": "engine-test"}}})
    s.set_secret("admin_password", ADMIN_PASSWORD)
    s.set_secret("keystore_password", "wso2carbon")  # the stock keystore
    s.set_secret("database_password", f"Db-{secrets.token_hex(6)}&<x>")  # markup characters reach the XML
    yield s
    s.pulumi("destroy", "--yes", "--skip-preview", check=False)
    # The local volume's directory outlives the stack by design (Retain); this test's goes with it.
    state = Path(engines_env.get("WSO2K8S_STATE", "/var/lib/wso2-kubernetes"))
    shutil.rmtree(state / "volumes" / NAMESPACE, ignore_errors=True)


def _pods(env: dict[str, str], selector: str) -> list[dict[str, Any]]:
    return [p for p in kube_json(env, "get", "pods", "-n", NAMESPACE, "-l", selector)["items"]
            if not p["metadata"].get("deletionTimestamp")]


def _ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))


def _http(env: dict[str, str], pod: str, request: str) -> tuple[int, dict[str, Any]]:
    """An HTTP/1.0 request to the member's plain port from inside its pod; (status, JSON body)."""
    script = 'exec 3<>/dev/tcp/127.0.0.1/9763; printf "%s" "$REQ" >&3; cat <&3'
    out = kubectl(env, "exec", "-n", NAMESPACE, pod, "--", "env", f"REQ={request}", "bash", "-c", script).stdout
    head, _, body = out.replace("\r\n", "\n").partition("\n\n")  # kubectl's text output may drop the \r
    return int(head.split()[1]), json.loads(body) if body.strip().startswith("{") else {}


def _add_user(env: dict[str, str], pod: str, user: str) -> int:
    form = f"username={user}&password=Us3r-pass"
    auth = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    status, _ = _http(env, pod, f"POST /synthetic/users HTTP/1.0\r\nAuthorization: Basic {auth}\r\n"
                                "Content-Type: application/x-www-form-urlencoded\r\n"
                                f"Content-Length: {len(form)}\r\n\r\n{form}")
    return status


def _user_exists(env: dict[str, str], pod: str, user: str) -> bool:
    status, body = _http(env, pod, f"GET /synthetic/users/{user} HTTP/1.0\r\n\r\n")
    assert status in (200, 404), (status, body)
    return status == 200 and body["exists"] is True


def _members(env: dict[str, str]) -> list[str]:
    return sorted(p["metadata"]["name"] for p in _pods(env, MEMBERS))


def test_up_creates_the_schema_once_and_members_share_users(stack: ProjectStack) -> None:
    seconds, _ = stack.up()
    env = stack.env
    jobs = kube_json(env, "get", "jobs", "-n", NAMESPACE)["items"]
    assert len(jobs) == 1 and jobs[0]["status"].get("succeeded") == 1
    log = kubectl(env, "logs", "-n", NAMESPACE, f"job/{jobs[0]['metadata']['name']}").stdout
    created = re.findall(r"schema created in wso2carbon_db from (dbscripts/\S+): (\d+) tables in (\d+) ms", log)
    assert [c[0] for c in created] == ["dbscripts/postgresql.sql", "dbscripts/identity/postgresql.sql"], log
    print(f"\n[numbers] cold up with the database: {seconds:.0f} s; schema: "
          + ", ".join(f"{f} {n} tables in {ms} ms" for f, n, ms in created))
    assert int(created[0][1]) >= 8

    # The members read the rendered datasource: the password token was replaced, the driver loaded.
    a, b = _members(env)
    ds = kubectl(env, "exec", "-n", NAMESPACE, a, "--", "bash", "-c",
                 "cat $CARBON_HOME/repository/conf/datasources/master-datasources.xml").stdout
    assert "jdbc:postgresql://wso2is-db:5432/wso2carbon_db" in ds and "@@wso2k8s:" not in ds
    assert "&amp;&lt;x&gt;" in ds  # the secret's markup characters, escaped by the entrypoint
    lib = kubectl(env, "exec", "-n", NAMESPACE, a, "--", "bash", "-c",
                  "ls $CARBON_HOME/repository/components/lib").stdout
    assert "postgresql-42.7.4.jar" in lib

    user = f"u{secrets.token_hex(3)}"
    assert not _user_exists(env, b, user)
    assert _add_user(env, a, user) == 201
    started = time.monotonic()
    wait_until(lambda: _user_exists(env, b, user), 30, f"{user} to be visible through {b}", every=0.05)
    print(f"[numbers] user created on {a} -> visible on {b}: {(time.monotonic() - started) * 1000:.0f} ms")
    assert _add_user(env, b, user) == 409  # the same row, not a second store

    # A second `up` changes nothing and runs no schema Job again.
    seconds, changes = stack.up()
    assert set(changes) <= {"same"}, changes
    assert len(kube_json(env, "get", "jobs", "-n", NAMESPACE)["items"]) == 1
    print(f"[numbers] warm up: {seconds:.0f} s")
    # The schema script run again finds the schema and does nothing (what a new Job would do).
    db = _pods(env, DATABASE)[0]["metadata"]["name"]
    schemas = "wso2carbon_db dbscripts/postgresql.sql reg_cluster_lock\n" \
              "wso2carbon_db dbscripts/identity/postgresql.sql idn_base_table\n"
    again = kubectl(env, "exec", "-n", NAMESPACE, db, "--", "env", "DB_HOST=127.0.0.1", "DB_PORT=5432",
                    "DB_USER=wso2carbon", "SCHEMA_DIR=/nonexistent", f"SCHEMAS={schemas}",
                    "/usr/local/bin/schema.sh").stdout
    assert again.count("schema already present") == 2 and "created" not in again


def test_users_survive_deleting_both_members(stack: ProjectStack) -> None:
    env = stack.env
    a, _ = _members(env)
    user = f"u{secrets.token_hex(3)}"
    assert _add_user(env, a, user) == 201
    old = set(_members(env))
    kubectl(env, "delete", "pod", "-n", NAMESPACE, "-l", MEMBERS, "--wait=false")
    wait_until(lambda: (len(p := _pods(env, MEMBERS)) == 2 and all(_ready(x) for x in p)
                        and not old & {x["metadata"]["name"] for x in p}), 300, "two new ready members")
    assert all(_user_exists(env, m, user) for m in _members(env))
    # A rollout (a rendered setting changes: new image, new RC ready, old one deleted) keeps them too.
    old = set(_members(env))
    stack.set_config("workload", {"replicas": 2, "java_opts": "-Xms32m -Xmx120m",
                                  "resources": {"cpu_request": "100m", "memory_request": "128Mi", "cpu_limit": "1",
                                                "memory_limit": "512Mi"}})
    stack.up()
    wait_until(lambda: _all_ready(env) and not old & set(_members(env)), 300, "two rolled members")
    assert all(_user_exists(env, m, user) for m in _members(env))
    assert len(kube_json(env, "get", "jobs", "-n", NAMESPACE)["items"]) == 1  # no schema Job on a rollout


def _all_ready(env: dict[str, str]) -> bool:
    pods = _pods(env, MEMBERS)
    return len(pods) == 2 and all(_ready(p) for p in pods)


def test_the_database_pod_deleted_keeps_its_data(stack: ProjectStack) -> None:
    env = stack.env
    a, b = _members(env)
    user = f"u{secrets.token_hex(3)}"
    assert _add_user(env, a, user) == 201
    db = _pods(env, DATABASE)[0]
    started = time.monotonic()
    kubectl(env, "delete", "pod", "-n", NAMESPACE, db["metadata"]["name"], "--wait=true")
    wait_until(lambda: any(_ready(p) and p["metadata"]["uid"] != db["metadata"]["uid"]
                           for p in _pods(env, DATABASE)), 120, "the new database pod ready")
    back = time.monotonic() - started
    wait_until(lambda: _all_ready(env) and _user_exists(env, b, user), 120, f"{user} through {b} again")
    print(f"\n[numbers] database pod deleted: its replacement ready in {back:.0f} s, members serving the user "
          f"again after {time.monotonic() - started:.0f} s")
    assert "using the existing data" in kubectl(env, "logs", "-n", NAMESPACE, f"{DATABASE.split('=')[1]}-0").stdout


def test_with_the_database_down_members_go_unready_and_recover(stack: ProjectStack) -> None:
    env = stack.env
    a, _ = _members(env)
    started = time.monotonic()
    kubectl(env, "scale", "statefulset", "wso2is-db", "-n", NAMESPACE, "--replicas=0")
    # The members notice: they log it and leave the Service's endpoints (readiness), without restarting.
    wait_until(lambda: not any(_ready(p) for p in _pods(env, MEMBERS)), 120, "members to go unready")
    print(f"\n[numbers] database down: members unready after {time.monotonic() - started:.0f} s")
    assert "wso2k8s-db: Datasource WSO2_CARBON_DB is unreachable" in kubectl(env, "logs", "-n", NAMESPACE, a).stdout
    status, _ = _http(env, a, "GET /carbon/admin/login.jsp HTTP/1.0\r\n\r\n")  # what the readiness probe gets
    script = 'exec 3<>/dev/tcp/127.0.0.1/9763; printf "GET /carbon/admin/login.jsp HTTP/1.0\r\n\r\n" >&3; cat <&3'
    body = kubectl(env, "exec", "-n", NAMESPACE, a, "--", "bash", "-c", script).stdout
    assert status == 503 and "wso2k8s-db: Datasource WSO2_CARBON_DB is unreachable (jdbc:postgresql://" in body, body
    started = time.monotonic()
    kubectl(env, "scale", "statefulset", "wso2is-db", "-n", NAMESPACE, "--replicas=1")
    wait_until(lambda: _all_ready(env), 300, "members ready again")
    print(f"[numbers] database back: members ready again after {time.monotonic() - started:.0f} s")
    restarts = [c["restartCount"] for p in _pods(env, MEMBERS) for c in p["status"]["containerStatuses"]]
    assert restarts == [0, 0], restarts  # liveness is a TCP check while the database is enabled
    assert "wso2k8s-db: Datasource WSO2_CARBON_DB is reachable" in kubectl(env, "logs", "-n", NAMESPACE, a).stdout


def test_the_database_down_during_an_up_fails_clearly_and_the_next_up_converges(stack: ProjectStack) -> None:
    """Issue 14's dependency down during an `up`: a rollout (a rendered setting changed) while the database is
    stopped. The new members cannot get ready; `up` fails within the stack's await timeout, and the diagnosis
    tools/up.sh prints names the datasource; with the database back, recover.py (tools/up.sh runs it) and the
    next `up` converge on the new generation, with the data kept."""
    env = stack.env
    a, _ = _members(env)
    user = f"u{secrets.token_hex(3)}"
    assert _add_user(env, a, user) == 201
    old_rcs = {r["metadata"]["name"] for r in kube_json(env, "get", "rc", "-n", NAMESPACE)["items"]}
    kubectl(env, "scale", "statefulset", "wso2is-db", "-n", NAMESPACE, "--replicas=0")
    wait_until(lambda: not _pods(env, DATABASE), 120, "the database pod to go")
    stack.set_config("workload", {"await_timeout_seconds": 40})
    stack.set_config("clustering", {"domain": f"db.down.{secrets.token_hex(2)}"})
    started = time.monotonic()
    proc = stack.pulumi("up", "--yes", "--skip-preview", check=False, timeout=600)
    failed_after = time.monotonic() - started
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "default-cluster-rc" in output, output[-3000:]
    assert "Traceback" not in proc.stderr.replace("KeyboardInterrupt", ""), output[-3000:]
    new_rcs = {r["metadata"]["name"] for r in kube_json(env, "get", "rc", "-n", NAMESPACE)["items"]} - old_rcs
    assert len(new_rcs) == 1, new_rcs
    diag = subprocess.run([str(PROJECT_DIR / ".venv/bin/python"), "-m", "wso2k8s.diagnose", NAMESPACE],
                          cwd=PROJECT_DIR, env={**os.environ, **env}, capture_output=True, text=True)
    assert diag.returncode == 1 and f"(of {new_rcs.pop()})" in diag.stdout, diag.stdout
    assert "its last error:" in diag.stdout and "Datasource WSO2_CARBON_DB is unreachable" in diag.stdout, diag.stdout

    kubectl(env, "scale", "statefulset", "wso2is-db", "-n", NAMESPACE, "--replicas=1")
    wait_until(lambda: any(_ready(p) for p in _pods(env, DATABASE)), 120, "the database ready again")
    stack.set_config("workload", {"await_timeout_seconds": 300})
    repaired = recover(stack)
    assert repaired.returncode == 0, repaired.stderr
    started = time.monotonic()
    seconds, _ = stack.up()
    wait_until(lambda: _all_ready(env), 180, "the members ready")
    converged_after = time.monotonic() - started
    print(f"\n[numbers] database down during an up: up failed after {failed_after:.0f} s (await timeout 40 s); "
          f"with the database back, recover + up converged in {converged_after:.0f} s (up {seconds:.0f} s)")
    rcs = {r["metadata"]["name"] for r in kube_json(env, "get", "rc", "-n", NAMESPACE)["items"]}
    assert len(rcs) == 1 and not rcs & old_rcs, (old_rcs, rcs)  # the new generation, alone
    assert _user_exists(env, _members(env)[1], user)
    assert [s for s in stack.preview_steps() if s.get("op") not in ("same", None)] == []
