"""The members' HorizontalPodAutoscaler (autoscaling/v2) on average CPU, as a percentage of the request.

It owns spec.replicas of its target (kube-controller-manager writes it through the scale subresource); the
workload object is sent without that field (components/workload_kinds.py says why). Without a metrics server
the HPA still keeps the count within min..max (measured: it raised a hand-scaled member count to the minimum
in 15 s); CPU scaling needs metrics.k8s.io (metrics-server)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class AutoscalerArgs:
    name: str
    namespace: str
    labels: dict[str, str]
    target_api_version: str  # apps/v1
    target_kind: str  # Deployment or StatefulSet (the settings refuse the program's renamed RC)
    target_name: pulumi.Input[str]
    min_replicas: int
    max_replicas: int
    cpu_utilization: int


def create_autoscaler(resource_name: str, args: AutoscalerArgs,
                      opts: pulumi.ResourceOptions) -> k8s.autoscaling.v2.HorizontalPodAutoscaler:
    return k8s.autoscaling.v2.HorizontalPodAutoscaler(
        f"{resource_name}-hpa",
        metadata={"name": args.name, "namespace": args.namespace, "labels": args.labels},
        spec={"scaleTargetRef": {"apiVersion": args.target_api_version, "kind": args.target_kind,
                                 "name": args.target_name},
              "minReplicas": args.min_replicas, "maxReplicas": args.max_replicas,
              "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                  "type": "Utilization", "averageUtilization": args.cpu_utilization}}}]},
        opts=opts)
