"""The members' workload object, by `workload.kind`, and where its pods may and should land.

- ReplicationController (the seed's): it never replaces its pods on a template change, so its name carries
  the template's hash (`<name>-<hash>`) and Pulumi's create-before-delete does the roll.
- Deployment: rolls by itself (maxSurge 1, maxUnavailable 0: a member is added before one is removed).
- StatefulSet: stable pod names `<name>-0..n-1` and DNS names under its governing headless Service
  (`<name>-headless` by default: MembershipAccess makes it in either membership mode); ordered or parallel start.

With an autoscaler the object carries no spec.replicas at all. Server-side apply gives a field to the managers
that send it: were Pulumi to send replicas, the next apply after the HPA scaled would be refused (`conflict with
"kube-controller-manager" with subresource "scale" ... .spec.replicas`, pulumi-kubernetes #2491, #2569) or,
forced, scale the members back. `ignoreChanges: [spec.replicas]` is the usual workaround, but it depends on how
the provider fills in the ignored value (it sends the last one) and has conflicted after other changes; a field
never sent is never owned, so the HPA (kube-controller-manager, through the scale subresource) owns it alone.
The engine test scales by hand and runs `pulumi up --refresh`: no change, no conflict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import pulumi
import pulumi_kubernetes as k8s

from wso2k8s.settings.availability import AntiAffinity, Toleration, TopologySpread

TEMPLATE_HASH_LABEL = "wso2k8s.io/pod-template-hash"
# The label each kind puts on the pods of one revision: spreading counts only the pods of the same revision,
# so the pods of a rollout's old generation do not push the new ones around (matchLabelKeys).
REVISION_LABEL = {"ReplicationController": TEMPLATE_HASH_LABEL, "Deployment": "pod-template-hash",
                  "StatefulSet": "controller-revision-hash"}

WorkloadObject: TypeAlias = k8s.core.v1.ReplicationController | k8s.apps.v1.Deployment | k8s.apps.v1.StatefulSet


Kind: TypeAlias = Literal["ReplicationController", "Deployment", "StatefulSet"]


@dataclass(frozen=True)
class Placement:
    """Where a profile's members may and should land (the workload settings of the same names)."""
    anti_affinity: AntiAffinity
    topology_spread: tuple[TopologySpread, ...]
    node_selector: dict[str, str]
    tolerations: tuple[Toleration, ...]


def placement(p: Placement, kind: Kind, selector: dict[str, str]) -> dict[str, Any]:
    """Pod spec fields that say where members land: anti-affinity among the members of this profile, topology
    spread, node selector, tolerations. Plain data, part of the hashed pod template."""
    out: dict[str, Any] = {}
    match = {"matchLabels": dict(selector)}
    a = p.anti_affinity
    if a.type == "preferred":
        out["affinity"] = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "podAffinityTerm": {"labelSelector": match, "topologyKey": a.topology_key}}]}}
    elif a.type == "required":
        out["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": match, "topologyKey": a.topology_key}]}}
    if p.topology_spread:
        out["topologySpreadConstraints"] = [
            {"maxSkew": t.max_skew, "topologyKey": t.topology_key, "whenUnsatisfiable": t.when_unsatisfiable,
             "labelSelector": match, "matchLabelKeys": [REVISION_LABEL[kind]]} for t in p.topology_spread]
    if p.node_selector:
        out["nodeSelector"] = dict(p.node_selector)
    if p.tolerations:
        out["tolerations"] = [
            {k: v for k, v in {"key": t.key, "operator": t.operator, "value": t.value, "effect": t.effect,
                               "tolerationSeconds": t.toleration_seconds}.items() if v is not None}
            for t in p.tolerations]
    return out


@dataclass(frozen=True)
class WorkloadArgs:
    name: str  # the seed's `wso2is`: the Deployment's/StatefulSet's name, the RC's name prefix
    namespace: str
    kind: Kind
    replicas: int | None  # None: the autoscaler's (the field is not sent)
    labels: dict[str, str]  # the object's labels and the selector every generation shares
    pod_labels: dict[str, str]  # extra pod labels (never the selector's keys: the settings refuse that)
    pod_annotations: pulumi.Output[dict[str, str]]  # the user's + the keystores' identity
    annotations: dict[str, str]  # the object's own (pulumi.com/skipAwait)
    service_name: str  # StatefulSet: its governing headless Service
    pod_management_policy: str  # StatefulSet


def create_workload(resource_name: str, args: WorkloadArgs, pod_spec: pulumi.Output[dict[str, Any]],
                    template_hash: pulumi.Output[str], opts: pulumi.ResourceOptions) -> WorkloadObject:
    replicas = {} if args.replicas is None else {"replicas": args.replicas}
    meta = {"namespace": args.namespace, "labels": args.labels, "annotations": args.annotations}
    if args.kind == "ReplicationController":
        labels = template_hash.apply(lambda h: {**args.labels, TEMPLATE_HASH_LABEL: h})
        return k8s.core.v1.ReplicationController(
            f"{resource_name}-rc",
            metadata={**meta, "name": template_hash.apply(lambda h: f"{args.name}-{h}")},
            spec={**replicas, "selector": labels,
                  "template": {"metadata": {"labels": labels.apply(lambda v: {**args.pod_labels, **v}),
                                            "annotations": args.pod_annotations},
                               "spec": pod_spec}},
            opts=opts)
    template = {"metadata": {"labels": {**args.pod_labels, **args.labels},
                             "annotations": pulumi.Output.all(template_hash, args.pod_annotations).apply(
                                 lambda v: {**v[1], TEMPLATE_HASH_LABEL: v[0]})},
                "spec": pod_spec}
    if args.kind == "Deployment":
        return k8s.apps.v1.Deployment(
            f"{resource_name}-deployment",
            metadata={**meta, "name": args.name},
            spec={**replicas, "selector": {"matchLabels": args.labels},
                  "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                  "template": template},
            opts=opts)
    return k8s.apps.v1.StatefulSet(
        f"{resource_name}-statefulset",
        metadata={**meta, "name": args.name},
        spec={**replicas, "selector": {"matchLabels": args.labels}, "serviceName": args.service_name,
              "podManagementPolicy": args.pod_management_policy,
              # one member at a time, highest ordinal first; the PodDisruptionBudget does not apply to rollouts
              "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
              "template": template},
        opts=opts)
