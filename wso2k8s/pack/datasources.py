"""master-datasources.xml: WSO2_CARBON_DB pointed at the shared database.

user-mgt.xml (`dataSource`), registry.xml (`dbConfig`) and identity.xml (`JDBCPersistenceManager`) name this
datasource by its JNDI name `jdbc/WSO2CarbonDB` in a shipped pack, so moving the datasource moves all three
and they stay as shipped. Only the values the settings own change: url, username, password (a start-time
token), driverClassName and the pool options.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..settings.schema import Database, Settings
from .jdbc import DRIVERS
from .xmltext import Element

if TYPE_CHECKING:
    from .render import Conf

DATASOURCE = "WSO2_CARBON_DB"
PASSWORD_SECRET = "database_password"


def database_host(s: Settings) -> str:
    """The server's address: the user's, or the embedded server's Service (same namespace as the members)."""
    return s.database.host or f"{s.name}-db"


def database_port(db: Database) -> int:
    return db.port or DRIVERS[db.type].default_port


def jdbc_url(s: Settings) -> str:
    db = s.database
    return DRIVERS[db.type].url(database_host(s), database_port(db), db.name)


def _child(c: Conf, parent: Element, name: str) -> Element:
    found = [e for e in parent.children if e.local == name]
    if len(found) != 1:
        raise _missing(c, f"{DATASOURCE} <{name}>", len(found))
    return found[0]


def _missing(c: Conf, what: str, count: int) -> Exception:
    from .errors import RenderError

    return RenderError(f"{c.name}: expected one {what}, found {count}",
                       f"restore the {DATASOURCE} datasource in {c.path} from an unmodified {c.pack} pack")


def edit_master_datasources(c: Conf, s: Settings) -> bool:
    from .render import secret_token

    if not s.database.enabled:
        return False  # the pack's own H2, byte for byte
    db = s.database

    def named(e: Element) -> bool:
        names = [n for n in e.children if n.local == "name"]
        return len(names) == 1 and c.doc.text[names[0].start_end:names[0].end_start].strip() == DATASOURCE

    datasource = c.one("datasources-configuration/datasources/datasource", named, f"[name='{DATASOURCE}']")
    config = _child(c, _child(c, datasource, "definition"), "configuration")
    values = {
        "url": jdbc_url(s),
        "username": db.username,
        "password": secret_token(PASSWORD_SECRET),
        "driverClassName": DRIVERS[db.type].driver_class,
        "maxActive": str(db.pool.max_active),
        "maxWait": str(db.pool.max_wait_ms),
        "testOnBorrow": str(db.pool.test_on_borrow).lower(),
        "validationQuery": db.pool.validation_query,
        "validationInterval": str(db.pool.validation_interval_ms),
    }
    for name, value in values.items():
        found = [e for e in config.children if e.local == name]
        if len(found) > 1:
            raise _missing(c, f"{DATASOURCE} <{name}>", len(found))
        if found:
            c.doc.set_text(found[0], value)
        else:  # a pack without this pool option: added, next to the others
            c.doc.insert_element(config, name, value)
    return True


LDAP_STORE = "org.wso2.carbon.user.core.ldap.ReadWriteLDAPUserStoreManager"
JDBC_STORE = "org.wso2.carbon.user.core.jdbc.JDBCUserStoreManager"


def edit_user_store(c: Conf, s: Settings) -> None:
    """With a shared database the primary user store is the JDBC one on the realm's datasource: IS 5.1.0
    ships its embedded LDAP as primary, which is per member (users added on one would not exist on the
    other). A pack already on JDBC, or on an external LDAP (another class), is left as it is."""
    from .render import TEMPLATES

    if not s.database.enabled:
        return
    stores = c.doc.find("UserManager/Realm/UserStoreManager")
    if not stores or stores[0].get("class") != LDAP_STORE:
        return
    fragment = TEMPLATES.get_template(
        f"carbon-{s.server.carbon_kernel}/repository/conf/user-mgt.xml/jdbc-user-store.xml.j2").render()
    c.doc.replace_element(stores[0], fragment)
