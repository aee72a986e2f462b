"""WSO2 API Manager 1.10.0 (Carbon 4.4.3): api-manager.xml, wired between the distributed profiles.

The profiles point at one another through `relations` in hieradata (role → profile, e.g.
`key_manager: api-key-manager`); the loader turns each into the peer's Service name and ports
(`Settings.peers`), so a URL here is built from the Service the program creates and is never typed twice.
Without relations (the all-in-one `default` profile) api-manager.xml keeps the pack's own
`${carbon.local.ip}` URLs: everything is in the one server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import ProductDatabase, ProductModule, SyntheticPack
from .identity_component import DATABASES, IDENTITY_XML, KEYSTORE_PASSWORD_SPOTS, edit_identity_xml

if TYPE_CHECKING:
    from ..pack.render import Conf
    from ..settings.schema import Peer, Settings

API_MANAGER_XML = "repository/conf/api-manager.xml"

KEY_MANAGER, GATEWAY, GATEWAY_ENDPOINT, STORE = "key_manager", "gateway", "gateway_endpoint", "store"
# APIs, applications, subscriptions, keys: what the publisher writes and the store, key manager and gateway read.
# api-manager.xml names it (<DataSourceName>jdbc/WSO2AM_DB</DataSourceName>), as shipped.
WSO2AM_DB = ProductDatabase(datasource="WSO2AM_DB", jndi="jdbc/WSO2AM_DB", database="apimdb",
                            dbscripts="apimgt/{type}.sql", description="API Manager's APIs, applications and keys")


def _url(peer: Peer, role: str, s: Settings, port_name: str, scheme: str, path: str = "") -> str:
    from ..pack.errors import RenderError

    if port_name not in peer.ports:
        raise RenderError(f"relations.{role} of profile {s.profile} is profile {peer.profile}, whose Service "
                          f"has no '{port_name}' port", f"add ports.{port_name} to profile {peer.profile}")
    return f"{scheme}://{peer.service}:{peer.ports[port_name]}{path}"


def _api_manager_xml(c: Conf, s: Settings) -> bool:
    """The URLs each profile calls the others by (puppet-apim's apim_keymanager / apim_gateway)."""
    if KEY_MANAGER in s.peers:
        km = _url(s.peers[KEY_MANAGER], KEY_MANAGER, s, "servlet-https", "https", "/services/")
        c.set("APIManager/AuthManager/ServerURL", km)
        c.set("APIManager/APIKeyValidator/ServerURL", km)
    if GATEWAY in s.peers:  # where the publisher deploys APIs: the gateway manager's admin services
        c.set("APIManager/APIGateway/Environments/Environment/ServerURL",
              _url(s.peers[GATEWAY], GATEWAY, s, "servlet-https", "https", "/services/"))
    if GATEWAY_ENDPOINT in s.peers:  # where API consumers call them: the gateway workers' pass-through ports
        worker = s.peers[GATEWAY_ENDPOINT]
        c.set("APIManager/APIGateway/Environments/Environment/GatewayEndpoint",
              _url(worker, GATEWAY_ENDPOINT, s, "passthrough-http", "http") + ","
              + _url(worker, GATEWAY_ENDPOINT, s, "passthrough-https", "https"))
        c.set("APIManager/OAuthConfigurations/RevokeAPIURL",
              _url(worker, GATEWAY_ENDPOINT, s, "passthrough-https", "https", "/revoke"))
    if STORE in s.peers:  # the publisher's link to the store
        c.set("APIManager/APIStore/URL", _url(s.peers[STORE], STORE, s, "servlet-https", "https", "/store"))
    return False  # the admin password stays the pack's ${admin.password}: Carbon resolves it from user-mgt.xml



MODULE = ProductModule(
    product="wso2am",
    display_name="WSO2 API Manager",
    versions=("1.10.0",),
    editors={API_MANAGER_XML: _api_manager_xml, IDENTITY_XML: edit_identity_xml},
    synthetic=SyntheticPack(
        template="wso2am-1.10.0",
        plugins=(("org.wso2.carbon.apimgt.impl", "5.0.3"), ("org.wso2.carbon.apimgt.gateway", "5.0.3"),
                 ("org.wso2.carbon.apimgt.keymgt", "5.0.3"), ("synapse-core", "2.1.5.wso2v2")),
        # the Carbon kernel's scripts and API Manager's own (dbscripts/apimgt/)
        dbscripts=(*(f"{db}.sql" for db in DATABASES), *(f"apimgt/{db}.sql" for db in DATABASES)),
        keystore_password_spots=KEYSTORE_PASSWORD_SPOTS,
    ),
    relation_roles=(KEY_MANAGER, GATEWAY, GATEWAY_ENDPOINT, STORE),
    databases=(WSO2AM_DB,),
    # API Manager ships the identity component's tables (IDN_*) at the head of apimgt/<type>.sql, in WSO2AM_DB
    identity_dbscripts=None,
)
