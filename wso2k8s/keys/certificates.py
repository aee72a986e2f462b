"""A new RSA key pair and a self-signed certificate for one host name, and the facts about certificates the
program needs (DER from PEM, fingerprints). `cryptography` does the work; nothing here touches Pulumi."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class KeyPair:
    private_key_pem: str  # PKCS#8, unencrypted: only ever held as a secret
    certificate_pem: str


def self_signed(common_name: str, dns_names: list[str], *, key_size: int = 2048, validity_days: int = 825,
                organization: str = "wso2-kubernetes") -> KeyPair:
    """A key pair and a self-signed certificate with CN = `common_name` and the names as subjectAltNames
    (IP addresses as IP SANs), valid from one hour ago (clock skew) for `validity_days`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)])
    sans: list[x509.GeneralName] = []
    for value in dict.fromkeys([common_name, *dns_names]):
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(value)))
        except ValueError:
            sans.append(x509.DNSName(value))
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=validity_days))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True, content_commitment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH,
                                                  x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(key, hashes.SHA256()))
    return KeyPair(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption()).decode(),
        cert.public_bytes(serialization.Encoding.PEM).decode())


def pem_certificates(pem: str | bytes) -> list[bytes]:
    """The DER of every certificate in a PEM bundle (a CA file may hold several)."""
    data = pem.encode() if isinstance(pem, str) else pem
    return [c.public_bytes(serialization.Encoding.DER) for c in x509.load_pem_x509_certificates(data)]


def private_key_der(pem: str) -> bytes:
    """PKCS#8 DER of a PEM private key (what a JKS private-key entry protects)."""
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def fingerprint(der: bytes) -> str:
    """SHA-256 of a DER certificate, as hex: what `keytool -list` and `openssl x509 -fingerprint` show."""
    return hashlib.sha256(der).hexdigest()


def not_before_ms(der: bytes) -> int:
    """The certificate's notBefore in milliseconds: a stable creation date for the keystore entries."""
    return int(x509.load_der_x509_certificate(der).not_valid_before_utc.timestamp() * 1000)
