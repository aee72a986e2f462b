"""A bare pulumi-kubernetes program: registers the Kubernetes objects listed in objects.json (kind, name and
the inputs a wso2-kubernetes stack gave them, written by benchmarks/overhead.py from that stack's state) from
those literal values. No settings, no pack, no images built: what the wso2-kubernetes program's overhead is
measured against."""

import json
import os
import re
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

KINDS = {
    "kubernetes:core/v1:Namespace": k8s.core.v1.Namespace,
    "kubernetes:core/v1:Secret": k8s.core.v1.Secret,
    "kubernetes:core/v1:ServiceAccount": k8s.core.v1.ServiceAccount,
    "kubernetes:core/v1:Service": k8s.core.v1.Service,
    "kubernetes:core/v1:ReplicationController": k8s.core.v1.ReplicationController,
    "kubernetes:rbac.authorization.k8s.io/v1:Role": k8s.rbac.v1.Role,
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": k8s.rbac.v1.RoleBinding,
}


def snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


# like the program's: an explicit provider on the same kubeconfig, server-side apply
provider = k8s.Provider("cluster", kubeconfig=os.environ["KUBECONFIG"], enable_server_side_apply=True)

objects = json.loads((Path(__file__).parent / "objects.json").read_text())
namespaces = {}  # what a hand-written program would do too: namespaced objects after their namespace
for obj in sorted(objects, key=lambda o: o["type"] != "kubernetes:core/v1:Namespace"):
    args = {snake(k): v for k, v in obj["inputs"].items() if k not in ("apiVersion", "kind") and not k.startswith("__")}
    if "string_data" in args:
        args["string_data"] = pulumi.Output.secret(args["string_data"])
    namespace = namespaces.get(args.get("metadata", {}).get("namespace"))
    opts = pulumi.ResourceOptions(provider=provider, depends_on=[namespace] if namespace else [])
    resource = KINDS[obj["type"]](obj["name"], **args, opts=opts)
    if obj["type"] == "kubernetes:core/v1:Namespace":
        namespaces[args["metadata"]["name"]] = resource
