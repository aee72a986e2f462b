"""The members' PodDisruptionBudget (policy/v1): a node drain or a cluster upgrade evicts members only while
enough of them stay available. Made only with more than one member, as WSO2's Helm chart does: a budget over a
single member would either block every drain or protect nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class DisruptionArgs:
    name: str
    namespace: str
    labels: dict[str, str]
    selector: dict[str, str]  # every generation's members (an RC roll's old and new pods count together)
    min_available: int | str | None  # exactly one of the two, checked by the settings loader
    max_unavailable: int | str | None


def create_disruption_budget(resource_name: str, args: DisruptionArgs,
                             opts: pulumi.ResourceOptions) -> k8s.policy.v1.PodDisruptionBudget:
    budget = ({"minAvailable": args.min_available} if args.min_available is not None
              else {"maxUnavailable": args.max_unavailable})
    return k8s.policy.v1.PodDisruptionBudget(
        f"{resource_name}-pdb",
        metadata={"name": args.name, "namespace": args.namespace, "labels": args.labels},
        spec={**budget, "selector": {"matchLabels": args.selector},
              # A member that is not Ready (crash-looping, say) protects no one: let a drain evict it rather than
              # wait forever (Kubernetes' recommended policy; the default IfHealthyBudget would block).
              "unhealthyPodEvictionPolicy": "AlwaysAllow"},
        opts=opts)
