"""What a user's JDK/JRE archive is: its Java major version, read from the `release` file every JDK since 7
carries (`JAVA_VERSION="1.8.0_202"`), and whether the base image's Dockerfile can use it
(`tar -xzf … --strip-components=1`, then `/opt/java/bin/java`)."""

from __future__ import annotations

import re
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from .errors import FixableError


class JdkError(FixableError):
    """The archive is not a usable Linux JDK/JRE .tar.gz."""


@dataclass(frozen=True)
class JdkInfo:
    version: str  # JAVA_VERSION as written, e.g. 1.8.0_202
    major: int  # 8


def inspect_jdk(archive: Path) -> JdkInfo:
    fix = "use the Linux x64 JDK or JRE .tar.gz as Oracle/Adoptium ship it (one top folder holding bin/java)"
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tops: set[str] = set()
            java = False
            release = b""
            for member in tar:
                parts = [p for p in member.name.split("/") if p not in ("", ".")]
                if not parts:
                    continue
                tops.add(parts[0])
                java = java or (parts[1:] == ["bin", "java"] and not member.isdir())
                if parts[1:] == ["release"] and member.isfile():
                    handle = tar.extractfile(member)
                    release = handle.read(65536) if handle else b""
    except (tarfile.TarError, OSError, EOFError, zlib.error) as err:
        raise JdkError(f"{archive} is not a readable .tar.gz ({err})", fix) from None
    if len(tops) != 1 or not java:
        raise JdkError(f"{archive} has no <top folder>/bin/java (top-level entries: {', '.join(sorted(tops)[:3])})",
                       fix)
    fields = dict(re.findall(r'^([A-Z_]+)="?([^"\n]*)"?$', release.decode("utf-8", "replace"), re.MULTILINE))
    version = fields.get("JAVA_VERSION", "")
    found = re.match(r"^(?:1\.)?(\d+)", version)
    if not found:
        raise JdkError(f"{archive} has no release file with JAVA_VERSION, so its Java version is unknown", fix)
    if fields.get("OS_NAME", "Linux") != "Linux":
        raise JdkError(f"{archive} is a JDK for {fields['OS_NAME']}, the images run Linux", fix)
    return JdkInfo(version, int(found.group(1)))

