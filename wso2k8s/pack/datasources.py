"""The product's databases as datasources: master-datasources.xml and the files that point at them.

IS 5.1.0 keeps its registry, user store and identity data on one datasource, WSO2_CARBON_DB
(`jdbc/WSO2CarbonDB`), named by user-mgt.xml (`dataSource`), registry.xml (`dbConfig wso2registry`) and
identity.xml (`JDBCPersistenceManager/DataSource/Name`). With `database.enabled` that datasource moves to the
shared server and the three files stay as shipped. A database given its own settings under
`database.databases.<registry|user_store|identity>` gets its own datasource next to WSO2_CARBON_DB (the names
the WSO2 clustering guides and Puppet modules use) and only the one pointer that names it changes:

  registry    WSO2_REG_DB       registry.xml: dbConfig + remoteInstance + mounts of /_system/config, /_system/governance
  user_store  WSO2_USER_DB      user-mgt.xml: Realm/Configuration/Property[@name='dataSource']
  identity    WSO2_IDENTITY_DB  identity.xml: JDBCPersistenceManager/DataSource/Name

A product's own databases (its module's `databases`: API Manager's WSO2AM_DB, `jdbc/WSO2AM_DB`) are
datasources its pack ships; with `database.enabled` each moves to the shared server too, in a database of its
own (`apimdb`), and the files that name it (api-manager.xml's DataSourceName) stay as shipped.

Only the values the settings own change; every password is the start-time token of `database_password`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ..products import ProductDatabase, module_for
from ..settings.schema import DatabaseOverride, DatabasePool, Settings
from .jdbc import DRIVERS
from .xmltext import Element

if TYPE_CHECKING:
    from .render import Conf

DATASOURCE = "WSO2_CARBON_DB"
PASSWORD_SECRET = "database_password"
Role = Literal["registry", "user_store", "identity"]
ROLES: tuple[Role, ...] = ("registry", "user_store", "identity")
# A role's own datasource: (name, JNDI name, description), as the WSO2 clustering guides spell them.
OWN: dict[Role, tuple[str, str, str]] = {
    "registry": ("WSO2_REG_DB", "jdbc/WSO2RegDB", "The datasource of the shared registry (config and governance)"),
    "user_store": ("WSO2_USER_DB", "jdbc/WSO2UserDB", "The datasource used for user manager and the user store"),
    "identity": ("WSO2_IDENTITY_DB", "jdbc/WSO2IdentityDB", "The datasource used for identity data"),
}
SHARED_JNDI = "jdbc/WSO2CarbonDB"
REGISTRY_MOUNTS = ("/_system/config", "/_system/governance")


@dataclass(frozen=True)
class DataSource:
    name: str  # e.g. WSO2_CARBON_DB
    jndi: str  # e.g. jdbc/WSO2CarbonDB
    description: str
    key: str  # the settings key that sets it, for messages
    host: str
    port: int
    database: str
    username: str
    pool: DatabasePool
    driver_class: str
    url: str


def database_host(s: Settings) -> str:
    """The server's address: the user's, or the embedded server's Service (same namespace as the members),
    which the loader derives once for the whole stack (settings/database_checks.py stack_database_host)."""
    return s.database.host or f"{s.name}-db"


def _datasource(s: Settings, name: str, jndi: str, description: str, key: str,
                over: DatabaseOverride | None) -> DataSource:
    db = s.database
    kind = DRIVERS[db.type]
    host = (over.host if over else None) or database_host(s)
    port = (over.port if over else None) or db.port or kind.default_port
    database = (over.name if over else None) or db.name
    pool = db.pool
    if over and over.pool:
        pool = pool.model_copy(update=over.pool.model_dump(exclude_none=True))
    return DataSource(name, jndi, description, key, host, port, database,
                      (over.username if over else None) or db.username, pool, kind.driver_class,
                      kind.url(host, port, database))


def shared_datasource(s: Settings) -> DataSource:
    return _datasource(s, DATASOURCE, SHARED_JNDI, "The datasource used for registry and user manager",
                       "database", None)


def datasource_for(s: Settings, role: Role) -> DataSource:
    """The datasource one of the product's databases is on: its own when configured, else the shared one."""
    over = getattr(s.database.databases, role)
    if over is None:
        return shared_datasource(s)
    name, jndi, description = OWN[role]
    return _datasource(s, name, jndi, description, f"database.databases.{role}", over)


def product_databases(s: Settings) -> tuple[ProductDatabase, ...]:
    """The databases only this product has (its module's), e.g. API Manager's WSO2AM_DB."""
    module = module_for(s.product)
    return module.databases if module is not None else ()


def product_datasources(s: Settings) -> list[DataSource]:
    """Each product database on the shared server (its address, user and pool) in a database of its own: the
    module's (apimdb), or what database.databases.product.<datasource> says."""
    out = []
    for d in product_databases(s):
        over = s.database.databases.product.get(d.datasource) or DatabaseOverride()
        over = over.model_copy(update={"name": over.name or d.database})
        out.append(_datasource(s, d.datasource, d.jndi, d.description,
                               f"database.databases.product.{d.datasource}", over))
    return out


def own_roles(s: Settings) -> list[Role]:
    return [r for r in ROLES if getattr(s.database.databases, r) is not None]


def datasources(s: Settings) -> list[DataSource]:
    """Every datasource the settings put into master-datasources.xml: WSO2_CARBON_DB first."""
    return [shared_datasource(s), *(datasource_for(s, r) for r in own_roles(s))]


def jdbc_url(s: Settings) -> str:
    return shared_datasource(s).url


