"""Availability controls under Pulumi mocks: the workload kinds, the disruption budget, placement, extra pod
metadata and the autoscaler, each from its settings (hieradata defaults, or a stack value)."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.graph import labels_for
from tests.unit.helpers import stack_settings
from tests.unit.test_graph import Mocks, build, registered
from wso2k8s.settings.availability import SELECTOR_LABEL_KEYS

STS = "kubernetes:apps/v1:StatefulSet"
DEP = "kubernetes:apps/v1:Deployment"
RC = "kubernetes:core/v1:ReplicationController"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
SVC = "kubernetes:core/v1:Service"
KIND_TYPE = {"ReplicationController": RC, "Deployment": DEP, "StatefulSet": STS}


@pytest.fixture
def mocks() -> Mocks:
    m = Mocks()
    pulumi.runtime.set_mocks(m, project="wso2-kubernetes", stack="unit", preview=False)
    return m


def done(graph: Any) -> pulumi.Output[Any]:
    """Every resource registered, the cluster's own children (budget, autoscaler) included."""
    cluster = graph.profiles["default"].cluster
    extra = [r.urn for r in (cluster.disruption_budget, cluster.autoscaler) if r is not None]
    return pulumi.Output.all(registered(graph), *extra)


def services(mocks: Mocks) -> dict[str, Any]:
    return {r.inputs["metadata"]["name"]: r for r in mocks.resources if r.typ == SVC}


def pod_of(mocks: Mocks, kind: str) -> dict[str, Any]:
    template: dict[str, Any] = mocks.one(KIND_TYPE[kind]).inputs["spec"]["template"]
    return template


def test_the_program_s_selector_labels_are_the_ones_pod_labels_may_not_change() -> None:
    s = stack_settings().profiles[0]
    assert set(labels_for(s, "unit")) == set(SELECTOR_LABEL_KEYS)


@pulumi.runtime.test
def test_statefulset_in_api_mode_is_governed_by_a_headless_service_the_program_makes(mocks: Mocks) -> Any:
    graph = build(workload={"kind": "StatefulSet", "replicas": 3})

    def check(_: Any) -> None:
        sts = mocks.one(STS)
        assert sts.inputs["metadata"]["name"] == "wso2is"
        spec = sts.inputs["spec"]
        assert (spec["replicas"], spec["serviceName"], spec["podManagementPolicy"]) == (3, "wso2is-headless",
                                                                                         "OrderedReady")
        assert spec["selector"] == {"matchLabels": graph.profiles["default"].cluster.selector}
        headless = services(mocks)["wso2is-headless"].inputs["spec"]
        assert headless["clusterIP"] == "None" and headless["selector"] == spec["selector"]["matchLabels"]
        assert mocks.one("kubernetes:rbac.authorization.k8s.io/v1:Role")  # API mode still reads endpoints
        assert not [r for r in mocks.resources if r.typ in (RC, DEP)]

    return done(graph).apply(check)


@pulumi.runtime.test
def test_statefulset_in_dns_mode_shares_the_membership_headless_service(mocks: Mocks) -> Any:
    graph = build(workload={"kind": "StatefulSet", "statefulset": {"pod_management_policy": "Parallel"}},
                  clustering={"kubernetes": {"mode": "dns"}})

    def check(_: Any) -> None:
        spec = mocks.one(STS).inputs["spec"]
        assert spec["serviceName"] == "wso2is-headless" and spec["podManagementPolicy"] == "Parallel"
        assert sorted(services(mocks)) == ["wso2is", "wso2is-headless"]  # one headless Service, not two

    return done(graph).apply(check)


@pulumi.runtime.test
def test_a_governing_service_of_the_user_s_own_is_named_not_made(mocks: Mocks) -> Any:
    graph = build(workload={"kind": "StatefulSet", "statefulset": {"service_name": "wso2is-peers"}})

    def check(_: Any) -> None:
        assert mocks.one(STS).inputs["spec"]["serviceName"] == "wso2is-peers"
        assert sorted(services(mocks)) == ["wso2is"]

    return done(graph).apply(check)


