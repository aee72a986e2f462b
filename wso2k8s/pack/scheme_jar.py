"""Which axis2.xml parameters the user's Kubernetes membership scheme jar reads, found in the jar itself.

The scheme's parameter names changed between versions: the 2016 jar (wso2/kubernetes-artifacts
`kubernetes-membership-scheme-1.0.0`) reads `KUBERNETES_MASTER` and fails without it; the later one
(wso2/kubernetes-common, 1.0.1+) reads `KUBERNETES_API_SERVER`, `USE_DNS`, ... and falls back to the pod's
`KUBERNETES_SERVICE_HOST`. Writing a name the jar does not read is silently ignored by the server, so the names
are taken from the string constants of the jar's classes (their constant pools), and `<clustering>` gets
exactly those. The 2016 jar is refused: it authenticates only with basic auth or over plain HTTP, which no
current API server accepts (both are gone since Kubernetes 1.19/1.20).
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..settings.schema import Settings, membership_services
from .errors import FixableError

SCHEME_CLASS = "org.wso2.carbon.membership.scheme.kubernetes.KubernetesMembershipScheme"
SCHEME_CLASS_FILE = SCHEME_CLASS.replace(".", "/") + ".class"
SCHEME_PACKAGE = "org/wso2/carbon/membership/scheme/kubernetes/"
# dnsjava's resolver, which the scheme's DNS mode calls (org.xbill.DNS is imported, not embedded).
DNSJAVA_CLASS_FILE = "org/xbill/DNS/Lookup.class"

# The release the lead's decision names (Maven Central, the jar wso2/docker-is and the Helm chart's images use).
CURRENT_JAR = "kubernetes-membership-scheme-1.0.5.jar"
CURRENT_COORDINATES = "org.wso2.carbon.kubernetes.artifacts:kubernetes-membership-scheme:1.0.5"
DNSJAVA_JAR = "dnsjava-2.1.8.jar"
DNSJAVA_COORDINATES = "dnsjava:dnsjava:2.1.8"
GET_CURRENT = (f"use the wso2/kubernetes-common scheme: put {CURRENT_JAR} ({CURRENT_COORDINATES} on Maven "
               f"Central) in files_dir and list repository/components/lib/{CURRENT_JAR} in file_list")

# Parameter names either version reads from axis2.xml (each also from the environment, which wins).
API_SERVER_CURRENT = "KUBERNETES_API_SERVER"
API_SERVER_2016 = "KUBERNETES_MASTER"
KNOWN_PARAMETERS = frozenset({
    API_SERVER_2016, "KUBERNETES_MASTER_USERNAME", "KUBERNETES_MASTER_PASSWORD",
    API_SERVER_CURRENT, "KUBERNETES_API_SERVER_TOKEN", "KUBERNETES_API_SERVER_USERNAME",
    "KUBERNETES_API_SERVER_PASSWORD", "KUBERNETES_NAMESPACE", "KUBERNETES_SERVICES",
    "KUBERNETES_MASTER_SKIP_SSL_VERIFICATION", "USE_DNS", "DNS_LOOKUP_TIMEOUT",
})
# What a wso2/kubernetes-common jar reads; used when no jar is at hand (rendering in isolation, e.g. tests).
CURRENT_PARAMETERS = frozenset({
    API_SERVER_CURRENT, "KUBERNETES_API_SERVER_TOKEN", "KUBERNETES_API_SERVER_USERNAME",
    "KUBERNETES_API_SERVER_PASSWORD", "KUBERNETES_NAMESPACE", "KUBERNETES_SERVICES",
    "KUBERNETES_MASTER_SKIP_SSL_VERIFICATION", "USE_DNS", "DNS_LOOKUP_TIMEOUT",
})

# DNS mode looks up `<service>.<namespace>.svc.cluster.local`: each listed Service has a headless twin.
HEADLESS_SUFFIX = "-headless"


class SchemeJarError(FixableError):
    """The scheme jar is missing its class, unreadable, or a version no current cluster accepts."""


@dataclass(frozen=True)
class SchemeJar:
    path: Path
    parameters: frozenset[str]  # the known parameter names found in the jar's classes


# --------------------------------------------------------------------------- class files


def class_strings(data: bytes) -> list[str]:
    """The CONSTANT_Utf8 entries of a class file's constant pool (names and string literals).

    Compile-time constants (`static final String`) are copied into every class that uses them, so a
    parameter name is in the pool of the class that reads it. Raises ValueError on a malformed file."""
    if len(data) < 10 or data[:4] != b"\xca\xfe\xba\xbe":
        raise ValueError("not a class file (no CAFEBABE magic)")
    count = struct.unpack_from(">H", data, 8)[0]
    pos, index, out = 10, 1, []
    # Fixed sizes of the other constant kinds (JVMS 4.4), after the tag byte.
    sizes = {3: 4, 4: 4, 5: 8, 6: 8, 7: 2, 8: 2, 9: 4, 10: 4, 11: 4, 12: 4, 15: 3, 16: 2, 17: 4, 18: 4,
             19: 2, 20: 2}
    try:
        while index < count:
            tag = data[pos]
            if tag == 1:
                length = struct.unpack_from(">H", data, pos + 1)[0]
                raw = data[pos + 3:pos + 3 + length]
                if len(raw) != length:
                    raise ValueError("constant pool runs past the end of the file")
                out.append(raw.decode("utf-8", errors="replace"))  # modified UTF-8; names are ASCII
                pos += 3 + length
            elif tag in sizes:
                pos += 1 + sizes[tag]
            else:
                raise ValueError(f"unknown constant pool tag {tag} at entry {index}")
            index += 2 if tag in (5, 6) else 1  # long and double take two entries
    except (IndexError, struct.error) as err:
        raise ValueError("constant pool runs past the end of the file") from err
    return out


def holds_class(path: Path, class_file: str) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return class_file in zf.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def read_scheme_jar(path: Path) -> SchemeJar:
    """The parameter names a scheme jar reads. Raises SchemeJarError when it is not a usable scheme jar."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            if SCHEME_CLASS_FILE not in names:
                raise SchemeJarError(f"{path.name} has no {SCHEME_CLASS} (no {SCHEME_CLASS_FILE} inside)",
                                     GET_CURRENT)
            found: set[str] = set()
            for name in names:
                if name.startswith(SCHEME_PACKAGE) and name.endswith(".class"):
                    found.update(s for s in class_strings(zf.read(name)) if s in KNOWN_PARAMETERS)
    except (OSError, zipfile.BadZipFile, ValueError) as err:
        raise SchemeJarError(f"{path.name} cannot be read as a membership scheme jar: {err}",
                             "replace it with the released jar: " + GET_CURRENT) from err
    if API_SERVER_CURRENT not in found and API_SERVER_2016 in found:
        raise SchemeJarError(
            f"{path.name} is the 2016 membership scheme (it reads KUBERNETES_MASTER and knows no bearer token): "
            "it reaches the API server only with basic auth or over plain HTTP, which Kubernetes no longer "
            "accepts (removed in 1.19/1.20), so members would never find each other", GET_CURRENT)
    if "KUBERNETES_SERVICES" not in found:
        raise SchemeJarError(f"{path.name} has {SCHEME_CLASS} but reads none of the known parameters "
                             "(KUBERNETES_SERVICES, KUBERNETES_API_SERVER, ...)", GET_CURRENT)
    return SchemeJar(path, frozenset(found))