def _missing(c: Conf, what: str, count: int) -> Exception:
    from .errors import RenderError

    return RenderError(f"{c.name}: expected one {what}, found {count}",
                       f"restore {what} in {c.path} from an unmodified {c.pack} pack")


def _child(c: Conf, parent: Element, name: str, owner: str) -> Element:
    found = [e for e in parent.children if e.local == name]
    if len(found) != 1:
        raise _missing(c, f"{owner} <{name}>", len(found))
    return found[0]


def _named(c: Conf, name: str) -> list[Element]:
    def named(e: Element) -> bool:
        names = [n for n in e.children if n.local == "name"]
        return len(names) == 1 and c.doc.text[names[0].start_end:names[0].end_start].strip() == name

    return c.doc.find("datasources-configuration/datasources/datasource", named)


def _set_configuration(c: Conf, datasource: Element, ds: DataSource) -> None:
    from .render import secret_token

    config = _child(c, _child(c, datasource, "definition", ds.name), "configuration", ds.name)
    values = {
        "url": ds.url,
        "username": ds.username,
        "password": secret_token(PASSWORD_SECRET),
        "driverClassName": ds.driver_class,
        "maxActive": str(ds.pool.max_active),
        "maxWait": str(ds.pool.max_wait_ms),
        "testOnBorrow": str(ds.pool.test_on_borrow).lower(),
        "validationQuery": ds.pool.validation_query,
        "validationInterval": str(ds.pool.validation_interval_ms),
    }
    for name, value in values.items():
        found = [e for e in config.children if e.local == name]
        if len(found) > 1:
            raise _missing(c, f"{ds.name} <{name}>", len(found))
        if found:
            c.doc.set_text(found[0], value)
        else:  # a pack without this pool option: added, next to the others
            c.doc.insert_element(config, name, value)


def edit_master_datasources(c: Conf, s: Settings) -> bool:
    from .render import TEMPLATES, secret_token

    if not s.database.enabled:
        return False  # the pack's own H2, byte for byte
    shipped = _named(c, DATASOURCE)
    if len(shipped) != 1:
        raise _missing(c, f"<datasource> named {DATASOURCE}", len(shipped))
    _set_configuration(c, shipped[0], shared_datasource(s))
    for ds in product_datasources(s):  # shipped by the product's pack: only its values change
        found = _named(c, ds.name)
        if len(found) != 1:
            raise _missing(c, f"<datasource> named {ds.name}", len(found))
        _set_configuration(c, found[0], ds)
    template = TEMPLATES.get_template(
        f"carbon-{s.server.carbon_kernel}/repository/conf/datasources/master-datasources.xml/datasource.xml.j2")
    added = []
    for ds in datasources(s)[1:]:
        present = _named(c, ds.name)
        if present:  # a pack (or an earlier hand edit) that already has it: only our values change
            _set_configuration(c, present[0], ds)
        else:
            added.append(template.render(ds=ds, password=secret_token(PASSWORD_SECRET)).strip())
    if added:
        c.doc.insert_after(shipped[0], "\n\n".join(added))
    return True


LDAP_STORE = "org.wso2.carbon.user.core.ldap.ReadWriteLDAPUserStoreManager"
JDBC_STORE = "org.wso2.carbon.user.core.jdbc.JDBCUserStoreManager"


def edit_user_store(c: Conf, s: Settings) -> None:
    """With a shared database the primary user store is the JDBC one on the realm's datasource: IS 5.1.0
    ships its embedded LDAP as primary, which is per member (users added on one would not exist on the
    other). A pack already on JDBC, or on an external LDAP (another class), is left as it is. The realm's
    `dataSource` names WSO2_USER_DB when the user store has its own database."""
    from .render import TEMPLATES

    if not s.database.enabled:
        return
    jndi = datasource_for(s, "user_store").jndi
    if jndi != SHARED_JNDI:
        c.doc.set_text(c.one("UserManager/Realm/Configuration/Property", lambda e: e.get("name") == "dataSource",
                             "[@name='dataSource']"), jndi)
    stores = c.doc.find("UserManager/Realm/UserStoreManager")
    if not stores or stores[0].get("class") != LDAP_STORE:
        return
    fragment = TEMPLATES.get_template(
        f"carbon-{s.server.carbon_kernel}/repository/conf/user-mgt.xml/jdbc-user-store.xml.j2").render()
    c.doc.replace_element(stores[0], fragment)


def edit_identity_datasource(c: Conf, s: Settings) -> None:
    """identity.xml's JDBCPersistenceManager names WSO2_IDENTITY_DB when the identity data has its own database."""
    if not s.database.enabled:
        return
    jndi = datasource_for(s, "identity").jndi
    if jndi != SHARED_JNDI:
        c.set("Server/JDBCPersistenceManager/DataSource/Name", jndi)


def edit_registry(c: Conf, s: Settings) -> bool:
    """registry.xml as shipped, unless the registry has its own database: then its dbConfig, remoteInstance and
    the mounts of /_system/config and /_system/governance follow the `wso2registry` dbConfig."""
    from .render import TEMPLATES

    if not s.database.enabled or s.database.databases.registry is None:
        return False
    local = c.one("wso2registry/dbConfig", lambda e: e.get("name") == "wso2registry", "[@name='wso2registry']")
    fragment = TEMPLATES.get_template(f"carbon-{s.server.carbon_kernel}/repository/conf/registry.xml/mounts.xml.j2")
    c.doc.insert_after(local, fragment.render(ds=datasource_for(s, "registry"), mounts=REGISTRY_MOUNTS))
    return False
