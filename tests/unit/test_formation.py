"""The formation gate: in the graph after the workload, fed by it; the waiting and its failure message against a
fake API; hazelcast.properties rendered so the gate can read each member's Hazelcast."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from tests.unit.helpers import ADMIN_PASSWORD, KEYSTORE_PASSWORD, stack_settings, synthetic_conf
from tests.unit.test_graph import Mocks, build, mocks, settle  # noqa: F401 - the fixture
from wso2k8s import formation
from wso2k8s.pack import hazelcast_properties
from wso2k8s.pack.render import render_conf

TEMPLATE_HASH_LABEL = "wso2k8s.io/pod-template-hash"


def _gate(m: Mocks) -> Any:
    found = [r for r in m.resources if r.name.endswith("-formation-check")]
    assert len(found) == 1, [r.name for r in m.resources]
    return found[0]


@pulumi.runtime.test
def test_gate_checks_the_current_generation_of_the_workload(mocks: Mocks) -> Any:  # noqa: F811
    graph = build(workload={"replicas": 3})
    profile = graph.profiles["default"]
    assert profile.formation is not None

    def check(values: list[Any]) -> None:
        workload_name, _members = values
        rc = mocks.one("kubernetes:core/v1:ReplicationController")
        gate = _gate(mocks).inputs
        # fed by the RC's own outputs: it cannot run before the RC exists, and a new RC (rollout) changes them
        assert gate["workload"] == workload_name == rc.inputs["metadata"]["name"]
        assert gate["selector"] == rc.inputs["spec"]["selector"]
        assert gate["template"] == rc.inputs["spec"]["selector"][TEMPLATE_HASH_LABEL]
        assert workload_name.endswith(gate["template"])
        assert (gate["replicas"], gate["port"], gate["timeout"]) == (3, 4000, 300)
        assert gate["namespace"] == "default" and gate["label"] == "wso2is (profile default)"
        assert gate["kubeconfig"].endswith(("/kubeconfig", "/.kube/config"))  # a path: no credential in the state
        text = repr(gate)
        assert ADMIN_PASSWORD not in text and KEYSTORE_PASSWORD not in text  # no secret in its state

    return settle(profile.cluster.workload_name, profile.formation.members).apply(check)


@pulumi.runtime.test
def test_deployment_gate_follows_the_template_annotation(mocks: Mocks) -> Any:  # noqa: F811
    graph = build(workload={"kind": "Deployment", "replicas": 2})
    profile = graph.profiles["default"]

    def check(_: list[Any]) -> None:
        dep = mocks.one("kubernetes:apps/v1:Deployment")
        gate = _gate(mocks).inputs
        assert gate["selector"] == dep.inputs["spec"]["selector"]["matchLabels"]
        assert gate["template"] == dep.inputs["spec"]["template"]["metadata"]["annotations"][TEMPLATE_HASH_LABEL]

    assert profile.formation is not None
    return settle(profile.cluster.workload_name, profile.formation.members).apply(check)


@pytest.mark.parametrize("clustering", [{"enabled": False}, {"await_formation": {"enabled": False}}])
def test_no_gate_when_turned_off_or_no_clustering(clustering: dict[str, Any]) -> None:
    pulumi.runtime.set_mocks(Mocks(), project="wso2-kubernetes", stack="unit", preview=False)
    assert build(clustering=clustering).profiles["default"].formation is None


def test_timeout_out_of_range_is_a_settings_error() -> None:
    from wso2k8s.settings import SettingsError

    with pytest.raises(SettingsError) as err:
        stack_settings(clustering={"await_formation": {"timeout_seconds": 5}})
    assert "clustering.await_formation.timeout_seconds" in str(err.value)


# ------------------------------------------------------------------ hazelcast.properties


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    return synthetic_conf(tmp_path)


def test_hazelcast_properties_enable_rest_only_with_the_gate(pack: Path) -> None:
    assert not (pack / hazelcast_properties.PATH).exists()  # a shipped pack has none
    rendered = {r.path: r for r in render_conf(stack_settings().profiles[0], pack)}
    item = rendered[hazelcast_properties.PATH]
    assert not item.holds_secrets
    assert item.content.decode().splitlines()[1:] == ["hazelcast.rest.enabled=true"]
    off = stack_settings(clustering={"await_formation": {"enabled": False}}).profiles[0]
    assert hazelcast_properties.PATH not in {r.path for r in render_conf(off, pack)}


def test_a_packs_own_hazelcast_properties_keep_every_other_line(pack: Path) -> None:
    own = ("# tuned by ops\nhazelcast.max.no.heartbeat.seconds=30\n"
           "hazelcast.rest.enabled : false\r\nhazelcast.logging.type=log4j")
    (pack / hazelcast_properties.PATH).write_bytes(own.encode())
    out = hazelcast_properties.render(stack_settings().profiles[0], pack)
    assert out == own.replace("hazelcast.rest.enabled : false", "hazelcast.rest.enabled : true").encode()
    (pack / hazelcast_properties.PATH).write_text("a=b")  # no trailing newline: the key goes on its own line
    assert hazelcast_properties.render(stack_settings().profiles[0], pack) == b"a=b\nhazelcast.rest.enabled=true\n"


# ------------------------------------------------------------------ waiting and the message

REST = "\nMembers [{n}] {{\n{lines}}}\nConnectionCount: 1\nAllConnectionCount: 2\n"


def _rest(*members: str, me: str) -> str:
    return REST.format(n=len(members), lines="".join(
        f"\tMember [{m}]:4000{' this' if m == me else ''}\n" for m in members))


class FakeApi:
    def __init__(self) -> None:
        self.pod_list: list[dict[str, Any]] = []
        self.views: dict[str, str | Exception] = {}
        self.logs: dict[str, str] = {}
        self.asked: list[tuple[str, int, str]] = []

    def pods(self, namespace: str, selector: dict[str, str]) -> list[dict[str, Any]]:
        assert namespace == "wso2" and selector == {"name": "wso2is", TEMPLATE_HASH_LABEL: "abc"}
        return self.pod_list

    def pod_proxy(self, namespace: str, pod: str, port: int, path: str) -> str:
        self.asked.append((pod, port, path))
        view = self.views[pod]
        if isinstance(view, Exception):
            raise view
        return view

    def pod_log(self, namespace: str, pod: str, lines: int) -> str:
        return self.logs.get(pod, "")


def _pod(name: str, ip: str | None, phase: str = "Running", **status: Any) -> dict[str, Any]:
    return {"metadata": {"name": name}, "status": {"phase": phase, **({"podIP": ip} if ip else {}), **status}}


TARGET = formation.Target("wso2is (profile default)", "wso2", {"name": "wso2is", TEMPLATE_HASH_LABEL: "abc"},
                          replicas=2, port=4000, timeout_seconds=30)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_parse_cluster_reads_hazelcast_35s_member_list() -> None:
    assert formation.parse_cluster(_rest("10.0.0.1", "10.0.0.2", me="10.0.0.2")) == ["10.0.0.1:4000",
                                                                                     "10.0.0.2:4000"]
    with pytest.raises(ValueError, match="not a Hazelcast member list"):
        formation.parse_cluster("<html>404</html>")
    with pytest.raises(ValueError):  # count and lines disagree: a cut answer
        formation.parse_cluster("Members [2] {\n\tMember [10.0.0.1]:4000 this\n}")


def test_wait_returns_when_every_member_sees_every_other() -> None:
    api, clock = FakeApi(), Clock()
    api.pod_list = [_pod("wso2is-abc-1", "10.0.0.1"), _pod("wso2is-abc-2", "10.0.0.2"),
                    {**_pod("wso2is-old-9", "10.0.0.9"), "metadata": {"name": "wso2is-old-9",
                                                                      "deletionTimestamp": "now"}}]
    api.views = {"wso2is-abc-1": _rest("10.0.0.1", me="10.0.0.1"), "wso2is-abc-2": _rest("10.0.0.2", me="10.0.0.2")}

    def join(seconds: float) -> None:  # after the first look the two find each other
        clock.sleep(seconds)
        both = ("10.0.0.1", "10.0.0.2")
        api.views = {"wso2is-abc-1": _rest(*both, me="10.0.0.1"), "wso2is-abc-2": _rest(*both, me="10.0.0.2")}

    result = formation.wait(api, TARGET, sleep=join, clock=clock, interval=2)
    assert result.formed and result.seconds == 2
    assert [v.pod for v in result.members] == ["wso2is-abc-1", "wso2is-abc-2"]  # the leaving pod is not asked
    assert ("wso2is-abc-1", 4000, "/hazelcast/rest/cluster") in api.asked
    assert all(p != "wso2is-old-9" for p, _, _ in api.asked)


def test_timeout_names_the_missing_member_and_each_ones_reason() -> None:
    api, clock = FakeApi(), Clock()
    api.pod_list = [_pod("wso2is-abc-1", "10.0.0.1"), _pod("wso2is-abc-2", "10.0.0.2")]
    api.views = {"wso2is-abc-1": _rest("10.0.0.1", me="10.0.0.1"),
                 "wso2is-abc-2": OSError("HTTP 503: error trying to reach service: dial tcp 10.0.0.2:4000: "
                                         "connect: connection refused")}
    api.logs = {"wso2is-abc-2": "[t]  INFO {x} -  Starting\n[t] ERROR {org.wso2.carbon.core.clustering.hazelcast."
                                "HazelcastClusteringAgent} -  Hazelcast could not start on port 4000: Port [4000] "
                                "is already in use\n[t]  INFO {y} -  WSO2 Carbon started in 3 sec\n",
                "wso2is-abc-1": "[t]  INFO {x} -  all fine\n"}
    result = formation.wait(api, TARGET, sleep=clock.sleep, clock=clock)
    assert not result.formed and result.seconds >= 30
    message = formation.failure_message(result.members, TARGET, result.seconds)
    lines = message.splitlines()
    assert lines[0] == ("wso2is (profile default): the members did not form one Hazelcast cluster in 30 s: expected "
                        "2 members, each seeing 2 (namespace wso2, Hazelcast on port 4000).")
    assert lines[1] == "  - wso2is-abc-1 (10.0.0.1): sees 1 of 2; missing wso2is-abc-2 (10.0.0.2)"
    assert lines[2] == "      log: [t]  INFO {x} -  all fine"
    assert lines[3].startswith("  - wso2is-abc-2 (10.0.0.2): its Hazelcast does not answer on port 4000: HTTP 503")
    assert lines[4] == ("      log: [t] ERROR {org.wso2.carbon.core.clustering.hazelcast.HazelcastClusteringAgent} -  "
                        "Hazelcast could not start on port 4000: Port [4000] is already in use")
    assert len(lines) == 6 and lines[5].startswith("Fix: ") and "clustering.await_formation.enabled: false" in lines[5]


def test_an_unscheduled_member_is_named_with_the_schedulers_reason() -> None:
    api, clock = FakeApi(), Clock()
    api.pod_list = [_pod("wso2is-abc-1", "10.0.0.1"),
                    _pod("wso2is-abc-2", None, "Pending", conditions=[
                        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                         "message": "0/1 nodes are available: 1 Insufficient cpu."}])]
    api.views = {"wso2is-abc-1": _rest("10.0.0.1", me="10.0.0.1")}
    result = formation.wait(api, TARGET, sleep=clock.sleep, clock=clock)
    message = formation.failure_message(result.members, TARGET, result.seconds)
    assert "  - wso2is-abc-1 (10.0.0.1): sees 1 of 2" in message.splitlines()  # the pending pod has no IP yet
    assert ("  - wso2is-abc-2: not scheduled: Unschedulable: 0/1 nodes are available: 1 Insufficient cpu."
            in message.splitlines())


def test_a_member_in_another_cluster_is_shown_and_too_few_pods_are_counted() -> None:
    api, clock = FakeApi(), Clock()
    api.pod_list = [_pod("wso2is-abc-1", "10.0.0.1")]
    api.views = {"wso2is-abc-1": _rest("10.0.0.1", "10.0.0.7", me="10.0.0.1")}
    result = formation.wait(api, TARGET, sleep=clock.sleep, clock=clock)
    message = formation.failure_message(result.members, TARGET, result.seconds)
    assert "  - only 1 of 2 member pods exist" in message.splitlines()
    assert ("  - wso2is-abc-1 (10.0.0.1): sees 2 of 2; also sees 10.0.0.7:4000 (not a pod of this generation)"
            in message.splitlines())


# ------------------------------------------------------------------ the provider's re-check rules

OLD = {"label": "wso2is (profile default)", "workload": "wso2is-abc", "namespace": "wso2", "selector": {"a": "b"},
       "template": "abc", "replicas": 2, "port": 4000, "timeout": 300, "kubeconfig": "/k", "context": "",
       "members": {"p": ["10.0.0.1:4000"]}, "formed_in_seconds": 3.0, "failure": None}


def test_the_gate_checks_again_on_a_rollout_or_after_a_failure_only() -> None:
    from components.formation import _GateProvider

    provider = _GateProvider()
    news = {k: v for k, v in OLD.items() if k not in ("members", "formed_in_seconds", "failure")}
    assert not provider.diff("id", OLD, news).changes  # nothing changed: `up` does not ask again
    assert provider.diff("id", OLD, {**news, "template": "def", "workload": "wso2is-def"}).changes  # rollout
    assert provider.diff("id", OLD, {**news, "replicas": 3}).changes
    assert provider.diff("id", {**OLD, "failure": "did not form"}, news).changes  # failed last time
    kept = provider.update("id", OLD, {**news, "timeout": 60}).outs  # timeout only: the members stay
    assert kept is not None and kept["members"] == OLD["members"] and kept["timeout"] == 60


def test_a_recorded_failure_fails_the_up_with_the_message_alone() -> None:
    from components.formation import _formed

    assert _formed([{"p": ["10.0.0.1:4000"]}, None]) == {"p": ["10.0.0.1:4000"]}
    with pytest.raises(pulumi.RunError) as err:
        _formed([None, "wso2is (profile default): the members did not form one Hazelcast cluster in 20 s"])
    assert str(err.value).startswith("wso2is (profile default): the members did not form")


def test_an_exec_kubeconfig_is_refused_with_the_fix(tmp_path: Path) -> None:
    from wso2k8s.kubeapi import KubeApi, KubeApiError

    config = tmp_path / "kubeconfig"
    config.write_text("current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n"
                      "clusters: [{name: k, cluster: {server: 'https://10.0.0.1:6443'}}]\n"
                      "users: [{name: u, user: {exec: {command: aws}}}]\n")
    with pytest.raises(KubeApiError, match=r"exec/auth-provider plugin.*clustering\.await_formation\.enabled: false"):
        KubeApi.from_kubeconfig(config)


def test_during_a_rollout_members_may_also_see_the_old_generation() -> None:
    """Old and new generations share one Hazelcast cluster until Pulumi deletes the old RC (after the gate):
    each new member seeing both new ones (and the old ones too) is formed."""
    from wso2k8s.formation import MemberView, formed

    four = ["10.0.0.1:4000", "10.0.0.2:4000", "10.0.0.8:4000", "10.0.0.9:4000"]
    views = [MemberView("wso2is-new-1", "10.0.0.1", "Running"), MemberView("wso2is-new-2", "10.0.0.2", "Running")]
    for v in views:
        v.sees = four
    assert formed(views, TARGET)
    views[1].sees = ["10.0.0.2:4000", "10.0.0.8:4000"]  # the second new member does not see the first
    assert not formed(views, TARGET)
