"""The one typed schema every merged settings tree is validated against.

Defaults live in `hieradata/`, not here: a field without a value in any layer is an error that names the
layer to add it to. The few defaults below are structural (optional features that are off unless asked).
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from .availability import AntiAffinity, Autoscaler, DisruptionBudget, StatefulSetOptions, Toleration, TopologySpread

# Kubernetes names: DNS-1035 labels for Services/ports, DNS-1123 subdomains elsewhere.
DnsLabel = Annotated[str, StringConstraints(pattern=r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")]
PodPortName = Annotated[str, StringConstraints(pattern=r"^[a-z]([-a-z0-9]{0,13}[a-z0-9])?$")]
Quantity = Annotated[str, StringConstraints(pattern=r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$")]
ImageName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+([._/-][a-z0-9]+)*$")]
ImageTag = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
HostName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]([-A-Za-z0-9.]{0,251}[A-Za-z0-9])?$")]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
TcpPort = Annotated[int, Field(ge=1, le=65535)]
NodePort = Annotated[int, Field(ge=30000, le=32767)]

# Carbon kernel → the Java major versions it runs on (Carbon 4.4: JDK 7 and 8).
KERNEL_JAVA = {"4.4": (7, 8)}
# The synthetic pack's server is compiled for Java 17.
SYNTHETIC_JAVA = 17

# A key named like a secret holds one (password, passphrase, passwd, a bare `pass` or `…Pass` as in keystorePass,
# secret, token, credential); not a key that names an object (`tls.secret_name: my-tls`), an annotation key
# (`nginx.ingress.kubernetes.io/proxy-ssl-secret`: settings keys have no dots or slashes), nor the Pass-Through
# transport's `passthrough-http`.
SECRET_NAME_PATTERN = re.compile(
    r"^(?!.*_name$)(?!.*[./]).*(pass(word|phrase|wd)|(^|[^a-z])pass([^a-z]|$)|pass$|secret|token|credential)",
    re.IGNORECASE)


class Strict(BaseModel):
    """Unknown keys are errors (with a did-you-mean), never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerInfo(Strict):
    """What the pack says about itself; checked against the pack's own carbon.xml."""

    display_name: str = Field(description="carbon.xml <Name>")
    server_key: str = Field(description="carbon.xml <ServerKey>")
    carbon_kernel: Literal["4.4"] = Field(description="picks the template family under wso2k8s/templates/")


class PortSpec(Strict):
    """One entry of `ports`, a map keyed by the Service port's name (the seed's names, e.g. servlet-https), so a
    stack overrides one nodePort in one line: `ports: {servlet-https: {node_port: 30443}}`."""

    name: DnsLabel = Field(default="unnamed", description="filled from the map's key by Settings; not written by users")
    pod_port_name: PodPortName = Field(description=(
        "The container port's name, which the Service targets: so a port_offset change rolls without a "
        "gap (old and new pods are reached on their own numbers). At most 15 characters: "
        "thrift-entitlement has 18."))
    container_port: TcpPort = Field(description="before the Carbon port offset")
    node_port: NodePort | None = Field(default=None, description=(
        "the Service's nodePort (30000-32767); None: Kubernetes picks one, or none behind an entry"))


class KubernetesMembership(Strict):
    """axis2.xml KUBERNETES_* parameters of org.wso2.carbon.membership.scheme.kubernetes."""

    namespace: DnsLabel | None = Field(default=None, description="seed: k8_namespace; defaults to kubernetes.namespace")
    services: list[DnsLabel] | None = Field(default=None, description=(
        "seed: k8_services. None (the default): the profile's own Service, so its name is never typed "
        "twice; a list replaces that whole. extra_services are looked up besides (e.g. another profile's "
        "members)."))
    extra_services: list[DnsLabel] = Field(default_factory=list, description=(
        "more Services whose endpoints are members (e.g. another profile's)"))
    api_server: str | None = Field(default=None, description=(
        "KUBERNETES_API_SERVER (2016: KUBERNETES_MASTER); None = in-cluster API"))
    skip_ssl_verification: bool = Field(default=False, description=(
        "KUBERNETES_MASTER_SKIP_SSL_VERIFICATION: true turns off TLS checks for the whole JVM"))
    mode: Literal["api", "dns"] = Field(default="api", description=(
        "api: the scheme reads the Services' Endpoints from the API (Role: get/list endpoints). dns: "
        "USE_DNS=true, SRV/A lookups of a headless twin `<service>-headless` (publishNotReadyAddresses), "
        "dnsjava in file_list."))
    endpointslices: bool = Field(default=False, description=(
        "Also grant discovery.k8s.io endpointslices get/list (for a scheme that reads EndpointSlices; v1 "
        "Endpoints is deprecated since Kubernetes 1.33)."))


