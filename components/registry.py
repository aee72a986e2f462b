"""Where images are pushed and pulled from; credentials only as secrets."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_docker_build as docker_build


@dataclass(frozen=True)
class RegistryTarget:
    server: str  # host[:port]
    username: str | None = None
    password: pulumi.Output[str] | None = field(default=None, repr=False)  # always a secret Output

    def image_name(self, repository: str, tag: str) -> str:
        return f"{self.server}/{repository}:{tag}"

    def registries(self) -> list[docker_build.RegistryArgs]:
        if self.username is None:
            return []  # no credentials: a registry that allows anonymous push (the local one)
        return [docker_build.RegistryArgs(address=self.server, username=self.username, password=self.password)]
