"""MembershipAccess: what the Kubernetes membership scheme needs to read the API from a pod.

A ServiceAccount for the pods, a Role that may get/list endpoints and pods (nothing else), and the
RoleBinding joining them. Without it the scheme gets HTTP 403 and every member stays alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

MEMBERSHIP_RULES = [k8s.rbac.v1.PolicyRuleArgs(api_groups=[""], resources=["endpoints", "pods"],
                                               verbs=["get", "list"])]


@dataclass(frozen=True)
class MembershipAccessArgs:
    name: str  # the ServiceAccount's name, also the prefix of the Role/RoleBinding
    namespace: str
    labels: dict[str, str]


class MembershipAccess(pulumi.ComponentResource):
    service_account: k8s.core.v1.ServiceAccount
    role: k8s.rbac.v1.Role
    role_binding: k8s.rbac.v1.RoleBinding
    service_account_name: pulumi.Output[str]

    def __init__(self, name: str, args: MembershipAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("wso2k8s:kubernetes:MembershipAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.name, namespace=args.namespace, labels=args.labels),
            opts=child)
        self.role = k8s.rbac.v1.Role(
            f"{name}-role",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{args.name}-membership", namespace=args.namespace,
                                                labels=args.labels),
            rules=MEMBERSHIP_RULES, opts=child)
        self.role_binding = k8s.rbac.v1.RoleBinding(
            f"{name}-rolebinding",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{args.name}-membership", namespace=args.namespace,
                                                labels=args.labels),
            role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role",
                                             name=self.role.metadata.name),
            subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=self.service_account.metadata.name,
                                              namespace=args.namespace)],
            opts=child)
        self.service_account_name = self.service_account.metadata.name
        self.register_outputs({"service_account_name": self.service_account_name})
