"""The embedded database server's build context and the schema its Job runs (no Pulumi here).

context:
  Dockerfile               FROM the OS image, Debian's PostgreSQL, a fixed non-root uid
  database-entrypoint.sh   first start: initdb + user + database on the volume; then postgres
  schema.sh                the schema Job: each of the pack's dbscripts once per database (marker table), in
                           one transaction each
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from ..products import module_for
from ..products.base import dbscript
from ..settings.schema import Settings
from .context import write_if_changed
from .datasources import datasource_for, product_databases, product_datasources, shared_datasource
from .errors import RenderError

PG_VERSION = "15"  # Debian bookworm's PostgreSQL
TEMPLATES = Environment(loader=PackageLoader("wso2k8s", "templates/database"), undefined=StrictUndefined,
                        keep_trailing_newline=True)
_STATIC = Path(__file__).resolve().parents[1] / "templates" / "database"


@dataclass(frozen=True)
class SchemaScript:
    """One of the pack's dbscripts, to be run once in one database."""

    database: str
    file: str  # inside the pack, e.g. dbscripts/identity/postgresql.sql
    sql: str
    marker: str  # the first table the script creates: present means the script has run

    @property
    def key(self) -> str:  # the ConfigMap key / file name the Job reads it from (schema.sh: ${file//\//-})
        return self.file.replace("/", "-")


@dataclass(frozen=True)
class DatabaseContext:
    context: Path  # the image's build context
    schemas: tuple[SchemaScript, ...]  # what the schema Job runs, in order

    @property
    def schema_sha256(self) -> str:
        return hashlib.sha256("\0".join(f"{x.database} {x.file} {x.sql}" for x in self.schemas).encode()).hexdigest()


_FIRST_TABLE = re.compile(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)


def _script(s: Settings, pack_root: Path, rel: str, database: str) -> SchemaScript:
    path = pack_root / rel
    if not path.is_file():
        raise RenderError(f"the pack has no {rel}, the schema of database.type {s.database.type}",
                          f"use an unmodified {s.product}-{s.version} pack (it ships {rel})")
    sql = path.read_text(encoding="utf-8")
    first = _FIRST_TABLE.search(sql)
    if first is None:
        raise RenderError(f"the pack's {rel} creates no table", f"use an unmodified {s.product}-{s.version} pack")
    return SchemaScript(database, rel, sql, first.group(1).lower())


def schema_scripts(s: Settings, pack_root: Path) -> tuple[SchemaScript, ...]:
    """Which of the pack's scripts runs in which database: dbscripts/<type>.sql (registry and user manager
    tables) in WSO2_CARBON_DB's database and in the registry's and user store's own ones; dbscripts/identity/
    <type>.sql (IDN_*) in the identity data's (a product that ships them elsewhere says so in its module); each of
    the product's own databases gets its script (API Manager: dbscripts/apimgt/<type>.sql in apimdb, IDN_*
    included). One script runs once per database."""
    main = f"dbscripts/{s.database.type}.sql"
    module = module_for(s.product)
    identity = module.identity_dbscripts if module is not None else None
    wanted = [(shared_datasource(s).database, main), (datasource_for(s, "registry").database, main),
              (datasource_for(s, "user_store").database, main),
              *([(datasource_for(s, "identity").database, dbscript(identity, s.database.type))]
                if identity else []),
              *((ds.database, d.script(s.database.type))
                for d, ds in zip(product_databases(s), product_datasources(s), strict=True))]
    out: list[SchemaScript] = []
    for database, rel in wanted:
        if not any(x.database == database and x.file == rel for x in out):
            out.append(_script(s, pack_root, rel, database))
    return tuple(out)


def database_resource_name(profiles: list[Settings]) -> str:
    """The embedded server's name in the stack's state and build folder: one server per stack. A one-profile
    stack keeps the `<profile>-database` it had before the server was shared, so its resources are not replaced."""
    return f"{profiles[0].profile}-database" if len(profiles) == 1 else "database"


def write_database_context(s: Settings, pack_root: Path, out: Path) -> DatabaseContext:
    """The embedded server's build context in `out`, from the settings and the unpacked pack at `pack_root`."""
    schemas = schema_scripts(s, pack_root)
    out.mkdir(parents=True, exist_ok=True)
    emb = s.database.embedded
    dockerfile = TEMPLATES.get_template("postgresql.Dockerfile.j2").render(
        image_name=emb.image.name, pg_version=PG_VERSION, os_image=s.base_image.os_image,
        apt_mirror=s.base_image.apt_mirror, user_id=emb.user_id)
    write_if_changed(out / "Dockerfile", dockerfile.encode())
    for script in ("database-entrypoint.sh", "schema.sh"):
        write_if_changed(out / script, (_STATIC / script).read_bytes())
        (out / script).chmod(0o755)
    return DatabaseContext(out, schemas)