# --------------------------------------------------------------------------- settings


def _is_scheme_entry(entry: str) -> bool:
    return Path(entry).name.startswith("kubernetes-membership-scheme")


def scheme_problems(settings: Settings, files_dir: Path) -> list[tuple[str, str, str]]:
    """(settings key, message, fix) for the scheme jar the settings need; [] when clustering does not use it.
    Entries that are missing or not zips are reported by the caller's file check already."""
    c = settings.clustering
    if not (c.enabled and c.membership_scheme == "kubernetes"):
        return []
    present = [(i, e, files_dir / e) for i, e in enumerate(settings.file_list) if (files_dir / e).is_file()
               and zipfile.is_zipfile(files_dir / e)]
    problems: list[tuple[str, str, str]] = []
    candidates = [(i, e, p) for i, e, p in present if _is_scheme_entry(e) or holds_class(p, SCHEME_CLASS_FILE)]
    if not candidates:
        if not any(_is_scheme_entry(e) for e in settings.file_list):
            problems.append(("file_list", f"membership_scheme is kubernetes but no jar in file_list holds "
                             f"{SCHEME_CLASS}", GET_CURRENT))
        return problems
    scheme: SchemeJar | None = None
    for i, _entry, path in candidates:
        try:
            scheme = read_scheme_jar(path)
        except SchemeJarError as err:
            problems.append((f"file_list[{i}]", err.message, err.fix))
    if scheme is None or problems:
        return problems
    if c.kubernetes.mode == "dns":
        if c.kubernetes.api_server:
            problems.append(("clustering.kubernetes.api_server", "is set, but mode is dns: the scheme asks "
                             "cluster DNS and never the API server",
                             "remove api_server, or set clustering.kubernetes.mode: api"))
        if "USE_DNS" not in scheme.parameters:
            problems.append(("clustering.kubernetes.mode", f"is dns, but {scheme.path.name} has no DNS mode "
                             "(it does not read USE_DNS)", "set clustering.kubernetes.mode: api, or " + GET_CURRENT))
        elif not any(holds_class(p, DNSJAVA_CLASS_FILE) for _, _, p in present):
            problems.append(("file_list", "clustering.kubernetes.mode is dns, and the scheme's DNS lookups need "
                             f"dnsjava ({DNSJAVA_CLASS_FILE}), which no jar in file_list holds",
                             f"put {DNSJAVA_JAR} ({DNSJAVA_COORDINATES} on Maven Central) in files_dir and list "
                             f"repository/components/lib/{DNSJAVA_JAR} in file_list"))
    return problems


