"""ProductImage: one Carbon product profile, configured, pushed and referenced by digest."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_docker_build as docker_build

from wso2k8s.settings.schema import ImageBuild

from .base_image import BaseImage
from .image_build import pushed_image
from .registry import RegistryTarget


@dataclass(frozen=True)
class ProductImageArgs:
    context: Path  # written by wso2k8s.pack.context.write_product_context
    repository: str  # e.g. wso2/is-5.1.0
    tag: str
    base: BaseImage
    registry: RegistryTarget
    build: ImageBuild
    # rendered conf files, path -> packed text (wso2k8s.confdiff): its input, so the state holds what the image
    # serves (conf diffs in previews, the policy pack's membership check); tokens only, no secrets
    conf_files: Mapping[str, str] = field(default_factory=dict)


class ProductImage(pulumi.ComponentResource):
    image: docker_build.Image
    repo_digest: pulumi.Output[str]  # the RC's pods run exactly this
    conf_files: dict[str, str]  # path -> packed rendered conf file

    def __init__(self, name: str, args: ProductImageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("wso2k8s:image:ProductImage", name, {"conf_files": dict(args.conf_files)}, opts)
        self.conf_files = dict(args.conf_files)  # plain (the SDK set an Output attribute per input)
        self.image = pushed_image(
            name, args.context, args.registry.image_name(args.repository, args.tag), args.registry, args.build,
            # FROM the base by digest: a rebuilt base always rebuilds the product, never a stale mix.
            {"BASE_IMAGE": args.base.repo_digest},
            pulumi.ResourceOptions(parent=self, depends_on=[args.base]))
        self.repo_digest = self.image.ref
        self.register_outputs({"repo_digest": self.repo_digest})
