"""Read the running stack's `wso2-kubernetes:*` config out of the Pulumi runtime (the last settings layer).

How values arrive (Pulumi's config.Value → the language host → pulumi.runtime.config.CONFIG): every value is a
string. A YAML mapping or list in Pulumi.<stack>.yaml arrives as its JSON text (what `pulumi.Config.get_object`
decodes); a scalar arrives as its own text (what `pulumi.Config.get` returns), and a secret as its decrypted text.
So only mappings and lists are decoded here. A scalar keeps its exact text: `5.10` stays "5.10" and a secret
`1.50` stays "1.50" (JSON-decoding every value turned them into 5.1 and 1.5). The schema converts a scalar's text
where it wants a number or a boolean ("2" → 2, "true" → True); secrets are never decoded at all.
"""

from __future__ import annotations

import json
from typing import Any

from pulumi.runtime import config as runtime_config

from .loader import PROJECT


def stack_config() -> tuple[dict[str, Any], set[str]]:
    """(values, names of the keys set with --secret)."""
    prefix = f"{PROJECT}:"
    values: dict[str, Any] = {}
    secret: set[str] = set()
    for full_key, raw in runtime_config.CONFIG.get().items():
        if not full_key.startswith(prefix):
            continue
        key = full_key[len(prefix):]
        if runtime_config.is_config_secret(full_key):
            secret.add(key)
            values[key] = raw  # byte for byte: a password is text, whatever it looks like
        else:
            values[key] = decode_plain(raw)
    return values, secret


def decode_plain(raw: Any) -> Any:
    """A mapping or list from its JSON text; any other value as it was written."""
    if not isinstance(raw, str) or not raw.startswith(("{", "[")):
        return raw
    try:
        decoded = json.loads(raw)
    except ValueError:
        return raw  # a string that merely starts with a bracket
    return decoded if isinstance(decoded, (dict, list)) else raw
