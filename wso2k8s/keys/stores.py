"""What each profile's keystores will hold, worked out before any resource exists: the user's keystore opened
and checked offline, the cluster's CA read from the kubeconfig, the certificates the truststore will trust.
Problems come back with the key, and a fix, like every other settings problem."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

from ..pack.keystore import JKS_MAGIC, JksEntry, KeystoreFormatError, jks_entries, jks_keys_refusing, password_opens
from ..settings.schema import Settings
from .certificates import fingerprint, pem_certificates

# Where the members see the keystores Secret (carbon.xml, catalina-server.xml and identity.xml point here).
KEYSTORES_DIR = "/run/secrets/wso2carbon-keystores"
TRUSTSTORE_FILE = "client-truststore.jks"


def keystore_file(s: Settings) -> str:
    """The keystore's file name in the Secret and in the conf files."""
    return "wso2carbon.p12" if s.keystores.type == "PKCS12" else "wso2carbon.jks"


@dataclass(frozen=True)
class KeystorePlan:
    mode: str
    alias: str
    keystore_file: str
    keystore_type: str  # JKS | PKCS12
    # The trusted-certificate entries of the truststore besides the server's own (alias, DER): the cluster's CA
    # and the user's truststore's certificates. Public material.
    trusted: tuple[tuple[str, bytes], ...]
    # user mode: the file as the user made it (a private key inside, encrypted with keystore_password).
    user_keystore: bytes | None = field(default=None, repr=False)
    certificate: bytes | None = None  # DER of the key's certificate, when known before deploy (user, stock)

    def identity(self, own_certificate: bytes) -> str:
        """A hash of the keystores' public identity (the server's certificate, every trusted one): it changes
        with a new key or a new CA, never with a password, and names no secret."""
        prints = [fingerprint(own_certificate), *sorted(fingerprint(der) for _, der in self.trusted)]
        return hashlib.sha256("\n".join(prints).encode()).hexdigest()[:16]


@dataclass
class Found:
    """A problem: the key under `keystores.` (or the secret's key), what is wrong, the fix."""

    key: str
    message: str
    fix: str
    secret: bool = False  # about wso2-kubernetes:keystore_password (the stack file), not a layer value


def plan_keystores(s: Settings, project_dir: Path, password: str, stock_keystore: bytes | None,
                   stock_truststore: bytes | None) -> tuple[KeystorePlan | None, list[Found]]:
    """The plan for one profile, or the problems that stop it. `stock_*`: the pack's wso2carbon.jks and
    client-truststore.jks (stock mode keeps the first and trusts what the second trusts)."""
    k = s.keystores
    found: list[Found] = []
    trusted: list[tuple[str, bytes]] = []
    trusted += _cluster_ca(s, project_dir, found)
    user_bytes = certificate = None
    kind = "JKS"
    if k.mode == "user":
        if not k.keystore:
            return None, [Found("keystores.keystore", "is not set, and keystores.mode is 'user'",
                                "set keystores.keystore to your JKS or PKCS12 file, or use keystores.mode: generate")]
        path = _path(k.keystore, project_dir)
        data = _read(path, "keystores.keystore", found)
        if data is not None:
            kind, certificate = _check_user_keystore(data, path, k.alias, password, found)
            user_bytes = data
        if k.truststore:
            tpath = _path(k.truststore, project_dir)
            tdata = _read(tpath, "keystores.truststore", found)
            if tdata is not None:
                trusted += _truststore_certificates(tdata, tpath, password, found)
    elif k.keystore or k.truststore:
        which = "keystores.keystore" if k.keystore else "keystores.truststore"
        found.append(Found(which, f"is set, but keystores.mode is '{k.mode}', which does not read it",
                           f"set keystores.mode: user to use your file, or remove {which}"))
    if k.mode == "stock":
        if stock_keystore is not None:
            entry = next((e for e in _jks(stock_keystore) if e.alias == k.alias.lower() and e.protected_key), None)
            certificate = entry.certificates[0] if entry and entry.certificates else None
        if stock_truststore is not None:
            trusted += [(f"pack-{e.alias}", der) for e in _jks(stock_truststore) for der in e.certificates[:1]
                        if e.protected_key is None]
    if found:
        return None, found
    unique = tuple(dict((fingerprint(der), (alias, der)) for alias, der in trusted).values())
    return KeystorePlan(k.mode, k.alias, keystore_file(s.model_copy(update={"keystores": k.model_copy(
        update={"type": kind})})), kind, unique, user_bytes, certificate), []


