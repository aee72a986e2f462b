"""MembershipAccess: what the Kubernetes membership scheme needs to find the other members from a pod.

API mode (clustering.kubernetes.mode: api): a ServiceAccount for the pods, a Role that may get/list endpoints
and pods (and discovery.k8s.io endpointslices when the settings ask: v1 Endpoints is deprecated since 1.33),
and the RoleBinding joining them. Without it the scheme gets HTTP 403 and every member stays alone.

DNS mode (mode: dns): the scheme asks cluster DNS for `<service>.<namespace>.svc.cluster.local`, so each
profile's Service gets a headless twin `<service>-headless` (clusterIP None) selecting the same pods, with
publishNotReadyAddresses so members find each other before they are Ready (Carbon joins the cluster while it
starts). The pods read nothing from the API then: no Role.

The same headless Service governs a StatefulSet of members (spec.serviceName, the pods' DNS names) in either
mode (`headless`): one object under one Pulumi resource, so a change of mode never hands it between resources.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

from wso2k8s.pack.scheme_jar import headless_service_name

ENDPOINT_RULES = [k8s.rbac.v1.PolicyRuleArgs(api_groups=[""], resources=["endpoints", "pods"],
                                             verbs=["get", "list"])]
ENDPOINTSLICE_RULES = [k8s.rbac.v1.PolicyRuleArgs(api_groups=["discovery.k8s.io"], resources=["endpointslices"],
                                                  verbs=["get", "list"])]
# Kept for readers of the API-mode rules (tests, docs).
MEMBERSHIP_RULES = ENDPOINT_RULES


@dataclass(frozen=True)
class MembershipAccessArgs:
    name: str  # the ServiceAccount's name, also the prefix of the Role/RoleBinding; the Service's name
    namespace: str
    labels: dict[str, str]
    mode: Literal["api", "dns"] = "api"
    endpointslices: bool = False  # API mode: also get/list discovery.k8s.io endpointslices
    selector: dict[str, str] = field(default_factory=dict)  # DNS mode: the member pods' labels (CarbonCluster's)
    member_port: int = 4000  # DNS mode: the headless Service's port (Hazelcast's localMemberPort)
    headless: bool = False  # the headless Service in API mode too (a StatefulSet's governing Service)


class MembershipAccess(pulumi.ComponentResource):
    service_account: k8s.core.v1.ServiceAccount
    role: k8s.rbac.v1.Role | None
    role_binding: k8s.rbac.v1.RoleBinding | None
    headless_service: k8s.core.v1.Service | None
    service_account_name: pulumi.Output[str]

    def __init__(self, name: str, args: MembershipAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("wso2k8s:kubernetes:MembershipAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.name, namespace=args.namespace, labels=args.labels),
            opts=child)
        self.role = self.role_binding = self.headless_service = None
        if args.mode == "api":
            self.role = k8s.rbac.v1.Role(
                f"{name}-role",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{args.name}-membership", namespace=args.namespace,
                                                    labels=args.labels),
                rules=ENDPOINT_RULES + (ENDPOINTSLICE_RULES if args.endpointslices else []), opts=child)
            self.role_binding = k8s.rbac.v1.RoleBinding(
                f"{name}-rolebinding",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{args.name}-membership", namespace=args.namespace,
                                                    labels=args.labels),
                role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role",
                                                 name=self.role.metadata.name),
                subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=self.service_account.metadata.name,
                                                  namespace=args.namespace)],
                opts=child)
        if args.mode == "dns" or args.headless:
            if not args.selector:
                raise ValueError("MembershipAccess's headless Service needs the member pods' selector")
            self.headless_service = k8s.core.v1.Service(
                f"{name}-headless",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=headless_service_name(args.name), namespace=args.namespace,
                                                    labels=args.labels),
                spec=k8s.core.v1.ServiceSpecArgs(
                    cluster_ip="None", publish_not_ready_addresses=True, selector=args.selector,
                    ports=[k8s.core.v1.ServicePortArgs(name="hazelcast", port=args.member_port,
                                                       target_port=args.member_port, protocol="TCP")]),
                opts=child)
        self.service_account_name = self.service_account.metadata.name
        self.register_outputs({"service_account_name": self.service_account_name})
