"""The real thing: `pulumi preview`/`up`/`destroy` on the real engine, the local cluster running the pods.

One stack lives through the whole module (tests run in file order): preview → up → the console and the
members → the admin password signs in → no-change up → secrets → affinity → a pod replaced → RBAC removed and
restored → replicas changed → a rendered setting rolled → destroy → the rest of the cluster as it was. Each
step asserts what the engine, the API server or the pods report.

The stack has its own namespace, node ports and image tags (tests/engine/isolation.py): a dev stack running
on the same cluster is neither in the way nor touched.
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console import INDEX, LOGIN, SESSION_COOKIE, log_in, request
from tests.engine.conftest import http_get
from tests.engine.isolation import cluster_snapshot, differences, free_node_ports
from tests.engine.stack import ProjectStack, kube_json, kubectl, wait_until
from wso2k8s import confdiff

RUN = secrets.token_hex(4)
# Set with `pulumi config set --secret`; must reach user-mgt.xml byte for byte (unicode, tab, XML markup,
# backslash references, sed and shell metacharacters, the token marker, leading zeros, a YAML boolean).
ADMIN_PASSWORD = f"Adm1n-{RUN} 0042 pä$$ wörd ✓\t<&>\"' \\1 / & | @@ ${{nope}} true 🔑"
KEYSTORE_PASSWORD = "wso2carbon"  # the stock keystores open with it (the loader checks): nothing to hunt for
NAMESPACE = f"wso2k8s-test-{RUN}"
TIMINGS: dict[str, float] = {}  # printed at the end of the module and kept for the benchmark report
TIMINGS_FILE = Path(__file__).resolve().parents[2] / "build" / "engine-timings.json"


@pytest.fixture(scope="module")
def untouched(engines_env: dict[str, str]) -> dict[str, str]:
    """Everything outside this module's namespace before it creates anything (a dev stack, if one is up)."""
    return cluster_snapshot(engines_env, except_namespace=NAMESPACE)


@pytest.fixture(scope="module")
def stack(engines_env: dict[str, str], untouched: dict[str, str],
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProjectStack]:
    s = ProjectStack.create(tmp_path_factory.mktemp("stack"), "e2e", engines_env, passphrase=secrets.token_hex(16))
    s.isolate("wso2is", "5.1.0", NAMESPACE, free_node_ports(engines_env, 4))
    s.set_config("profiles", ["default"])
    s.set_config("workload", {"replicas": 2, "java_opts": "-Xms32m -Xmx128m",
                              "resources": {"cpu_request": "100m", "memory_request": "128Mi", "cpu_limit": "1",
                                            "memory_limit": "512Mi"}})
    s.set_secret("admin_password", ADMIN_PASSWORD)
    s.set_secret("keystore_password", KEYSTORE_PASSWORD)
    yield s
    s.pulumi("destroy", "--yes", "--skip-preview", check=False)
    # The figures the benchmark script reports (benchmarks/run.py reads this file).
    TIMINGS_FILE.parent.mkdir(parents=True, exist_ok=True)
    TIMINGS_FILE.write_text(json.dumps(TIMINGS, indent=2))
    print("\n".join(["", "engine timings:", *(f"  {k}: {v:.1f}s" for k, v in TIMINGS.items()), *s.log]))