def _jks(data: bytes) -> list[JksEntry]:
    try:
        return jks_entries(data) if data[:4] == JKS_MAGIC else []
    except KeystoreFormatError:
        return []


def _path(value: str, project_dir: Path) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else project_dir / p


def _read(path: Path, key: str, found: list[Found]) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError as err:
        found.append(Found(key, f"{path} cannot be read ({err.strerror or err})",
                           f"point {key} at your keystore file (relative to the project, absolute, or ~/…)"))
        return None


def _check_user_keystore(data: bytes, path: Path, alias: str, password: str,
                         found: list[Found]) -> tuple[str, bytes | None]:
    """(type, DER of the alias's certificate): opens with keystore_password, alias is a private key the same
    password unlocks (Carbon's KeyPassword is keystore_password too)."""
    key = "keystores.keystore"
    try:
        opens = password_opens(data, password)
    except KeystoreFormatError as err:
        found.append(Found(key, f"{path} is {err}", "give a JKS or PKCS12 keystore (keytool -list -keystore … "
                           "shows what it is)"))
        return "JKS", None
    if not opens:
        found.append(Found("wso2-kubernetes:keystore_password", f"does not open {path} (keystores.keystore)",
                           "pulumi config set --secret wso2-kubernetes:keystore_password <that keystore's password>",
                           secret=True))
        return "JKS", None
    if data[:4] == JKS_MAGIC:
        entry = next((e for e in jks_entries(data) if e.alias == alias.lower()), None)
        if entry is None or entry.protected_key is None:
            found.append(Found("keystores.alias", _no_key(path, alias, entry is not None, [
                e.alias for e in jks_entries(data) if e.protected_key]), _alias_fix(path)))
            return "JKS", None
        if alias.lower() in jks_keys_refusing(data, password):
            found.append(Found("wso2-kubernetes:keystore_password", f"opens {path} but not its private key "
                               f"'{alias}' (carbon.xml KeyPassword is the same password)",
                               f"give the key the store's password: keytool -keypasswd -alias {alias} "
                               f"-keystore {path}", secret=True))
            return "JKS", None
        return "JKS", entry.certificates[0] if entry.certificates else None
    if data[:4] != b"\x30\x82" and data[:1] != b"\x30":
        found.append(Found(key, f"{path} is neither JKS nor PKCS12", "give a JKS or PKCS12 keystore"))
        return "JKS", None
    try:
        store = pkcs12.load_pkcs12(data, password.encode())
    except ValueError as err:
        found.append(Found(key, f"{path}: its private key does not open with keystore_password ({err})",
                           "give the key the store's password (keytool -importkeystore … -destkeypass = "
                           "-deststorepass)"))
        return "PKCS12", None
    names = [c.friendly_name.decode() for c in ([store.cert] if store.cert else []) if c.friendly_name]
    if store.key is None or store.cert is None or alias.lower() not in [n.lower() for n in names]:
        found.append(Found("keystores.alias", _no_key(path, alias, False, names), _alias_fix(path)))
        return "PKCS12", None
    return "PKCS12", store.cert.certificate.public_bytes(Encoding.DER)


def _no_key(path: Path, alias: str, present: bool, keys: list[str]) -> str:
    what = "is a trusted certificate, not a private key" if present else "is not in it"
    listed = ", ".join(keys) if keys else "none"
    return f"'{alias}' {what} ({path}; private keys there: {listed})"


def _alias_fix(path: Path) -> str:
    return f"set keystores.alias to the private key's alias (keytool -list -keystore {path})"


