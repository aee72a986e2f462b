"""Synthetic Kubernetes membership scheme jars (and the dnsjava jar the current one calls), one per version.

Each is the real jar's file name with the real class, `org.wso2.carbon.membership.scheme.kubernetes.
KubernetesMembershipScheme`, reading the parameter names, precedence (environment first) and fallbacks of the
version it stands for. The synthetic server loads it from repository/components/lib by the class name in
axis2.xml, so a missing jar or a parameter the jar does not read fails a test, as with the real product.
Compiled with javac at call time (against the synthetic server's `MembershipScheme` interface), cached by
source hash like the server.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Literal

from .pack import (
    JAVA_RELEASE,
    _atomic_write,
    _jdk_tool,
    _manifest,
    _run,
    _zip_bytes,
    build_server_jar,
    cache_dir,
)

SchemeVersion = Literal["2016", "current"]

#: The real file names: the seed's 2016 jar and wso2/kubernetes-common's release on Maven Central.
SCHEME_JAR_NAMES: dict[SchemeVersion, str] = {
    "2016": "kubernetes-membership-scheme-1.0.0.jar",
    "current": "kubernetes-membership-scheme-1.0.5.jar",
}
DNSJAVA_JAR_NAME = "dnsjava-2.1.8.jar"

_HERE = Path(__file__).resolve().parent / "scheme"
_SOURCES: dict[str, Path] = {"2016": _HERE / "2016" / "src", "current": _HERE / "current" / "src",
                             "dnsjava": _HERE / "dnsjava" / "src"}


def _hash(*parts: Path) -> str:
    h = hashlib.sha256(f"release={JAVA_RELEASE}\n".encode())
    for part in parts:
        if part.suffix == ".jar":
            h.update(part.read_bytes())
            continue
        for src in sorted(part.rglob("*.java")):
            h.update(src.relative_to(part).as_posix().encode() + b"\0" + src.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _compile(sources: Path, classpath: list[Path], out: Path, title: str, version: str) -> Path:
    """javac the sources into a jar at `out` (atomically) and return it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        classes = Path(tmp) / "classes"
        files = [str(p) for p in sorted(sources.rglob("*.java"))]
        cp = ["-classpath", ":".join(str(p) for p in classpath)] if classpath else []
        _run([_jdk_tool("javac"), "--release", JAVA_RELEASE, "-encoding", "UTF-8", "-nowarn", *cp,
              "-d", str(classes), *files])
        manifest = _manifest([("Manifest-Version", "1.0"), ("Bundle-Name", title),
                              ("Bundle-SymbolicName", title), ("Bundle-Version", version),
                              ("Created-By", "wso2k8s synthetic pack")])
        entries = [("META-INF/MANIFEST.MF", manifest)]
        entries += [(c.relative_to(classes).as_posix(), c.read_bytes()) for c in sorted(classes.rglob("*.class"))]
        _atomic_write(out, _zip_bytes(entries))
    return out


def build_dnsjava_jar() -> Path:
    """org.xbill.DNS's few classes the current scheme calls (lookups through the JDK's DNS provider)."""
    jar = cache_dir() / f"dnsjava-{_hash(_SOURCES['dnsjava'])}" / DNSJAVA_JAR_NAME
    return jar if jar.is_file() else _compile(_SOURCES["dnsjava"], [], jar, "dnsjava", "2.1.8")


def build_scheme_jar(version: SchemeVersion) -> Path:
    """The synthetic scheme jar of `version`, named as the real one."""
    server = build_server_jar()
    classpath = [server] + ([build_dnsjava_jar()] if version == "current" else [])
    jar = cache_dir() / f"scheme-{version}-{_hash(_SOURCES[version], *classpath)}" / SCHEME_JAR_NAMES[version]
    if jar.is_file():
        return jar
    return _compile(_SOURCES[version], classpath, jar, "kubernetes-membership-scheme",
                    SCHEME_JAR_NAMES[version].removeprefix("kubernetes-membership-scheme-").removesuffix(".jar"))


def synthetic_jar_for(file_name: str) -> Path | None:
    """The synthetic jar standing in for a file_list jar of this name, if there is one."""
    for version, name in SCHEME_JAR_NAMES.items():
        if file_name == name:
            return build_scheme_jar(version)
    if file_name == DNSJAVA_JAR_NAME:
        return build_dnsjava_jar()
    return None
