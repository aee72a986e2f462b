"""StackKeystores: the Secret `<name>-keystores` the members mount at start (wso2k8s/keys/stores.py says
where): the keystore (generated per stack, or the user's file; none in stock mode, where the pack's stays) and
the truststore (the cluster's CA + the server's own certificate + the user's trusted ones), both opened by
keystore_password. `identity` is a hash of their public certificates: on the pod template it rolls the
members when a key or a CA changes."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from wso2k8s.keys.certificates import not_before_ms, pem_certificates, private_key_der
from wso2k8s.keys.stores import TRUSTSTORE_FILE, KeystorePlan
from wso2k8s.pack.keystore import jks_bytes

from .generated_certificate import GeneratedCertificate


@dataclass(frozen=True)
class StackKeystoresArgs:
    secret_name: str
    namespace: str
    labels: dict[str, str]
    plan: KeystorePlan
    password: pulumi.Output[str]  # secret: keystore_password
    # generate mode: the stack's one key pair, shared by every profile (components/graph.py makes it), so the
    # members of one profile trust those of another (API Manager's gateway calling its key manager)
    certificate: GeneratedCertificate | None


class StackKeystores(pulumi.ComponentResource):
    certificate: GeneratedCertificate | None  # generate mode
    secret: k8s.core.v1.Secret
    identity: pulumi.Output[str]  # not secret: a hash of certificates

    def __init__(self, name: str, args: StackKeystoresArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("wso2k8s:kubernetes:StackKeystores", name, None, opts)
        plan = args.plan
        self.certificate = None
        files: dict[str, pulumi.Output[str]] = {}
        if plan.mode == "generate":
            assert args.certificate is not None, "generate mode: the stack's certificate"
            self.certificate = args.certificate
            own: pulumi.Output[bytes] = self.certificate.certificate_pem.apply(lambda pem: pem_certificates(pem)[0])
            files[plan.keystore_file] = pulumi.Output.all(
                self.certificate.private_key_pem, own, args.password).apply(
                lambda v: _b64(jks_bytes(v[2], private_key=(plan.alias, private_key_der(v[0]), [v[1]]),
                                         created_ms=not_before_ms(v[1]))))
        else:
            assert plan.certificate is not None, "prepare() found the key's certificate"
            own = pulumi.Output.from_input(plan.certificate)
            if plan.user_keystore is not None:  # user mode: the file as the user made it
                files[plan.keystore_file] = pulumi.Output.secret(_b64(plan.user_keystore))
        files[TRUSTSTORE_FILE] = pulumi.Output.all(own, args.password).apply(
            lambda v: _b64(jks_bytes(v[1], trusted=[("wso2carbon-self", v[0]), *plan.trusted],
                                     created_ms=not_before_ms(v[0]))))
        self.identity = own.apply(plan.identity)
        self.secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.secret_name, namespace=args.namespace,
                                                labels=args.labels),
            type="Opaque", data=files,  # pulumi-kubernetes keeps a Secret's data secret in the state
            opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"identity": self.identity})


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
