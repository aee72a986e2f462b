"""Hazelcast for the synthetic server: the line Carbon 4.4 clusters with, fetched once from Maven Central.

carbon-kernel v4.4.2 and v4.4.3 (IS 5.1.0's kernel) pin `orbit.version.hazelcast` 3.5.2.wso2v1 in
parent/pom.xml (4.4.1: 3.5.0.wso2v1; 4.4.9 and later: 3.5.4.wso2v2), the orbit bundle of
com.hazelcast:hazelcast:3.5.2, shipped as repository/components/plugins/hazelcast_3.5.2.wso2v1.jar. The synthetic
pack carries the upstream 3.5.2 jar at that path, and the server is compiled against it. Cached like the JDBC
drivers ($WSO2K8S_CACHE/maven), checked by sha256: a second build never touches the network.
"""

from __future__ import annotations

from pathlib import Path

from ..fetch import download_checked
from ..pack.inspect import sha256_of
from ..pack.jdbc import MAVEN_CENTRAL, cache_root

MAVEN = "com.hazelcast:hazelcast:3.5.2"
SHA256 = "b9e53f422f05853fde2cdbeb21f66ef722f04ced76c4f0d7a79b451c3aced5bc"
#: Where a Carbon 4.4.3 pack has its Hazelcast bundle.
PLUGIN_PATH = "repository/components/plugins/hazelcast_3.5.2.wso2v1.jar"


def hazelcast_jar() -> Path:
    """The checked jar in the cache, downloaded first when it is not there. Raises RuntimeError with the fix."""
    group, artifact, version = MAVEN.split(":")
    relative = f"{group.replace('.', '/')}/{artifact}/{version}/{artifact}-{version}.jar"
    target = cache_root() / relative
    if target.is_file() and sha256_of(target) == SHA256:
        return target
    url = f"{MAVEN_CENTRAL}/{relative}"
    try:
        actual = download_checked(url, SHA256, target)
    except OSError as err:
        raise RuntimeError(f"cannot fetch {MAVEN} from {url} ({err}): the synthetic server is compiled against it; "
                           f"check the network to Maven Central (or WSO2K8S_MAVEN_REPOSITORY)") from None
    if actual is not None:
        raise RuntimeError(f"{url} has sha256 {actual}, not the pinned {SHA256}: check the mirror")
    return target
