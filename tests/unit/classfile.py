"""Tiny, valid Java class files and jars built in pure Python, so unit tests need no javac: a class with a
given name whose constant pool holds given string literals (what a `static final String` leaves behind)."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path


def class_file(name: str, strings: list[str], *, major: int = 52) -> bytes:
    pool: list[bytes] = []

    def utf8(text: str) -> int:
        raw = text.encode()
        pool.append(b"\x01" + struct.pack(">H", len(raw)) + raw)
        return len(pool)

    def cls(text: str) -> int:
        index = utf8(text)
        pool.append(b"\x07" + struct.pack(">H", index))
        return len(pool)

    this, super_ = cls(name.replace(".", "/")), cls("java/lang/Object")
    for s in strings:  # a String constant and its Utf8, as javac writes a literal
        pool.append(b"\x08" + struct.pack(">H", utf8(s)))
    pool.append(b"\x05" + struct.pack(">q", 1))  # a long takes two entries: the reader must count them
    pool.append(b"")
    body = b"".join(pool)
    return (b"\xca\xfe\xba\xbe" + struct.pack(">HHH", 0, major, len(pool) + 1) + body
            + struct.pack(">HHHHHHH", 0x21, this, super_, 0, 0, 0, 0))


SCHEME = "org.wso2.carbon.membership.scheme.kubernetes.KubernetesMembershipScheme"
CURRENT = ["KUBERNETES_API_SERVER", "KUBERNETES_API_SERVER_TOKEN", "KUBERNETES_API_SERVER_USERNAME",
           "KUBERNETES_API_SERVER_PASSWORD", "KUBERNETES_NAMESPACE", "KUBERNETES_SERVICES",
           "KUBERNETES_MASTER_SKIP_SSL_VERIFICATION", "USE_DNS", "DNS_LOOKUP_TIMEOUT"]
OLD_2016 = ["KUBERNETES_MASTER", "KUBERNETES_MASTER_USERNAME", "KUBERNETES_MASTER_PASSWORD", "KUBERNETES_NAMESPACE",
            "KUBERNETES_SERVICES"]


def jar(path: Path, classes: dict[str, list[str]]) -> Path:
    """A jar with one class per entry (dotted name -> its string constants)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        for name, strings in classes.items():
            zf.writestr(name.replace(".", "/") + ".class", class_file(name, strings))
    return path


def scheme_jar(path: Path, strings: list[str] = CURRENT) -> Path:
    # Constants live in a helper class, as wso2/kubernetes-common's Constants.java: the reader scans the package.
    return jar(path, {SCHEME: ["Initializing kubernetes membership scheme..."],
                      "org.wso2.carbon.membership.scheme.kubernetes.Constants": strings})


def dnsjava_jar(path: Path) -> Path:
    return jar(path, {"org.xbill.DNS.Lookup": ["SRV"]})