@pytest.mark.parametrize("kind", ["ReplicationController", "Deployment", "StatefulSet"])
@pulumi.runtime.test
def test_more_than_one_member_get_the_chart_s_disruption_budget_over_every_generation(mocks: Mocks,
                                                                                      kind: str) -> Any:
    graph = build(workload={"kind": kind, "replicas": 2})

    def check(_: Any) -> None:
        pdb = mocks.one(PDB).inputs
        assert pdb["metadata"]["name"] == "wso2is"
        assert pdb["spec"]["minAvailable"] == "50%" and "maxUnavailable" not in pdb["spec"]
        assert pdb["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
        selector = pdb["spec"]["selector"]["matchLabels"]
        assert selector == graph.profiles["default"].cluster.selector
        assert "wso2k8s.io/pod-template-hash" not in selector  # an RC roll's old and new members count together
        assert selector.items() <= pod_of(mocks, kind)["metadata"]["labels"].items()

    return done(graph).apply(check)


@pytest.mark.parametrize("workload", [{"replicas": 1}, {"replicas": 3, "disruption_budget": {"enabled": False}}])
@pulumi.runtime.test
def test_no_disruption_budget_for_one_member_or_when_turned_off(mocks: Mocks, workload: dict[str, Any]) -> Any:
    graph = build(workload=workload)

    def check(_: Any) -> None:
        assert not [r for r in mocks.resources if r.typ == PDB]
        assert graph.profiles["default"].cluster.disruption_budget is None

    return done(graph).apply(check)


@pulumi.runtime.test
def test_a_budget_by_max_unavailable(mocks: Mocks) -> Any:
    graph = build(workload={"replicas": 4, "disruption_budget": {"min_available": None, "max_unavailable": 1}})

    def check(_: Any) -> None:
        spec = mocks.one(PDB).inputs["spec"]
        assert spec["maxUnavailable"] == 1 and "minAvailable" not in spec

    return done(graph).apply(check)


@pytest.mark.parametrize(("kind", "revision"), [("ReplicationController", "wso2k8s.io/pod-template-hash"),
                                                ("Deployment", "pod-template-hash"),
                                                ("StatefulSet", "controller-revision-hash")])
@pulumi.runtime.test
def test_members_prefer_other_nodes_and_spread_over_zones_by_default(mocks: Mocks, kind: str,
                                                                     revision: str) -> Any:
    graph = build(workload={"kind": kind, "replicas": 2})

    def check(_: Any) -> None:
        spec = pod_of(mocks, kind)["spec"]
        selector = {"matchLabels": graph.profiles["default"].cluster.selector}
        assert spec["affinity"] == {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "podAffinityTerm": {"labelSelector": selector,
                                                "topologyKey": "kubernetes.io/hostname"}}]}}
        assert spec["topologySpreadConstraints"] == [
            {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
             "labelSelector": selector, "matchLabelKeys": [revision]}]
        assert "nodeSelector" not in spec and "tolerations" not in spec

    return done(graph).apply(check)


@pulumi.runtime.test
def test_required_anti_affinity_node_selector_and_tolerations(mocks: Mocks) -> Any:
    graph = build(workload={
        "anti_affinity": {"type": "required", "topology_key": "topology.kubernetes.io/zone"},
        "topology_spread": [], "node_selector": {"node-role.example.com/wso2": "true"},
        "tolerations": [{"key": "dedicated", "value": "wso2", "effect": "NoSchedule"},
                        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
                         "toleration_seconds": 30}]})

    def check(_: Any) -> None:
        spec = pod_of(mocks, "ReplicationController")["spec"]
        (term,) = spec["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert term["topologyKey"] == "topology.kubernetes.io/zone"
        assert "topologySpreadConstraints" not in spec
        assert spec["nodeSelector"] == {"node-role.example.com/wso2": "true"}
        assert spec["tolerations"] == [
            {"key": "dedicated", "operator": "Equal", "value": "wso2", "effect": "NoSchedule"},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
             "tolerationSeconds": 30}]

    return done(graph).apply(check)


