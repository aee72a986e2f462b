"""WSO2 Identity Server 5.1.0 (Carbon 4.4.3): what only IS has beyond the Carbon kernel's conf files."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import ProductModule, SyntheticPack

if TYPE_CHECKING:
    from ..pack.render import Conf
    from ..settings.schema import Settings

IDENTITY_XML = "repository/conf/identity/identity.xml"
_DATABASES = ("db2", "h2", "informix", "mssql", "mysql", "oracle", "oracle_rac", "postgresql")


def _identity_xml(c: Conf, s: Settings) -> bool:
    from ..keys.stores import KEYSTORES_DIR, keystore_file
    from ..pack.datasources import edit_identity_datasource
    from ..pack.render import secret_token

    # Carbon 4.4's identity component spells it "ThirftBasedEntitlementConfig" (sic).
    c.set("Server/EntitlementSettings/ThirftBasedEntitlementConfig/KeyStore/Password",
          secret_token("keystore_password"))
    if s.keystores.mode != "stock":  # the stack's own keystore, mounted from its Secret
        c.set("Server/EntitlementSettings/ThirftBasedEntitlementConfig/KeyStore/Location",
              f"{KEYSTORES_DIR}/{keystore_file(s)}")
    edit_identity_datasource(c, s)  # JDBCPersistenceManager: the identity database's own datasource, if any
    return True


MODULE = ProductModule(
    product="wso2is",
    display_name="WSO2 Identity Server",
    versions=("5.1.0",),
    editors={IDENTITY_XML: _identity_xml},
    synthetic=SyntheticPack(
        template="wso2is-5.1.0",
        plugins=(("org.wso2.carbon.identity.core", "5.0.7"),
                 ("org.wso2.carbon.identity.application.authentication.framework", "5.0.7"),
                 ("org.wso2.carbon.identity.entitlement", "4.5.4")),
        # the Carbon kernel's scripts (registry, user store) and the identity component's
        dbscripts=(*(f"{db}.sql" for db in (*_DATABASES, "mysql_cluster")),
                   *(f"identity/{db}.sql" for db in _DATABASES)),
        keystore_password_spots={IDENTITY_XML: ("<Password>{}</Password>", "<KeyPassword>{}</KeyPassword>")},
    ),
)
