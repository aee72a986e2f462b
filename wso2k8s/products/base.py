"""What a product module declares. Pure data plus editors: no Pulumi, no I/O."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the editors' types; render.py imports the product modules only when it renders
    from ..pack.render import Conf
    from ..settings.schema import Settings

Editor = Callable[["Conf", "Settings"], bool]  # edits in place; True when secret tokens were written


@dataclass(frozen=True)
class SyntheticPack:
    """What the generated stand-in pack of this product holds beyond the Carbon 4.4 kernel's files."""

    # folder under wso2k8s/synthetic/template/, e.g. wso2is-5.1.0: only what differs from the kernel's folder
    # there (carbon-kernel-4.4.3), which the generator lays under it (a file at the same path replaces the kernel's)
    template: str
    plugins: tuple[tuple[str, str], ...]  # (bundle, version) names of a real pack's OSGi bundles
    dbscripts: tuple[str, ...]  # paths under dbscripts/ a real pack ships
    # conf files (pack paths) that carry the stock keystore password, and the spellings it has there
    keystore_password_spots: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class ProductDatabase:
    """A database only this product has, on a datasource its pack's master-datasources.xml ships (API Manager's
    WSO2AM_DB). With `database.enabled` that datasource moves to the shared server, in a database of its own."""

    datasource: str  # the <datasource><name> in master-datasources.xml, e.g. WSO2AM_DB
    jndi: str  # its jndiConfig name, which the product's own conf files name, e.g. jdbc/WSO2AM_DB
    database: str  # the database on the shared server; the embedded server creates it
    dbscripts: str  # its schema under the pack's dbscripts/, `{type}` standing for database.type
    description: str = ""  # what it holds, for messages

    def script(self, database_type: str) -> str:
        return dbscript(self.dbscripts, database_type)


def dbscript(pattern: str, database_type: str) -> str:
    """A schema script's pack path from its pattern under dbscripts/ (`{type}`: database.type)."""
    return "dbscripts/" + pattern.format(type=database_type)


@dataclass(frozen=True)
class ProductModule:
    product: str  # the hieradata folder, e.g. wso2is
    display_name: str  # carbon.xml <Name> of its packs
    versions: tuple[str, ...]  # the versions it knows (each has hieradata/<product>/<version>.yaml)
    # conf files only this product ships, by pack path → its editor (the kernel's are in pack/render.py)
    editors: Mapping[str, Editor]
    synthetic: SyntheticPack
    # roles the product's profiles point at one another with (`relations` in hieradata), e.g. key_manager
    relation_roles: tuple[str, ...] = ()
    # databases beyond the Carbon kernel's (registry, user store) and the identity component's
    databases: tuple[ProductDatabase, ...] = ()
    # the identity component's schema under dbscripts/ (`{type}`: database.type), run in the identity data's
    # database; None when the product keeps those tables in one of its own databases' scripts
    identity_dbscripts: str | None = "identity/{type}.sql"
