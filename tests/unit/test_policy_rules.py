"""The policy pack's rules on resource inputs shaped as the program makes them: the program's own pod passes,
each violation is caught with a fix. (tests/engine/test_policy_pack.py runs them through `pulumi preview`.)"""

from __future__ import annotations

import copy
from typing import Any

import pulumi
import pytest

from components.carbon_cluster import pod_spec_dict
from components.graph import members_of
from components.policy_view import carbon_cluster_view
from policy import rules
from policy.rules import Resource
from tests.unit.helpers import stack_settings
from wso2k8s.confdiff import pack_file

pytestmark = pytest.mark.unit
RC = "kubernetes:core/v1:ReplicationController"
DIGEST = "registry.example.com/wso2/is-5.1.0@sha256:" + "ab" * 32
LABELS = {"name": "wso2is", "app.kubernetes.io/name": "wso2is"}


def workload(replicas: int = 2, image: str = DIGEST) -> dict[str, Any]:
    spec = pod_spec_dict(members_of(stack_settings().profiles[0]).pod, image=image, service_account="wso2is",
                         secret_name="s")
    return {"metadata": {"name": "wso2is-abc", "labels": LABELS},
            "spec": {"replicas": replicas, "selector": LABELS,
                     "template": {"metadata": {"labels": {**LABELS, "hash": "abc"}}, "spec": spec}}}


def service(affinity: str = "ClientIP") -> dict[str, Any]:
    return {"metadata": {"name": "wso2is"}, "spec": {"selector": LABELS, "sessionAffinity": affinity}}


def test_the_programs_own_pod_passes_every_resource_rule() -> None:
    props = workload()
    assert rules.images_pinned(RC, props) == []
    assert rules.images_from_registries(RC, props, ["registry.example.com"]) == []
    assert rules.resources_set(RC, props) == []
    assert rules.min_replicas(RC, props) == []
    assert rules.membership_ssl_verified(RC, props) == []
    assert rules.sticky_sessions([Resource(RC, "rc", props), Resource(rules.SERVICE, "svc", service())]) == []


@pytest.mark.parametrize("image", ["registry.example.com/wso2/is-5.1.0:latest", "registry.example.com/wso2/is",
                                   "registry.example.com/wso2/is-5.1.0:1.0.0"])
def test_a_pod_image_not_pinned_by_digest_is_a_violation(image: str) -> None:
    [message] = rules.images_pinned(RC, workload(image=image))
    assert f"runs '{image}', not pinned by digest" in message and "Fix:" in message


@pytest.mark.parametrize(("tag", "says"), [("registry.example.com/wso2/is:latest", "the tag latest"),
                                           ("registry.example.com/wso2/is", "no tag")])
def test_a_pushed_image_tagged_latest_or_untagged_is_a_violation(tag: str, says: str) -> None:
    [message] = rules.images_pinned(rules.IMAGE_BUILD, {"tags": [tag]})
    assert says in message
    assert rules.images_pinned(rules.IMAGE_BUILD, {"tags": ["registry.example.com/wso2/is:1.0.0"]}) == []


def test_an_unknown_image_during_preview_is_not_judged() -> None:
    props = workload()
    props["spec"]["template"]["spec"]["containers"][0]["image"] = rules.UNKNOWN
    assert rules.images_pinned(RC, props) == []


@pytest.mark.parametrize("image", ["docker.io/library/busybox@sha256:" + "cd" * 32, "busybox:1.36",
                                   "127.0.0.1:5000/wso2/is@sha256:" + "cd" * 32])
def test_an_image_from_another_registry_is_a_violation(image: str) -> None:
    [message] = rules.images_from_registries(RC, workload(image=image), ["registry.example.com"])
    assert "not from registry.example.com" in message
    assert rules.images_from_registries(RC, workload(image=image), []) == []  # no registries configured


@pytest.mark.parametrize("missing", [("requests", "cpu"), ("limits", "memory")])
def test_a_container_without_requests_or_limits_is_a_violation(missing: tuple[str, str]) -> None:
    props = workload()
    del props["spec"]["template"]["spec"]["containers"][0]["resources"][missing[0]][missing[1]]
    [message] = rules.resources_set(RC, props)
    assert f"no resources {missing[0]}.{missing[1]}" in message


def test_a_single_member_is_a_violation() -> None:
    assert "runs 1 replica(s), fewer than 2" in rules.min_replicas(RC, workload(replicas=1))[0]
    assert rules.min_replicas(RC, workload(replicas=3), minimum=4) != []


