"""EdgeProxy: the stack's own front door for clusters without an ingress controller (a bare-metal user's choice).

  image       Caddy (tools/caddy/build.sh) on the project's OS image, pushed, used by digest
  ConfigMap   the Caddyfile (wso2k8s/templates/edge/Caddyfile.j2): TLS from the Secret, reverse_proxy over HTTPS
              to the members' addresses read from their headless Service (DNS A, refreshed), sticky by cookie
  Secret      the key of the sticky cookie's HMAC (when given; else each pod makes one at start)
  Deployment  non-root, read-only root, Pod Security `restricted`; the TLS Secret and the Caddyfile mounted
  Service     ClusterIP, port `port` (443) → the pod's 8443, with `external_ips`: kube-proxy answers on those
              node addresses. Why externalIPs: it is the one way to put a pod on a node's 443 that needs no
              extra controller (MetalLB) and no hostNetwork/hostPort, which Pod Security `baseline` and
              `restricted` refuse. A cluster that blocks it (DenyServiceExternalIPs) gives an empty list and
              fronts the ClusterIP its own way.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from wso2k8s.edge_context import BACKEND_CA_DIR, HEALTH_PORT, LISTEN_PORT, TLS_DIR, USER_ID, CaddyfileArgs, caddyfile
from wso2k8s.settings.schema import ImageBuild

from .image_build import pushed_image
from .registry import RegistryTarget

_DNS_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$")
_COOKIE_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")  # an RFC 6265 token
_IPV4 = re.compile(r"^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$")
_CONFIG = "/etc/caddy"
_CADDY_RUN = f"/usr/local/bin/caddy run --config {_CONFIG}/Caddyfile --adapter caddyfile"


class EdgeArgsError(ValueError):
    """A bad argument, named, with the fix; raised before any resource is registered."""


@dataclass(frozen=True)
class EdgeProxyArgs:
    namespace: str
    name: str  # the Deployment, Service and ConfigMap name (e.g. wso2is-edge)
    host: str  # the external host name the certificate is for and every redirect must name
    tls_secret_name: pulumi.Input[str]  # a kubernetes.io/tls Secret (tls.crt, tls.key) in `namespace`
    backend_service: str  # headless Service DNS name resolving to member pod IPs
    backend_port: int  # 9443 HTTPS
    cookie_name: str  # the sticky cookie (not JSESSIONID: the members own that one)
    labels: dict[str, str]
    # the image
    context: Path  # wso2k8s.edge_context.write_edge_context
    image_name: str  # registry/repository:tag
    registry: RegistryTarget
    build: ImageBuild
    user_id: int = USER_ID  # the one write_edge_context put in the image
    # reaching it
    external_ips: tuple[str, ...] = ()  # node addresses kube-proxy answers `port` on (the local node: 10.245.0.1)
    port: int = 443
    replicas: int = 1
    cookie_secret: pulumi.Input[str] | None = field(default=None, repr=False)  # a secret Output
    backend_ca_secret_name: str | None = None  # a Secret with ca.crt to verify the members by; None: not verified
    backend_tls_server_name: str = ""  # the name the members' certificate is for (with backend_ca_secret_name)

    def problems(self) -> list[str]:
        found = []
        if not _DNS_NAME.match(self.host):
            found.append(f"host {self.host!r} is not a DNS name; fix: a lower-case name like is.example.com")
        if not _DNS_NAME.match(self.backend_service):
            found.append(f"backend_service {self.backend_service!r} is not a DNS name; fix: the members' headless "
                         "Service, e.g. wso2is-members.<namespace>.svc.cluster.local")
        if not _COOKIE_NAME.match(self.cookie_name) or self.cookie_name == "JSESSIONID":
            found.append(f"cookie_name {self.cookie_name!r} is not a cookie name of its own; fix: a token such as "
                         "wso2lb (JSESSIONID belongs to the members)")
        for key, value in (("backend_port", self.backend_port), ("port", self.port)):
            if not 1 <= value <= 65535:
                found.append(f"{key} {value} is not a TCP port; fix: 1-65535")
        found += [f"external_ips: {ip!r} is not an IPv4 address; fix: the node's address, e.g. 10.245.0.1"
                  for ip in self.external_ips if not _IPV4.match(ip)]
        if self.user_id == 0:
            found.append("user_id 0 is root; fix: a non-root uid")
        if self.replicas < 1:
            found.append(f"replicas {self.replicas}; fix: 1 or more")
        if self.backend_tls_server_name and not self.backend_ca_secret_name:
            found.append("backend_tls_server_name without backend_ca_secret_name; fix: name the CA Secret too")
        return found


class EdgeProxy(pulumi.ComponentResource):
    config: k8s.core.v1.ConfigMap
    deployment: k8s.apps.v1.Deployment
    service: k8s.core.v1.Service
    image_ref: pulumi.Output[str]
    url: pulumi.Output[str]  # https://host/ (the port only when it is not 443)

    def __init__(self, name: str, args: EdgeProxyArgs, opts: pulumi.ResourceOptions | None = None):
        problems = args.problems()
        if problems:
            raise EdgeArgsError(f"edge proxy {args.name}: " + "; ".join(problems))
        super().__init__("wso2k8s:kubernetes:EdgeProxy", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = {**args.labels, "app.kubernetes.io/component": "edge"}
        meta: dict[str, object] = {"namespace": args.namespace, "labels": labels}
        image = pushed_image(f"{name}-image", args.context, args.image_name, args.registry, args.build, None, child)
        self.image_ref = image.ref
        text = caddyfile(CaddyfileArgs(args.host, args.backend_service, args.backend_port, args.cookie_name,
                                       backend_ca=args.backend_ca_secret_name is not None,
                                       backend_tls_server_name=args.backend_tls_server_name))
        self.config = k8s.core.v1.ConfigMap(f"{name}-config", metadata={**meta, "name": args.name},
                                            data={"Caddyfile": text}, opts=child)
        env, command = self._cookie_secret(name, args, meta, child)
        volumes = [{"name": "tls", "secret": {"secretName": args.tls_secret_name, "defaultMode": 0o440}},
                   {"name": "config", "configMap": {"name": args.name}},
                   {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
        mounts = [{"name": "tls", "mountPath": TLS_DIR, "readOnly": True},
                  {"name": "config", "mountPath": _CONFIG, "readOnly": True},
                  {"name": "tmp", "mountPath": "/tmp"}]
        if args.backend_ca_secret_name:
            volumes.append({"name": "backend-ca", "secret": {"secretName": args.backend_ca_secret_name}})
            mounts.append({"name": "backend-ca", "mountPath": BACKEND_CA_DIR, "readOnly": True})
        health = {"httpGet": {"path": "/healthz", "port": HEALTH_PORT}, "periodSeconds": 5}
        container = {
            "name": "caddy", "image": image.ref, "env": env, "volumeMounts": mounts,
            "ports": [{"name": "https", "containerPort": LISTEN_PORT}],
            "readinessProbe": health, "livenessProbe": {**health, "failureThreshold": 6},
            "resources": {"requests": {"cpu": "20m", "memory": "32Mi"}, "limits": {"cpu": "1", "memory": "128Mi"}},
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]}},
        }
        if command:
            container["command"] = command
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            # ready in seconds when it works: fail the update after 5 min rather than Pulumi's default 10
            metadata={**meta, "name": args.name, "annotations": {"pulumi.com/timeoutSeconds": "300"}},
            spec={"replicas": args.replicas, "selector": {"matchLabels": labels},
                  "template": {
                      # the Caddyfile is read at start: a new one rolls the pods
                      "metadata": {"labels": labels, "annotations": {
                          "wso2k8s/caddyfile-sha256": hashlib.sha256(text.encode()).hexdigest()[:16]}},
                      "spec": {"automountServiceAccountToken": False, "enableServiceLinks": False,
                               "securityContext": {"runAsNonRoot": True, "runAsUser": args.user_id,
                                                   "runAsGroup": args.user_id, "fsGroup": args.user_id,
                                                   "seccompProfile": {"type": "RuntimeDefault"}},
                               "containers": [container], "volumes": volumes}}},
            opts=child.merge(pulumi.ResourceOptions(depends_on=[self.config])))
        spec: dict[str, object] = {"type": "ClusterIP", "selector": labels,
                                   "ports": [{"name": "https", "port": args.port, "targetPort": "https"}]}
        if args.external_ips:
            spec["externalIPs"] = list(args.external_ips)
        self.service = k8s.core.v1.Service(f"{name}-service", metadata={**meta, "name": args.name}, spec=spec,
                                           opts=child)
        self.url = pulumi.Output.from_input(f"https://{args.host}{'' if args.port == 443 else f':{args.port}'}/")
        self.register_outputs({"url": self.url, "image_ref": self.image_ref})

    @staticmethod
    def _cookie_secret(name: str, args: EdgeProxyArgs, meta: dict[str, object],
                       child: pulumi.ResourceOptions) -> tuple[list[dict[str, object]], list[str]]:
        """(env, command): the HMAC key from a Secret, or made by the pod at start (stickiness then lasts as
        long as the pod, and with several replicas each has its own: give a secret for more than one)."""
        if args.cookie_secret is None:
            make = 'EDGE_COOKIE_SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d " \\n") && export EDGE_COOKIE_SECRET'
            return [], ["/bin/sh", "-c", f"{make} && exec {_CADDY_RUN}"]
        secret_name = f"{args.name}-cookie"
        k8s.core.v1.Secret(f"{name}-cookie", metadata={**meta, "name": secret_name}, type="Opaque",
                           string_data={"cookie_secret": pulumi.Output.secret(args.cookie_secret)}, opts=child)
        return [{"name": "EDGE_COOKIE_SECRET",
                 "valueFrom": {"secretKeyRef": {"name": secret_name, "key": "cookie_secret"}}}], []