def _pods(env: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = kube_json(env, "get", "pods", "-n", NAMESPACE, "-l", "name=wso2is")["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def _ready_ips(env: dict[str, str]) -> set[str]:
    ips = set()
    for pod in _pods(env):
        conditions = {c["type"]: c["status"] for c in pod["status"].get("conditions", [])}
        if conditions.get("Ready") == "True":
            ips.add(pod["status"]["podIP"])
    return ips


def _members_seen_by(env: dict[str, str], pod: str) -> dict[str, Any]:
    """Ask one member for its member list from inside its pod (bash /dev/tcp: the image has no curl), on the
    port its container declares as `http` (9763 + the port offset)."""
    spec = kube_json(env, "get", "pod", pod, "-n", NAMESPACE)["spec"]["containers"][0]
    port = next(p["containerPort"] for p in spec["ports"] if p["name"] == "http")
    script = (f'exec 3<>/dev/tcp/127.0.0.1/{port}; printf "GET /cluster/members HTTP/1.0\\r\\n\\r\\n" >&3; '
              'sed "1,/^\\r$/d" <&3')
    out = kubectl(env, "exec", "-n", NAMESPACE, pod, "--", "bash", "-c", script).stdout
    result: dict[str, Any] = json.loads(out)
    return result


def _everyone_sees_everyone(env: dict[str, str]) -> bool:
    pods = _pods(env)
    ips = {p["status"].get("podIP") for p in pods}
    if len(pods) < 2 or _ready_ips(env) != ips:
        return False
    return all(set(_members_seen_by(env, p["metadata"]["name"])["members"]) == ips for p in pods)


def test_preview_shows_the_whole_graph(stack: ProjectStack) -> None:
    started = time.monotonic()
    steps = stack.preview_steps()
    TIMINGS["preview (cold)"] = time.monotonic() - started
    created = sorted(s["newState"]["type"] for s in steps if s["op"] == "create")
    for typ in ("docker-build:index:Image", "kubernetes:core/v1:ReplicationController", "kubernetes:core/v1:Service",
                "kubernetes:core/v1:ServiceAccount", "kubernetes:rbac.authorization.k8s.io/v1:Role",
                "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "kubernetes:core/v1:Secret",
                "wso2k8s:image:BaseImage", "wso2k8s:image:ProductImage", "wso2k8s:kubernetes:CarbonCluster",
                "wso2k8s:kubernetes:CarbonService", "wso2k8s:kubernetes:MembershipAccess"):
        assert typ in created, f"{typ} not in preview: {created}"


def test_a_bad_setting_fails_the_preview_with_the_loader_message(stack: ProjectStack) -> None:
    good = stack.stack_file.read_text()
    stack.set_config("workload", {"replicaz": 3})
    try:
        proc = stack.pulumi("preview", check=False)
    finally:
        stack.stack_file.write_text(good)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "wso2-kubernetes:workload.replicaz (Pulumi.e2e.yaml): unknown key 'replicaz'. Did you mean 'replicas'?" \
        in output
    assert "Traceback" not in output


def test_up_creates_everything_on_the_real_cluster(stack: ProjectStack) -> None:
    seconds, changes = stack.up()
    TIMINGS["up (cold: images built, pods ready)"] = seconds
    assert changes.get("create", 0) >= 15, changes
    out = stack.outputs()
    env = stack.env
    svc = kube_json(env, "get", "svc", "wso2is", "-n", NAMESPACE)
    assert svc["spec"]["type"] == "NodePort" and svc["spec"]["sessionAffinity"] == "ClientIP"
    node = stack.node_ports
    assert {p["name"]: (p["port"], p["nodePort"], p["protocol"]) for p in svc["spec"]["ports"]} == {
        "servlet-http": (9763, node["servlet-http"], "TCP"), "servlet-https": (9443, node["servlet-https"], "TCP"),
        "kdc-server": (8000, node["kdc-server"], "TCP"),
        "thrift-entitlement": (10500, node["thrift-entitlement"], "TCP")}
    assert not {32001, 32002, 32003, 32004} & set(node.values())  # the dev stack's
    rc = kube_json(env, "get", "rc", out["workloads"]["default"], "-n", NAMESPACE)
    container = rc["spec"]["template"]["spec"]["containers"][0]
    digest = out["product_images"]["default"]
    assert container["image"] == digest and "@sha256:" in digest and digest.startswith("127.0.0.1:5000/wso2/is-5.1.0")
    assert [p["containerPort"] for p in container["ports"]] == [9763, 9443, 8000, 10500]
    assert svc["spec"]["selector"].items() <= rc["spec"]["template"]["metadata"]["labels"].items()
    binding = kube_json(env, "get", "rolebinding", "wso2is-membership", "-n", NAMESPACE)
    assert binding["subjects"][0]["name"] == rc["spec"]["template"]["spec"]["serviceAccountName"] == "wso2is"
    role = kube_json(env, "get", "role", "wso2is-membership", "-n", NAMESPACE)
    assert role["rules"] == [{"apiGroups": [""], "resources": ["endpoints", "pods"], "verbs": ["get", "list"]}]
    # the registry holds exactly the digest the RC runs
    tagged, sha = digest.split("@")
    repository = tagged.split("/", 1)[1].rsplit(":", 1)[0]  # 127.0.0.1:5000/<repository>:<tag>
    accept = ", ".join(["application/vnd.docker.distribution.manifest.v2+json",
                        "application/vnd.docker.distribution.manifest.list.v2+json",
                        "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json"])
    req = urllib.request.Request(f"http://127.0.0.1:5000/v2/{repository}/manifests/{sha}", method="HEAD",
                                 headers={"Accept": accept})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.headers["Docker-Content-Digest"] == sha


def _console(stack: ProjectStack) -> str:
    return f"https://127.0.0.1:{stack.node_ports['servlet-https']}"


def test_pods_are_ready_and_the_console_answers_on_its_node_port(stack: ProjectStack) -> None:
    wait_until(lambda: len(_ready_ips(stack.env)) == 2, 300, "2 ready pods")
    status, body = http_get(_console(stack) + "/carbon/")
    assert status == 200 and "WSO2 Identity Server" in body
    assert http_get(f"http://127.0.0.1:{stack.node_ports['servlet-http']}/carbon/")[0] == 200
    import socket

    for port in (stack.node_ports["kdc-server"], stack.node_ports["thrift-entitlement"]):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            assert conn.recv(64)


def test_members_find_each_other_through_the_api(stack: ProjectStack) -> None:
    TIMINGS["up → both members see each other (after up returned)"] = wait_until(
        lambda: _everyone_sees_everyone(stack.env), 120, "each member to list both pod IPs")
    pod = _pods(stack.env)[0]["metadata"]["name"]
    seen = _members_seen_by(stack.env, pod)
    assert seen["scheme"] == "kubernetes" and seen["namespace"] == NAMESPACE and seen["services"] == ["wso2is"]
    assert not seen.get("last_error")


def test_the_admin_password_signs_in_through_the_node_port(stack: ProjectStack) -> None:
    """The secret set with `pulumi config set --secret` went through the Kubernetes Secret and the entrypoint
    into user-mgt.xml intact: it signs in to the console; near misses do not."""
    base = _console(stack)
    answer = log_in(base, "admin", ADMIN_PASSWORD)
    assert (answer.status, answer.location) == (302, INDEX + "?loginStatus=true"), answer
    cookie = answer.headers.get("Set-Cookie") or ""
    assert SESSION_COOKIE.match(cookie) and "; Secure" in cookie, cookie
    assert answer.session
    home = request(base + INDEX, cookie=answer.session)  # ClientIP affinity: the member that made the session
    assert home.status == 200 and "Signed-in as: admin" in home.body
    assert request(base + INDEX).location == LOGIN
    for wrong in (ADMIN_PASSWORD.replace(" ", "", 1), ADMIN_PASSWORD.replace("\t", " "), ADMIN_PASSWORD[:-1],
                  ADMIN_PASSWORD.replace("<&>", "&lt;&amp;&gt;"), "admin", KEYSTORE_PASSWORD):
        refused = log_in(base, "admin", wrong)
        assert (refused.status, refused.location, refused.session) == (302, LOGIN + "?loginStatus=false", None)


def test_second_up_changes_nothing(stack: ProjectStack) -> None:
    stack.pulumi("preview", "--expect-no-changes")
    seconds, changes = stack.up()
    TIMINGS["up (nothing changed)"] = seconds
    assert set(changes) == {"same"}, changes


def test_passwords_are_only_encrypted_in_state_and_export(stack: ProjectStack) -> None:
    export = stack.pulumi("stack", "export").stdout
    states = [p.read_text(errors="replace") for p in stack.state_dir.rglob("*.json")]
    config = stack.stack_file.read_text()
    # The Kubernetes provider keeps a Secret's values base64-encoded: look for both spellings, in the JSON's
    # decoded strings (JSON may escape '<&>' and non-ASCII) and, for the ASCII head, in the raw text.
    forms = [ADMIN_PASSWORD, base64.b64encode(ADMIN_PASSWORD.encode()).decode()]
    strings = [s for text in (export, *states) for s in _decoded(text)]
    for form in forms:
        assert not any(form in s for s in strings) and form not in config
    head = ADMIN_PASSWORD.split(" ", 1)[0]
    assert head not in export and head not in config and not any(head in text for text in states)
    assert '"ciphertext"' in export
    revealed = _decoded(stack.pulumi("stack", "export", "--show-secrets").stdout)
    assert any(form in s for form in forms for s in revealed)  # the search above could have found it


def _decoded(text: str) -> list[str]:
    """The strings of a JSON document (escapes decoded), or the text itself when it is not JSON."""
    try:
        return list(_strings(json.loads(text)))
    except ValueError:
        return [text]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_passwords_are_not_in_the_clusters_etcd_files(stack: ProjectStack) -> None:
    """Secrets are encrypted at rest by the local cluster's API server: the etcd files hold only ciphertext."""
    secret = kube_json(stack.env, "-n", NAMESPACE, "get", "secret", "wso2is-secrets")
    assert base64.b64decode(secret["data"]["admin_password"]).decode() == ADMIN_PASSWORD  # it is stored
    etcd = Path(stack.env["KUBECONFIG"]).parent / "etcd"
    blobs = [f.read_bytes() for f in etcd.rglob("*") if f.is_file()]
    assert blobs, f"no etcd files under {etcd}"
    head = ADMIN_PASSWORD.split(" ", 1)[0]
    for needle in (ADMIN_PASSWORD.encode(), head.encode(), base64.b64encode(ADMIN_PASSWORD.encode())):
        assert not any(needle in blob for blob in blobs)
    assert any(b"k8s:enc:secretbox:v1:" in blob for blob in blobs)  # what the search could have missed


def test_session_affinity_keeps_a_client_on_one_member(stack: ProjectStack) -> None:
    selves = {json.loads(http_get(_console(stack) + "/cluster/members")[1])["self"] for _ in range(12)}
    assert len(selves) == 1, selves


def test_a_deleted_pod_is_replaced_and_rejoins(stack: ProjectStack) -> None:
    victim = _pods(stack.env)[0]["metadata"]["name"]
    kubectl(stack.env, "delete", "pod", victim, "-n", NAMESPACE, "--wait=false")
    TIMINGS["pod deleted → replacement seen by both members"] = wait_until(
        lambda: victim not in {p["metadata"]["name"] for p in _pods(stack.env)} and
        _everyone_sees_everyone(stack.env), 180, "the new pod to join")


def test_without_the_rolebinding_members_log_a_clear_403(stack: ProjectStack) -> None:
    kubectl(stack.env, "delete", "rolebinding", "wso2is-membership", "-n", NAMESPACE)
    pod = _pods(stack.env)[0]["metadata"]["name"]

    def refused() -> bool:
        log = kubectl(stack.env, "logs", pod, "-n", NAMESPACE).stdout
        return "HTTP 403" in log and "endpoints" in log

    wait_until(refused, 60, "a 403 log line")
    assert "HTTP 403" in _members_seen_by(stack.env, pod).get("last_error", "")
    _, changes = stack.up("--refresh")  # Pulumi sees the binding is gone and puts it back
    assert changes.get("create", 0) == 1, changes
    wait_until(lambda: not _members_seen_by(stack.env, pod).get("last_error"), 60, "the error to clear")


def test_changing_replicas_previews_exactly_that_and_applies(stack: ProjectStack) -> None:
    stack.set_config("workload", {"replicas": 3})
    steps = [s for s in stack.preview_steps() if s["op"] not in ("same",)]
    changed = sorted((s["op"], s["newState"]["type"]) for s in steps)
    # the RC, the gate (it checks the new count), and the CarbonCluster component whose inputs carry the
    # replicas for the policy pack (components/policy_view.py): nothing else
    assert {("update", "kubernetes:core/v1:ReplicationController"),
            ("update", "pulumi-python:dynamic/wso2k8s:FormationGate")} <= set(changed) <= {
        ("update", "kubernetes:core/v1:ReplicationController"),
        ("update", "pulumi-python:dynamic/wso2k8s:FormationGate"),
        ("update", "wso2k8s:kubernetes:CarbonCluster")}, steps
    rc = next(s for s in steps if s["newState"]["type"] == "kubernetes:core/v1:ReplicationController")
    assert rc.get("diffReasons") == ["spec"] or "spec" in json.dumps(rc.get("detailedDiff", {}))
    stack.up()
    wait_until(lambda: len(_ready_ips(stack.env)) == 3, 300, "3 ready pods")
    stack.set_config("workload", {"replicas": 2})
    stack.up()


def test_a_preview_shows_the_conf_lines_that_change_from_the_state_alone(stack: ProjectStack) -> None:
    """The deployed side comes from the stack output conf_files (the state), the proposed side from the files
    the preview just rendered: only axis2.xml changes, by its one line, and no secret appears."""
    deployed = stack.outputs()["conf_files"]
    stack.set_config("clustering", {"domain": "wso2.is.e2e.domain"})
    stack.pulumi("preview")
    text = confdiff.report(stack.name, deployed, stack.dir / "build")
    changed = [line for line in text.splitlines() if line[:1] in ("+", "-") and not line.startswith(("+++", "---"))]
    assert text.count("\n--- deployed/default/") == 1 and "repository/conf/axis2/axis2.xml" in text, text
    assert len(changed) == 2 and "wso2.is.e2e.domain" in changed[1], changed
    assert ADMIN_PASSWORD not in text and KEYSTORE_PASSWORD not in text
    TIMINGS["conf diff section for one parameter (bytes)"] = len(text)


def test_rendered_settings_roll_new_pods_while_old_ones_serve(stack: ProjectStack) -> None:
    """A clustering parameter and the port offset: the image is rebuilt, new members listen on other ports,
    and the console on its node port answers throughout (named target ports, create-before-delete)."""
    old_rc = stack.outputs()["workloads"]["default"]
    old_pods = {p["metadata"]["name"] for p in _pods(stack.env)}
    stack.set_config("clustering", {"domain": "wso2.is.e2e.domain"})
    stack.set_config("port_offset", 1)
    failures: list[str] = []
    served = [0]
    stop = threading.Event()

    def probe() -> None:
        while not stop.is_set():
            try:
                http_get(_console(stack) + "/carbon/", timeout=3)
                served[0] += 1
            except OSError as err:
                failures.append(repr(err))
            time.sleep(0.2)

    watcher = threading.Thread(target=probe, daemon=True)
    watcher.start()
    try:
        seconds, changes = stack.up()
    finally:
        stop.set()
        watcher.join()
    TIMINGS["rendered-setting rollout (image rebuilt, new RC ready, old deleted)"] = seconds
    new_rc = stack.outputs()["workloads"]["default"]
    assert new_rc != old_rc
    assert changes.get("replace", 0) >= 1, changes
    rcs = {r["metadata"]["name"] for r in kube_json(stack.env, "get", "rc", "-n", NAMESPACE)["items"]}
    assert rcs == {new_rc}
    assert not old_pods & {p["metadata"]["name"] for p in _pods(stack.env)}
    assert served[0] > 10 and failures == [], (served, failures[:5])
    TIMINGS["rollout: console requests on the node port answered during it (none failed)"] = served[0]
    pod = _pods(stack.env)[0]["metadata"]["name"]
    axis2 = kubectl(stack.env, "exec", "-n", NAMESPACE, pod, "--", "cat",
                    "/home/wso2carbon/wso2is-5.1.0/repository/conf/axis2/axis2.xml").stdout
    assert '<parameter name="domain">wso2.is.e2e.domain</parameter>' in axis2
    container = kube_json(stack.env, "get", "rc", new_rc, "-n", NAMESPACE)["spec"]["template"]["spec"]["containers"][0]
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {
        "http": 9764, "https": 9444, "kdc": 8001, "thrift": 10501}
    assert http_get(_console(stack) + "/carbon/")[0] == 200  # same node port, new container port
    assert log_in(_console(stack), "admin", ADMIN_PASSWORD).session  # the new members read the same secret
    wait_until(lambda: _everyone_sees_everyone(stack.env), 60, "the new members to see each other")


def test_destroy_leaves_nothing_behind(stack: ProjectStack) -> None:
    stack.pulumi("destroy", "--yes", "--skip-preview")
    wait_until(lambda: kubectl(stack.env, "get", "ns", NAMESPACE, check=False).returncode != 0, 180,
               f"namespace {NAMESPACE} to be gone")
    # This stack's objects anywhere (a dev stack's carry the same managed-by label, another instance).
    leftovers = kubectl(stack.env, "get", "all,sa,role,rolebinding,secret", "-A", "-l",
                        "app.kubernetes.io/instance=wso2is-e2e", "-o", "name").stdout.strip()
    assert leftovers == ""

    def no_rules() -> bool:
        rules = subprocess.run(["iptables-save"], capture_output=True, text=True, check=True).stdout
        return f"{NAMESPACE}/wso2is" not in rules

    wait_until(no_rules, 60, "kube-proxy to drop the Service's iptables rules")
    assert stack.outputs() == {}


def test_the_rest_of_the_cluster_is_as_it_was(stack: ProjectStack, untouched: dict[str, str]) -> None:
    """A dev stack (or anything else) outside the test's namespace: same objects, same specs, same node ports."""
    after = cluster_snapshot(stack.env, except_namespace=NAMESPACE)
    assert differences(untouched, after) == []
    assert any(key.startswith("Service/default/kubernetes") for key in after)  # the snapshot sees the cluster
