"""The one way this project builds and pushes an image (both image components use it)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pulumi
import pulumi_docker_build as docker_build

from wso2k8s.settings.schema import ImageBuild

from .registry import RegistryTarget


def pushed_image(name: str, context: Path, image_name: str, registry: RegistryTarget, build: ImageBuild,
                 build_args: Mapping[str, pulumi.Input[str]] | None,
                 opts: pulumi.ResourceOptions) -> docker_build.Image:
    """Built with BuildKit, pushed, and known afterwards by `ref` (tag@sha256 digest)."""
    return docker_build.Image(
        name,
        context=docker_build.BuildContextArgs(location=str(context)),
        dockerfile=docker_build.DockerfileArgs(location=str(context / "Dockerfile")),
        tags=[image_name],
        build_args=dict(build_args or {}),
        platforms=[docker_build.Platform.LINUX_AMD64],
        push=True,
        registries=registry.registries(),
        builder=docker_build.BuilderConfigArgs(name=build.builder),
        exec_=build.exec,
        opts=opts,
    )