def membership_services(name: str, k: KubernetesMembership) -> list[str]:
    """The Services whose endpoints are members (KUBERNETES_SERVICES): own (or the listed ones) + extras."""
    services = [name] if k.services is None else list(k.services)
    return services + [x for x in k.extra_services if x not in services]


class WkaMember(Strict):
    host: HostName = Field(description="axis2.xml <members><member><hostName>")
    port: TcpPort = Field(description="its local_member_port")


class WkaMembership(Strict):
    """Well-known-address scheme: the members every node contacts first (axis2.xml <members>)."""

    members: list[WkaMember] = Field(default_factory=list, description="the well-known members (host, port)")


class AwaitFormation(Strict):
    """`pulumi up` waits until every member's Hazelcast sees `replicas` members (components/formation.py)."""

    enabled: bool = Field(default=True, description=(
        "also renders hazelcast.rest.enabled=true: the gate reads each member's REST list"))
    timeout_seconds: int = Field(default=300, ge=10, le=3600, description=(
        "how long `up` waits for every member to see every other before it fails, naming the missing"))


class Clustering(Strict):
    enabled: bool = Field(description="axis2.xml <clustering enable>: members share sessions and caches over Hazelcast")
    membership_scheme: Literal["kubernetes", "wka", "multicast"] = Field(description=(
        "how members find each other: kubernetes (the seed's), wka or multicast"))
    domain: str = Field(description=(
        "axis2.xml <parameter name=domain>: the Hazelcast group; members of one domain form one cluster"))
    local_member_port: TcpPort = Field(description=(
        "axis2.xml localMemberPort: the Hazelcast port each member listens on (before the offset)"))
    sub_domain: str | None = Field(default=None, description=(
        "axis2.xml <property name=\"subDomain\">: members of one domain in different roles (API Manager's"
        " gateway manager and workers share gw.am.wso2.domain as `mgt` and `worker`); None leaves the "
        "pack's own."))
    kubernetes: KubernetesMembership = Field(default_factory=KubernetesMembership, description=(
        "the Kubernetes membership scheme's parameters"))
    wka: WkaMembership = Field(default_factory=WkaMembership, description=(
        "well-known members, for membership_scheme wka"))
    await_formation: AwaitFormation = Field(default_factory=AwaitFormation, description=(
        "`pulumi up` waits until the members form one Hazelcast cluster"))


class PackSource(Strict):
    """The product pack. `synthetic` generates a stand-in with the real layout (tests, demo)."""

    source: Literal["synthetic", "path", "url"] = Field(description=(
        "synthetic (a generated stand-in with the real layout), path or url (your real pack)"))
    path: str | None = Field(default=None, description="zip or unpacked folder, when source is `path`")
    url: str | None = Field(default=None, description=(
        "https:// address of the zip, when source is `url` (sha256 required; cached)"))
    sha256: Sha256 | None = Field(default=None, description="of the zip, checked before anything is built")


class RemoteFile(Strict):
    """A file fetched once from a URL into the cache and checked by its sha256 (wso2k8s/fetch.py)."""

    url: str = Field(description="https:// (plain http:// only on loopback)")
    sha256: Sha256 = Field(description="its sha256, checked after the download")


