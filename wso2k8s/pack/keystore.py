"""Does a password open a Java keystore? Answered offline, from the file's own integrity check, so a wrong
keystore_password is refused before any image is built instead of when the server starts.

JKS/JCEKS (what Carbon 4.4 ships): the file ends with SHA-1(UTF-16BE(password) + b"Mighty Aphrodite" + body).
PKCS12 (keytool's default since Java 9): MacData holds an HMAC over the authenticated safe, keyed by the
RFC 7292 appendix B key derivation of the password.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

JKS_MAGIC = b"\xfe\xed\xfe\xed"
JCEKS_MAGIC = b"\xce\xce\xce\xce"
# DER object identifiers (value bytes) of the MAC digests PKCS12 files use.
PKCS12_DIGESTS = {
    bytes.fromhex("2b0e03021a"): "sha1",
    bytes.fromhex("608648016503040201"): "sha256",
    bytes.fromhex("608648016503040202"): "sha384",
    bytes.fromhex("608648016503040203"): "sha512",
    bytes.fromhex("608648016503040204"): "sha224",
}


class KeystoreFormatError(Exception):
    """The file is no keystore this module can check (the message says why)."""


def jks_keys_refusing(data: bytes, password: str) -> list[str]:
    """Aliases of the JKS private keys that `password` does not unlock (Carbon's KeyPassword is the same
    keystore_password). Sun's KeyProtector: salt(20) + key XOR a SHA-1 stream of (password, salt) + SHA-1 check
    of (password, key). JCEKS and PKCS12 keys use other ciphers: not checked here ([] for them)."""
    if data[:4] != JKS_MAGIC:
        return []
    secret = password.encode("utf-16-be")
    refused = []
    for alias, protected in _jks_private_keys(data):
        value = _value(protected, 0x30)  # EncryptedPrivateKeyInfo: algorithm, OCTET STRING
        encrypted = _children(value)[1][1]
        salt, body, check = encrypted[:20], encrypted[20:-20], encrypted[-20:]
        stream, digest = b"", salt
        while len(stream) < len(body):
            digest = hashlib.sha1(secret + digest).digest()
            stream += digest
        key = bytes(a ^ b for a, b in zip(body, stream, strict=False))
        if not hmac.compare_digest(hashlib.sha1(secret + key).digest(), check):
            refused.append(alias)
    return refused


@dataclass(frozen=True)
class JksEntry:
    alias: str
    protected_key: bytes | None  # EncryptedPrivateKeyInfo of a private-key entry; None for a trusted certificate
    certificates: tuple[bytes, ...]  # DER: the key's chain (own certificate first), or the trusted certificate


def jks_entries(data: bytes) -> list[JksEntry]:
    """Every entry of a JKS file (JCEKS: the same layout, version 2)."""
    def u32(at: int) -> int:
        if at + 4 > len(data):
            raise KeystoreFormatError("a truncated JKS file")
        return int.from_bytes(data[at:at + 4], "big")

    version, count, pos = u32(4), u32(8), 12
    entries = []
    for _ in range(count):
        tag = u32(pos)
        alias_len = int.from_bytes(data[pos + 4:pos + 6], "big")
        alias = data[pos + 6:pos + 6 + alias_len].decode("utf-8", "replace")
        pos += 6 + alias_len + 8  # alias, then the creation date
        protected = None
        if tag == 1:  # private key: the protected key, then its certificate chain
            size = u32(pos)
            protected = data[pos + 4:pos + 4 + size]
            pos += 4 + size
            chain = u32(pos)
            pos += 4
        elif tag == 2:  # trusted certificate
            chain = 1
        else:
            raise KeystoreFormatError(f"a JKS file with an entry of unknown kind {tag}")
        certs = []
        for _ in range(chain):
            if version == 2:
                pos += 2 + int.from_bytes(data[pos:pos + 2], "big")  # the certificate type, e.g. X.509
            size = u32(pos)
            certs.append(data[pos + 4:pos + 4 + size])
            pos += 4 + size
        entries.append(JksEntry(alias, protected, tuple(certs)))
    return entries


def _jks_private_keys(data: bytes) -> list[tuple[str, bytes]]:
    """(alias, protected key) of every private-key entry of a JKS file."""
    return [(e.alias, e.protected_key) for e in jks_entries(data) if e.protected_key is not None]


# Sun's KeyProtector algorithm (1.3.6.1.4.1.42.2.17.1.1), DER, with its NULL parameters.
_KEY_PROTECTOR = bytes.fromhex("300e060a2b060104012a021101010500")


def jks_bytes(password: str, *, private_key: tuple[str, bytes, list[bytes]] | None = None,
              trusted: Sequence[tuple[str, bytes]] = (), created_ms: int = 0) -> bytes:
    """A JKS keystore that keytool and every JVM read: at most one private-key entry (alias, PKCS#8 DER key,
    DER chain with its own certificate first) protected with `password` (Carbon's KeyPassword is the store's),
    and trusted-certificate entries. Deterministic for the same inputs (the key's salt comes from the password
    and the key, the dates from `created_ms`), so rewriting it changes nothing that has not changed."""
    secret = password.encode("utf-16-be")

    def text(value: str) -> bytes:
        raw = value.encode("utf-8")
        return len(raw).to_bytes(2, "big") + raw

    def cert(der: bytes) -> bytes:
        return text("X.509") + len(der).to_bytes(4, "big") + der

    out = bytearray(JKS_MAGIC + (2).to_bytes(4, "big"))
    out += (len(trusted) + (1 if private_key else 0)).to_bytes(4, "big")
    stamp = created_ms.to_bytes(8, "big")
    if private_key:
        alias, key, chain = private_key
        salt = hmac.new(secret, key, "sha1").digest()
        stream, digest = b"", salt
        while len(stream) < len(key):
            digest = hashlib.sha1(secret + digest).digest()
            stream += digest
        body = bytes(a ^ b for a, b in zip(key, stream, strict=False))
        protected = _der(0x30, _KEY_PROTECTOR + _der(0x04, salt + body + hashlib.sha1(secret + key).digest()))
        out += (1).to_bytes(4, "big") + text(alias.lower()) + stamp
        out += len(protected).to_bytes(4, "big") + protected + len(chain).to_bytes(4, "big")
        for der in chain:
            out += cert(der)
    for alias, der in trusted:
        out += (2).to_bytes(4, "big") + text(alias.lower()) + stamp + cert(der)
    out += hashlib.sha1(secret + b"Mighty Aphrodite" + bytes(out)).digest()
    return bytes(out)


def _der(tag: int, value: bytes) -> bytes:
    n = len(value)
    if n < 0x80:
        return bytes([tag, n]) + value
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + value


def password_opens(data: bytes, password: str) -> bool:
    """True when `password` is the store password of the JKS, JCEKS or PKCS12 keystore `data`."""
    if data[:4] in (JKS_MAGIC, JCEKS_MAGIC):
        if len(data) < 4 + 4 + 4 + 20:
            raise KeystoreFormatError("a JKS file too short to hold its integrity digest")
        body, digest = data[:-20], data[-20:]
        expected = hashlib.sha1(password.encode("utf-16-be") + b"Mighty Aphrodite" + body).digest()
        return hmac.compare_digest(expected, digest)
    if data[:1] == b"\x30":
        return _pkcs12_mac_ok(data, password)
    raise KeystoreFormatError("neither a JKS, JCEKS nor PKCS12 keystore")


def _pkcs12_mac_ok(data: bytes, password: str) -> bool:
    pfx = _children(_value(data, 0x30))
    if len(pfx) < 3:
        raise KeystoreFormatError("a PKCS12 file without MacData (no password integrity to check)")
    auth_safe = _children(pfx[1][1])  # ContentInfo: contentType, [0] EXPLICIT OCTET STRING
    explicit = _children(auth_safe[1][1]) if len(auth_safe) > 1 and auth_safe[1][0] == 0xA0 else []
    if not explicit or explicit[0][0] != 0x04:
        raise KeystoreFormatError("a PKCS12 file whose content is not plain data")
    content = explicit[0][1]
    mac_data = _children(pfx[2][1])
    digest_info = _children(mac_data[0][1])
    algorithm = _children(digest_info[0][1])
    name = PKCS12_DIGESTS.get(algorithm[0][1])
    if name is None:
        raise KeystoreFormatError("a PKCS12 file with a MAC algorithm this check does not know")
    mac, salt = digest_info[1][1], mac_data[1][1]
    iterations = int.from_bytes(mac_data[2][1], "big") if len(mac_data) > 2 else 1
    key = _pkcs12_kdf(name, password, salt, iterations, hashlib.new(name).digest_size)
    return hmac.compare_digest(hmac.new(key, content, name).digest(), mac)


def _pkcs12_kdf(name: str, password: str, salt: bytes, iterations: int, size: int) -> bytes:
    """RFC 7292 B.2 with ID 3 (MAC key); the password as a NUL-terminated BMPString."""
    block = hashlib.new(name).block_size
    secret = password.encode("utf-16-be") + b"\0\0"

    def fill(value: bytes) -> bytes:
        length = block * -(-len(value) // block)
        return (value * (length // len(value) + 1))[:length] if value else b""

    i = bytearray(fill(salt) + fill(secret))
    out = b""
    d = bytes([3]) * block
    while len(out) < size:
        a = hashlib.new(name, d + bytes(i)).digest()
        for _ in range(iterations - 1):
            a = hashlib.new(name, a).digest()
        out += a
        b = int.from_bytes((a * (block // len(a) + 1))[:block], "big")
        for j in range(0, len(i), block):
            chunk = (int.from_bytes(i[j:j + block], "big") + b + 1) % (1 << (8 * block))
            i[j:j + block] = chunk.to_bytes(block, "big")
    return out[:size]


def _tlv(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """(tag, value, next position) of the DER element at `pos`."""
    if pos + 2 > len(data):
        raise KeystoreFormatError("a truncated PKCS12 file")
    tag, length, pos = data[pos], data[pos + 1], pos + 2
    if length == 0x80:
        raise KeystoreFormatError("a PKCS12 file in indefinite-length BER")
    if length & 0x80:
        count = length & 0x7F
        length, pos = int.from_bytes(data[pos:pos + count], "big"), pos + count
    if pos + length > len(data):
        raise KeystoreFormatError("a truncated PKCS12 file")
    return tag, data[pos:pos + length], pos + length


def _value(data: bytes, expect: int) -> bytes:
    found, value, _ = _tlv(data, 0)
    if found != expect:
        raise KeystoreFormatError("not a PKCS12 structure")
    return value


def _children(value: bytes) -> list[tuple[int, bytes]]:
    out, pos = [], 0
    while pos < len(value):
        tag, inner, pos = _tlv(value, pos)
        out.append((tag, inner))
    return out
