"""CarbonService: the seed's NodePort Service `wso2is`; the Carbon console answers on its nodePort 32002.

Its name is what the membership scheme looks up (clustering.kubernetes.services), and its selector is the
CarbonCluster's, passed in, never typed twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from wso2k8s.settings import Settings


@dataclass(frozen=True)
class CarbonServiceArgs:
    settings: Settings
    selector: dict[str, str]  # CarbonCluster.selector
    labels: dict[str, str]


class CarbonService(pulumi.ComponentResource):
    service: k8s.core.v1.Service
    service_name: pulumi.Output[str]
    console_url: pulumi.Output[str]

    def __init__(self, name: str, args: CarbonServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("wso2k8s:kubernetes:CarbonService", name, None, opts)
        s = args.settings
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=s.name, namespace=s.kubernetes.namespace, labels=args.labels),
            spec=k8s.core.v1.ServiceSpecArgs(
                # behind an entry: ClusterIP, and stickiness is the entry's cookie (by client IP, every user
                # behind the entry's proxy would land on one member)
                type="ClusterIP" if s.entry_used else s.service.type,
                session_affinity="None" if s.entry_used else s.service.session_affinity,
                selector=args.selector,
                ports=[k8s.core.v1.ServicePortArgs(
                    # targetPort by name: each pod is reached on its own port, across a port_offset rollout
                    name=p.name, port=p.container_port, target_port=p.pod_port_name, node_port=s.node_port(p),
                    protocol="TCP")  # Kubernetes 1.20 apply rejects ports without an explicit protocol
                    for p in s.ports.values()],
            ),
            opts=pulumi.ResourceOptions(parent=self))
        self.service_name = self.service.metadata.apply(lambda m: m.name)
        console = s.port("servlet-https")
        port = console.node_port if console.node_port is not None else console.container_port
        self.console_url = pulumi.Output.from_input(
            f"https://{s.public_hostname}/carbon/" if s.entry_used else f"https://{s.hostname}:{port}/carbon/")
        self.register_outputs({"service_name": self.service_name, "console_url": self.console_url})
