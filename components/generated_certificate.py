"""GeneratedCertificate: a key pair and self-signed certificate made once and kept in the stack's state, the
private key only as a secret. A Pulumi dynamic resource (pulumi-resource-pulumi-python, with the program's
virtualenv): `create` makes the pair, later runs read it back from the state, so it is stable across `pulumi
up`s; a change of the names, key size or lifetime replaces it. Reusable for any generated TLS identity (the
members' keystores; an entry's dev certificate)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider

INPUTS = ("common_name", "dns_names", "key_size", "validity_days")


class _Provider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        from wso2k8s.keys.certificates import fingerprint, pem_certificates, self_signed

        pair = self_signed(props["common_name"], list(props["dns_names"]), key_size=int(props["key_size"]),
                           validity_days=int(props["validity_days"]))
        der = pem_certificates(pair.certificate_pem)[0]
        outs = {**{k: props[k] for k in INPUTS}, "certificate_pem": pair.certificate_pem,
                "private_key_pem": pair.private_key_pem, "fingerprint": fingerprint(der)}
        return CreateResult(id_=fingerprint(der)[:32], outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in INPUTS if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=changed, delete_before_replace=False)


@dataclass(frozen=True)
class GeneratedCertificateArgs:
    common_name: str
    dns_names: list[str] = field(default_factory=list)
    key_size: int = 2048
    validity_days: int = 825


class GeneratedCertificate(Resource):
    certificate_pem: pulumi.Output[str]  # public
    private_key_pem: pulumi.Output[str]  # PKCS#8 PEM; a secret everywhere (state, outputs)
    fingerprint: pulumi.Output[str]  # SHA-256 of the certificate, hex

    def __init__(self, name: str, args: GeneratedCertificateArgs, opts: pulumi.ResourceOptions | None = None):
        props = {"common_name": args.common_name, "dns_names": list(args.dns_names), "key_size": args.key_size,
                 "validity_days": args.validity_days,
                 "certificate_pem": None, "private_key_pem": None, "fingerprint": None}
        super().__init__(_Provider(), name, props, pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["private_key_pem"])))