class JavaRuntime(Strict):
    source: Literal["jlink", "archive"] = Field(description=(
        "jlink (a trimmed Java 17 made in a build stage) or archive (your JDK .tar.gz)"))
    jlink_modules: list[str] = Field(default_factory=list, description="the JDK modules jlink puts in the runtime")
    archive: str | None = Field(default=None, description=(
        "a JDK/JRE .tar.gz the user brings (e.g. JDK 8 for real Carbon 4.4 packs): a path, or an https://"
        " URL fetched once into the cache (both checked by archive_sha256)"))
    archive_sha256: Sha256 | None = Field(default=None, description=(
        "the sha256 of java.archive, checked before anything is built"))
    allow_unsupported_version: bool = Field(default=False, description=(
        "Carbon 4.4 runs on Java 7/8: a real pack on another major version (the jlink'd 17 included) is "
        "refused unless this says the stack accepts it knowingly."))


class BaseImageSettings(Strict):
    name: ImageName = Field(description="seed: wso2/k8s-base")
    tag: ImageTag = Field(description="the base image's tag in the registry")
    os_image: str = Field(description="the local OS image the Dockerfile starts FROM")
    apt_mirror: str = Field(description="plain-HTTP Debian mirror reachable from `docker build`")
    user_id: Annotated[int, Field(ge=1, le=65535)] = Field(description="wso2carbon user; never root")
    java: JavaRuntime = Field(description="the Java runtime inside the base image")


class ProductImageSettings(Strict):
    name: ImageName = Field(description="seed: wso2/is-5.1.0")
    tag: ImageTag = Field(description="the product image's tag in the registry")


class ImageBuild(Strict):
    """How pulumi-docker-build runs BuildKit. `default` + exec: the Docker daemon's own BuildKit through the
    docker-buildx CLI plugin, which sees local images and needs no moby/buildkit image (none can be pulled here)."""

    builder: str = Field(description="the BuildKit builder pulumi-docker-build uses (default: the Docker daemon's)")
    exec: bool = Field(description="drive the docker-buildx CLI plugin (exec mode) instead of the embedded client")


class Registry(Strict):
    server: str = Field(description=(
        "host[:port][/path] the images are pushed to and the nodes pull from; checked by the loader"))
    username: str | None = Field(default=None, description="password: `pulumi config set --secret registry_password`")

    @field_validator("server", mode="before")
    @classmethod
    def _no_trailing_slash(cls, value: object) -> object:
        """`127.0.0.1:5000/` means `127.0.0.1:5000`; kept, the tag would read `127.0.0.1:5000//wso2/...`."""
        return value.rstrip("/") if isinstance(value, str) and value.rstrip("/") else value


class Resources(Strict):
    cpu_request: Quantity = Field(description="the container's CPU request")
    memory_request: Quantity = Field(description="the container's memory request")
    cpu_limit: Quantity = Field(description="the container's CPU limit")
    memory_limit: Quantity = Field(description="the container's memory limit")


class Probes(Strict):
    path: str = Field(description="HTTPS path on the servlet-https port")
    initial_delay_seconds: Annotated[int, Field(ge=0)] = Field(description="readiness/liveness initialDelaySeconds")
    period_seconds: Annotated[int, Field(ge=1)] = Field(description="readiness/liveness periodSeconds")
    failure_threshold: Annotated[int, Field(ge=1)] = Field(description="readiness/liveness failureThreshold")


