"""Carbon 4.4's identity component, which Identity Server and API Manager (its key manager) both ship: the
editor of its identity.xml and where that file carries the stock keystore password."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..pack.render import Conf
    from ..settings.schema import Settings

IDENTITY_XML = "repository/conf/identity/identity.xml"
# the spellings of the stock keystore password in identity.xml (the synthetic pack writes the stack's there)
KEYSTORE_PASSWORD_SPOTS = {IDENTITY_XML: ("<Password>{}</Password>", "<KeyPassword>{}</KeyPassword>")}
# the databases a Carbon 4.4 pack ships dbscripts for
DATABASES = ("db2", "h2", "informix", "mssql", "mysql", "oracle", "oracle_rac", "postgresql")


def edit_identity_xml(c: Conf, s: Settings) -> bool:
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
