"""The whole graph of one stack: base image → product image per profile → RBAC, members, Service."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from wso2k8s import confdiff
from wso2k8s.edge_context import member_drain_seconds
from wso2k8s.pack.database_context import database_resource_name
from wso2k8s.pack.datasources import database_host
from wso2k8s.pack.scheme_jar import headless_service_name
from wso2k8s.prepare import PreparedProfile, PreparedStack
from wso2k8s.settings import Settings
from wso2k8s.settings.availability import members_at_least

from .base_image import BaseImage, BaseImageArgs
from .carbon_cluster import CarbonCluster, CarbonClusterArgs, MemberPod, MemberPort, Members
from .carbon_service import CarbonService, CarbonServiceArgs, ServicePort
from .database import EmbeddedDatabase, EmbeddedDatabaseArgs
from .entry import CarbonEntry, CarbonEntryArgs, EdgeBuild
from .formation import FormationGate, FormationGateArgs, generation_of
from .generated_certificate import GeneratedCertificate, GeneratedCertificateArgs
from .generated_secret import GeneratedSecret, GeneratedSecretArgs
from .keystores import StackKeystores, StackKeystoresArgs
from .membership_access import MembershipAccess, MembershipAccessArgs
from .product_image import ProductImage, ProductImageArgs
from .registry import RegistryTarget
from .workload_kinds import Placement


@dataclass
class ProfileGraph:
    image: ProductImage
    access: MembershipAccess
    cluster: CarbonCluster
    service: CarbonService
    database: EmbeddedDatabase | None = None
    keystores: StackKeystores | None = None
    entry: CarbonEntry | None = None  # settings `entry`: Ingress / HTTPRoute / edge proxy in front of the Service

    @property
    def console_url(self) -> pulumi.Output[str]:
        return self.entry.url if self.entry is not None else self.service.console_url
    formation: FormationGate | None = None  # clustering.await_formation


@dataclass
class StackGraph:
    base: BaseImage
    profiles: dict[str, ProfileGraph] = field(default_factory=dict)
    database: EmbeddedDatabase | None = None  # one per stack: every profile's datasources point at it


def labels_for(s: Settings, stack: str) -> dict[str, str]:
    """Computed once; the Service's selector and every object's labels come from here."""
    return {"app.kubernetes.io/name": s.name, "app.kubernetes.io/instance": f"{s.name}-{stack}",
            "app.kubernetes.io/part-of": s.product, "app.kubernetes.io/managed-by": "wso2-kubernetes",
            "wso2k8s.io/profile": s.profile, "name": s.name}  # `name`: the seed's own label


def image_repository(s: Settings) -> str:
    """The profile's image repository: one per profile, the default profile's without a suffix."""
    return s.product_image.name if s.profile == "default" else f"{s.product_image.name}-{s.profile}"


def members_of(s: Settings) -> Members:
    """What CarbonCluster is told of a profile's settings (it never sees the settings object)."""
    w = s.workload
    return Members(
        name=s.name, namespace=s.kubernetes.namespace, kind=w.kind, replicas=w.replicas, autoscaler=w.autoscaler,
        disruption_budget=w.disruption_budget,
        pod=MemberPod(
            name=s.name, ports=tuple(MemberPort(p.pod_port_name, s.shifted(p)) for p in s.ports.values()),
            https_port=s.shifted(s.port("servlet-https")), java_opts=w.java_opts, resources=w.resources,
            probes=w.probes, user_id=s.base_image.user_id, shared_database=s.database.enabled,
            database_host=database_host(s) if s.database.enabled and not s.database.external else None,
            drain_seconds=member_drain_seconds(s.entry.edge.dns_cache_seconds) if s.entry.kind == "edge" else 5),
        placement=Placement(w.anti_affinity, tuple(w.topology_spread), dict(w.node_selector), tuple(w.tolerations)),
        pod_labels=dict(w.pod_labels), pod_annotations=dict(w.pod_annotations),
        # a StatefulSet's governing Service: the user's, or `<name>-headless` (MembershipAccess makes it)
        governing_service=w.statefulset.service_name or headless_service_name(s.name),
        pod_management_policy=w.statefulset.pod_management_policy, await_ready=w.await_ready,
        await_timeout_seconds=w.await_timeout_seconds,
        image_name=f"{s.registry.server}/{image_repository(s)}:{s.product_image.tag}")


def _service_args(s: Settings, selector: dict[str, str], labels: dict[str, str]) -> CarbonServiceArgs:
    """What CarbonService is told of a profile's settings: its ports from the same map as the members'."""
    return CarbonServiceArgs(
        name=s.name, namespace=s.kubernetes.namespace, type=s.service.type, session_affinity=s.service.session_affinity,
        ports=tuple(ServicePort(p.name, p.container_port, p.pod_port_name, s.node_port(p)) for p in s.ports.values()),
        behind_entry=s.entry_used, console_host=s.public_hostname, selector=selector, labels=labels)


def namespace_labels(s: Settings) -> dict[str, str]:
    """Pod Security Admission: the API server refuses pods below `enforce`, and reports them for audit/warn."""
    level = s.kubernetes.pod_security
    return {"app.kubernetes.io/managed-by": "wso2-kubernetes",
            **{f"pod-security.kubernetes.io/{mode}": level for mode in ("enforce", "audit", "warn")}}


def build_graph(prepared: PreparedStack) -> StackGraph:
    stack = prepared.stack
    first = stack.profiles[0]
    registry = _registry(first, stack.secrets.registry_password)
    provider = k8s.Provider(
        "cluster",
        # a path (the stack's, or the one the tools export: program.py), so no token lands in the state; none: the
        # provider's own default (~/.kube/config)
        kubeconfig=first.kubernetes.kubeconfig,
        context=first.kubernetes.context,
        # pulumi-kubernetes v4's default, said explicitly: the API server merges and records field owners, so a
        # field someone else changed (kubectl edit/scale) is a conflict, not a silent overwrite (README: Upgrading).
        enable_server_side_apply=True,
    )
    base = BaseImage("base-image", BaseImageArgs(prepared.base_context, first.base_image.name,
                                                 first.base_image.tag, registry, first.image_build))
    # One Namespace per distinct namespace a profile asks to create (profiles may share one).
    wanted = {s.kubernetes.namespace: s for s in stack.profiles if s.kubernetes.create_namespace}
    namespaces = {
        name: k8s.core.v1.Namespace(
            f"namespace-{name}",
            metadata={"name": name, "labels": namespace_labels(wanted[name])},
            opts=pulumi.ResourceOptions(provider=provider))
        for name in sorted(wanted)}
    # (prepare() plans the keystores; a test that builds profiles by hand has none)
    certificate = _stack_certificate(stack.profiles) if any(p.keystores for p in prepared.profiles) else None
    # entry.kind edge: one cookie key per stack, made once and kept (a secret) in the state; every edge pod of
    # every profile signs its sticky cookie with it, so a session survives an edge pod's restart
    edge = EdgeBuild(prepared.edge_context, registry, first.image_build, GeneratedSecret(
        "edge-cookie-key", GeneratedSecretArgs()).value) if prepared.edge_context is not None else None
    database = _database(prepared, registry, provider, namespaces)
    graph = StackGraph(base, database=database)
    for profile in prepared.profiles:
        namespace = namespaces.get(profile.settings.kubernetes.namespace)
        graph.profiles[profile.settings.profile] = _profile(profile, base, registry, provider, namespace, prepared,
                                                            certificate, edge, database)
    return graph


def _stack_certificate(profiles: list[Settings]) -> GeneratedCertificate | None:
    """keystores.mode generate: one key pair per stack (keystores is a stack-wide setting), named for every
    profile's host and Service, so each profile's members trust the others'."""
    k = profiles[0].keystores
    if k.mode != "generate":
        return None
    names = sorted({"localhost", *(s.hostname for s in profiles), *(s.public_hostname for s in profiles),
                    *(s.name for s in profiles)})
    return GeneratedCertificate("stack-certificate", GeneratedCertificateArgs(
        profiles[0].hostname, names, k.key_size, k.validity_days))


