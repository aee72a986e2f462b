"""Render the pack's configuration files from the settings, as Puppet did inside the seed's images.

Each managed file is the pack's own file with only the values the settings own replaced, edited as text
(`xmltext.py`), so whatever else a real pack ships (comments, blank lines, attribute layout, the encoding
declaration) stays byte for byte. The bigger fragments are Jinja2 templates under
`wso2k8s/templates/carbon-<kernel>/` at the same path as the file they belong to.

Secrets are never rendered: the files hold `@@wso2k8s:<name>@@` tokens that the image's entrypoint replaces
at container start from the mounted Kubernetes Secret, so no password reaches an image layer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from ..keys.stores import KEYSTORES_DIR, TRUSTSTORE_FILE, keystore_file
from ..products import module_for
from ..products.base import Editor
from ..settings.schema import Settings
from . import hazelcast_properties
from .datasources import (
    PASSWORD_SECRET,
    edit_master_datasources,
    edit_registry,
    edit_user_store,
)
from .errors import RenderError
from .scheme_jar import membership_parameters
from .xmltext import Element, XmlText

SECRET_NAMES = ("admin_password", "keystore_password")

TEMPLATES = Environment(loader=PackageLoader("wso2k8s", "templates"), undefined=StrictUndefined,
                        autoescape=lambda name: bool(name and name.endswith(".xml.j2")),
                        keep_trailing_newline=True)


def secret_names(s: Settings) -> tuple[str, ...]:
    """The secrets this profile's entrypoint puts into its conf files (each must be in the mounted Secret)."""
    return SECRET_NAMES + ((PASSWORD_SECRET,) if s.database.enabled else ())


def secret_token(name: str) -> str:
    return f"@@wso2k8s:{name}@@"


@dataclass(frozen=True)
class Rendered:
    path: str  # inside the pack, e.g. repository/conf/carbon.xml
    content: bytes
    holds_secrets: bool


@dataclass(frozen=True)
class Conf:
    """One conf file being rendered: its text editor and where it is, for messages."""

    doc: XmlText
    path: str  # inside the pack
    pack: str  # e.g. wso2is-5.1.0

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]

    def one(self, path: str, where: Callable[[Element], bool] | None = None, shown: str = "") -> Element:
        """The single element at a slash path of local names (`shown` spells the `where` filter in messages)."""
        found = self.doc.find(path, where)
        if len(found) == 1:
            return found[0]
        root = path.split("/", 1)[0]
        if self.doc.root.local != root:
            raise RenderError(f"{self.name}: root element is <{self.doc.root.local}>, expected <{root}>",
                              f"use the {self.path} of an unmodified {self.pack} pack")
        leaf = path.rpartition("/")[2]
        if not found:
            raise RenderError(f"{self.name}: expected one <{path}{shown}>, found 0",
                              f"restore <{leaf}> in {self.path} from an unmodified {self.pack} pack, which "
                              "ships it")
        raise RenderError(f"{self.name}: expected one <{path}{shown}>, found {len(found)}",
                          f"keep one <{leaf}{shown}> in {self.path} (the server reads only one)")

    def set(self, path: str, value: str) -> None:
        self.doc.set_text(self.one(path), value)

    def set_or_insert(self, path: str, value: str) -> None:
        """Set an element a shipped pack may have commented out (carbon.xml HostName): when it is absent,
        it is added after its commented-out form (see XmlText.insert_element)."""
        parent_path, _, leaf = path.rpartition("/")
        if self.doc.find(path):
            self.set(path, value)
        else:
            self.doc.insert_element(self.one(parent_path), leaf, value)


def editors_for(settings: Settings) -> dict[str, Editor]:
    """The Carbon kernel's files, then the product's own `managed_files` with its module's editors (the loader
    has refused a managed file without one)."""
    module = module_for(settings.product)
    own = module.editors if module else {}
    return {**EDITORS, **{path: own[path] for path in settings.managed_files if path in own}}


def render_conf(settings: Settings, pack_root: Path) -> list[Rendered]:
    """The managed files of this Carbon kernel and product, rendered from `pack_root` (the unpacked pack)."""
    out = []
    pack = f"{settings.product}-{settings.version}"
    for path, editor in editors_for(settings).items():
        source = pack_root / path
        if not source.is_file():
            raise RenderError(f"the pack has no {path}",
                              f"use an unmodified {pack} pack (Carbon {settings.server.carbon_kernel})")
        conf = Conf(XmlText(source.read_bytes(), path), path, pack)
        holds_secrets = editor(conf, settings)
        out.append(Rendered(path, conf.doc.to_bytes(), holds_secrets))
    properties = hazelcast_properties.render(settings, pack_root)  # not XML: its own small editor
    if properties is not None:
        out.append(Rendered(hazelcast_properties.PATH, properties, False))
    return out


