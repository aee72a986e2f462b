"""Packs, keystores and JDK archives made for tests: a tiny pack shaped like a shipped one, and crafted ones
that a careless or hostile source could hand a user."""

from __future__ import annotations

import functools
import io
import stat
import subprocess
import tarfile
import tempfile
import warnings
import zipfile
from pathlib import Path

ROOT = "wso2is-5.1.0"
CARBON_XML = """<?xml version="1.0" encoding="ISO-8859-1"?>
<Server xmlns="http://wso2.org/projects/carbon/carbon.xml">
    <Name>{name}</Name><ServerKey>IS</ServerKey><Version>{version}</Version>
</Server>
"""
KEYSTORE = "repository/resources/security/wso2carbon.jks"


@functools.cache
def keystore(password: str = "wso2carbon", storetype: str = "JKS", key_password: str | None = None,
             trusted: bool = False) -> bytes:
    """A real keystore made by the JDK's keytool (cached for the session); `trusted` adds a trusted
    certificate entry next to the key, like client-truststore.jks."""
    folder = Path(tempfile.mkdtemp(prefix="wso2k8s-unit-keystore-"))
    path = folder / f"ks.{storetype.lower()}"
    env = {"KS_PASS": password, "KEY_PASS": key_password or password, "PATH": "/usr/bin:/bin"}
    subprocess.run(["keytool", "-genkeypair", "-alias", "wso2carbon", "-keyalg", "EC", "-groupname", "secp256r1",
                    "-dname", "CN=localhost", "-validity", "30", "-storetype", storetype, "-keystore", str(path),
                    "-storepass:env", "KS_PASS", "-keypass:env", "KEY_PASS", "-noprompt"],
                   check=True, capture_output=True, env=env)
    if trusted:
        cert = folder / "cert.pem"
        common = ["-keystore", str(path), "-storetype", storetype, "-storepass:env", "KS_PASS", "-noprompt"]
        subprocess.run(["keytool", "-exportcert", "-rfc", "-alias", "wso2carbon", "-file", str(cert), *common],
                       check=True, capture_output=True, env=env)
        subprocess.run(["keytool", "-importcert", "-alias", "ca", "-file", str(cert), *common],
                       check=True, capture_output=True, env=env)
    return path.read_bytes()


def pack_files(name: str = "WSO2 Identity Server", version: str = "5.1.0") -> dict[str, bytes]:
    """Just enough of a pack for inspection and the keystore check (the catalogue never gets to rendering)."""
    return {f"{ROOT}/bin/wso2server.sh": b"#!/bin/sh\n",
            f"{ROOT}/repository/conf/carbon.xml": CARBON_XML.format(name=name, version=version).encode(),
            f"{ROOT}/repository/conf/axis2/axis2.xml": b"<axisconfig/>",
            f"{ROOT}/repository/components/lib/": b"",
            f"{ROOT}/{KEYSTORE}": keystore()}


def tiny_pack(path: Path, *, name: str = "WSO2 Identity Server", version: str = "5.1.0", skip: str = "",
              extra: list[tuple[zipfile.ZipInfo | str, bytes]] | None = None,
              replace: dict[str, bytes] | None = None) -> Path:
    files = {**pack_files(name, version), **{f"{ROOT}/{k}": v for k, v in (replace or {}).items()}}
    with zipfile.ZipFile(path, "w") as zf:
        for file, data in files.items():
            if not (skip and skip in file):
                zf.writestr(file, data)
        with warnings.catch_warnings():  # a crafted duplicate is the point of some packs
            warnings.simplefilter("ignore", UserWarning)
            for info, data in extra or []:
                zf.writestr(info, data)
    return path


def entry(name: str, mode: int = 0o644, file_type: int = stat.S_IFREG) -> zipfile.ZipInfo:
    """A zip entry with a Unix mode, as `zip` on Linux records it."""
    info = zipfile.ZipInfo(name, date_time=(2016, 1, 19, 0, 0, 0))
    info.external_attr = (file_type | mode) << 16
    return info


def corrupt_member(path: Path, member: str) -> None:
    """Flips a byte of one member's stored data (its CRC no longer matches)."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    data = bytearray(path.read_bytes())
    header = info.header_offset
    name_len = int.from_bytes(data[header + 26:header + 28], "little")
    extra_len = int.from_bytes(data[header + 28:header + 30], "little")
    data[header + 30 + name_len + extra_len] ^= 0xFF
    path.write_bytes(bytes(data))


def jdk_archive(path: Path, *, version: str | None = "1.8.0_202", top: str = "jdk1.8.0_202", java: bool = True,
                os_name: str = "Linux") -> Path:
    """A JDK-shaped .tar.gz: <top>/bin/java and <top>/release."""
    with tarfile.open(path, "w:gz") as tar:
        files = {}
        if java:
            files[f"{top}/bin/java"] = b"\x7fELF"
        if version is not None:
            files[f"{top}/release"] = f'JAVA_VERSION="{version}"\nOS_NAME="{os_name}"\nOS_ARCH="amd64"\n'.encode()
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            tar.addfile(info, io.BytesIO(data))
    return path
