"""Read the running stack's `wso2-kubernetes:*` config out of the Pulumi runtime (the last settings layer)."""

from __future__ import annotations

import json
from typing import Any

from pulumi.runtime import config as runtime_config

from .loader import PROJECT


def stack_config() -> tuple[dict[str, Any], set[str]]:
    """(values, names of the keys set with --secret). Values are decoded the way pulumi.Config does:
    structured values arrive as JSON text."""
    prefix = f"{PROJECT}:"
    values: dict[str, Any] = {}
    secret: set[str] = set()
    for full_key, raw in runtime_config.CONFIG.get().items():
        if not full_key.startswith(prefix):
            continue
        key = full_key[len(prefix):]
        values[key] = _decode(raw)
        if runtime_config.is_config_secret(full_key):
            secret.add(key)
    return values, secret


def _decode(raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw
