"""CarbonCluster: the Carbon members as pods (the seed's ReplicationController `wso2is`), and their Secret.

A ReplicationController does not roll its pods when the pod template changes. So the RC's name carries a hash
of its pod template (`wso2is-<hash>`): a new image or setting makes Pulumi create the new RC first, wait until
its pods are ready, and only then delete the old one, like `kubectl rolling-update` did. The Service selects
the labels both share, so the old members serve until the new ones are ready. `workload.kind: Deployment`
gets the same from Kubernetes itself; `StatefulSet` too, with stable member names (components/workload_kinds.py).
Around the workload: a PodDisruptionBudget with more than one member (components/disruption.py) and, when
asked, a HorizontalPodAutoscaler (components/autoscaler.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.policy_view import carbon_cluster_view
from wso2k8s.keys.stores import KEYSTORES_DIR
from wso2k8s.settings.availability import Autoscaler, DisruptionBudget, members_at_least
from wso2k8s.settings.schema import Probes, Resources

from .autoscaler import AutoscalerArgs, create_autoscaler
from .disruption import DisruptionArgs, create_disruption_budget
from .workload_kinds import (
    TEMPLATE_HASH_LABEL,
    Kind,
    Placement,
    WorkloadArgs,
    WorkloadObject,
    create_workload,
    placement,
)

SECRETS_DIR = "/run/secrets/wso2carbon"  # read by the image's docker-entrypoint.sh
# The keystores' public identity (components/keystores.py): a new key or CA changes it, so the members roll.
KEYSTORES_ANNOTATION = "wso2k8s.io/keystores"
__all__ = ["TEMPLATE_HASH_LABEL", "CarbonCluster", "CarbonClusterArgs", "MemberPod", "MemberPort", "Members",
           "pod_spec_dict"]


@dataclass(frozen=True)
class MemberPort:
    name: str  # the container port's name (pod_port_name): what the Service's targetPort names
    number: int  # where the server listens: the port before the offset + port_offset


@dataclass(frozen=True)
class MemberPod:
    """What one member's pod is made of (pod_spec_dict)."""
    name: str  # the container's
    ports: tuple[MemberPort, ...]
    https_port: int  # servlet-https after the offset: the probes ask it
    java_opts: str
    resources: Resources
    probes: Probes
    user_id: int  # the image's wso2carbon user (base_image.user_id)
    shared_database: bool  # database.enabled: liveness then asks only whether the server listens
    database_host: str | None = None  # the stack's embedded database Service (its pods' host alias)
    # how long a leaving member keeps serving (preStop): kube-proxy's endpoint removal, or an edge's DNS view
    drain_seconds: int = 5


@dataclass(frozen=True)
class Members:
    """What the settings say about one profile's members: plain values, all known during a preview (the
    policy pack judges them while the pod spec waits for the image digest: components/policy_view.py)."""
    name: str  # the workload's (an RC's name prefix), its Secret's `<name>-secrets`, the budget's, the autoscaler's
    namespace: str
    kind: Kind
    replicas: int
    autoscaler: Autoscaler  # enabled: it owns spec.replicas, the members are at least its minimum
    disruption_budget: DisruptionBudget
    pod: MemberPod
    placement: Placement
    pod_labels: dict[str, str]  # extra pod labels (never the selector's keys: the settings refuse that)
    pod_annotations: dict[str, str]
    governing_service: str  # StatefulSet: its headless Service (`<name>-headless`, MembershipAccess's, or the user's)
    pod_management_policy: str  # StatefulSet
    await_ready: bool
    await_timeout_seconds: int
    image_name: str  # registry/repository:tag the pods pull (by the digest of this tag, once pushed)


@dataclass(frozen=True)
class CarbonClusterArgs:
    members: Members
    image: pulumi.Input[str]  # repo digest of the ProductImage
    service_account_name: pulumi.Input[str]
    labels: dict[str, str]  # shared by every generation of pods; the Service selects these
    admin_password: pulumi.Output[str]  # secret Outputs only
    keystore_password: pulumi.Output[str]
    database_password: pulumi.Output[str] | None = None  # secret; when database.enabled
    # The embedded database's Service address, written into the pods' /etc/hosts as its name: the synthetic
    # server resolves names from /etc/hosts only (bin/wso2server.sh); a real pack would use the cluster DNS.
    database_ip: pulumi.Input[str] | None = None
    keystores_secret_name: str | None = None  # the Secret of components/keystores.py, mounted at KEYSTORES_DIR
    keystores_identity: pulumi.Input[str] | None = None  # its certificates' hash: the pod template's annotation


class CarbonCluster(pulumi.ComponentResource):
    secret: k8s.core.v1.Secret
    workload: WorkloadObject
    disruption_budget: k8s.policy.v1.PodDisruptionBudget | None
    autoscaler: k8s.autoscaling.v2.HorizontalPodAutoscaler | None
    selector: dict[str, str]  # what a Service must select to reach every member
    workload_name: pulumi.Output[str]

    def __init__(self, name: str, args: CarbonClusterArgs, opts: pulumi.ResourceOptions | None = None):
        # its known settings as inputs: the policy pack judges them while the pod spec waits for the digest
        super().__init__("wso2k8s:kubernetes:CarbonCluster", name, carbon_cluster_view(args.members), opts)
        m = args.members
        child = pulumi.ResourceOptions(parent=self)
        self.selector = dict(args.labels)
        self.secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{m.name}-secrets", namespace=m.namespace,
                                                labels=args.labels),
            type="Opaque",
            # pulumi-kubernetes sends a Secret's data to the engine as secret values (encrypted in the state).
            string_data={"admin_password": args.admin_password, "keystore_password": args.keystore_password,
                         **({"database_password": args.database_password} if args.database_password else {})},
            opts=child)

        pod_spec = pulumi.Output.all(args.image, args.service_account_name, args.database_ip).apply(
            lambda v: {**pod_spec_dict(m.pod, image=v[0], service_account=v[1], secret_name=f"{m.name}-secrets",
                                       database_ip=v[2], keystores_secret=args.keystores_secret_name),
                       **placement(m.placement, m.kind, self.selector)})
        identity = pulumi.Output.from_input(args.keystores_identity or "")
        pod_annotations = identity.apply(lambda i: {**m.pod_annotations, **({KEYSTORES_ANNOTATION: i} if i else {})})
        # The whole template: a new pod label or annotation (a new keystore's identity) makes a new RC generation.
        template_hash = pulumi.Output.all(pod_spec, pod_annotations).apply(lambda v: _hash(
            v[0] if not (m.pod_labels or v[1]) else
            {"spec": v[0], "labels": dict(m.pod_labels), "annotations": v[1]}))
        self.workload = create_workload(name, WorkloadArgs(
            name=m.name, namespace=m.namespace, kind=m.kind,
            replicas=None if m.autoscaler.enabled else m.replicas, labels=args.labels,
            pod_labels=dict(m.pod_labels), pod_annotations=pod_annotations,
            annotations={**await_annotations(m), **autoscaled(m)},
            service_name=m.governing_service, pod_management_policy=m.pod_management_policy),
            pod_spec, template_hash, pulumi.ResourceOptions(parent=self, depends_on=[self.secret]))
        self.workload_name = self.workload.metadata.apply(lambda o: o["name"] if isinstance(o, dict) else o.name)

        members = members_at_least(m.replicas, m.autoscaler)
        budget = m.disruption_budget
        self.disruption_budget = create_disruption_budget(name, DisruptionArgs(
            m.name, m.namespace, args.labels, self.selector, budget.min_available,
            budget.max_unavailable), child) if budget.enabled and members > 1 else None
        a = m.autoscaler
        self.autoscaler = create_autoscaler(name, AutoscalerArgs(
            m.name, m.namespace, args.labels, "apps/v1", m.kind, self.workload_name, members,
            a.max_replicas, a.cpu_utilization), pulumi.ResourceOptions(parent=self, depends_on=[self.workload])
        ) if a.enabled else None
        self.register_outputs({"workload_name": self.workload_name, "selector": self.selector})


AUTOSCALED_ANNOTATION = "wso2k8s.io/autoscaler-min-replicas"


def autoscaled(m: Members) -> dict[str, str]:
    """With an autoscaler the workload sends no spec.replicas: this says how many there are at least (the
    policy pack's min-replicas rule reads it)."""
    return {AUTOSCALED_ANNOTATION: str(members_at_least(m.replicas, m.autoscaler))} if m.autoscaler.enabled else {}


SHUTDOWN_SECONDS = 25  # Carbon's shutdown after the drain (30 s of grace with the 5 s drain, as before)


def pod_spec_dict(p: MemberPod, *, image: str, service_account: str, secret_name: str,
                  database_ip: str | None = None, keystores_secret: str | None = None) -> dict[str, Any]:
    """The pod of one Carbon member. Plain data so that its hash names the RC generation."""
    https = p.https_port
    probe = {"httpGet": {"scheme": "HTTPS", "port": https, "path": p.probes.path},
             "periodSeconds": p.probes.period_seconds, "timeoutSeconds": 5}
    uid = p.user_id
    extra: dict[str, Any] = {}
    if database_ip and p.database_host:
        extra["hostAliases"] = [{"ip": database_ip, "hostnames": [p.database_host]}]
    return {
        **extra,
        "serviceAccountName": service_account,
        # What Pod Security `restricted` asks (namespace label kubernetes.pod_security): non-root, the runtime's
        # default seccomp profile here, and per container no privilege escalation and no capabilities.
        "securityContext": {"runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid, "fsGroup": uid,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "terminationGracePeriodSeconds": p.drain_seconds + SHUTDOWN_SECONDS,
        "containers": [{
            "name": p.name,
            "image": image,
            "imagePullPolicy": "IfNotPresent",
            "ports": [{"name": port.name, "containerPort": port.number, "protocol": "TCP"} for port in p.ports],
            "env": [
                {"name": "JAVA_OPTS", "value": p.java_opts},
                {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            ],
            "resources": {
                "requests": {"cpu": p.resources.cpu_request, "memory": p.resources.memory_request},
                "limits": {"cpu": p.resources.cpu_limit, "memory": p.resources.memory_limit},
            },
            # Startup may take minutes on a real pack; liveness starts counting only after it.
            "startupProbe": {**probe, "failureThreshold": p.probes.failure_threshold,
                             "initialDelaySeconds": p.probes.initial_delay_seconds},
            "readinessProbe": {**probe, "failureThreshold": 3},
            # With a shared database the page answers 503 while the database is down (readiness); liveness
            # then asks only whether the server listens, so a database outage does not restart every member.
            "livenessProbe": ({"tcpSocket": {"port": https}, "periodSeconds": probe["periodSeconds"]}
                              if p.shared_database else probe) | {"failureThreshold": 6},
            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
            # Keep serving while the endpoint removal reaches kube-proxy (or the edge), so a rollout drops no request.
            "lifecycle": {"preStop": {"exec": {"command": ["sleep", str(p.drain_seconds)]}}},
            "volumeMounts": [{"name": "wso2carbon-secrets", "mountPath": SECRETS_DIR, "readOnly": True},
                             *([{"name": "wso2carbon-keystores", "mountPath": KEYSTORES_DIR, "readOnly": True}]
                               if keystores_secret else [])],
        }],
        "volumes": [{"name": "wso2carbon-secrets",
                     "secret": {"secretName": secret_name, "defaultMode": 0o440}},
                    *([{"name": "wso2carbon-keystores", "secret": {"secretName": keystores_secret,
                                                                   "defaultMode": 0o440}}]
                      if keystores_secret else [])],
    }


def await_annotations(m: Members) -> dict[str, str]:
    """How `pulumi up` waits for the members. pulumi-kubernetes' built-in ReplicationController await ignores
    `pulumi.com/timeoutSeconds` (it always waits 10 minutes): a `waitFor` condition on the RC's available
    replicas makes the provider use its generic await, which honours the timeout. A Deployment's own await
    honours it already."""
    if not m.await_ready:
        return {"pulumi.com/skipAwait": "true"}
    annotations = {"pulumi.com/timeoutSeconds": str(m.await_timeout_seconds)}
    if m.kind == "ReplicationController":  # replicas 0 with await_ready is refused by the loader
        annotations["pulumi.com/waitFor"] = f"jsonpath={{.status.availableReplicas}}={m.replicas}"
    return annotations


def _hash(spec: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:10]
