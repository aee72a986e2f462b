"""SelfSignedCertificate: a dev certificate for the entry's host, made once by a dynamic provider.

The key is made inside the provider (never in the program's memory of another run) and returned as an output
Pulumi keeps secret: encrypted in the state, masked in every preview and log. A new host makes a new pair;
anything else leaves it as it is, so `pulumi up` again changes nothing.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider


class _Provider(ResourceProvider):
    """Runs in the dynamic-provider process (pulumi-resource-pulumi-python), which imports this module."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        host, days = str(props["host"]), int(props["days"])
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
        now = datetime.datetime.now(datetime.UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=days))
                # browsers take the name from the SAN only; CA:false, a server certificate
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .sign(key, hashes.SHA256()))
        cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        return CreateResult(id_=format(cert.serial_number, "x"),
                            outs={"host": host, "days": days, "cert_pem": cert_pem, "key_pem": key_pem})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in ("host", "days") if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=changed, delete_before_replace=False)


class SelfSignedCertificate(pulumi.dynamic.Resource):
    cert_pem: pulumi.Output[str]
    key_pem: pulumi.Output[str]  # secret

    def __init__(self, name: str, host: str, days: int = 365, opts: pulumi.ResourceOptions | None = None):
        super().__init__(_Provider(), name, {"host": host, "days": days, "cert_pem": None, "key_pem": None},
                         pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
                             additional_secret_outputs=["key_pem"])))
