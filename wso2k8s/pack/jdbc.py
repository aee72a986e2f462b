"""JDBC drivers: what each database type needs (driver class, URL, default port) and the driver jar itself,
fetched once from Maven Central at a pinned version and checked by sha256, or the user's own jar.

The jar lands in the image's `repository/components/lib` (Carbon turns the jars there into OSGi bundles; the
synthetic server loads them the same way). Downloads are cached under $WSO2K8S_CACHE/maven (not in the repo):
a second `up` reads the cache and never touches the network.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..fetch import download_checked
from ..settings.schema import Database
from .inspect import sha256_of

MAVEN_CENTRAL = os.environ.get("WSO2K8S_MAVEN_REPOSITORY", "https://repo1.maven.org/maven2")
LIB_DIR = "repository/components/lib"


@dataclass(frozen=True)
class DriverKind:
    driver_class: str
    default_port: int
    maven: str  # pinned group:artifact:version (Java 8 compatible, as Carbon 4.4 runs on Java 7/8)
    sha256: str
    url_query: str  # appended to jdbc:<type>://host:port/db

    def url(self, host: str, port: int, database: str) -> str:
        scheme = "postgresql" if self.driver_class.startswith("org.postgresql") else "mysql"
        return f"jdbc:{scheme}://{host}:{port}/{database}{self.url_query}"


DRIVERS: dict[str, DriverKind] = {
    # pgJDBC 42.7.x: Java 8+ (the 42.x line is the one for Java 8).
    "postgresql": DriverKind("org.postgresql.Driver", 5432, "org.postgresql:postgresql:42.7.4",
                             "188976721ead8e8627eb6d8389d500dccc0c9bebd885268a3047180274a6031e", ""),
    # Connector/J 8.4: the last line that runs on Java 8.
    "mysql": DriverKind("com.mysql.cj.jdbc.Driver", 3306, "com.mysql:mysql-connector-j:8.4.0",
                        "d77962877d010777cff997015da90ee689f0f4bb76848340e1488f2b83332af5",
                        "?useSSL=false&allowPublicKeyRetrieval=true"),
}


@dataclass(frozen=True)
class DriverJar:
    """Where the jar comes from, as the settings or the pinned default say."""

    key: str  # the settings key to name in messages
    maven: str | None
    path: str | None
    sha256: str

    @property
    def file_name(self) -> str:
        if self.maven:
            _, artifact, version = self.maven.split(":")
            return f"{artifact}-{version}.jar"
        assert self.path is not None
        return Path(self.path).name


def driver_jar(db: Database) -> DriverJar:
    if db.driver is None:
        kind = DRIVERS[db.type]
        return DriverJar("database.type", kind.maven, None, kind.sha256)
    return DriverJar("database.driver", db.driver.maven, db.driver.path, db.driver.sha256)


def cache_root() -> Path:
    return Path(os.environ.get("WSO2K8S_CACHE", "/var/cache/wso2-kubernetes")) / "maven"


class DriverError(Exception):
    def __init__(self, key: str, message: str, fix: str):
        super().__init__(message)
        self.key, self.message, self.fix = key, message, fix


def resolve(jar: DriverJar, project_dir: Path) -> Path:
    """The checked jar on disk (downloaded into the cache first when it comes from Maven Central)."""
    if jar.path:
        p = Path(jar.path).expanduser()
        path = p if p.is_absolute() else project_dir / p
        if not path.is_file():
            raise DriverError("database.driver.path", f"{path} does not exist",
                              "point database.driver.path at the JDBC driver jar")
    else:
        assert jar.maven is not None
        path = _fetch(jar)
    actual = sha256_of(path)
    if actual != jar.sha256:
        raise DriverError("database.driver.sha256" if jar.key == "database.driver" else jar.key,
                          f"{path} has sha256 {actual}, not the expected {jar.sha256}",
                          "check the jar; set database.driver.sha256 to what `sha256sum` prints for the one you trust")
    if not zipfile.is_zipfile(path):
        raise DriverError(jar.key, f"{path} is not a jar (not a zip file)", "use the driver's jar")
    return path


def _fetch(jar: DriverJar) -> Path:
    assert jar.maven is not None
    group, artifact, version = jar.maven.split(":")
    relative = f"{group.replace('.', '/')}/{artifact}/{version}/{artifact}-{version}.jar"
    target = cache_root() / relative
    if target.is_file() and sha256_of(target) == jar.sha256:
        return target
    url = f"{MAVEN_CENTRAL}/{relative}"
    try:
        actual = download_checked(url, jar.sha256, target)
    except OSError as err:
        raise DriverError(jar.key, f"cannot fetch {jar.maven} from {url} ({err})",
                          "check the network to Maven Central, or bring the jar: database.driver.path + sha256"
                          ) from None
    if actual is not None:
        raise DriverError(jar.key, f"{url} has another sha256 than the pinned {jar.sha256}",
                          "check the coordinates and set database.driver.sha256 to the jar's real checksum")
    return target


def driver_problems(db: Database, project_dir: Path) -> list[tuple[str, str, str]]:
    """(key, message, fix) of the driver jar; fetches it into the cache as a side effect, before any resource."""
    if not db.enabled:
        return []
    try:
        resolve(driver_jar(db), project_dir)
    except DriverError as err:
        return [(err.key, err.message, err.fix)]
    return []


def place_driver(db: Database, project_dir: Path, pack_root: Path) -> None:
    """Copy the (already checked) driver jar into the overlay's repository/components/lib."""
    if not db.enabled:
        return
    jar = driver_jar(db)
    target = pack_root / LIB_DIR / jar.file_name
    target.parent.mkdir(parents=True, exist_ok=True)
    data = resolve(jar, project_dir).read_bytes()
    if not target.is_file() or target.read_bytes() != data:
        target.write_bytes(data)