def scheme_for(settings: Settings) -> SchemeJar | None:
    """The scheme jar of the settings' file_list under files_dir, if one is there and readable."""
    files_dir = Path(settings.files_dir).expanduser()
    for entry in settings.file_list:
        path = files_dir / entry
        if path.is_file() and (_is_scheme_entry(entry) or holds_class(path, SCHEME_CLASS_FILE)):
            try:
                return read_scheme_jar(path)
            except SchemeJarError:
                return None
    return None


def headless_service_name(service: str) -> str:
    return service + HEADLESS_SUFFIX


@dataclass(frozen=True)
class MembershipParameters:
    """What `<clustering>` gets for the Kubernetes scheme: the class and (name, value) pairs, in order."""

    class_name: str
    parameters: list[tuple[str, str]]
    source: str  # the jar the names were read from, for the comment in axis2.xml


def membership_parameters(settings: Settings, scheme: SchemeJar | None = None) -> MembershipParameters:
    """The parameters to render, only with names the scheme jar reads. Without a readable jar (rendering
    on its own; prepare() has refused a missing or unusable one) the current wso2/kubernetes-common names."""
    scheme = scheme or scheme_for(settings)
    names = scheme.parameters if scheme else CURRENT_PARAMETERS
    k = settings.clustering.kubernetes
    dns = k.mode == "dns"
    own = membership_services(settings.name, k)
    services = [headless_service_name(s) for s in own] if dns else own
    wanted: list[tuple[str, str | None]] = [
        ("KUBERNETES_NAMESPACE", settings.membership_namespace),
        ("KUBERNETES_SERVICES", ",".join(services)),
        ("USE_DNS", "true" if dns else "false"),
    ]
    if not dns:
        # An accepted jar reads KUBERNETES_API_SERVER (read_scheme_jar refuses one that reads only KUBERNETES_MASTER).
        wanted += [(API_SERVER_CURRENT, k.api_server),
                   ("KUBERNETES_MASTER_SKIP_SSL_VERIFICATION", "true" if k.skip_ssl_verification else "false")]
    pairs = [(name, value) for name, value in wanted if value is not None and name in names]
    return MembershipParameters(SCHEME_CLASS, pairs, scheme.path.name if scheme else CURRENT_JAR)