def test_skip_ssl_in_the_env_or_the_rendered_axis2_is_a_violation() -> None:
    props = workload()
    props["spec"]["template"]["spec"]["containers"][0]["env"].append({"name": rules.SKIP_SSL, "value": "true"})
    assert "sets KUBERNETES_MASTER_SKIP_SSL_VERIFICATION=true" in rules.membership_ssl_verified(RC, props)[0]
    axis2 = '<clustering><parameter name="{}">{}</parameter></clustering>'
    bad = {"conf_files": {"repository/conf/axis2/axis2.xml": pack_file(axis2.format(rules.SKIP_SSL, "true"))}}
    good = {"conf_files": {"repository/conf/axis2/axis2.xml": pack_file(axis2.format(rules.SKIP_SSL, "false"))}}
    assert "rendered repository/conf/axis2/axis2.xml sets" in rules.membership_ssl_verified(rules.PRODUCT_IMAGE, bad)[0]
    assert rules.membership_ssl_verified(rules.PRODUCT_IMAGE, good) == []


def test_an_ingress_without_tls_for_its_hosts_is_a_violation() -> None:
    ingress = {"spec": {"rules": [{"host": "is.example.com"}, {"host": "mgt.example.com"}]}}
    assert "has no spec.tls" in rules.ingress_tls(rules.INGRESS, ingress)[0]
    ingress["spec"]["tls"] = [{"hosts": ["is.example.com"], "secretName": "tls"}]
    assert "routes mgt.example.com without TLS" in rules.ingress_tls(rules.INGRESS, ingress)[0]
    ingress["spec"]["tls"][0]["hosts"].append("mgt.example.com")
    assert rules.ingress_tls(rules.INGRESS, ingress) == []


def test_several_members_behind_a_service_without_affinity_is_a_violation() -> None:
    stack = [Resource(RC, "rc", workload(replicas=2)), Resource(rules.SERVICE, "svc", service("None"))]
    [(where, message)] = rules.sticky_sessions(stack)
    assert where.name == "svc" and "reaches 2 members of rc without sticky sessions" in message
    assert rules.sticky_sessions([Resource(RC, "rc", workload(replicas=1)), stack[1]]) == []


