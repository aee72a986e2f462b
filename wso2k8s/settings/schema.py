"""The one typed schema every merged settings tree is validated against.

Defaults live in `hieradata/`, not here: a field without a value in any layer is an error that names the
layer to add it to. The few defaults below are structural (optional features that are off unless asked).
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

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

SECRET_NAME_PATTERN = re.compile(r"pass(word|phrase)?|secret|token|credential", re.IGNORECASE)


class Strict(BaseModel):
    """Unknown keys are errors (with a did-you-mean), never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerInfo(Strict):
    """What the pack says about itself; checked against the pack's own carbon.xml."""

    display_name: str  # carbon.xml <Name>
    server_key: str  # carbon.xml <ServerKey>
    carbon_kernel: Literal["4.4"]  # picks the template family under wso2k8s/templates/


class PortSpec(Strict):
    name: DnsLabel  # Service port name, e.g. servlet-https (the seed's names)
    # The container port's name, which the Service targets: so a port_offset change rolls without a gap (old
    # and new pods are reached on their own numbers). At most 15 characters: thrift-entitlement has 18.
    pod_port_name: PodPortName
    container_port: TcpPort  # before the Carbon port offset
    node_port: NodePort | None = None


class KubernetesMembership(Strict):
    """axis2.xml KUBERNETES_* parameters of org.wso2.carbon.membership.scheme.kubernetes."""

    namespace: DnsLabel | None = None  # seed: k8_namespace; defaults to kubernetes.namespace
    services: list[DnsLabel] = Field(default_factory=list)  # seed: k8_services
    api_server: str | None = None  # KUBERNETES_API_SERVER (2016: KUBERNETES_MASTER); None = in-cluster API
    skip_ssl_verification: bool = False
    # api: the scheme reads the Services' Endpoints from the API (Role: get/list endpoints). dns: USE_DNS=true,
    # SRV/A lookups of a headless twin `<service>-headless` (publishNotReadyAddresses), dnsjava in file_list.
    mode: Literal["api", "dns"] = "api"
    # Also grant discovery.k8s.io endpointslices get/list (for a scheme that reads EndpointSlices; v1
    # Endpoints is deprecated since Kubernetes 1.33).
    endpointslices: bool = False


class WkaMember(Strict):
    host: HostName  # axis2.xml <members><member><hostName>
    port: TcpPort  # its local_member_port


class WkaMembership(Strict):
    """Well-known-address scheme: the members every node contacts first (axis2.xml <members>)."""

    members: list[WkaMember] = Field(default_factory=list)


class AwaitFormation(Strict):
    """`pulumi up` waits until every member's Hazelcast sees `replicas` members (components/formation.py)."""

    enabled: bool = True  # also renders hazelcast.rest.enabled=true: the gate reads each member's REST list
    timeout_seconds: int = Field(default=300, ge=10, le=3600)


class Clustering(Strict):
    enabled: bool
    membership_scheme: Literal["kubernetes", "wka", "multicast"]
    domain: str
    local_member_port: TcpPort
    kubernetes: KubernetesMembership = Field(default_factory=KubernetesMembership)
    wka: WkaMembership = Field(default_factory=WkaMembership)
    await_formation: AwaitFormation = Field(default_factory=AwaitFormation)


class PackSource(Strict):
    """The product pack. `synthetic` generates a stand-in with the real layout (tests, demo)."""

    source: Literal["synthetic", "path", "url"]
    path: str | None = None  # zip or unpacked folder, when source is `path`
    url: str | None = None  # https:// address of the zip, when source is `url` (sha256 required; cached)
    sha256: Sha256 | None = None  # of the zip, checked before anything is built


class JavaRuntime(Strict):
    source: Literal["jlink", "archive"]
    jlink_modules: list[str] = Field(default_factory=list)
    archive: str | None = None  # a JDK/JRE .tar.gz the user brings (e.g. JDK 8 for real Carbon 4.4 packs)
    archive_sha256: Sha256 | None = None
    # Carbon 4.4 runs on Java 7/8: a real pack on another major version (the jlink'd 17 included) is refused
    # unless this says the stack accepts it knowingly.
    allow_unsupported_version: bool = False


class BaseImageSettings(Strict):
    name: ImageName  # seed: wso2/k8s-base
    tag: ImageTag
    os_image: str  # the local OS image the Dockerfile starts FROM
    apt_mirror: str  # plain-HTTP Debian mirror reachable from `docker build`
    user_id: Annotated[int, Field(ge=1, le=65535)]  # wso2carbon user; never root
    java: JavaRuntime


class ProductImageSettings(Strict):
    name: ImageName  # seed: wso2/is-5.1.0
    tag: ImageTag


class ImageBuild(Strict):
    """How pulumi-docker-build runs BuildKit. `default` + exec: the Docker daemon's own BuildKit through the
    docker-buildx CLI plugin, which sees local images and needs no moby/buildkit image (none can be pulled here)."""

    builder: str
    exec: bool


class Registry(Strict):
    server: str  # host[:port][/path] the images are pushed to and the nodes pull from; checked by the loader
    username: str | None = None  # password: `pulumi config set --secret registry_password`

    @field_validator("server", mode="before")
    @classmethod
    def _no_trailing_slash(cls, value: object) -> object:
        """`127.0.0.1:5000/` means `127.0.0.1:5000`; kept, the tag would read `127.0.0.1:5000//wso2/...`."""
        return value.rstrip("/") if isinstance(value, str) and value.rstrip("/") else value


