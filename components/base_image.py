"""BaseImage: the Java runtime image every product image starts from (the seed's wso2/k8s-base)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_docker_build as docker_build

from wso2k8s.settings.schema import ImageBuild

from .image_build import pushed_image
from .registry import RegistryTarget


@dataclass(frozen=True)
class BaseImageArgs:
    context: Path  # written by wso2k8s.pack.context.write_base_context
    repository: str  # e.g. wso2/k8s-base
    tag: str
    registry: RegistryTarget
    build: ImageBuild


class BaseImage(pulumi.ComponentResource):
    image: docker_build.Image
    repo_digest: pulumi.Output[str]  # registry/repository:tag@sha256:…, what product images build FROM

    def __init__(self, name: str, args: BaseImageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("wso2k8s:image:BaseImage", name, None, opts)
        self.image = pushed_image(name, args.context, args.registry.image_name(args.repository, args.tag),
                                  args.registry, args.build, None, pulumi.ResourceOptions(parent=self))
        self.repo_digest = self.image.ref
        self.register_outputs({"repo_digest": self.repo_digest})
