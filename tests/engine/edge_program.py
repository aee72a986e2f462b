"""A small Pulumi program for tests/engine/test_edge_browser.py: the members' headless Service and an EdgeProxy in
front of them, with the component exactly as the entry helper will call it. Copied as __main__.py into the test's
project copy; its config (`edge:*`) is set by the test. The TLS Secret is the test's (made with openssl and
applied with kubectl, like a user's certificate)."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from components.edge import EdgeProxy, EdgeProxyArgs
from components.registry import RegistryTarget
from wso2k8s.edge_context import write_edge_context
from wso2k8s.settings.schema import ImageBuild

config = pulumi.Config("edge")
namespace = config.require("namespace")
labels = {"app.kubernetes.io/managed-by": "wso2-kubernetes", "app.kubernetes.io/part-of": "edge-test"}
members = k8s.core.v1.Service(
    "members", metadata={"name": "wso2is-members", "namespace": namespace, "labels": labels},
    spec={"clusterIP": "None", "selector": config.require_object("member_selector"),
          "ports": [{"name": "servlet-https", "port": 9443, "targetPort": 9443}]})
context = write_edge_context(Path("build/edge"), config.require("os_image"), 65532)
edge = EdgeProxy("edge", EdgeProxyArgs(
    namespace=namespace, name="wso2is-edge", host=config.require("host"),
    tls_secret_name=config.require("tls_secret_name"),
    backend_service=f"wso2is-members.{namespace}.svc.cluster.local", backend_port=9443,
    cookie_name="wso2lb", labels=labels, context=context,
    image_name=f"{config.require('registry')}/wso2/edge:engine-test",
    registry=RegistryTarget(config.require("registry")),
    build=ImageBuild(builder="default", exec=True), external_ips=(config.require("external_ip"),),
    cookie_secret=config.require_secret("cookie_secret")),
    pulumi.ResourceOptions(depends_on=[members]))
pulumi.export("url", edge.url)
pulumi.export("image_ref", edge.image_ref)