def _profile(p: PreparedProfile, base: BaseImage, registry: RegistryTarget, provider: k8s.Provider,
             namespace: k8s.core.v1.Namespace | None, prepared: PreparedStack,
             certificate: GeneratedCertificate | None, edge: EdgeBuild | None = None,
             database: EmbeddedDatabase | None = None) -> ProfileGraph:
    s, secrets = p.settings, prepared.stack.secrets
    labels = labels_for(s, prepared.stack.stack)
    scoped = _scoped(provider, namespace)
    image = ProductImage(f"{s.profile}-image", ProductImageArgs(
        p.product_context, image_repository(s), s.product_image.tag, base, registry, s.image_build,
        confdiff.packed(confdiff.rendered_files(p.product_context))))
    k = s.clustering.kubernetes
    access = MembershipAccess(f"{s.profile}-membership", MembershipAccessArgs(
        s.name, s.kubernetes.namespace, labels, mode=k.mode, endpointslices=k.endpointslices,
        selector=labels, member_port=s.clustering.local_member_port,
        # a StatefulSet's governing Service is the same `<name>-headless` (components/workload_kinds.py)
        headless=s.workload.kind == "StatefulSet" and s.workload.statefulset.service_name is None),
        opts=scoped)  # selector: CarbonCluster's
    database_password = (pulumi.Output.secret(secrets.database_password)
                         if s.database.enabled and secrets.database_password is not None else None)
    keystores = None
    if p.keystores is not None:  # prepare() always plans them; None only where a test builds a profile by hand
        keystores = StackKeystores(f"{s.profile}-keystores", StackKeystoresArgs(
            f"{s.name}-keystores", s.kubernetes.namespace, labels, p.keystores,
            pulumi.Output.secret(secrets.keystore_password), certificate), opts=scoped)
    cluster = CarbonCluster(f"{s.profile}-cluster", CarbonClusterArgs(
        members=members_of(s), image=image.repo_digest, service_account_name=access.service_account_name, labels=labels,
        admin_password=pulumi.Output.secret(secrets.admin_password),
        keystore_password=pulumi.Output.secret(secrets.keystore_password),
        database_password=database_password, database_ip=database.cluster_ip if database else None,
        keystores_secret_name=f"{s.name}-keystores" if keystores else None,
        keystores_identity=keystores.identity if keystores else None),
        # The members start on a complete schema: after the database's schema Job has finished.
        opts=pulumi.ResourceOptions.merge(scoped, pulumi.ResourceOptions(
            depends_on=[access, *([database.schema_job] if database else []), *([keystores] if keystores else [])])))
    service = CarbonService(f"{s.profile}-service", _service_args(s, cluster.selector, labels), opts=scoped)
    entry = None
    if s.entry_used:
        https = s.port("servlet-https")
        entry = CarbonEntry(f"{s.profile}-entry", CarbonEntryArgs(
            s.entry, s.kubernetes.namespace, s.name, https.name, https.container_port, cluster.selector,
            https.pod_port_name, labels, s.shifted(https), edge if s.entry.kind == "edge" else None),
            opts=pulumi.ResourceOptions.merge(scoped, pulumi.ResourceOptions(
                depends_on=[service])))
    formation = _formation(s, prepared.stack.profiles[0], cluster) if s.clustering.enabled \
        and s.clustering.await_formation.enabled else None
    return ProfileGraph(image, access, cluster, service, database, keystores, entry, formation)


