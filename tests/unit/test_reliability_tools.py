"""The pure parts of the reliability tooling: the await annotations, wso2k8s.diagnose's wording,
tools/pulumi/recover.py's choices (stale locks, which pending creates are imported), the percentile."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from components.carbon_cluster import await_annotations
from components.graph import members_of
from tests.reliability.common import percentile
from tests.unit.helpers import PROJECT_DIR, stack_settings
from wso2k8s.diagnose import explain_pod


def _recover() -> ModuleType:
    spec = importlib.util.spec_from_file_location("recover", PROJECT_DIR / "tools/pulumi/recover.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


recover = _recover()


def test_an_rc_waits_for_its_available_replicas_within_the_timeout() -> None:
    s = stack_settings(workload={"replicas": 3, "await_timeout_seconds": 45}).profiles[0]
    assert await_annotations(members_of(s)) == {"pulumi.com/timeoutSeconds": "45",
                                                "pulumi.com/waitFor": "jsonpath={.status.availableReplicas}=3"}
    assert await_annotations(members_of(stack_settings(workload={"kind": "Deployment"}).profiles[0])) == {
        "pulumi.com/timeoutSeconds": "600"}
    assert await_annotations(members_of(stack_settings(workload={"await_ready": False}).profiles[0])) == {
        "pulumi.com/skipAwait": "true"}


def _pod(ready: bool, **status: object) -> dict[str, object]:
    return {"metadata": {"name": "wso2is-abc-1", "ownerReferences": [{"name": "wso2is-abc"}]},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}], **status}}


def test_diagnose_names_the_state_the_exit_code_and_the_log_tail() -> None:
    crashing = _pod(False, containerStatuses=[{
        "name": "wso2is", "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "x"}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}])
    log = "\n".join(f"line {i}" for i in range(10)) + "\nUnrecognized VM option 'Nope'\n"
    text = explain_pod(crashing, log)
    assert text == ("pod wso2is-abc-1 (of wso2is-abc): container wso2is: CrashLoopBackOff, last run exited with "
                    "code 1 (Error), 3 restarts\n  its log ends with:\n    line 6\n    line 7\n    line 8\n"
                    "    line 9\n    Unrecognized VM option 'Nope'")
    pulling = _pod(False, containerStatuses=[{"name": "wso2is", "restartCount": 0, "state": {"waiting": {
        "reason": "ImagePullBackOff", "message": "Back-off pulling image"}}}])
    assert explain_pod(pulling, "") == ("pod wso2is-abc-1 (of wso2is-abc): container wso2is: ImagePullBackOff, "
                                        "0 restarts")
    unscheduled = _pod(False, phase="Pending")
    unscheduled["status"]["conditions"].append(  # type: ignore[index]
        {"type": "PodScheduled", "status": "False", "message": "0/1 nodes are available: Insufficient memory."})
    assert explain_pod(unscheduled, "") == ("pod wso2is-abc-1 (of wso2is-abc): not started: 0/1 nodes are "
                                            "available: Insufficient memory.")
    assert explain_pod(_pod(True), "anything") is None
    # running but not ready: the reason was logged once at start (Carbon's log4j layout), then other lines followed
    unready = _pod(False, containerStatuses=[{"name": "wso2is", "restartCount": 0, "state": {"running": {}}}])
    log = ("[2026-12-07 14:00:01,000]  INFO {org.wso2.carbon.core} -  starting\n"
           "[2026-12-07 14:00:02,000] ERROR {org.wso2.carbon.ndatasource} -  wso2k8s-db: Datasource WSO2_CARBON_DB is "
           "unreachable (jdbc:postgresql://wso2is-db:5432/wso2): Connection refused\n"
           + "".join(f"[2026-12-07 14:00:0{i},000]  INFO {{hazelcast}} -  member {i}\n" for i in range(3, 9)))
    text = explain_pod(unready, log)
    assert text is not None and text.splitlines()[1:3] == [
        "  its last error:", "    [2026-12-07 14:00:02,000] ERROR {org.wso2.carbon.ndatasource} -  wso2k8s-db: "
        "Datasource WSO2_CARBON_DB is unreachable (jdbc:postgresql://wso2is-db:5432/wso2): Connection refused"]
    assert "its last error" not in (explain_pod(crashing, log.splitlines()[1]) or "")  # in the tail already


def test_recover_removes_only_locks_of_dead_local_pulumi_processes(tmp_path: Path) -> None:
    locks = tmp_path / ".pulumi/locks/organization/wso2-kubernetes/dev"
    locks.mkdir(parents=True)
    pulumi = subprocess.Popen(["bash", "-c", "exec -a pulumi sleep 30"])  # a live process named pulumi
    try:
        while not Path(f"/proc/{pulumi.pid}/cmdline").read_bytes().startswith(b"pulumi\0"):
            time.sleep(0.01)  # until bash has exec'd
        cases = {"dead": {"pid": 2**22 + 7, "hostname": socket.gethostname()},
                 "live": {"pid": pulumi.pid, "hostname": socket.gethostname()},
                 "reused": {"pid": os.getpid(), "hostname": socket.gethostname()},  # alive, but not pulumi
                 "remote": {"pid": 2**22 + 7, "hostname": "another-host"}}
        for name, content in cases.items():
            (locks / f"{name}.json").write_text(json.dumps(content))
        assert sorted(p.stem for p in recover.stale_locks(tmp_path, "dev")) == ["dead", "reused"]
        assert recover.stale_locks(tmp_path, "prod") == []
    finally:
        pulumi.kill()
        pulumi.wait()


def test_recover_deletes_the_objects_of_pending_creates_and_clears_them() -> None:
    pending = [
        {"type": "creating", "resource": {"urn": "urn:a::rc", "type": "kubernetes:core/v1:ReplicationController",
                                          "inputs": {"metadata": {"name": "wso2is-1a", "namespace": "ns"}}}},
        {"type": "creating", "resource": {"urn": "urn:a::ns", "type": "kubernetes:core/v1:Namespace",
                                          "inputs": {"metadata": {"name": "ns"}}}},
        {"type": "creating", "resource": {"urn": "urn:a::role", "type": "kubernetes:rbac.authorization.k8s.io/v1:Role",
                                          "inputs": {"metadata": {"name": "r", "namespace": "ns"}}}},
        {"type": "creating", "resource": {"urn": "urn:a::img", "type": "docker-build:index:Image", "inputs": {}}},
        {"type": "creating", "resource": {"urn": "urn:a::auto", "type": "kubernetes:core/v1:Secret",
                                          "inputs": {"metadata": {"namespace": "ns"}}}},  # no name yet
        {"type": "creating", "resource": {"urn": "urn:a::svc", "type": "kubernetes:core/v1:Service",
                                          "inputs": {"metadata": {"name": "wso2is", "namespace": "ns"}}}},
        {"type": "updating", "resource": {"urn": "urn:a::sa", "type": "kubernetes:core/v1:ServiceAccount",
                                          "inputs": {"metadata": {"name": "wso2is", "namespace": "ns"}}}},
    ]
    deployment = {"pending_operations": pending, "resources": [
        {"type": "pulumi:providers:kubernetes", "id": "p", "inputs": {"kubeconfig": "/k/config"}},
        {"type": "kubernetes:core/v1:Service", "id": "ns/wso2is"}]}  # recorded: never deleted
    tail = ["--ignore-not-found", "--wait=true", "--timeout=120s"]
    assert recover.orphan_deletes(deployment) == [
        ["kubectl", "--kubeconfig=/k/config", "delete", *tail, "replicationcontroller", "wso2is-1a", "-n", "ns"],
        ["kubectl", "--kubeconfig=/k/config", "delete", *tail, "namespace", "ns"],
        ["kubectl", "--kubeconfig=/k/config", "delete", *tail, "role.rbac.authorization.k8s.io", "r", "-n", "ns"]]
    assert recover.refresh_args(pending) == ["refresh", "--yes", "--skip-preview", "--clear-pending-creates"]
    assert recover.kubernetes_id({"type": "pulumi:providers:kubernetes", "inputs": {}}) is None


def test_recover_with_nothing_pending_runs_no_refresh(tmp_path: Path) -> None:
    fake = tmp_path / "pulumi"
    fake.write_text('#!/bin/sh\necho "$@" >> "$0.calls"\n[ "$1" = stack ] && echo \'{"deployment": {}}\'\n')
    fake.chmod(0o755)
    proc = subprocess.run([sys.executable, str(PROJECT_DIR / "tools/pulumi/recover.py"), str(tmp_path), "dev", "--",
                           str(fake)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "pulumi.calls").read_text() == "stack export\n"


@pytest.mark.parametrize(("values", "q", "expected"), [
    ([5.0], 99, 5.0), ([1.0, 2.0, 3.0, 4.0], 50, 2.0), ([1.0, 2.0, 3.0, 4.0], 75, 3.0),
    ([float(i) for i in range(1, 101)], 99, 99.0), ([3.0, 1.0, 2.0], 100, 3.0)])
def test_nearest_rank_percentile(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == expected


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)


def _entry(ident: str, **extra: object) -> dict[str, object]:
    namespace, _, name = ident.rpartition("/")
    return {"urn": "urn:pulumi:s::p::wso2k8s:kubernetes:CarbonCluster$kubernetes:core/v1:ReplicationController::rc",
            "type": "kubernetes:core/v1:ReplicationController", "id": ident,
            "inputs": {"metadata": {"name": name, "namespace": namespace}}, **extra}


def test_a_failed_rollout_is_rolled_back_to_the_serving_generation() -> None:
    deployment = {"resources": [{"urn": "urn:stack", "type": "pulumi:pulumi:Stack"},
                                _entry("ns/wso2is-aaa", delete=True), _entry("ns/wso2is-bbb", initErrors=["timeout"])]}
    failed = deployment["resources"][2]
    rolled_back = recover.roll_back_failed_replacements(deployment)
    assert [r.message for r in rolled_back] == ["rc: ns/wso2is-aaa stays, ns/wso2is-bbb (never ready) goes"]
    # the failed generation leaves the state (the caller deletes its object): the next up would otherwise create
    # its replacement, same name, before deleting it, and adopt an object another field manager owns
    assert [r.failed for r in rolled_back] == [failed]
    assert deployment["resources"] == [{"urn": "urn:stack", "type": "pulumi:pulumi:Stack"}, _entry("ns/wso2is-aaa")]
    assert recover.kubectl_target(failed) == ["replicationcontroller", "wso2is-bbb", "-n", "ns"]


def test_a_ready_generation_that_never_formed_a_cluster_is_rolled_back_too() -> None:
    gate = {"urn": "urn:gate", "type": "pulumi-python:dynamic:Resource",
            "outputs": {"workload": "wso2is-bbb", "failure": "the members did not form one Hazelcast cluster"}}
    deployment = {"resources": [_entry("ns/wso2is-aaa", delete=True),
                                _entry("ns/wso2is-bbb", outputs={"metadata": {"name": "wso2is-bbb"}}), gate]}
    assert [r.message for r in recover.roll_back_failed_replacements(deployment)] == [
        "rc: ns/wso2is-aaa stays, ns/wso2is-bbb (never ready) goes"]
    gate["outputs"]["failure"] = None  # formed: a normal replace, left alone
    assert recover.roll_back_failed_replacements({"resources": [
        _entry("ns/wso2is-aaa", delete=True), _entry("ns/wso2is-bbb", outputs={"metadata": {"name": "wso2is-bbb"}}),
        gate]}) == []



def test_recover_imports_the_rolled_back_state_before_deleting_the_failed_generation(tmp_path: Path) -> None:
    """The order matters: were the object deleted first and the import to fail, the state would name an RC that is
    gone as the stack's serving one."""
    state = {"deployment": {"resources": [
        {"type": "pulumi:providers:kubernetes", "id": "p", "inputs": {"kubeconfig": "/k/config"}},
        _entry("ns/wso2is-aaa", delete=True), _entry("ns/wso2is-bbb", initErrors=["interrupted"])]}}
    calls = tmp_path / "calls"
    (tmp_path / "state.json").write_text(json.dumps(state))
    fake_pulumi = tmp_path / "pulumi"
    fake_pulumi.write_text(f"""#!/bin/sh
echo "pulumi $*" >> {calls}
[ "$1 $2" = "stack export" ] && cat {tmp_path}/state.json
[ "$1 $2" = "stack import" ] && cp "$4" {tmp_path}/imported.json
exit 0
""")
    (tmp_path / "kubectl").write_text(f'#!/bin/sh\necho "kubectl $*" >> {calls}\necho \'{{"items": []}}\'\n')
    for tool in ("pulumi", "kubectl"):
        (tmp_path / tool).chmod(0o755)
    proc = subprocess.run([sys.executable, str(PROJECT_DIR / "tools/pulumi/recover.py"), str(tmp_path), "dev", "--",
                           str(fake_pulumi)], capture_output=True, text=True,
                          env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"})
    assert proc.returncode == 0, proc.stderr
    assert "ns/wso2is-aaa stays, ns/wso2is-bbb (never ready) goes" in proc.stderr
    lines = calls.read_text().splitlines()
    imported = next(i for i, line in enumerate(lines) if line.startswith("pulumi stack import"))
    deleted = [i for i, line in enumerate(lines) if line.startswith("kubectl") and " delete " in line]
    assert [lines[i] for i in deleted] == ["kubectl --kubeconfig=/k/config delete --ignore-not-found --wait=true "
                                           "--timeout=120s replicationcontroller wso2is-bbb -n ns"]
    assert deleted[0] > imported
    kept = [r.get("id") for r in json.loads((tmp_path / "imported.json").read_text())["deployment"]["resources"]]
    assert kept == ["p", "ns/wso2is-aaa"]

@pytest.mark.parametrize("resources", [
    [_entry("ns/wso2is-aaa", delete=True), _entry("ns/wso2is-bbb")],  # the new one got ready: a normal replace
    [_entry("ns/wso2is-aaa", delete=True), _entry("ns/wso2is-aaa", initErrors=["x"])],  # same object
    [_entry("ns/wso2is-bbb", initErrors=["x"])],  # a first create that failed: nothing to go back to
    [{**_entry("img", delete=True), "type": "docker-build:index:Image"},
     {**_entry("img2", initErrors=["x"]), "type": "docker-build:index:Image"}],
])
def test_other_states_are_left_alone(resources: list[dict[str, object]]) -> None:
    before = json.dumps(resources)
    assert recover.roll_back_failed_replacements({"resources": resources}) == []
    assert json.dumps(resources) == before


def test_recover_finds_objects_of_the_stack_that_no_state_holds() -> None:
    deployment = {"resources": [
        {"type": "kubernetes:core/v1:ReplicationController", "id": "ns/wso2is-aaa",
         "outputs": {"metadata": {"namespace": "ns", "labels": {"app.kubernetes.io/instance": "wso2is-dev"}}}},
        {"type": "kubernetes:core/v1:ReplicationController", "id": "ns/wso2is-old", "delete": True, "outputs": {}}]}

    def item(kind: str, name: str, instance: str, **meta: object) -> dict[str, object]:
        return {"kind": kind, "metadata": {"name": name, "namespace": "ns", **meta,
                                           "labels": {"app.kubernetes.io/instance": instance}}}

    live = [item("ReplicationController", "wso2is-aaa", "wso2is-dev"),  # recorded
            item("ReplicationController", "wso2is-bbb", "wso2is-dev"),  # a cancelled up's
            item("ReplicationController", "wso2is-old", "wso2is-dev"),  # marked for deletion: still the state's
            item("ReplicationController", "wso2is-ccc", "wso2is-staging"),  # another stack's
            item("Service", "wso2is", "wso2is-dev", deletionTimestamp="2026-12-01T00:00:00Z")]  # going already
    assert recover.unrecorded_objects(deployment, live) == ["replicationcontroller/ns/wso2is-bbb"]
    assert recover.namespaces_of(deployment) == {"ns"}
