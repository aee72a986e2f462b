"""Synthetic WSO2 Identity Server 5.1.0 pack.

Real WSO2 packs cannot be downloaded here, so tests and the demo use this one: the same
top folder (``wso2is-5.1.0/``), the same ``bin/wso2server.sh`` entry point and the same
``repository/conf`` files (carbon.xml, axis2/axis2.xml, tomcat/catalina-server.xml,
embedded-ldap.xml, identity/identity.xml, ...) as the real distribution. The server it
starts is a small Java program (``server/src``) that reads those files like the product
does and opens the same ports; see ``CarbonServer.java``.

The text files come from ``template/``: the Carbon 4.4.3 kernel's files that both products ship alike
(``carbon-kernel-4.4.3/``) with the product's own folder laid over them (``wso2is-5.1.0/``: ``template_files``).

Like a shipped pack, its conf files hold the stock keystore password ``wso2carbon`` and its
three keystores (``repository/resources/security``: wso2carbon.jks, client-truststore.jks,
userRP.jks) open with it; carbon.xml has HostName and MgtHostName commented out; ``dbscripts/``
holds the real file names.

The Java server is compiled at call time with the machine's ``javac --release 17`` and
cached by source hash; keystores are generated with ``keytool`` and cached by password.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import random
import shutil
import stat
import subprocess
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape as _xml_escape

from ..products import ProductModule, module_for
from . import hazelcast

__all__ = [
    "KERNEL_TEMPLATE",
    "KEYSTORE_FILES",
    "KEY_ALIAS",
    "PACK_DIR_NAME",
    "PACK_ZIP_NAME",
    "PRODUCT",
    "PRODUCT_VERSION",
    "SERVER_JAR_NAME",
    "SERVER_JAVA_MODULES",
    "SERVER_MAIN_CLASS",
    "STOCK_KEYSTORE_PASSWORD",
    "TEMPLATE_DIR",
    "build_server_jar",
    "extract_pack",
    "make_jar",
    "make_pack",
    "template_files",
]

PRODUCT = "wso2is"
PRODUCT_VERSION = "5.1.0"
PACK_DIR_NAME = f"{PRODUCT}-{PRODUCT_VERSION}"
PACK_ZIP_NAME = f"{PACK_DIR_NAME}.zip"

#: The compiled server, inside the pack at ``lib/<SERVER_JAR_NAME>``.
SERVER_JAR_NAME = "org.wso2.carbon.synthetic.server-5.1.0.jar"
SERVER_MAIN_CLASS = "org.wso2.carbon.synthetic.CarbonServer"

#: JDK modules a jlink'd runtime needs to run the server. The first four are what the code
#: uses (``jdeps --print-module-deps``); ``jdk.crypto.ec`` is a runtime-only need: without the
#: SunEC provider the TLS stack has no elliptic curves, so HTTPS clients and API servers that
#: offer only ECDHE suites or EC certificates (k3s, most modern clients) fail to handshake.
SERVER_JAVA_MODULES: tuple[str, ...] = (
    "java.base",
    "java.xml",
    "java.net.http",
    "jdk.httpserver",
    "jdk.crypto.ec",
    "jdk.unsupported",  # Hazelcast 3.5 (sun.misc.Unsafe) ...
    "java.management",  # ... its member statistics ...
    "java.scripting",  # ... and its management-center scripts (jdeps lists it)
    "jdk.naming.dns",  # the synthetic dnsjava's lookups (membership scheme, DNS mode) ...
    "java.naming",  # ... and what jlink adds for it
    "java.logging",
    "java.security.sasl",
    "java.sql",  # the realm's datasource (JDBC user store, registry); the driver jar brings the rest
    "java.transaction.xa",  # ... and what jlink adds for it
)

KEY_ALIAS = "wso2carbon"
#: The keystores of IS 5.1.0, in repository/resources/security.
KEYSTORE_FILES = ("wso2carbon.jks", "client-truststore.jks", "userRP.jks")
KEYSTORE_DNAME = "CN=localhost, OU=WSO2, O=WSO2, L=Mountain View, ST=CA, C=US"
JAVA_RELEASE = "17"

_HERE = Path(__file__).resolve().parent
_SERVER_SRC = _HERE / "server" / "src"
#: The packs' text files, a folder per layer: the kernel's (KERNEL_TEMPLATE) and each product's.
TEMPLATE_DIR = _HERE / "template"

# Fixed zip timestamps make the pack byte-for-byte reproducible (stable image layers).
_ZIP_DATE = (2016, 1, 19, 0, 0, 0)

#: The keystore password a shipped pack's keystores and conf files carry.
STOCK_KEYSTORE_PASSWORD = "wso2carbon"

# Where the conf files hold the keystore password (the template carries the stock one, as shipped):
# carbon.xml Security/KeyStore + TrustStore, catalina-server.xml https Connector, identity.xml
# ThirftBasedEntitlementConfig/KeyStore and UserTrustedRPStore. (master-datasources.xml's
# <password>wso2carbon</password> is the H2 database's and is not one of them.)
_KEYSTORE_PASSWORD_SPOTS = {
    "repository/conf/carbon.xml": ("<Password>{}</Password>", "<KeyPassword>{}</KeyPassword>"),
    "repository/conf/tomcat/catalina-server.xml": ('keystorePass="{}"',),
}  # + the product's own (its module's synthetic.keystore_password_spots)

#: The template files every product here ships alike, to the byte (TEMPLATE_DIR/<this>/): the Carbon 4.4.3 kernel's,
#: and identity.xml and embedded-ldap.xml, which IS and APIM both have. A product's own template (its module's
#: synthetic.template) holds only the rest; one of its files at a kernel file's path replaces that file.
KERNEL_TEMPLATE = "carbon-kernel-4.4.3"

# A few OSGi bundles with real Carbon 4.4.3 names, so the plugins folder is not empty (+ the product's own;
# the database scripts are the product's: its module's synthetic.dbscripts).
_PLUGINS = (
    ("org.wso2.carbon.core", "4.4.3"),
    ("org.wso2.carbon.utils", "4.4.3"),
    ("org.wso2.carbon.tomcat.ext", "4.4.3"),
    ("axis2", "1.6.1.wso2v14"),
)

# Folders that exist (empty) in the real pack and that tooling copies files into.
_EMPTY_DIRS = (
    "lib/endorsed",
    "repository/components/dropins",
    "repository/components/lib",
    "repository/components/patches",
    "repository/database",
    "repository/deployment/client",
    "repository/deployment/server/webapps",
    "repository/logs",
    "repository/tenants",
)


# --------------------------------------------------------------------------- tools


def cache_dir() -> Path:
    """Where compiled jars and keystores are cached (``$WSO2K8S_SYNTHETIC_CACHE`` overrides)."""
    env = os.environ.get("WSO2K8S_SYNTHETIC_CACHE")
    d = Path(env) if env else Path(tempfile.gettempdir()) / "wso2k8s-synthetic-cache"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _jdk_tool(name: str) -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(
            f"{name} not found (set JAVA_HOME or put a JDK 17+ on the PATH): "
            "the synthetic pack compiles its server and generates its keystores at call time"
        )
    return found


def _run(cmd: list[str], *, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(
            f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout}{proc.stderr}"
        )


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# --------------------------------------------------------------------------- jars


def _manifest(fields: list[tuple[str, str]]) -> bytes:
    """A JAR manifest; lines longer than 72 bytes are continued with a leading space."""
    out = []
    for key, value in fields:
        line = f"{key}: {value}".encode()
        out.append(line[:72])
        rest = line[72:]
        while rest:
            out.append(b" " + rest[:71])
            rest = rest[71:]
    return b"\r\n".join(out) + b"\r\n\r\n"


def _zip_bytes(entries: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for arcname, data in entries:
            info = zipfile.ZipInfo(arcname, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            zf.writestr(info, data)
    return buf.getvalue()


def _jar_bytes(name: str, version: str) -> bytes:
    manifest = _manifest(
        [
            ("Manifest-Version", "1.0"),
            ("Bundle-ManifestVersion", "2"),
            ("Bundle-Name", name),
            ("Bundle-SymbolicName", name),
            ("Bundle-Version", version),
            ("Created-By", "wso2k8s synthetic pack"),
        ]
    )
    pom = f"groupId=synthetic\nartifactId={name}\nversion={version}\n".encode()
    return _zip_bytes(
        [
            ("META-INF/MANIFEST.MF", manifest),
            (f"META-INF/maven/synthetic/{name}/pom.properties", pom),
        ]
    )


def make_jar(path: Path, *, name: str, version: str) -> Path:
    """Write a small, valid OSGi-style jar (zip with META-INF/MANIFEST.MF).

    ``path`` ending in ``.jar`` is the file to write; otherwise it is a folder and the jar is
    written as ``<path>/<name>-<version>.jar`` (e.g. ``kubernetes-membership-scheme-1.0.0.jar``).
    The manifest carries ``Bundle-SymbolicName: <name>`` and ``Bundle-Version: <version>``.
    Output is deterministic. Returns the jar's path.
    """
    path = Path(path)
    if path.suffix != ".jar":
        path = path / f"{name}-{version}.jar"
    path.parent.mkdir(parents=True, exist_ok=True)
    from .scheme_jars import synthetic_jar_for  # the membership scheme and dnsjava have real classes

    real = synthetic_jar_for(path.name)
    path.write_bytes(real.read_bytes() if real else _jar_bytes(name, version))
    return path


def _source_hash() -> str:
    h = hashlib.sha256(f"release={JAVA_RELEASE};main={SERVER_MAIN_CLASS};hz={hazelcast.SHA256}\n".encode())
    for src in sorted(_SERVER_SRC.rglob("*.java")):
        h.update(src.relative_to(_SERVER_SRC).as_posix().encode() + b"\0")
        h.update(src.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def build_server_jar() -> Path:
    """Compile the synthetic server (cached by source hash) and return the jar's path."""
    jar = cache_dir() / f"server-{_source_hash()}" / SERVER_JAR_NAME
    if jar.is_file():
        return jar
    jar.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=jar.parent) as tmp:
        classes = Path(tmp) / "classes"
        sources = [str(p) for p in sorted(_SERVER_SRC.rglob("*.java"))]
        _run(
            [_jdk_tool("javac"), "--release", JAVA_RELEASE, "-encoding", "UTF-8", "-nowarn",
             "-classpath", str(hazelcast.hazelcast_jar()), "-d", str(classes), *sources]
        )
        manifest = _manifest(
            [
                ("Manifest-Version", "1.0"),
                ("Main-Class", SERVER_MAIN_CLASS),
                ("Implementation-Title", "WSO2 Carbon synthetic server"),
                ("Implementation-Version", PRODUCT_VERSION),
                ("Created-By", "wso2k8s synthetic pack"),
            ]
        )
        entries = [("META-INF/MANIFEST.MF", manifest)]
        for cls in sorted(classes.rglob("*.class")):
            entries.append((cls.relative_to(classes).as_posix(), cls.read_bytes()))
        _atomic_write(jar, _zip_bytes(entries))
    return jar