def _formation(s: Settings, first: Settings, cluster: CarbonCluster) -> FormationGate:
    """After the workload is ready: wait until every member's Hazelcast sees every other (re-run per rollout)."""
    selector, template = generation_of(cluster.workload)
    return FormationGate(f"{s.profile}-formation", FormationGateArgs(
        label=f"{s.name} (profile {s.profile})", namespace=s.kubernetes.namespace,
        workload_name=cluster.workload_name, selector=selector, template=template,
        replicas=members_at_least(s.workload.replicas, s.workload.autoscaler),
        port=s.clustering.local_member_port, timeout_seconds=s.clustering.await_formation.timeout_seconds,
        # the stack's kubeconfig (or the one the tools export: program.py); else the provider's default
        kubeconfig=first.kubernetes.kubeconfig or os.path.expanduser("~/.kube/config"),
        context=first.kubernetes.context),
        opts=pulumi.ResourceOptions(depends_on=[cluster]))


def _database(prepared: PreparedStack, registry: RegistryTarget, provider: k8s.Provider,
              namespaces: dict[str, k8s.core.v1.Namespace]) -> EmbeddedDatabase | None:
    """The embedded server, once for the whole stack (`database` is stack-wide): its Service is every profile's
    database.host, and every profile's members start after its schema Job."""
    password = prepared.stack.secrets.database_password
    if prepared.database is None or password is None or not prepared.profiles:
        return None
    profiles = [p.settings for p in prepared.profiles]
    s = profiles[0]  # database, image_build and the namespace's labels are the same for every profile
    emb, host = s.database.embedded, database_host(s)
    labels = {**labels_for(s, prepared.stack.stack), "app.kubernetes.io/name": host, "name": host}  # not the members'
    if len(profiles) > 1:  # it serves every profile: labelled by none of them
        labels["app.kubernetes.io/instance"] = f"{host}-{prepared.stack.stack}"
        del labels["wso2k8s.io/profile"]
    namespace = namespaces.get(s.kubernetes.namespace)
    scoped = _scoped(provider, namespace)
    return EmbeddedDatabase(database_resource_name(profiles), EmbeddedDatabaseArgs(
        service_name=host, namespace=s.kubernetes.namespace, labels=labels, context=prepared.database,
        image_name=registry.image_name(emb.image.name, emb.image.tag), registry=registry, build=s.image_build,
        user_id=emb.user_id, database=s.database.name, username=s.database.username,
        password=pulumi.Output.secret(password), storage=emb.storage, storage_class=emb.storage_class,
        resources=emb.resources), opts=scoped)


def _scoped(provider: k8s.Provider, namespace: k8s.core.v1.Namespace | None) -> pulumi.ResourceOptions:
    """Objects in the stack's cluster, after their namespace when the stack creates it."""
    return pulumi.ResourceOptions(providers={"kubernetes": provider},
                                  depends_on=[namespace] if namespace is not None else [])


def _registry(s: Settings, password: str | None) -> RegistryTarget:
    secret = pulumi.Output.secret(password) if password is not None else None
    return RegistryTarget(s.registry.server, s.registry.username, secret)


def export_outputs(graph: StackGraph, prepared: PreparedStack) -> None:
    """Stack outputs a user wants after `pulumi up` (and the main job prints)."""
    by_name = {p.settings.profile: p.settings for p in prepared.profiles}
    pulumi.export("base_image", graph.base.repo_digest)
    pulumi.export("product_images", {name: g.image.repo_digest for name, g in graph.profiles.items()})
    pulumi.export("service_names", {name: g.service.service_name for name, g in graph.profiles.items()})
    pulumi.export("workloads", {name: g.cluster.workload_name for name, g in graph.profiles.items()})
    pulumi.export("console_urls", {name: g.console_url for name, g in graph.profiles.items()})
    pulumi.export("console_url", next(iter(graph.profiles.values())).console_url)
    pulumi.export("namespace", prepared.stack.profiles[0].kubernetes.namespace)
    # the rendered conf files per profile: the deployed side of the conf diffs in previews (tools/preview.sh)
    pulumi.export("conf_files", {name: g.image.conf_files for name, g in graph.profiles.items()})
    # with an autoscaler: its minimum (what there is at least, once it has acted)
    pulumi.export("expected_members", {name: members_at_least(s.workload.replicas, s.workload.autoscaler)
                                       for name, s in by_name.items()})
    pulumi.export("formed_members", {name: g.formation.members for name, g in graph.profiles.items() if g.formation})