class Resources(Strict):
    cpu_request: Quantity
    memory_request: Quantity
    cpu_limit: Quantity
    memory_limit: Quantity


class Probes(Strict):
    path: str  # HTTPS path on the servlet-https port
    initial_delay_seconds: Annotated[int, Field(ge=0)]
    period_seconds: Annotated[int, Field(ge=1)]
    failure_threshold: Annotated[int, Field(ge=1)]


class Workload(Strict):
    kind: Literal["ReplicationController", "Deployment"]
    replicas: Annotated[int, Field(ge=0, le=100)]
    java_opts: str
    resources: Resources
    probes: Probes
    await_ready: bool = True  # let Pulumi wait until replicas are available


class ServiceSettings(Strict):
    type: Literal["NodePort", "ClusterIP"]
    session_affinity: Literal["ClientIP", "None"]


class KubernetesTarget(Strict):
    namespace: DnsLabel
    kubeconfig: str | None = None  # None = the local cluster made by tools/kubernetes/cluster.sh
    context: str | None = None
    create_namespace: bool = False
    # Pod Security Admission level put on the namespaces the program creates (enforce, audit and warn labels)
    pod_security: Literal["restricted", "baseline", "privileged"]

    @field_validator("kubeconfig", mode="before")
    @classmethod
    def _expand_home(cls, value: object) -> object:
        """`~/.kube/prod.yaml` as the file it names: the provider takes the text as a path or as contents, and
        does not promise to expand `~` (the loader checks that the file exists)."""
        if isinstance(value, str) and value.startswith("~") and "\n" not in value:
            return os.path.expanduser(value)
        return value


SqlName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")]  # safe in SQL and shell
MavenCoordinates = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+$")]


class DatabasePool(Strict):
    """The pool options of master-datasources.xml (hieradata holds the pack's own defaults)."""

    max_active: Annotated[int, Field(ge=1)]  # <maxActive>
    max_wait_ms: Annotated[int, Field(ge=0)]  # <maxWait>
    test_on_borrow: bool  # <testOnBorrow>
    validation_query: str  # <validationQuery>
    validation_interval_ms: Annotated[int, Field(ge=0)]  # <validationInterval>


class JdbcDriverJar(Strict):
    """The JDBC driver copied into repository/components/lib: from Maven Central, or the user's own jar."""

    maven: MavenCoordinates | None = None  # group:artifact:version, fetched once and cached
    path: str | None = None  # the user's jar instead (relative to the project or absolute)
    sha256: Sha256  # checked before anything is built


class EmbeddedDatabase(Strict):
    """The dev stack's own database server: Debian's PostgreSQL in an image built like the base image."""

    image: ProductImageSettings
    user_id: Annotated[int, Field(ge=1, le=65535)]  # the postgres user in the image; never root
    storage: Quantity
    # None: a local PersistentVolume under $WSO2K8S_STATE/volumes on the local cluster's node
    storage_class: str | None = None
    resources: Resources


class Database(Strict):
    """WSO2_CARBON_DB of master-datasources.xml: the registry and user store every member shares.

    enabled false: the pack's own embedded H2 per member (nothing shared). external true: the user's server
    (RDS, Cloud SQL, ...); the program then creates nothing database-side but the Secret."""

    enabled: bool = False
    external: bool = False
    type: Literal["postgresql", "mysql"]
    host: HostName | None = None  # external server; embedded: derived (`<name>-db`)
    port: TcpPort | None = None  # None: the type's default (5432, 3306)
    name: SqlName  # the database
    username: SqlName  # password: `pulumi config set --secret wso2-kubernetes:database_password`
    driver: JdbcDriverJar | None = None  # None: the pinned driver of the type (wso2k8s/pack/jdbc.py)
    pool: DatabasePool
    embedded: EmbeddedDatabase


class Settings(Strict):
    """Everything one Carbon profile of one product needs; the output of the loader."""

    product: DnsLabel  # e.g. wso2is (chosen by the stack: wso2-kubernetes:product)
    version: str  # e.g. 5.1.0 (wso2-kubernetes:version)
    profile: DnsLabel  # Carbon profile, e.g. default (wso2-kubernetes:profiles)
    name: DnsLabel  # ReplicationController/Service name; seed: wso2is
    server: ServerInfo
    hostname: HostName  # carbon.xml HostName/MgtHostName
    port_offset: Annotated[int, Field(ge=0, le=10000)]  # carbon.xml Ports/Offset
    ports: list[PortSpec]
    clustering: Clustering
    file_list: list[str]  # paths inside the pack, copied from files_dir (seed: wso2::file_list)
    files_dir: str  # where file_list sources are, relative to the project
    pack: PackSource
    registry: Registry
    image_build: ImageBuild
    base_image: BaseImageSettings
    product_image: ProductImageSettings
    kubernetes: KubernetesTarget
    workload: Workload
    service: ServiceSettings
    database: Database

    @property
    def membership_namespace(self) -> str:
        return self.clustering.kubernetes.namespace or self.kubernetes.namespace

    def shifted(self, port: PortSpec) -> int:
        """The port the server really listens on (Carbon adds the offset to every transport)."""
        return port.container_port + self.port_offset

    def port(self, name: str) -> PortSpec:
        return next(p for p in self.ports if p.name == name)