# --------------------------------------------------------------------------- keystores


def _keystores(password: str) -> dict[str, bytes]:
    """wso2carbon.jks (the server's key pair), client-truststore.jks and userRP.jks (its
    certificate, trusted) for ``password``, generated once and cached; by file name.

    Like the real pack (which ships the same wso2carbon.jks in every download), packs made
    with the same password share one key pair.
    """
    if len(password) < 6:
        raise ValueError("keystore_password must be at least 6 characters (a keytool requirement)")
    key = hashlib.sha256(f"v2\0{KEYSTORE_DNAME}\0{KEY_ALIAS}\0{password}".encode()).hexdigest()[:16]
    d = cache_dir() / f"keystores-{key}"
    if not all((d / name).is_file() for name in KEYSTORE_FILES):
        keytool = _jdk_tool("keytool")
        env = dict(os.environ, WSO2K8S_KS_PASS=password)
        tmp = Path(tempfile.mkdtemp(dir=d.parent, prefix=f".{d.name}."))
        try:
            tks, cert = tmp / "wso2carbon.jks", tmp / "wso2carbon.cer"
            common = ["-storetype", "JKS", "-storepass:env", "WSO2K8S_KS_PASS", "-noprompt"]
            _run([keytool, "-genkeypair", "-alias", KEY_ALIAS, "-keyalg", "RSA", "-keysize", "2048",
                  "-sigalg", "SHA256withRSA", "-validity", "7300", "-dname", KEYSTORE_DNAME,
                  "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-keystore", str(tks),
                  "-keypass:env", "WSO2K8S_KS_PASS", *common], env=env)
            _run([keytool, "-exportcert", "-alias", KEY_ALIAS, "-keystore", str(tks),
                  "-file", str(cert), *common], env=env)
            for trust in ("client-truststore.jks", "userRP.jks"):
                _run([keytool, "-importcert", "-alias", KEY_ALIAS, "-file", str(cert),
                      "-keystore", str(tmp / trust), *common], env=env)
            cert.unlink()
            # All stores appear at once (a folder rename), so concurrent callers never pair a
            # keystore with another run's truststore; the loser of a race uses the winner's.
            with contextlib.suppress(OSError):
                tmp.rename(d)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return {name: (d / name).read_bytes() for name in KEYSTORE_FILES}


