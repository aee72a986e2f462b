"""The embedded database server's build context and the schema its Job runs (no Pulumi here).

context:
  Dockerfile               FROM the OS image, Debian's PostgreSQL, a fixed non-root uid
  database-entrypoint.sh   first start: initdb + user + database on the volume; then postgres
  schema.sh                the schema Job: the pack's dbscripts/<type>.sql once (marker table), in one transaction
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from ..settings.schema import Settings
from .context import write_if_changed
from .errors import RenderError

PG_VERSION = "15"  # Debian bookworm's PostgreSQL
TEMPLATES = Environment(loader=PackageLoader("wso2k8s", "templates/database"), undefined=StrictUndefined,
                        keep_trailing_newline=True)
_STATIC = Path(__file__).resolve().parents[1] / "templates" / "database"


@dataclass(frozen=True)
class DatabaseContext:
    context: Path  # the image's build context
    schema_sql: str  # the pack's dbscripts/<type>.sql, as the Job runs it
    schema_file: str  # e.g. dbscripts/postgresql.sql, for messages and logs
    schema_sha256: str


def schema_script(s: Settings, pack_root: Path) -> tuple[str, str]:
    """(path inside the pack, text) of the schema script for the database type: the pack's own."""
    rel = f"dbscripts/{s.database.type}.sql"
    path = pack_root / rel
    if not path.is_file():
        raise RenderError(f"the pack has no {rel}, the schema of database.type {s.database.type}",
                          f"use an unmodified {s.product}-{s.version} pack (it ships {rel})")
    return rel, path.read_text(encoding="utf-8")


def write_database_context(s: Settings, pack_root: Path, out: Path) -> DatabaseContext:
    """The embedded server's build context in `out`, from the settings and the unpacked pack at `pack_root`."""
    rel, sql = schema_script(s, pack_root)
    out.mkdir(parents=True, exist_ok=True)
    emb = s.database.embedded
    dockerfile = TEMPLATES.get_template("postgresql.Dockerfile.j2").render(
        image_name=emb.image.name, pg_version=PG_VERSION, os_image=s.base_image.os_image,
        apt_mirror=s.base_image.apt_mirror, user_id=emb.user_id)
    write_if_changed(out / "Dockerfile", dockerfile.encode())
    for script in ("database-entrypoint.sh", "schema.sh"):
        write_if_changed(out / script, (_STATIC / script).read_bytes())
        (out / script).chmod(0o755)
    return DatabaseContext(out, sql, rel, hashlib.sha256(sql.encode()).hexdigest())
