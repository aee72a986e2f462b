"""CarbonEntry: how users reach the console on 443 (settings `entry`).

ingress  an Ingress (networking.k8s.io/v1) with the cookie-affinity and HTTPS-backend annotations of the
         chosen controller's dialect, TLS from the user's Secret or a generated dev certificate
gateway  a Gateway API HTTPRoute on the user's Gateway (sessionPersistence by cookie) and a BackendTLSPolicy,
         so the Gateway speaks verified TLS to the members' 9443
edge     the program's own TLS proxy (components/edge.py) in front of a headless Service of the members, for a
         cluster without an ingress or Gateway controller: its image built from prepare()'s context and pushed to
         the stack's registry, its cookie key the stack's GeneratedSecret (CarbonEntryArgs.edge)

The members stay behind their ClusterIP Service (CarbonService); their conf names entry.host on 443 (render.py).
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from wso2k8s.edge_context import USER_ID
from wso2k8s.settings import StackSettings
from wso2k8s.settings.errors import Problem
from wso2k8s.settings.schema import Entry, ImageBuild

from .generated_certificate import GeneratedCertificate, GeneratedCertificateArgs
from .registry import RegistryTarget

GATEWAY_API = "gateway.networking.k8s.io/v1"
EDGE_MODULE = "components.edge"  # the edge proxy's component (EdgeProxy, EdgeProxyArgs)


@dataclass(frozen=True)
class EdgeBuild:
    """What kind edge needs beyond the settings: where its image is built and pushed, and the stack's cookie key."""

    context: Path  # prepare(): wso2k8s.edge_context.write_edge_context
    registry: RegistryTarget
    build: ImageBuild
    cookie_secret: pulumi.Output[str] = field(repr=False)  # GeneratedSecret.value: a secret


@dataclass(frozen=True)
class CarbonEntryArgs:
    entry: Entry
    namespace: str
    service_name: str  # the members' ClusterIP Service (CarbonService), the route's backend
    https_port_name: str  # its console port's name (servlet-https): BackendTLSPolicy's sectionName
    https_port: int  # its number (9443)
    selector: dict[str, str]  # the members' pods (CarbonCluster.selector): the edge's headless Service
    https_target_port: str  # the pods' named console port (https)
    labels: dict[str, str]
    member_https_port: int  # what the members listen on (https_port + port_offset): the edge dials pod IPs
    edge: EdgeBuild | None = None  # kind edge only


def ingress_annotations(entry: Entry, namespace: str, service_name: str) -> dict[str, str]:
    """Cookie affinity (Secure, SameSite) and an HTTPS backend, in the words of entry.ingress.dialect; the
    user's own annotations last."""
    i, cookie = entry.ingress, entry.cookie_name
    ca = f"{namespace}/{i.backend_ca_secret_name}" if i.backend_ca_secret_name else None
    out: dict[str, str]
    if i.dialect == "ingress-nginx":
        n = "nginx.ingress.kubernetes.io/"
        out = {n + "backend-protocol": "HTTPS", n + "ssl-redirect": "true",
               n + "affinity": "cookie", n + "affinity-mode": "persistent", n + "session-cookie-name": cookie,
               n + "session-cookie-path": "/", n + "session-cookie-secure": "true",
               n + "session-cookie-samesite": entry.cookie_samesite,
               # SameSite=None is left off for the old browsers that would drop such a cookie
               n + "session-cookie-conditional-samesite-none": "true"}
        if ca:
            out |= {n + "proxy-ssl-secret": ca, n + "proxy-ssl-verify": "on",
                    n + "proxy-ssl-name": entry.backend_hostname, n + "proxy-ssl-server-name": "on"}
    elif i.dialect == "haproxy":
        h = "haproxy.org/"
        out = {h + "server-ssl": "true", h + "ssl-redirect": "true", h + "cookie-persistence": cookie}
        if ca:
            out[h + "server-ca"] = ca
    else:  # nginx-inc: NGINX Plus's sticky cookie, the backend named as an HTTPS service
        out = {"nginx.org/ssl-services": service_name, "nginx.org/redirect-to-https": "true",
               "nginx.com/sticky-cookie-services": f"serviceName={service_name} {cookie} secure httponly path=/"}
    if not i.await_address:
        out["pulumi.com/skipAwait"] = "true"
    return out | dict(i.annotations)


