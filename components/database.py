"""EmbeddedDatabase: the dev stack's shared database server (PostgreSQL from Debian) and its schema.

  image        built like the base image, pushed, used by digest
  storage      a local PersistentVolume under $WSO2K8S_STATE/volumes on the local cluster's node (or a claim of
               the user's storage class): the data outlives the pod
  StatefulSet  one pod, non-root, Pod Security `restricted`; Service `<name>-db` on 5432
  schema Job   the pack's own dbscripts (<type>.sql, identity/<type>.sql) once per database (each checks its
               marker table first); the members depend on it, so they start on a complete schema
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from wso2k8s.pack.database_context import DatabaseContext
from wso2k8s.settings.schema import ImageBuild, Resources

from .image_build import pushed_image
from .registry import RegistryTarget

PORT = 5432
SECRETS_DIR = "/run/secrets/wso2db"  # read by database-entrypoint.sh and schema.sh
LOCAL_NODE = "wso2k8s-node"  # the one node of tools/kubernetes/cluster.sh
LOCAL_STORAGE_CLASS = "wso2k8s-local"  # matched by name only: no provisioner, the PV is made here


@dataclass(frozen=True)
class EmbeddedDatabaseArgs:
    service_name: str  # `<name>-db`: what the members' JDBC URL names
    namespace: str
    labels: dict[str, str]
    context: DatabaseContext
    image_name: str  # registry/repository:tag
    registry: RegistryTarget
    build: ImageBuild
    user_id: int
    database: str
    username: str
    password: pulumi.Output[str]  # secret
    storage: str
    storage_class: str | None  # None: a local PersistentVolume on the local cluster
    resources: Resources


class EmbeddedDatabase(pulumi.ComponentResource):
    secret: k8s.core.v1.Secret
    claim: k8s.core.v1.PersistentVolumeClaim
    service: k8s.core.v1.Service
    server: k8s.apps.v1.StatefulSet
    schema_job: k8s.batch.v1.Job
    cluster_ip: pulumi.Output[str]  # the Service's address, for the members' hostAliases

    def __init__(self, name: str, args: EmbeddedDatabaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("wso2k8s:kubernetes:EmbeddedDatabase", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = {**args.labels, "app.kubernetes.io/component": "database"}
        image = pushed_image(f"{name}-image", args.context.context, args.image_name, args.registry, args.build,
                             None, child)
        self.secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata={"name": f"{args.service_name}-secret", "namespace": args.namespace, "labels": labels},
            type="Opaque", string_data={"database_password": args.password}, opts=child)
        self.claim = self._claim(name, args, labels, child)
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata={"name": args.service_name, "namespace": args.namespace, "labels": labels},
            spec={"type": "ClusterIP", "selector": labels,
                  "ports": [{"name": "postgresql", "port": PORT, "targetPort": "postgresql"}]},
            opts=child)
        env = [{"name": "DB_NAME", "value": args.database}, {"name": "DB_USER", "value": args.username}]
        secret_volume = {"name": "secret", "secret": {"secretName": f"{args.service_name}-secret",
                                                     "defaultMode": 0o440}}
        secret_mount = {"name": "secret", "mountPath": SECRETS_DIR, "readOnly": True}
        ready = {"exec": {"command": ["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(PORT)]},
                 "periodSeconds": 5, "timeoutSeconds": 5}
        self.server = k8s.apps.v1.StatefulSet(
            f"{name}-server",
            metadata={"name": args.service_name, "namespace": args.namespace, "labels": labels},
            spec={"replicas": 1, "serviceName": args.service_name, "selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels}, "spec": {
                      "securityContext": _pod_security(args.user_id),
                      "terminationGracePeriodSeconds": 30,
                      "containers": [{
                          "name": "postgresql", "image": image.ref, "imagePullPolicy": "IfNotPresent",
                          "ports": [{"name": "postgresql", "containerPort": PORT}],
                          "env": env,
                          "resources": {"requests": {"cpu": args.resources.cpu_request,
                                                     "memory": args.resources.memory_request},
                                        "limits": {"cpu": args.resources.cpu_limit,
                                                   "memory": args.resources.memory_limit}},
                          "readinessProbe": ready,
                          "livenessProbe": {**ready, "failureThreshold": 6, "initialDelaySeconds": 30},
                          "securityContext": _container_security(),
                          "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}, secret_mount],
                      }],
                      "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": self.claim.metadata.name}},
                                  secret_volume],
                  }}},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.secret, self.claim]))
        # The schemas, once per database: a new Job (auto-named) only when a script, the list or the image
        # changes; each script is skipped when its marker table is there, so a second `up`, a new member or a
        # rollout never re-runs one.
        schemas = args.context.schemas
        script = k8s.core.v1.ConfigMap(
            f"{name}-schema", metadata={"namespace": args.namespace, "labels": labels},
            data={x.key: x.sql for x in schemas}, opts=child)
        self.schema_job = k8s.batch.v1.Job(
            f"{name}-schema",
            metadata={"namespace": args.namespace, "labels": labels},
            spec={"backoffLimit": 6, "template": {"metadata": {"labels": {"app.kubernetes.io/component": "schema"}},
                                                  "spec": {
                "restartPolicy": "Never",
                "securityContext": _pod_security(args.user_id),
                "containers": [{
                    "name": "schema", "image": image.ref, "imagePullPolicy": "IfNotPresent",
                    "command": ["/usr/local/bin/schema.sh"],
                    "env": [{"name": "DB_USER", "value": args.username},
                            {"name": "DB_HOST", "value": args.service_name},
                            {"name": "DB_PORT", "value": str(PORT)},
                            {"name": "SCHEMA_DIR", "value": "/schema"},
                            {"name": "SCHEMAS", "value": "".join(f"{x.database} {x.file} {x.marker}\n"
                                                                 for x in schemas)}],
                    "securityContext": _container_security(),
                    "volumeMounts": [secret_mount, {"name": "schema", "mountPath": "/schema", "readOnly": True}],
                }],
                "volumes": [secret_volume, {"name": "schema", "configMap": {"name": script.metadata.name}}],
            }}},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.server, self.service]))
        self.cluster_ip = self.service.spec.apply(lambda spec: spec.cluster_ip)
        self.register_outputs({"cluster_ip": self.cluster_ip, "service": args.service_name})

    def _claim(self, name: str, args: EmbeddedDatabaseArgs, labels: dict[str, str],
               child: pulumi.ResourceOptions) -> k8s.core.v1.PersistentVolumeClaim:
        claim_name = f"{args.service_name}-data"
        if args.storage_class is not None:  # the user's provisioner makes the volume
            return k8s.core.v1.PersistentVolumeClaim(
                f"{name}-data",
                metadata={"name": claim_name, "namespace": args.namespace, "labels": labels,
                          "annotations": {"pulumi.com/skipAwait": "true"}},  # WaitForFirstConsumer classes
                spec={"accessModes": ["ReadWriteOnce"], "storageClassName": args.storage_class,
                      "resources": {"requests": {"storage": args.storage}}},
                opts=child)
        path = local_volume_dir(args.namespace, args.service_name, args.user_id)
        volume = k8s.core.v1.PersistentVolume(
            f"{name}-volume",
            metadata={"name": f"{args.namespace}-{claim_name}", "labels": labels},
            spec={"capacity": {"storage": args.storage}, "accessModes": ["ReadWriteOnce"],
                  # Retain: deleting the stack keeps the data directory on the node.
                  "persistentVolumeReclaimPolicy": "Retain", "storageClassName": LOCAL_STORAGE_CLASS,
                  "local": {"path": str(path)},
                  "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                      {"key": "kubernetes.io/hostname", "operator": "In", "values": [LOCAL_NODE]}]}]}},
                  "claimRef": {"namespace": args.namespace, "name": claim_name}},
            opts=child)
        return k8s.core.v1.PersistentVolumeClaim(
            f"{name}-data",
            metadata={"name": claim_name, "namespace": args.namespace, "labels": labels},
            spec={"accessModes": ["ReadWriteOnce"], "storageClassName": LOCAL_STORAGE_CLASS,
                  "volumeName": volume.metadata.name, "resources": {"requests": {"storage": args.storage}}},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[volume]))


def local_volume_dir(namespace: str, service_name: str, user_id: int) -> Path:
    """The local volume's directory on the node (this machine for the local cluster), owned by the database
    user: a local PersistentVolume must exist before it is mounted, and a non-root pod cannot chown it."""
    path = Path(os.environ.get("WSO2K8S_STATE", "/var/lib/wso2-kubernetes")) / "volumes" / namespace / service_name
    if not pulumi.runtime.is_dry_run() and not path.exists():  # made once, on `up`; a preview changes nothing
        try:
            path.mkdir(parents=True)
            os.chown(path, user_id, user_id)
            path.chmod(0o700)
        except OSError as err:  # not this machine's cluster, or not root: say so rather than hang at mount
            pulumi.log.warn(f"cannot prepare the local volume {path} ({err}); the database pod will not start "
                            f"unless it exists, owned by uid {user_id}. Or set database.embedded.storage_class.")
    return path


def _pod_security(uid: int) -> dict[str, object]:
    """What Pod Security `restricted` asks of the pod (see carbon_cluster.pod_spec_dict)."""
    # OnRootMismatch: kubelet regroups the volume only while its root is not yet the database user's; a
    # recursive g+rwx at every start would give PGDATA modes PostgreSQL refuses (it wants 0700 or 0750).
    return {"runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid, "fsGroup": uid,
            "fsGroupChangePolicy": "OnRootMismatch", "seccompProfile": {"type": "RuntimeDefault"}}


def _container_security() -> dict[str, object]:
    return {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