class Workload(Strict):
    kind: Literal["ReplicationController", "Deployment", "StatefulSet"] = Field(description=(
        "ReplicationController (the seed's), Deployment or StatefulSet"))
    replicas: Annotated[int, Field(ge=0, le=100)] = Field(description=(
        "how many members (with an autoscaler: its minimum unless autoscaler.min_replicas)"))
    java_opts: str = Field(description="JAVA_OPTS of the server (heap size and more)")
    resources: Resources = Field(description="the members' requests and limits")
    probes: Probes = Field(description="readiness and liveness probes on the HTTPS port")
    await_ready: bool = Field(default=True, description="let Pulumi wait until replicas are available")
    await_timeout_seconds: Annotated[int, Field(ge=10, le=3600)] = Field(default=600, description=(
        "How long `pulumi up` waits for the members to be ready before it fails "
        "(pulumi.com/timeoutSeconds; pulumi-kubernetes' own default is 10 minutes). The old members keep "
        "serving meanwhile."))
    statefulset: StatefulSetOptions = Field(default_factory=StatefulSetOptions, description=(
        "Availability (wso2k8s/settings/availability.py; defaults in hieradata/common.yaml)"))
    disruption_budget: DisruptionBudget = Field(default_factory=DisruptionBudget, description=(
        "a PodDisruptionBudget when there is more than one member"))
    anti_affinity: AntiAffinity = Field(default_factory=AntiAffinity, description=(
        "spread members over nodes (preferred), require it, or none"))
    topology_spread: list[TopologySpread] = Field(default_factory=list, description=(
        "topologySpreadConstraints over zones or nodes"))
    node_selector: dict[str, str] = Field(default_factory=dict, description=(
        "the nodes the members may run on (nodeSelector)"))
    tolerations: list[Toleration] = Field(default_factory=list, description="taints the members tolerate")
    pod_labels: dict[str, str] = Field(default_factory=dict, description="never the program's selector labels")
    pod_annotations: dict[str, str] = Field(default_factory=dict, description="extra annotations on the members' pods")
    autoscaler: Autoscaler = Field(default_factory=Autoscaler, description=(
        "a HorizontalPodAutoscaler (autoscaling/v2) on CPU"))


class ServiceSettings(Strict):
    type: Literal["NodePort", "ClusterIP"] = Field(description=(
        "NodePort (the seed's) or ClusterIP; behind an entry always ClusterIP"))
    session_affinity: Literal["ClientIP", "None"] = Field(description=(
        "ClientIP (the seed's sticky sessions by client address) or None"))


class KubernetesTarget(Strict):
    namespace: DnsLabel = Field(description="where the members, their Service and RBAC go")
    kubeconfig: str | None = Field(default=None, description=(
        "None = the local cluster made by tools/kubernetes/cluster.sh"))
    context: str | None = Field(default=None, description="the kubeconfig context; None: its current-context")
    create_namespace: bool = Field(default=False, description=(
        "create the namespace (with Pod Security labels) and delete it on destroy"))
    pod_security: Literal["restricted", "baseline", "privileged"] = Field(description=(
        "Pod Security Admission level put on the namespaces the program creates (enforce, audit and warn "
        "labels)"))

    @field_validator("kubeconfig", mode="before")
    @classmethod
    def _expand_home(cls, value: object) -> object:
        """`~/.kube/prod.yaml` as the file it names: the provider takes the text as a path or as contents, and
        does not promise to expand `~` (the loader checks that the file exists)."""
        if isinstance(value, str) and value.startswith("~") and "\n" not in value:
            return os.path.expanduser(value)
        return value


# Kubernetes object names (DNS-1123 subdomains): Secrets, ConfigMaps, Gateways.
ObjectName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")]
# An HTTP cookie name (RFC 6265 token), as Gateway API's sessionPersistence accepts it.
CookieName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]{1,256}$")]


class EntryTls(Strict):
    """The certificate the entry presents for `entry.host`: exactly one of the two."""

    secret_name: ObjectName | None = Field(default=None, description=(
        "the user's kubernetes.io/tls Secret in kubernetes.namespace"))
    generate: bool = Field(default=False, description=(
        "dev: a self-signed certificate for entry.host, key kept as a Pulumi secret"))


class IngressEntry(Strict):
    class_name: str | None = Field(default=None, description=(
        "spec.ingressClassName; None = the cluster's default IngressClass"))
    dialect: Literal["ingress-nginx", "haproxy", "nginx-inc"] = Field(default="ingress-nginx", description=(
        "whose annotations say \"cookie affinity\" and \"the backend speaks HTTPS\": ingress-nginx "
        "(nginx.ingress.kubernetes.io/*), haproxy (HAProxy Technologies' controller, haproxy.org/*), "
        "nginx-inc (F5 NGINX Ingress Controller with NGINX Plus, nginx.com/* and nginx.org/*)"))
    backend_ca_secret_name: ObjectName | None = Field(default=None, description=(
        "a Secret with ca.crt that signed the members' certificate: the controller then verifies the "
        "backend"))
    annotations: dict[str, str] = Field(default_factory=dict, description="more, the user's own; they win over ours")
    await_address: bool = Field(default=False, description=(
        "true: `pulumi up` waits until the controller publishes the Ingress's address (pulumi-kubernetes'"
        " await, 10 minutes). Off by default: many bare-metal controllers never publish one, and without "
        "a controller (or one that is not yet installed) the up would hang; the Ingress is accepted by "
        "the API server either way."))