def edge_available() -> bool:
    return importlib.util.find_spec(EDGE_MODULE) is not None


def entry_problems(stack: StackSettings) -> list[Problem]:
    """What this build cannot do, found before anything is created: an edge entry needs the edge proxy's
    component (components/edge.py), which a trimmed build may lack. (The edge's settings are checked by the
    loader, wso2k8s/settings/entry_checks.py; its binary by prepare().)"""
    if edge_available():
        return []
    return [stack.problem(s.profile, "entry.kind", f"is 'edge' but this build has no edge proxy "
                          f"({EDGE_MODULE.replace('.', '/')}.py)", "use entry.kind ingress or gateway (README: The "
                          "entry), or restore the file")
            for s in stack.profiles if s.entry.kind == "edge"]


class CarbonEntry(pulumi.ComponentResource):
    url: pulumi.Output[str]
    tls_secret_name: pulumi.Output[str] | None
    objects: list[pulumi.Resource]

    def __init__(self, name: str, args: CarbonEntryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("wso2k8s:kubernetes:CarbonEntry", name, None, opts)
        e, child = args.entry, pulumi.ResourceOptions(parent=self)
        assert e.host is not None  # the loader refuses an entry without a host
        self.objects = []
        self.tls_secret_name = self._tls(name, args, child)
        self.url = pulumi.Output.from_input(f"https://{e.host}/carbon/")
        if e.kind == "ingress":
            self._ingress(name, args, child)
        elif e.kind == "gateway":
            self._gateway(name, args, child)
        elif e.kind == "edge":
            self._edge(name, args, child)
        self.register_outputs({"url": self.url})

    def _tls(self, name: str, args: CarbonEntryArgs, child: pulumi.ResourceOptions) -> pulumi.Output[str] | None:
        tls = args.entry.tls
        if tls.secret_name:
            return pulumi.Output.from_input(tls.secret_name)
        if not tls.generate:
            return None
        assert args.entry.host is not None
        cert = GeneratedCertificate(f"{name}-certificate", GeneratedCertificateArgs(
            common_name=args.entry.host, dns_names=[args.entry.host], validity_days=365), opts=child)
        secret = k8s.core.v1.Secret(
            f"{name}-tls",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{args.service_name}-entry-tls", namespace=args.namespace,
                                                labels=args.labels),
            type="kubernetes.io/tls",
            string_data={"tls.crt": cert.certificate_pem, "tls.key": cert.private_key_pem},  # the key: a secret output
            opts=child)
        self.objects.append(secret)
        secret_name: pulumi.Output[str] = secret.metadata.apply(lambda m: str(m.name))
        return secret_name

    def _ingress(self, name: str, args: CarbonEntryArgs, child: pulumi.ResourceOptions) -> None:
        e = args.entry
        self.objects.append(k8s.networking.v1.Ingress(
            f"{name}-ingress",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.service_name, namespace=args.namespace, labels=args.labels,
                annotations=ingress_annotations(e, args.namespace, args.service_name)),
            spec=k8s.networking.v1.IngressSpecArgs(
                ingress_class_name=e.ingress.class_name,
                tls=[k8s.networking.v1.IngressTLSArgs(hosts=[e.host], secret_name=self.tls_secret_name)],
                rules=[k8s.networking.v1.IngressRuleArgs(host=e.host, http=k8s.networking.v1.HTTPIngressRuleValueArgs(
                    paths=[k8s.networking.v1.HTTPIngressPathArgs(
                        path="/", path_type="Prefix", backend=k8s.networking.v1.IngressBackendArgs(
                            service=k8s.networking.v1.IngressServiceBackendArgs(
                                name=args.service_name,
                                port=k8s.networking.v1.ServiceBackendPortArgs(number=args.https_port))))]))]),
            opts=child))

    def _gateway(self, name: str, args: CarbonEntryArgs, child: pulumi.ResourceOptions) -> None:
        g = args.entry.gateway
        assert g.parent_ref is not None and g.backend_ca_config_map is not None  # the loader refuses otherwise
        parent: dict[str, Any] = {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": g.parent_ref.name}
        if g.parent_ref.namespace:
            parent["namespace"] = g.parent_ref.namespace
        if g.parent_ref.section_name:
            parent["sectionName"] = g.parent_ref.section_name
        rule: dict[str, Any] = {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                                "backendRefs": [{"name": args.service_name, "port": args.https_port}]}
        if g.session_persistence:
            rule["sessionPersistence"] = {"type": "Cookie",
                                          "cookie": {"name": args.entry.cookie_name, "lifetimeType": "Session"}}
        meta = {"name": args.service_name, "namespace": args.namespace, "labels": args.labels}
        self.objects.append(k8s.apiextensions.CustomResource(
            f"{name}-httproute", api_version=GATEWAY_API, kind="HTTPRoute", metadata=meta,
            spec={"parentRefs": [parent], "hostnames": [args.entry.host], "rules": [rule]}, opts=child))
        # The Gateway reaches the members over TLS and checks their certificate against the user's CA.
        self.objects.append(k8s.apiextensions.CustomResource(
            f"{name}-backendtls", api_version=GATEWAY_API, kind="BackendTLSPolicy", metadata=meta,
            spec={"targetRefs": [{"group": "", "kind": "Service", "name": args.service_name,
                                  "sectionName": args.https_port_name}],
                  "validation": {"caCertificateRefs": [{"group": "", "kind": "ConfigMap",
                                                        "name": g.backend_ca_config_map}],
                                 "hostname": args.entry.backend_hostname}},
            opts=child))

    def _edge(self, name: str, args: CarbonEntryArgs, child: pulumi.ResourceOptions) -> None:
        edge: Any = importlib.import_module(EDGE_MODULE)  # checked before anything was created (entry_problems)
        e, build = args.entry, args.edge
        assert self.tls_secret_name is not None and e.host is not None and build is not None  # loader, graph
        # The proxy balances over the members itself (by cookie): it needs each member's address, which a
        # headless Service gives by DNS; only ready members (no publishNotReadyAddresses).
        members = f"{args.service_name}-members"
        headless = k8s.core.v1.Service(
            f"{name}-members",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=members, namespace=args.namespace, labels=args.labels),
            spec=k8s.core.v1.ServiceSpecArgs(cluster_ip="None", selector=args.selector, ports=[
                k8s.core.v1.ServicePortArgs(name=args.https_port_name, port=args.https_port,
                                            target_port=args.https_target_port, protocol="TCP")]),
            opts=child)
        self.objects.append(headless)
        ca = e.edge.backend_ca_secret_name
        proxy = edge.EdgeProxy(f"{name}-edge", edge.EdgeProxyArgs(
            namespace=args.namespace, name=f"{args.service_name}-edge", host=e.host,
            tls_secret_name=self.tls_secret_name,
            backend_service=f"{members}.{args.namespace}.svc.cluster.local", backend_port=args.member_https_port,
            cookie_name=e.cookie_name,
            # not the members' labels: the members' Service selects by those
            labels={**args.labels, "app.kubernetes.io/name": f"{args.service_name}-edge",
                    "app.kubernetes.io/component": "edge", "name": f"{args.service_name}-edge"},
            context=build.context, image_name=build.registry.image_name(e.edge.image.name, e.edge.image.tag),
            registry=build.registry, build=build.build, user_id=USER_ID, external_ips=tuple(e.edge.external_ips),
            replicas=e.edge.replicas, cookie_secret=build.cookie_secret, backend_ca_secret_name=ca,
            backend_tls_server_name=e.backend_hostname if ca else ""),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[headless]))
        self.objects += [proxy.config, proxy.deployment, proxy.service]
