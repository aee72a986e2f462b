"""The policy pack's configuration for one stack, from its `wso2-kubernetes-policy:*` keys, as the JSON file
`pulumi preview --policy-pack-config` reads (tools/preview.sh writes it).

    python -m wso2k8s.policy_config <stack>      prints {"all": "<level>", "images-from-org-registry": {...}}

Keys in Pulumi.<stack>.yaml (plain config, another namespace than the program's settings):
  wso2-kubernetes-policy:enforcement   advisory (default) | mandatory | disabled
  wso2-kubernetes-policy:registries    [registry host, ...]: images only from these (default: no check)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

NAMESPACE = "wso2-kubernetes-policy"
LEVELS = ("advisory", "mandatory", "disabled")


class PolicyConfigError(ValueError):
    pass


def policy_config(project_dir: Path, stack: str) -> dict[str, Any]:
    stack_file = f"Pulumi.{stack}.yaml"
    path = project_dir / stack_file
    data = yaml.safe_load(path.read_text()) if path.is_file() else {}
    config = (data or {}).get("config") or {}
    level = config.get(f"{NAMESPACE}:enforcement", "advisory")
    if level not in LEVELS:
        raise PolicyConfigError(f"{NAMESPACE}:enforcement ({stack_file}): '{level}' is not a level. "
                                f"Fix: use one of {', '.join(LEVELS)}")
    registries = config.get(f"{NAMESPACE}:registries", [])
    if not isinstance(registries, list) or not all(isinstance(r, str) for r in registries):
        raise PolicyConfigError(f"{NAMESPACE}:registries ({stack_file}): {registries!r} is not a list of registry "
                                "hosts. Fix: write [registry.example.com]")
    return {"all": level, "images-from-org-registry": {"registries": registries}}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        print(json.dumps(policy_config(Path.cwd(), argv[0]), indent=2))
    except PolicyConfigError as err:
        print(f"wso2-kubernetes: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
