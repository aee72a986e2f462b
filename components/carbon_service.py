"""CarbonService: the seed's NodePort Service `wso2is`; the Carbon console answers on its nodePort 32002.

Its name is what the membership scheme looks up (clustering.kubernetes.services), and its selector is the
CarbonCluster's, passed in, never typed twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

CONSOLE_PORT = "servlet-https"  # the port the console answers on


@dataclass(frozen=True)
class ServicePort:
    name: str  # the ports map's key (servlet-https)
    port: int  # before the Carbon port offset
    target_port: str  # the pods' port by name (MemberPort.name): each pod is reached on its own number
    node_port: int | None  # None: Kubernetes picks one for a NodePort Service, or none (behind an entry)


@dataclass(frozen=True)
class CarbonServiceArgs:
    name: str  # what the membership scheme looks up (clustering.kubernetes.services)
    namespace: str
    type: Literal["NodePort", "ClusterIP"]  # the settings'; behind an entry always ClusterIP
    session_affinity: Literal["ClientIP", "None"]  # the settings'; behind an entry always None
    ports: tuple[ServicePort, ...]
    behind_entry: bool  # entry.kind is not none: users come through it, on 443
    console_host: str  # the console's host name: the entry's host behind one, else carbon.xml's HostName
    selector: dict[str, str]  # CarbonCluster.selector
    labels: dict[str, str]


class CarbonService(pulumi.ComponentResource):
    service: k8s.core.v1.Service
    service_name: pulumi.Output[str]
    console_url: pulumi.Output[str]

    def __init__(self, name: str, args: CarbonServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("wso2k8s:kubernetes:CarbonService", name, None, opts)
        entry = args.behind_entry
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.name, namespace=args.namespace, labels=args.labels),
            spec=k8s.core.v1.ServiceSpecArgs(
                # behind an entry: ClusterIP, and stickiness is the entry's cookie (by client IP, every user
                # behind the entry's proxy would land on one member)
                type="ClusterIP" if entry else args.type,
                session_affinity="None" if entry else args.session_affinity,
                selector=args.selector,
                ports=[k8s.core.v1.ServicePortArgs(
                    # targetPort by name: each pod is reached on its own port, across a port_offset rollout
                    name=p.name, port=p.port, target_port=p.target_port, node_port=p.node_port,
                    protocol="TCP")  # Kubernetes 1.20 apply rejects ports without an explicit protocol
                    for p in args.ports],
            ),
            opts=pulumi.ResourceOptions(parent=self))
        self.service_name = self.service.metadata.apply(lambda m: m.name)
        console = next(p for p in args.ports if p.name == CONSOLE_PORT)
        port = console.node_port if console.node_port is not None else console.port
        self.console_url = pulumi.Output.from_input(
            f"https://{args.console_host}/carbon/" if entry else f"https://{args.console_host}:{port}/carbon/")
        self.register_outputs({"service_name": self.service_name, "console_url": self.console_url})
