"""Render the pack's configuration files from the settings, as Puppet did inside the seed's images.

Each managed file is the pack's own file with only the elements the settings own replaced, so whatever else
a real pack ships (comments, other sections) stays untouched. The bigger fragments are Jinja2 templates under
`wso2k8s/templates/carbon-<kernel>/` at the same path as the file they belong to.

Secrets are never rendered: the files hold `@@wso2k8s:<name>@@` tokens that the image's entrypoint replaces
at container start from the mounted Kubernetes Secret, so no password reaches an image layer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from lxml import etree

from ..settings.schema import Settings
from .errors import RenderError
from .scheme_jar import membership_parameters

SECRET_NAMES = ("admin_password", "keystore_password")

TEMPLATES = Environment(loader=PackageLoader("wso2k8s", "templates"), undefined=StrictUndefined,
                        autoescape=lambda name: bool(name and name.endswith(".xml.j2")),
                        keep_trailing_newline=True)


def secret_token(name: str) -> str:
    return f"@@wso2k8s:{name}@@"


@dataclass(frozen=True)
class Rendered:
    path: str  # inside the pack, e.g. repository/conf/carbon.xml
    content: bytes
    holds_secrets: bool


Editor = Callable[[etree._Element, Settings], bool]  # edits in place; True when secret tokens were written


def render_conf(settings: Settings, pack_root: Path) -> list[Rendered]:
    """The managed files of this Carbon kernel, rendered from `pack_root` (the unpacked pack folder)."""
    out = []
    for path, editor in EDITORS.items():
        source = pack_root / path
        if not source.is_file() and path in PRODUCT_SPECIFIC:
            continue
        if not source.is_file():
            raise RenderError(f"the pack has no {path}",
                              f"use an unmodified {settings.product}-{settings.version} pack (Carbon "
                              f"{settings.server.carbon_kernel})")
        tree = etree.parse(str(source), etree.XMLParser(remove_blank_text=False))
        holds_secrets = editor(tree.getroot(), settings)
        content = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
        out.append(Rendered(path, content + b"\n", holds_secrets))
    return out


def _one(root: etree._Element, path: str, file: str) -> etree._Element:
    """The single element at a slash path, matched by local name so namespaced files work the same."""
    steps = [s for s in path.split("/") if s]
    xpath = "/".join(_step(s) for s in steps[1:]) or "."
    if etree.QName(root).localname != steps[0]:
        raise RenderError(f"{file}: root element is <{etree.QName(root).localname}>, expected <{steps[0]}>",
                          "use an unmodified pack of the configured product and version")
    found = root.xpath(xpath)
    if not isinstance(found, list) or len(found) != 1 or not isinstance(found[0], etree._Element):
        raise RenderError(f"{file}: expected one <{path}>, found {len(found) if isinstance(found, list) else 0}",
                          "use an unmodified pack of the configured product and version")
    return found[0]


def _step(step: str) -> str:
    name, _, predicate = step.partition("[")
    return f"*[local-name()='{name}']" + (f"[{predicate}" if predicate else "")


# Ports whose number lives in carbon.xml <Ports> (embedded-ldap.xml and identity.xml refer to these).
CARBON_XML_PORTS = {
    "kdc-server": "Server/Ports/EmbeddedLDAP/KDCServerPort",
    "thrift-entitlement": "Server/Ports/ThriftEntitlementReceivePort",
}


def _carbon_xml(root: etree._Element, s: Settings) -> bool:
    f = "carbon.xml"
    _one(root, "Server/HostName", f).text = s.hostname
    _one(root, "Server/MgtHostName", f).text = s.hostname
    _one(root, "Server/Ports/Offset", f).text = str(s.port_offset)
    for port in s.ports:
        if port.name in CARBON_XML_PORTS:
            _one(root, CARBON_XML_PORTS[port.name], f).text = str(port.container_port)
    token = secret_token("keystore_password")
    for path in ("Server/Security/KeyStore/Password", "Server/Security/KeyStore/KeyPassword",
                 "Server/Security/TrustStore/Password"):
        _one(root, path, f).text = token
    return True


def _axis2_xml(root: etree._Element, s: Settings) -> bool:
    old = _one(root, "axisconfig/clustering", "axis2.xml")
    fragment = TEMPLATES.get_template(
        f"carbon-{s.server.carbon_kernel}/repository/conf/axis2/axis2.xml/clustering.xml.j2"
    ).render(c=s.clustering, k=s.clustering.kubernetes, namespace=s.membership_namespace,
             m=membership_parameters(s))  # only the parameter names the user's scheme jar reads
    new = etree.fromstring(fragment)
    new.tail = old.tail
    parent = old.getparent()
    assert parent is not None
    parent.replace(old, new)
    return False


def _catalina_server_xml(root: etree._Element, s: Settings) -> bool:
    """Tomcat connectors: 9763 (servlet-http) and 9443 (servlet-https). proxyPort makes the console's
    redirects use the Service's nodePort, which is where a browser reaches it."""
    f = "catalina-server.xml"
    for port_name, predicate in (("servlet-http", "not(@scheme='https')"), ("servlet-https", "@scheme='https'")):
        connector = _one(root, f"Server/Service/Connector[{predicate}]", f)
        spec = s.port(port_name)
        connector.set("port", str(spec.container_port))
        if spec.node_port is not None:
            connector.set("proxyPort", str(spec.node_port))
        elif "proxyPort" in connector.attrib:
            del connector.attrib["proxyPort"]
        if port_name == "servlet-https" and "keystorePass" in connector.attrib:
            connector.set("keystorePass", secret_token("keystore_password"))
    return True


def _identity_xml(root: etree._Element, s: Settings) -> bool:
    # IS 5.1.0 spells it "ThirftBasedEntitlementConfig" (sic).
    _one(root, "Server/EntitlementSettings/ThirftBasedEntitlementConfig/KeyStore/Password", "identity.xml").text = \
        secret_token("keystore_password")
    return True


def _user_mgt_xml(root: etree._Element, s: Settings) -> bool:
    _one(root, "UserManager/Realm/Configuration/AdminUser/Password", "user-mgt.xml").text = secret_token(
        "admin_password")
    return True


# Files only some Carbon 4.4 products ship (identity.xml: Identity Server): rendered when present.
PRODUCT_SPECIFIC = {"repository/conf/identity/identity.xml"}

# Files of a Carbon 4.4 pack that the settings touch, in the order they are rendered.
EDITORS: dict[str, Editor] = {
    "repository/conf/carbon.xml": _carbon_xml,
    "repository/conf/axis2/axis2.xml": _axis2_xml,
    "repository/conf/tomcat/catalina-server.xml": _catalina_server_xml,
    "repository/conf/identity/identity.xml": _identity_xml,
    "repository/conf/user-mgt.xml": _user_mgt_xml,
}
