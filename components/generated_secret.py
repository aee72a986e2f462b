"""GeneratedSecret: random bytes made once and kept in the stack's state, only as a secret (the edge proxy's
cookie key). A Pulumi dynamic resource like GeneratedCertificate (pulumi-resource-pulumi-python): `create` draws
the value, later runs read it back from the state, so it is stable across `pulumi up`s; a new length replaces it.
The value is never an input (so never in a diff) and its id is drawn apart from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider


class _Provider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        import secrets

        return CreateResult(id_=secrets.token_hex(8), outs={"length": props["length"],
                                                            "value": secrets.token_hex(int(props["length"]))})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = olds.get("length") != news.get("length")
        return DiffResult(changes=changed, replaces=["length"] if changed else [], delete_before_replace=False)


@dataclass(frozen=True)
class GeneratedSecretArgs:
    length: int = 32  # random bytes; the value is their hex (2 * length characters)


class GeneratedSecret(Resource):
    value: pulumi.Output[str]  # hex; a secret everywhere (state, outputs)

    def __init__(self, name: str, args: GeneratedSecretArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(_Provider(), name, {"length": args.length, "value": None}, pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["value"])))
