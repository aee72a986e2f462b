"""WSO2 Identity Server 5.1.0 (Carbon 4.4.3): what only IS has beyond the Carbon kernel's conf files."""

from __future__ import annotations

from .base import ProductModule, SyntheticPack
from .identity_component import DATABASES, IDENTITY_XML, KEYSTORE_PASSWORD_SPOTS, edit_identity_xml

MODULE = ProductModule(
    product="wso2is",
    display_name="WSO2 Identity Server",
    versions=("5.1.0",),
    editors={IDENTITY_XML: edit_identity_xml},
    synthetic=SyntheticPack(
        template="wso2is-5.1.0",
        plugins=(("org.wso2.carbon.identity.core", "5.0.7"),
                 ("org.wso2.carbon.identity.application.authentication.framework", "5.0.7"),
                 ("org.wso2.carbon.identity.entitlement", "4.5.4")),
        # the Carbon kernel's scripts (registry, user store) and the identity component's
        dbscripts=(*(f"{db}.sql" for db in (*DATABASES, "mysql_cluster")),
                   *(f"identity/{db}.sql" for db in DATABASES)),
        keystore_password_spots=KEYSTORE_PASSWORD_SPOTS,
    ),
)
