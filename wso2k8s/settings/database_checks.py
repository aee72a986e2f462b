"""Rules of the `database` settings that span several keys (checked with the others, before any resource)."""

from __future__ import annotations

from collections.abc import Callable

from .schema import Settings

Report = Callable[[tuple[str | int, ...], str, str], None]  # (key, message, fix)


def database_problems(s: Settings, problem: Report) -> None:
    db = s.database
    if not db.enabled:
        return
    if db.external and not db.host:
        problem(("database", "external"), "is true but database.host is not set: the members would have no server",
                "set database.host (and database.port) to your server, or database.external: false for the "
                "embedded one")
    if not db.external and db.type != "postgresql":
        problem(("database", "type"), f"'{db.type}' has no embedded server here (the embedded one is PostgreSQL)",
                "set database.type: postgresql, or database.external: true with database.host of your "
                f"{db.type} server")
    if not db.external and db.host:
        problem(("database", "host"), f"is '{db.host}' but database.external is false: the embedded server's "
                "address is derived", "remove database.host, or set database.external: true for your own server")
    driver = db.driver
    if driver is not None and (driver.maven is None) == (driver.path is None):
        problem(("database", "driver"), "needs exactly one of maven (group:artifact:version) and path",
                "set database.driver: {maven: org.postgresql:postgresql:42.7.4, sha256: …} or "
                "{path: ~/jars/driver.jar, sha256: …}")
    for role in ("registry", "user_store", "identity"):
        over = getattr(db.databases, role)
        if over is None or db.external:
            continue
        for field in ("username", "host", "port"):
            if getattr(over, field) is not None:
                problem(("database", "databases", role, field),
                        "is set but the database is the embedded server, which has one address and one user",
                        f"remove database.databases.{role}.{field} (name and pool may differ), or set "
                        "database.external: true for your own server")