# Ports whose number lives in carbon.xml <Ports> (embedded-ldap.xml and identity.xml refer to these).
CARBON_XML_PORTS = {
    "kdc-server": "Server/Ports/EmbeddedLDAP/KDCServerPort",
    "thrift-entitlement": "Server/Ports/ThriftEntitlementReceivePort",
}


def _carbon_xml(c: Conf, s: Settings) -> bool:
    # A shipped carbon.xml has both commented out (<!--HostName>www.wso2.org</HostName-->).
    c.set_or_insert("Server/HostName", s.public_hostname)  # the entry's host when there is one
    c.set_or_insert("Server/MgtHostName", s.public_hostname)
    c.set("Server/Ports/Offset", str(s.port_offset))
    for port in s.ports.values():
        if port.name in CARBON_XML_PORTS:
            c.set(CARBON_XML_PORTS[port.name], str(port.container_port))
    # The keystores Secret mounted at start (wso2k8s/keys): the key pair unless the stack keeps the pack's own.
    if s.keystores.mode != "stock":
        c.set("Server/Security/KeyStore/Location", f"{KEYSTORES_DIR}/{keystore_file(s)}")
        c.set("Server/Security/KeyStore/Type", s.keystores.type or "JKS")
        c.set("Server/Security/KeyStore/KeyAlias", s.keystores.alias)
    c.set("Server/Security/TrustStore/Location", f"{KEYSTORES_DIR}/{TRUSTSTORE_FILE}")
    token = secret_token("keystore_password")
    for path in ("Server/Security/KeyStore/Password", "Server/Security/KeyStore/KeyPassword",
                 "Server/Security/TrustStore/Password"):
        c.set(path, token)
    return True


def _axis2_xml(c: Conf, s: Settings) -> bool:
    """The whole <clustering> element is the settings' (the template); the rest of axis2.xml stays as shipped."""
    fragment = TEMPLATES.get_template(
        f"carbon-{s.server.carbon_kernel}/repository/conf/axis2/axis2.xml/clustering.xml.j2"
    ).render(c=s.clustering, k=s.clustering.kubernetes, namespace=s.membership_namespace,
             m=membership_parameters(s))  # only the parameter names the user's scheme jar reads
    c.doc.replace_element(c.one("axisconfig/clustering"), fragment)
    return False


def _is_https(connector: Element) -> bool:
    return connector.get("scheme") == "https"


def _is_http(connector: Element) -> bool:
    return not _is_https(connector)


def _catalina_server_xml(c: Conf, s: Settings) -> bool:
    """Tomcat connectors: 9763 (servlet-http) and 9443 (servlet-https). proxyPort makes the console's
    redirects use the port a browser reaches: the Service's nodePort, or behind an entry 443 (https) and 80
    (http), as WSO2's docs set them for a server behind a proxy."""
    for port_name, https in (("servlet-http", False), ("servlet-https", True)):
        connector = c.one("Server/Service/Connector", _is_https if https else _is_http,
                          "[@scheme='https']" if https else "[not(@scheme='https')]")
        spec = s.port(port_name)
        c.doc.set_attr(connector, "port", str(spec.container_port))
        proxy_port = (443 if https else 80) if s.entry_used else spec.node_port
        if proxy_port is not None:
            c.doc.set_attr(connector, "proxyPort", str(proxy_port), after="port")
        else:
            c.doc.remove_attr(connector, "proxyPort")
        if https and connector.get("keystorePass") is not None:
            c.doc.set_attr(connector, "keystorePass", secret_token("keystore_password"))
        if https and s.keystores.mode != "stock":
            c.doc.set_attr(connector, "keystoreFile", f"{KEYSTORES_DIR}/{keystore_file(s)}")
            # both after keystoreFile (the element keeps the attribute list it was found with): type, then alias
            c.doc.set_attr(connector, "keystoreType", s.keystores.type or "JKS", after="keystoreFile")
            c.doc.set_attr(connector, "keyAlias", s.keystores.alias, after="keystoreFile")
    return True


def _user_mgt_xml(c: Conf, s: Settings) -> bool:
    c.set("UserManager/Realm/Configuration/AdminUser/Password", secret_token("admin_password"))
    edit_user_store(c, s)  # the shared database's JDBC store instead of the per-member embedded LDAP
    return True


# Files of every Carbon 4.4 pack that the settings touch, in the order they are rendered; a product's own
# files (identity.xml, api-manager.xml) are its module's (wso2k8s/products/), listed in its `managed_files`.
EDITORS: dict[str, Editor] = {
    "repository/conf/carbon.xml": _carbon_xml,
    "repository/conf/axis2/axis2.xml": _axis2_xml,
    "repository/conf/tomcat/catalina-server.xml": _catalina_server_xml,
    "repository/conf/user-mgt.xml": _user_mgt_xml,
    "repository/conf/datasources/master-datasources.xml": edit_master_datasources,
    "repository/conf/registry.xml": edit_registry,
}
