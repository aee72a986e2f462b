"""repository/conf/hazelcast.properties: Carbon 4.4's HazelcastClusteringAgent loads it over its own defaults
(carbon-kernel 4.4.3 setHazelcastProperties). A shipped pack has none; the smallest change is then a file with
only the keys the settings own, and a pack that has one keeps every other line byte for byte."""

from __future__ import annotations

import re
from pathlib import Path

from ..settings.schema import Settings

PATH = "repository/conf/hazelcast.properties"
HEADER = "# Rendered by wso2-kubernetes from the settings key `clustering` (hieradata + stack config).\n"


def wanted(s: Settings) -> dict[str, str]:
    """The properties the settings own. REST on the member port is how `pulumi up`'s formation gate reads each
    member's Hazelcast member list (GET /hazelcast/rest/cluster)."""
    if not (s.clustering.enabled and s.clustering.await_formation.enabled):
        return {}
    return {"hazelcast.rest.enabled": "true"}


def render(s: Settings, pack_root: Path) -> bytes | None:
    """The file's new content, or None when the settings own no key (the pack's file, if any, stays)."""
    props = wanted(s)
    if not props:
        return None
    source = pack_root / PATH
    text = source.read_bytes().decode("latin-1") if source.is_file() else HEADER  # line ends as they are
    for key, value in props.items():
        # key, then = or : or white space (java.util.Properties); the last such line is the one that counts
        line = re.compile(rf"^([ \t\f]*{re.escape(key)}[ \t\f]*[=: \t\f][ \t\f]*)([^\r\n]*)", re.MULTILINE)
        found = list(line.finditer(text))
        if found:
            last = found[-1]
            text = text[:last.start(2)] + value + text[last.end(2):]
        else:
            text += ("" if text.endswith("\n") or not text else "\n") + f"{key}={value}\n"
    return text.encode("latin-1")