def test_cookie_affinity_on_an_ingress_to_the_service_is_sticky_enough() -> None:
    ingress = {"metadata": {"annotations": {rules.COOKIE_AFFINITY: "cookie"}},
               "spec": {"rules": [{"http": {"paths": [{"backend": {"service": {"name": "wso2is"}}}]}}]}}
    stack = [Resource(RC, "rc", workload()), Resource(rules.SERVICE, "svc", service("None")),
             Resource(rules.INGRESS, "in", ingress)]
    assert rules.sticky_sessions(stack) == []
    other = copy.deepcopy(ingress)
    other["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] = "elsewhere"
    assert rules.sticky_sessions([*stack[:2], Resource(rules.INGRESS, "in", other)]) != []


def test_the_other_ingress_dialects_and_an_httproute_with_cookie_persistence_are_sticky_enough() -> None:
    base = [Resource(RC, "rc", workload()), Resource(rules.SERVICE, "svc", service("None"))]
    backend = {"rules": [{"http": {"paths": [{"backend": {"service": {"name": "wso2is"}}}]}}]}
    haproxy = {"metadata": {"annotations": {"haproxy.org/cookie-persistence": "wso2-route"}}, "spec": backend}
    assert rules.sticky_sessions([*base, Resource(rules.INGRESS, "in", haproxy)]) == []
    route = {"spec": {"rules": [{"backendRefs": [{"name": "wso2is", "port": 9443}],
                                 "sessionPersistence": {"type": "Cookie", "cookie": {"name": "wso2-route"}}}]}}
    assert rules.sticky_sessions([*base, Resource(rules.HTTPROUTE, "route", route)]) == []
    del route["spec"]["rules"][0]["sessionPersistence"]
    assert rules.sticky_sessions([*base, Resource(rules.HTTPROUTE, "route", route)]) != []


def test_a_pdb_must_cover_multi_member_workloads_once_the_stack_has_pdbs() -> None:
    rc = Resource(RC, "rc", workload(replicas=2))
    assert rules.pdb_covers_members([rc]) == []  # no PDB in the stack: not applicable yet
    other = Resource(rules.PDB, "pdb", {"spec": {"selector": {"matchLabels": {"name": "other"}}}})
    [(where, message)] = rules.pdb_covers_members([rc, other])
    assert where.name == "rc" and "no PodDisruptionBudget" in message
    ours = Resource(rules.PDB, "pdb2", {"spec": {"selector": {"matchLabels": {"name": "wso2is"}}}})
    assert rules.pdb_covers_members([rc, other, ours]) == []


# ---------------------------------------------------------------- at preview time, from the component's settings

def test_the_carbon_clusters_known_settings_carry_what_its_pods_will_be() -> None:
    s = stack_settings(workload={"replicas": 3}).profiles[0]
    view = carbon_cluster_view(members_of(s))
    pod = pod_spec_dict(members_of(s).pod, image="x@sha256:" + "0" * 64, service_account="a", secret_name="s")
    assert view["resources"] == pod["containers"][0]["resources"] and view["replicas"] == 3
    assert view["image"] == f"{s.registry.server}/{s.product_image.name}:{s.product_image.tag}"
    assert all(rules.known(v) for v in view.values())  # plain settings: nothing waits for the digest


def test_the_prod_rules_judge_the_carbon_cluster_while_its_pod_spec_is_unknown() -> None:
    """During a preview that rebuilds the image the RC's pod template is unknown; the component still says."""
    s = stack_settings(workload={"replicas": 1}, product_image={"tag": "latest"}).profiles[0]
    view = carbon_cluster_view(members_of(s))
    rc = {"metadata": {"name": rules.UNKNOWN}, "spec": {"replicas": 1, "template": {"spec": rules.UNKNOWN}}}
    assert rules.resources_set(RC, rc) == [] and rules.images_pinned(RC, rc) == []  # the pod: not judged
    cc = rules.CARBON_CLUSTER
    [replicas] = rules.min_replicas(cc, view)
    assert "runs 1 replica(s), fewer than 2" in replicas
    [latest] = rules.images_pinned(cc, view)
    assert "the members' image" in latest and "has the tag latest" in latest and "product_image.tag" in latest
    [registry] = rules.images_from_registries(cc, view, ["registry.example.com"])
    assert f"is from {s.registry.server}, not from registry.example.com" in registry
    no_limits = {**view, "resources": {"requests": view["resources"]["requests"], "limits": {}}}
    [resources] = rules.resources_set(cc, no_limits)
    assert "the members' container has no resources limits.cpu, limits.memory" in resources
    good = carbon_cluster_view(members_of(stack_settings(workload={"replicas": 2}).profiles[0]))
    assert rules.min_replicas(cc, good) == [] and rules.resources_set(cc, good) == []
    assert rules.images_pinned(cc, good) == []
    assert rules.images_from_registries(cc, good, [s.registry.server]) == []


def test_an_autoscaled_workload_is_judged_by_its_minimum() -> None:
    props = workload(replicas=2)
    del props["spec"]["replicas"]  # the program sends none with an autoscaler
    props["metadata"]["annotations"] = {"wso2k8s.io/autoscaler-min-replicas": "3"}
    assert rules.min_replicas(RC, props) == []
    props["metadata"]["annotations"]["wso2k8s.io/autoscaler-min-replicas"] = "1"
    assert "runs 1 replica(s), fewer than 2" in rules.min_replicas(RC, props)[0]


@pulumi.runtime.test
def test_an_edge_stack_as_the_program_makes_it_passes_every_rule() -> Any:
    """Two members behind the edge (entry.kind edge): the edge's cookie is their stickiness, the edge's own pods
    keep no session, and its container has requests and limits like the members'."""
    from tests.unit.test_entry import EDGE, EdgeMocks, _done, _edge_graph

    mocks = EdgeMocks()
    pulumi.runtime.set_mocks(mocks, project="wso2-kubernetes", stack="unit", preview=False)
    graph = _edge_graph(entry=EDGE, workload={"replicas": 2})

    def check(_: Any) -> None:
        stack = [Resource(r.typ, r.name, r.inputs) for r in mocks.resources]
        assert {r.type for r in stack} >= {rules.CONFIG_MAP, "kubernetes:apps/v1:Deployment", RC}
        for r in stack:
            assert rules.images_pinned(r.type, r.props) == [], r.name
            assert rules.resources_set(r.type, r.props) == [], r.name
            assert rules.min_replicas(r.type, r.props) == [], r.name
        assert rules.sticky_sessions(stack) == []
        # without the edge's cookie, nothing keeps a client on its member: both members' Services are named
        plain = [r if r.type != rules.CONFIG_MAP else Resource(r.type, r.name, {**r.props, "data": {
            "Caddyfile": r.props["data"]["Caddyfile"].replace("lb_policy cookie", "lb_policy round_robin")}})
            for r in stack]
        flagged = sorted(svc.props["metadata"]["name"] for svc, _ in rules.sticky_sessions(plain))
        assert "wso2is" in flagged and "wso2is-members" in flagged and "wso2is-edge" in flagged

    return _done(graph).apply(check)