class GatewayParentRef(Strict):
    name: ObjectName = Field(description="the user's Gateway")
    namespace: DnsLabel | None = Field(default=None, description="None = kubernetes.namespace")
    section_name: ObjectName | None = Field(default=None, description=(
        "one listener of it (its HTTPS listener for entry.host)"))


class GatewayEntry(Strict):
    parent_ref: GatewayParentRef | None = Field(default=None, description=(
        "the user's Gateway (and listener) the HTTPRoute attaches to"))
    backend_ca_config_map: ObjectName | None = Field(default=None, description=(
        "BackendTLSPolicy: a ConfigMap with ca.crt that signed the members' certificate (the Gateway "
        "checks the members' 9443 against it and entry.backend_hostname)"))
    session_persistence: bool = Field(default=True, description=(
        "HTTPRoute rules[].sessionPersistence by cookie (Gateway API experimental channel in v1.7.0)"))


class EdgeImage(Strict):
    name: ImageName = Field(default="wso2/edge", description=(
        "the edge proxy's image (Caddy on base_image.os_image) in the stack's registry"))
    tag: ImageTag = Field(default="1.0.0", description="its tag in the registry (pods run it by digest)")


class EdgeEntry(Strict):
    """kind edge: the program's own proxy (components/edge.py). Its TLS is entry.tls, its cookie entry.cookie_name;
    the cookie's HMAC key is generated once per stack and kept, as a secret, in Pulumi's state."""

    external_ips: list[str] = Field(default_factory=list, description=(
        "node addresses (IPv4) whose 443 reaches the edge (its Service's externalIPs; the local cluster's "
        "node: 10.245.0.1); [] where the cluster forbids external IPs (DenyServiceExternalIPs): then front "
        "the edge's ClusterIP Service your own way"))
    replicas: Annotated[int, Field(ge=1, le=10)] = Field(default=2, description=(
        "edge pods; they share the stack's cookie key, so a session sticks whichever one it reaches (2: one "
        "may be drained or rolled while the other serves)"))
    image: EdgeImage = Field(default_factory=EdgeImage, description=(
        "built from tools/caddy/build.sh's binary by `pulumi up`, pushed to registry.server"))
    backend_ca_secret_name: ObjectName | None = Field(default=None, description=(
        "a Secret with ca.crt that signed the members' certificate: the edge then verifies them (for "
        "entry.backend_hostname); None: the hop is encrypted, not verified"))
    dns_cache_seconds: Annotated[int, Field(ge=0, le=300)] = Field(default=30, description=(
        "how long the cluster DNS may answer with a member that is gone (CoreDNS `cache 30` in kubeadm's "
        "Corefile, the local cluster's too): a leaving member keeps serving this long plus the edge's 5 s refresh"))


class Entry(Strict):
    """How users reach the console: the seed's NodePort (none), an Ingress, a Gateway API HTTPRoute, or the
    program's own edge proxy (a cluster without a controller). With an entry the Service is ClusterIP and
    carbon.xml/catalina-server.xml name entry.host on 443, so every redirect points at the entry."""

    kind: Literal["none", "ingress", "gateway", "edge"] = Field(default="none", description=(
        "none (the NodePort Service), ingress, gateway (an HTTPRoute) or edge (the program's own proxy)"))
    host: HostName | None = Field(default=None, description=(
        "the external host name (Ingress rule host, HTTPRoute hostname, HostName)"))
    tls: EntryTls = Field(default_factory=EntryTls, description="the certificate the entry presents for host")
    cookie_name: CookieName = Field(default="wso2-route", description=(
        "the entry's sticky-session cookie (not the server's JSESSIONID)"))
    cookie_samesite: Literal["None", "Lax", "Strict"] = Field(default="None", description=(
        "None: SSO POSTs from other sites stay sticky"))
    backend_hostname: HostName = Field(default="localhost", description=(
        "the name in the members' certificate (stock keystore: localhost)"))
    ingress: IngressEntry = Field(default_factory=IngressEntry, description=(
        "kind ingress: class and annotation dialect"))
    gateway: GatewayEntry = Field(default_factory=GatewayEntry, description=(
        "kind gateway: the Gateway the HTTPRoute attaches to"))
    edge: EdgeEntry = Field(default_factory=EdgeEntry, description=(
        "kind edge: the node addresses it listens on (443), its replicas and image"))


