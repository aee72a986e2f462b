"""Rules of the `database` settings that span several keys (checked with the others, before any resource), and
the embedded server's address, derived once per stack."""

from __future__ import annotations

from collections.abc import Callable

from .schema import DatabaseOverride, Settings

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
    overrides: list[tuple[tuple[str, ...], DatabaseOverride | None]] = [
        (("databases", role), getattr(db.databases, role)) for role in ("registry", "user_store", "identity")]
    overrides += [(("databases", "product", name), over) for name, over in db.databases.product.items()]
    for path, over in overrides:
        if over is None or db.external:
            continue
        for field in ("username", "host", "port"):
            if getattr(over, field) is not None:
                key = ".".join(("database", *path))
                problem(("database", *path, field),
                        "is set but the database is the embedded server, which has one address and one user",
                        f"remove {key}.{field} (name and pool may differ), or set "
                        "database.external: true for your own server")


def stack_database_host(profiles: list[Settings]) -> str:
    """The embedded server's Service, one per stack whatever its profiles: `<name>-db`, where name is what the
    profiles' names share up to a '-' (IS's one profile: wso2is; API Manager's wso2am-api-store,
    wso2am-gateway-worker, …: wso2am), or the product when they share nothing."""
    parts = [s.name.split("-") for s in profiles]
    shared: list[str] = []
    for words in zip(*parts, strict=False):
        if len(set(words)) > 1:
            break
        shared.append(words[0])
    return f"{'-'.join(shared) or profiles[0].product}-db"


def with_database_host(profiles: list[Settings]) -> list[Settings]:
    """Every profile's database.host set to the stack's embedded server (`database` is stack-wide: the loader
    refuses it in a profile's own layers, so every profile has the same); the user's own server stays. The server
    runs in the first profile's namespace; a profile in another names it `<service>.<namespace>.svc`."""
    if not profiles or not profiles[0].database.enabled or profiles[0].database.external:
        return profiles
    service, home = stack_database_host(profiles), profiles[0].kubernetes.namespace

    def host(s: Settings) -> str:
        return service if s.kubernetes.namespace == home else f"{service}.{home}.svc"

    return [s.model_copy(update={"database": s.database.model_copy(update={"host": host(s)})}) for s in profiles]