# --------------------------------------------------------------------------- pack


def _xml_text(value: str) -> str:
    """Escape for XML text and attribute values; non-ASCII as character references
    (carbon.xml and identity.xml declare ISO-8859-1)."""
    esc = _xml_escape(value, {'"': "&quot;", "'": "&apos;"})
    return "".join(c if ord(c) < 128 else f"&#{ord(c)};" for c in esc)


def _product(product: str, version: str) -> ProductModule:
    module = module_for(product)
    if module is None or version not in module.versions:
        raise ValueError(f"no synthetic pack for {product} {version} (wso2k8s/products/)")
    return module


def template_files(product: str = PRODUCT, version: str = PRODUCT_VERSION) -> dict[str, Path]:
    """The template files of a product's pack by pack path (``repository/conf/carbon.xml``): the Carbon
    kernel's, then the product's own, which replace a kernel file of the same path."""
    files: dict[str, Path] = {}
    for layer in (KERNEL_TEMPLATE, _product(product, version).synthetic.template):
        root = TEMPLATE_DIR / layer
        for src in sorted(root.rglob("*")):
            if src.is_file():
                files[src.relative_to(root).as_posix()] = src
    return files


def _pack_entries(keystore_password: str, conf_password: str, filler_mb: int = 0, product: str = PRODUCT,
                  version: str = PRODUCT_VERSION) -> tuple[dict[str, tuple[bytes, int]], set[str]]:
    """Files (relative path -> (content, mode)) and empty folders of the pack."""
    module = _product(product, version)
    spots = {**_KEYSTORE_PASSWORD_SPOTS, **module.synthetic.keystore_password_spots}
    files: dict[str, tuple[bytes, int]] = {}
    subst = {
        "@@SERVER_JAR@@": SERVER_JAR_NAME,
        "@@SERVER_MAIN_CLASS@@": SERVER_MAIN_CLASS,
    }
    for rel, src in template_files(product, version).items():
        text = src.read_text(encoding="utf-8")
        for k, v in subst.items():
            text = text.replace(k, v)
        for spot in spots.get(rel, ()):
            text = text.replace(spot.format(STOCK_KEYSTORE_PASSWORD), spot.format(_xml_text(conf_password)))
        mode = 0o755 if rel.endswith(".sh") else 0o644
        files[rel] = (text.encode("utf-8"), mode)

    files[f"lib/{SERVER_JAR_NAME}"] = (build_server_jar().read_bytes(), 0o644)
    for name, store in _keystores(keystore_password).items():
        files[f"repository/resources/security/{name}"] = (store, 0o644)
    for script in module.synthetic.dbscripts:
        if f"dbscripts/{script}" in files:  # a real schema from the template (what the server uses)
            continue
        db = script.rpartition("/")[2].removesuffix(".sql")
        files[f"dbscripts/{script}"] = (
            f"-- {module.display_name} {version} (synthetic pack): {script} for {db}.\n"
            "-- The synthetic server keeps no database; the file is here for the pack's layout.\n".encode(),
            0o644)
    # Carbon's Hazelcast bundle: the real 3.5.2 jar (the server clusters with it; bin/wso2server.sh loads it).
    files[hazelcast.PLUGIN_PATH] = (hazelcast.hazelcast_jar().read_bytes(), 0o644)
    for name, bundle_version in (*_PLUGINS, *module.synthetic.plugins):
        files[f"repository/components/plugins/{name}_{bundle_version}.jar"] = (
            _jar_bytes(name, bundle_version),
            0o644,
        )
    # Stand-ins for the ~600 plugin jars of a real pack, so benchmarks see a real pack's weight.
    noise = random.Random(5100)
    for i in range(filler_mb):
        filler = f"repository/components/plugins/org.wso2.synthetic.filler_{i:03d}.jar"
        files[filler] = (noise.randbytes(1 << 20), 0o644)
    return files, set(_EMPTY_DIRS)