def _truststore_certificates(data: bytes, path: Path, password: str, found: list[Found]) -> list[tuple[str, bytes]]:
    try:
        if not password_opens(data, password):
            found.append(Found("wso2-kubernetes:keystore_password", f"does not open {path} (keystores.truststore)",
                               "give the truststore the keystore_password (keytool -storepasswd -keystore …)",
                               secret=True))
            return []
    except KeystoreFormatError as err:
        found.append(Found("keystores.truststore", f"{path} is {err}", "give a JKS or PKCS12 truststore"))
        return []
    if data[:4] == JKS_MAGIC:
        return [(f"user-{e.alias}", der) for e in jks_entries(data) for der in e.certificates[:1]]
    store = pkcs12.load_pkcs12(data, password.encode())
    certs = ([store.cert] if store.cert else []) + list(store.additional_certs)
    return [(f"user-{(c.friendly_name or str(i).encode()).decode()}", c.certificate.public_bytes(Encoding.DER))
            for i, c in enumerate(certs)]


def _cluster_ca(s: Settings, project_dir: Path, found: list[Found]) -> list[tuple[str, bytes]]:
    """The CA that signed the API server's certificate: keystores.cluster_ca, else the kubeconfig's cluster
    entry (certificate-authority-data or the certificate-authority file). Inside a pod this is the same CA as
    the service account's ca.crt."""
    k = s.keystores
    if k.cluster_ca:
        path = _path(k.cluster_ca, project_dir)
        pem = _read(path, "keystores.cluster_ca", found)
        return _ca_entries(pem, str(path), "keystores.cluster_ca", found) if pem is not None else []
    text, where = _kubeconfig_text(s)
    if text is None:
        return []  # the local cluster is not made yet: tools/kubernetes/cluster.sh up writes its kubeconfig
    try:
        config = yaml.safe_load(text) or {}
        context_name = s.kubernetes.context or config.get("current-context")
        context = next(c["context"] for c in config.get("contexts", []) if c.get("name") == context_name)
        cluster = next(c["cluster"] for c in config.get("clusters", []) if c.get("name") == context["cluster"])
    except (yaml.YAMLError, StopIteration, KeyError, TypeError, AttributeError):
        found.append(Found("kubernetes.kubeconfig", f"{where}: no cluster for context "
                           f"'{s.kubernetes.context or 'current-context'}' to read the CA from",
                           "fix the kubeconfig, or set keystores.cluster_ca to the API server's CA (PEM)"))
        return []
    if cluster.get("certificate-authority-data"):
        return _ca_entries(base64.b64decode(cluster["certificate-authority-data"]), where,
                           "kubernetes.kubeconfig", found)
    if cluster.get("certificate-authority"):
        base = Path(where).parent if where != "(kubeconfig contents)" else project_dir
        path = _path(cluster["certificate-authority"], base)
        pem = _read(path, "kubernetes.kubeconfig", found)
        return _ca_entries(pem, str(path), "kubernetes.kubeconfig", found) if pem is not None else []
    if s.clustering.enabled and s.clustering.membership_scheme == "kubernetes" and \
            s.clustering.kubernetes.mode == "api" and not s.clustering.kubernetes.skip_ssl_verification:
        found.append(Found("keystores.cluster_ca", f"is not set and {where} names no certificate-authority: the "
                           "membership scheme could not verify the API server",
                           "set keystores.cluster_ca to the PEM file of the CA that signed the API server's "
                           "certificate"))
    return []


def _kubeconfig_text(s: Settings) -> tuple[str | None, str]:
    value = s.kubernetes.kubeconfig
    if value and "\n" in value:
        return value, "(kubeconfig contents)"
    if not value:  # none named and none exported (program.py fills in the tools' KUBECONFIG)
        return None, "(no kubeconfig)"
    path = Path(value)
    try:
        return path.read_text(), str(path)
    except OSError:
        return None, str(path)


def _ca_entries(pem: bytes, where: str, key: str, found: list[Found]) -> list[tuple[str, bytes]]:
    try:
        certs = pem_certificates(pem)
    except ValueError:
        certs = []
    if not certs:
        found.append(Found(key, f"{where} holds no PEM certificate", "give the CA certificate in PEM form"))
    return [(f"cluster-ca-{i}", der) for i, der in enumerate(certs)]