SqlName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")]  # safe in SQL and shell
MavenCoordinates = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+$")]


class DatabasePool(Strict):
    """The pool options of master-datasources.xml (hieradata holds the pack's own defaults)."""

    max_active: Annotated[int, Field(ge=1)] = Field(description="<maxActive>")
    max_wait_ms: Annotated[int, Field(ge=0)] = Field(description="<maxWait>")
    test_on_borrow: bool = Field(description="<testOnBorrow>")
    validation_query: str = Field(description="<validationQuery>")
    validation_interval_ms: Annotated[int, Field(ge=0)] = Field(description="<validationInterval>")


class JdbcDriverJar(Strict):
    """The JDBC driver copied into repository/components/lib: from Maven Central, or the user's own jar."""

    maven: MavenCoordinates | None = Field(default=None, description="group:artifact:version, fetched once and cached")
    path: str | None = Field(default=None, description="the user's jar instead (relative to the project or absolute)")
    sha256: Sha256 = Field(description="checked before anything is built")


class DatabasePoolOverride(Strict):
    """One database's pool options where they differ from the shared ones (unset: the shared value)."""

    max_active: Annotated[int, Field(ge=1)] | None = Field(default=None, description="<maxActive> for this database")
    max_wait_ms: Annotated[int, Field(ge=0)] | None = Field(default=None, description="<maxWait> for this database")
    test_on_borrow: bool | None = Field(default=None, description="<testOnBorrow> for this database")
    validation_query: str | None = Field(default=None, description="<validationQuery> for this database")
    validation_interval_ms: Annotated[int, Field(ge=0)] | None = Field(default=None, description=(
        "<validationInterval> for this database"))


class DatabaseOverride(Strict):
    """One of the product's databases on its own datasource: only what differs from the shared database.
    The password is the same secret (`database_password`)."""

    name: SqlName | None = Field(default=None, description="the database; the embedded server creates it")
    username: SqlName | None = Field(default=None, description="external servers only")
    host: HostName | None = Field(default=None, description="external servers only")
    port: TcpPort | None = Field(default=None, description="external servers only")
    pool: DatabasePoolOverride | None = Field(default=None, description=(
        "pool options that differ from the shared database's"))


class Databases(Strict):
    """Where each of IS 5.1.0's databases lives. null: on the shared WSO2_CARBON_DB, as the pack ships it."""

    registry: DatabaseOverride | None = Field(default=None, description=(
        "WSO2_REG_DB: /_system/config and /_system/governance mounted there"))
    user_store: DatabaseOverride | None = Field(default=None, description=(
        "WSO2_USER_DB: user-mgt.xml's realm dataSource"))
    identity: DatabaseOverride | None = Field(default=None, description=(
        "WSO2_IDENTITY_DB: identity.xml JDBCPersistenceManager"))
    product: dict[str, DatabaseOverride] = Field(default_factory=dict, description=(
        "the product's own databases by datasource name (API Manager: WSO2AM_DB), where they differ from what its "
        "product module says (WSO2AM_DB: apimdb on the shared server)"))


class EmbeddedDatabase(Strict):
    """The dev stack's own database server: Debian's PostgreSQL in an image built like the base image."""

    image: ProductImageSettings = Field(description="the embedded server's image (built like the base image)")
    user_id: Annotated[int, Field(ge=1, le=65535)] = Field(description="the postgres user in the image; never root")
    storage: Quantity = Field(description="the size of its PersistentVolumeClaim")
    storage_class: str | None = Field(default=None, description=(
        "None: a local PersistentVolume under $WSO2K8S_STATE/volumes on the local cluster's node"))
    resources: Resources = Field(description="its container's requests and limits")