def make_pack(
    dest_dir: Path, *, keystore_password: str = STOCK_KEYSTORE_PASSWORD, as_zip: bool = True,
    conf_password: str | None = None, filler_mb: int = 0, product: str = PRODUCT, version: str = PRODUCT_VERSION,
) -> Path:
    """Write a synthetic WSO2 IS 5.1.0 pack into ``dest_dir``.

    ``as_zip=True`` writes ``dest_dir/wso2is-5.1.0.zip`` (replacing an existing one; the zip is
    reproducible for a given password and server source) and returns its path. ``as_zip=False``
    writes the folder ``dest_dir/wso2is-5.1.0/`` (which must not exist yet) and returns it.

    ``keystore_password`` (at least 6 characters; default the stock ``wso2carbon``, as shipped)
    protects wso2carbon.jks, client-truststore.jks and userRP.jks and is written wherever the
    real pack has ``wso2carbon`` as a keystore password: carbon.xml Security/KeyStore/Password,
    Security/KeyStore/KeyPassword, Security/TrustStore/Password, catalina-server.xml https
    Connector @keystorePass, identity.xml ThirftBasedEntitlementConfig/KeyStore/Password and
    UserTrustedRPStore/Password + KeyPassword.

    ``conf_password`` writes another value there instead, e.g. the real pack's default ``wso2carbon``
    while the keystore has the stack's secret password: the pack then only works once configured
    (as a real pack whose keystore was changed), and that secret is in no file of the pack.
    ``filler_mb`` adds that many 1 MB incompressible plugin jars (benchmarks: a real pack's weight).
    """
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    conf = keystore_password if conf_password is None else conf_password
    files, empty_dirs = _pack_entries(keystore_password, conf, filler_mb, product, version)
    pack_dir_name = f"{product}-{version}"

    if not as_zip:
        root = dest_dir / pack_dir_name
        if root.exists():
            raise FileExistsError(f"{root} already exists")
        for rel, (data, mode) in files.items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
            p.chmod(mode)
        for rel in empty_dirs:
            (root / rel).mkdir(parents=True, exist_ok=True)
        return root

    # Every folder gets its own entry (as in zips made by Maven), so empty ones survive.
    dirs: set[str] = set()
    for rel in [*files, *(f"{d}/" for d in empty_dirs)]:
        parts = rel.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        top = zipfile.ZipInfo(f"{pack_dir_name}/", date_time=_ZIP_DATE)
        top.external_attr = ((stat.S_IFDIR | 0o755) << 16) | 0x10
        zf.writestr(top, b"")
        for rel in sorted(dirs):
            info = zipfile.ZipInfo(f"{pack_dir_name}/{rel}/", date_time=_ZIP_DATE)
            info.external_attr = ((stat.S_IFDIR | 0o755) << 16) | 0x10
            zf.writestr(info, b"")
        for rel in sorted(files):
            data, mode = files[rel]
            info = zipfile.ZipInfo(f"{pack_dir_name}/{rel}", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | mode) << 16
            zf.writestr(info, data)
    out = dest_dir / f"{pack_dir_name}.zip"
    _atomic_write(out, buf.getvalue())
    return out


def extract_pack(zip_path: Path, dest_dir: Path) -> Path:
    """Unzip a pack keeping file modes (``zipfile.extractall`` drops the exec bit of
    bin/wso2server.sh; ``unzip`` keeps it). Returns ``dest_dir/<top folder>``."""
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path) as zf:
        tops = {n.split("/", 1)[0] for n in zf.namelist()}
        for info in zf.infolist():
            target = Path(zf.extract(info, dest_dir))
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                target.chmod(mode)
    if len(tops) != 1:
        raise ValueError(f"{zip_path}: expected one top folder, found {sorted(tops)}")
    return dest_dir / tops.pop()