@pulumi.runtime.test
def test_no_anti_affinity_when_asked(mocks: Mocks) -> Any:
    graph = build(workload={"anti_affinity": {"type": "none"}})

    def check(_: Any) -> None:
        assert "affinity" not in pod_of(mocks, "ReplicationController")["spec"]

    return done(graph).apply(check)


@pytest.mark.parametrize("kind", ["ReplicationController", "Deployment", "StatefulSet"])
@pulumi.runtime.test
def test_extra_pod_labels_and_annotations_reach_the_pods_not_the_selectors(mocks: Mocks, kind: str) -> Any:
    graph = build(workload={"kind": kind, "pod_labels": {"example.com/team": "identity"},
                            "pod_annotations": {"example.com/owner": "iam"}})

    def check(_: Any) -> None:
        workload = mocks.one(KIND_TYPE[kind]).inputs
        meta = workload["spec"]["template"]["metadata"]
        assert meta["labels"]["example.com/team"] == "identity"
        assert meta["annotations"]["example.com/owner"] == "iam"
        selector = workload["spec"]["selector"]
        assert "example.com/team" not in (selector if kind == "ReplicationController" else selector["matchLabels"])
        assert "example.com/team" not in services(mocks)["wso2is"].inputs["spec"]["selector"]
        assert graph.profiles["default"].cluster.selector.items() <= meta["labels"].items()

    return done(graph).apply(check)


@pulumi.runtime.test
def test_a_new_pod_label_makes_a_new_rc_generation(mocks: Mocks) -> Any:
    first = build()
    second_mocks = Mocks()
    pulumi.runtime.set_mocks(second_mocks, project="wso2-kubernetes", stack="unit", preview=False)
    second = build(workload={"pod_labels": {"example.com/team": "identity"}})

    def check(names: list[str]) -> None:
        assert names[0] != names[1] and names[1].startswith("wso2is-")

    return pulumi.Output.all(first.profiles["default"].cluster.workload_name,
                             second.profiles["default"].cluster.workload_name).apply(check)


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet"])
@pulumi.runtime.test
def test_an_autoscaler_takes_replicas_from_the_workload(mocks: Mocks, kind: str) -> Any:
    graph = build(workload={"kind": kind, "replicas": 2,
                            "autoscaler": {"enabled": True, "max_replicas": 6, "cpu_utilization": 70}})

    def check(_: Any) -> None:
        workload = mocks.one(KIND_TYPE[kind]).inputs
        assert "replicas" not in workload["spec"]  # never sent: the HPA owns the field (server-side apply)
        hpa = mocks.one(HPA).inputs
        assert hpa["metadata"]["name"] == "wso2is"
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": kind, "name": "wso2is"}
        assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)  # min: workload.replicas
        assert hpa["spec"]["metrics"] == [{"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": 70}}}]
        assert mocks.one(PDB).inputs["spec"]["minAvailable"] == "50%"

    return done(graph).apply(check)


@pulumi.runtime.test
def test_an_autoscaler_minimum_of_its_own_decides_the_budget(mocks: Mocks) -> Any:
    graph = build(workload={"kind": "Deployment", "replicas": 1,
                            "autoscaler": {"enabled": True, "min_replicas": 3}})

    def check(_: Any) -> None:
        assert mocks.one(HPA).inputs["spec"]["minReplicas"] == 3
        assert mocks.one(PDB)  # 3 members at least: a budget, though workload.replicas is 1

    return done(graph).apply(check)


@pulumi.runtime.test
def test_without_an_autoscaler_replicas_are_the_program_s(mocks: Mocks) -> Any:
    graph = build(workload={"kind": "Deployment", "replicas": 2})

    def check(_: Any) -> None:
        assert mocks.one(DEP).inputs["spec"]["replicas"] == 2
        assert not [r for r in mocks.resources if r.typ == HPA]

    return done(graph).apply(check)