class Database(Strict):
    """WSO2_CARBON_DB of master-datasources.xml: the registry and user store every member shares.

    enabled false: the pack's own embedded H2 per member (nothing shared). external true: the user's server
    (RDS, Cloud SQL, ...); the program then creates nothing database-side but the Secret."""

    enabled: bool = Field(default=False, description=(
        "put the registry, user store and identity data on a shared database (else each member's H2)"))
    external: bool = Field(default=False, description=(
        "true: your own server at host/port (nothing is created database-side but the Secret)"))
    type: Literal["postgresql", "mysql"] = Field(description=(
        "postgresql or mysql: picks the JDBC URL, driver and the pack's dbscripts"))
    host: HostName | None = Field(default=None, description=(
        "external server; embedded: derived, one per stack (`<name>-db`; several profiles: the part of their "
        "names they share, e.g. wso2am-db)"))
    port: TcpPort | None = Field(default=None, description="None: the type's default (5432, 3306)")
    name: SqlName = Field(description="the database")
    username: SqlName = Field(description=(
        "password: `pulumi config set --secret wso2-kubernetes:database_password`"))
    driver: JdbcDriverJar | None = Field(default=None, description=(
        "None: the pinned driver of the type (wso2k8s/pack/jdbc.py)"))
    pool: DatabasePool = Field(description=(
        "master-datasources.xml pool options of WSO2_CARBON_DB (the product's defaults)"))
    databases: Databases = Field(default=Databases(), description="per database overrides of the shared one")
    embedded: EmbeddedDatabase = Field(description="the embedded server the program runs when external is false (dev)")


KeyAlias = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


class Keystores(Strict):
    """The server's key pair (carbon.xml Security/KeyStore, the https Connector, identity.xml's thrift KeyStore)
    and its truststore (carbon.xml Security/TrustStore), mounted from a Secret at container start.

    generate: a new key pair and self-signed certificate per stack (CN = hostname), kept only as secrets in the
    stack's state. user: the user's keystore file (JKS or PKCS12), checked offline. stock: the pack's own
    wso2carbon.jks, whose private key every download shares; only when the stack says so. The truststore is
    always made: the cluster's CA (so the membership scheme verifies the API server), the server's own
    certificate, and in `user` mode the certificates of the user's truststore. Passwords: keystore_password."""

    mode: Literal["generate", "user", "stock"] = Field(description=(
        "generate (a key pair per stack), user (your keystore file) or stock (the pack's wso2carbon.jks)"))
    alias: KeyAlias = Field(description="carbon.xml KeyAlias; the private-key entry of the keystore")
    keystore: str | None = Field(default=None, description=(
        "user: the JKS or PKCS12 file (relative to the project, or absolute, or ~)"))
    truststore: str | None = Field(default=None, description=(
        "user: a JKS or PKCS12 truststore whose certificates are trusted too"))
    cluster_ca: str | None = Field(default=None, description=(
        "PEM file of the CA that signed the API server's certificate; None: the kubeconfig's "
        "certificate-authority"))
    key_size: Literal[2048, 3072, 4096] = Field(default=2048, description="generate: RSA key size")
    validity_days: Annotated[int, Field(ge=1, le=3650)] = Field(default=825, description=(
        "generate: the certificate's lifetime"))
    type: Literal["JKS", "PKCS12"] | None = Field(default=None, description=(
        "derived: read from the user's file (generate: JKS)"))


class Peer(Strict):
    """Another deployed profile, as this one's members reach it: derived by the loader from `relations`."""

    profile: DnsLabel = Field(description="the peer profile's name")
    service: str = Field(description=(
        "its Service's name, or <name>.<namespace>.svc from another namespace"))
    ports: dict[str, int] = Field(description="Service port name → port")


class Settings(Strict):
    """Everything one Carbon profile of one product needs; the output of the loader."""

    product: DnsLabel = Field(description="e.g. wso2is (chosen by the stack: wso2-kubernetes:product)")
    version: str = Field(description="e.g. 5.1.0 (wso2-kubernetes:version)")
    profile: DnsLabel = Field(description="Carbon profile, e.g. default (wso2-kubernetes:profiles)")
    name: DnsLabel = Field(description="ReplicationController/Service name; seed: wso2is")
    server: ServerInfo = Field(description="what the pack says about itself (carbon.xml Name, ServerKey, kernel)")
    hostname: HostName = Field(description="carbon.xml HostName/MgtHostName")
    port_offset: Annotated[int, Field(ge=0, le=10000)] = Field(description="carbon.xml Ports/Offset")
    ports: dict[DnsLabel, PortSpec] = Field(description=(
        "the Service's ports, keyed by name: container port (before the offset), pod port name, nodePort"))
    clustering: Clustering = Field(description="axis2.xml <clustering>: Hazelcast membership")
    file_list: list[str] = Field(description=(
        "paths inside the pack, copied from files_dir (seed: wso2::file_list)"))
    files_dir: str = Field(description="where file_list sources are, relative to the project")
    file_urls: dict[str, RemoteFile] = Field(default_factory=dict, description=(
        "file_list entries fetched from a URL (checked by sha256, cached) instead of read from files_dir"))
    pack: PackSource = Field(description="the product pack: synthetic, a local zip or folder, or a URL with its sha256")
    registry: Registry = Field(description="where images are pushed and pulled (stack-wide)")
    image_build: ImageBuild = Field(description="how images are built (stack-wide)")
    base_image: BaseImageSettings = Field(description=(
        "the shared base image: OS, Java, the wso2carbon user (stack-wide)"))
    product_image: ProductImageSettings = Field(description=(
        "the product image per profile (name -<profile> for other profiles)"))
    kubernetes: KubernetesTarget = Field(description="the cluster and namespace the stack deploys to")
    workload: Workload = Field(description="the members: kind, replicas, JVM options, resources, probes, availability")
    service: ServiceSettings = Field(description="the seed's Service in front of the members")
    database: Database = Field(description="the shared databases (registry, user store, identity)")
    keystores: Keystores = Field(description=(
        "the server's key pair and truststore (stack-wide), mounted from a Secret at start"))
    entry: Entry = Field(default_factory=Entry, description=(
        "how users reach the console: NodePort, Ingress, HTTPRoute or the edge proxy"))
    managed_files: list[str] = Field(default_factory=list, description=(
        "Conf files of this product (pack paths) rendered beyond the Carbon kernel's, by its product "
        "module's editors (wso2k8s/products/<product>.py); a file listed here without an editor is "
        "refused by the loader."))
    relations: dict[str, DnsLabel] = Field(default_factory=dict, description=(
        "role → profile this profile's conf files point at (API Manager: key_manager: api-key-manager, …)"))
    peers: dict[str, Peer] = Field(default_factory=dict, description="derived from relations by the loader; never set")

    @field_validator("ports", mode="before")
    @classmethod
    def _removed_ports(cls, ports: Any) -> Any:
        """`ports: {kdc-server: null}` in a later layer removes a port an earlier one declared."""
        return {k: v for k, v in ports.items() if v is not None} if isinstance(ports, dict) else ports

    @field_validator("ports", mode="after")
    @classmethod
    def _named_ports(cls, ports: dict[str, PortSpec]) -> dict[str, PortSpec]:
        """Each port knows its own name (the key), so code can pass one PortSpec around."""
        return {key: port.model_copy(update={"name": key}) for key, port in ports.items()}

    @property
    def entry_used(self) -> bool:
        return self.entry.kind != "none"

    @property
    def public_hostname(self) -> str:
        """carbon.xml HostName/MgtHostName: the entry's host when there is one."""
        return (self.entry.host or self.hostname) if self.entry_used else self.hostname

    def node_port(self, port: PortSpec) -> int | None:
        """The port's nodePort; none behind an entry (the Service is ClusterIP, the ports list unchanged)."""
        return None if self.entry_used else port.node_port

    @property
    def membership_namespace(self) -> str:
        return self.clustering.kubernetes.namespace or self.kubernetes.namespace

    def shifted(self, port: PortSpec) -> int:
        """The port the server really listens on (Carbon adds the offset to every transport)."""
        return port.container_port + self.port_offset

    def port(self, name: str) -> PortSpec:
        return self.ports[name]
