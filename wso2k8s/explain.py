"""Where each effective setting of a stack comes from.

    python -m wso2k8s.explain <stack>          every effective setting per profile, with the layer file that set it
    python -m wso2k8s.explain <stack> <key>    one dotted key (e.g. workload.replicas): every layer that touched
                                               it, most general first, with its value there; the last one wins

Reads Pulumi.<stack>.yaml and hieradata/ (no Pulumi engine, no passphrase). Secrets are never printed: a key set
with `pulumi config set --secret` shows as ********, and so does any password-like key.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .settings import SettingsError, StackSettings, load_stack_settings
from .settings.layers import Key, dotted, read_yaml_layer, walk
from .settings.loader import PROJECT, SECRET_KEYS, SELECTION_KEYS
from .settings.schema import SECRET_NAME_PATTERN

MASK = "********"
NOT_SET = "(not set)"


@dataclass(frozen=True)
class Touch:
    """One layer's value for a key."""

    layer: str  # the file, as error messages name it
    spelled: str  # the key as written in that layer
    value: Any


def read_stack(project_dir: Path, stack: str) -> tuple[dict[str, Any], set[str]]:
    """The stack's wso2-kubernetes:* values (secrets replaced by a mask) and the names set with --secret."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise SettingsError([])  # handled by main: no such stack file
    config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
    values: dict[str, Any] = {}
    secret: set[str] = set()
    for full, value in config.items():
        if not str(full).startswith(f"{PROJECT}:"):
            continue
        key = str(full)[len(PROJECT) + 1:]
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            values[key] = MASK
            secret.add(key)
        else:
            values[key] = value
    return values, secret


def load(project_dir: Path, stack: str) -> StackSettings:
    """The loader's own result. Secrets not set in this stack file are stood in for (masked), so a stack whose
    secrets live elsewhere (CI) can still be explained; every other problem is the loader's error."""
    values, secret = read_stack(project_dir, stack)
    for key, required in SECRET_KEYS.items():
        if key not in values and (required or key == "registry_password"):
            values[key] = NOT_SET
            secret.add(key)
    return load_stack_settings(project_dir, stack, values, secret)


def _masked(key: str, value: Any) -> Any:
    last = key.rsplit(".", 1)[-1]
    if SECRET_NAME_PATTERN.search(last) and not isinstance(value, (dict, list)):
        return MASK
    return value


def effective(stack: StackSettings) -> list[tuple[str, str, Any, str]]:
    """(profile, dotted key, value, layer) for every leaf of every profile's validated settings."""
    rows = []
    for settings in stack.profiles:
        origins = stack.origins.get(settings.profile, {})
        for key, value in walk(settings.model_dump(mode="json")):
            if isinstance(value, (dict, list)) and value:
                continue
            name = dotted(key)
            layer = _layer_of(origins, key)
            rows.append((settings.profile, name, _masked(name, value), layer))
    return rows


def _layer_of(origins: Mapping[str, tuple[str, str]], key: Key) -> str:
    for end in range(len(key), 0, -1):
        found = origins.get(dotted(key[:end]))
        if found:
            return found[1]
    return "(schema default)"


def chain(project_dir: Path, stack: str, profile: str, key: str) -> list[Touch]:
    """Every layer that sets `key` (or a mapping/list above it, which replaces it whole), most general first,
    in the loader's layer order (see wso2k8s/settings/loader.py)."""
    values, _ = read_stack(project_dir, stack)
    settings = next(s for s in load(project_dir, stack).profiles if s.profile == profile)
    stack_file = f"Pulumi.{stack}.yaml"
    product, version = settings.product, settings.version
    overrides = (values.get("profile_overrides") or {}).get(profile) or {}
    layers = [
        (read_yaml_layer(project_dir / "hieradata" / "common.yaml", "hieradata/common.yaml").data, "",
         "hieradata/common.yaml"),
        (read_yaml_layer(project_dir / "hieradata" / product / f"{version}.yaml", "").data, "",
         f"hieradata/{product}/{version}.yaml"),
        (read_yaml_layer(project_dir / "hieradata" / product / version / f"{profile}.yaml", "").data, "",
         f"hieradata/{product}/{version}/{profile}.yaml"),
        ({k: v for k, v in values.items() if k not in SELECTION_KEYS}, f"{PROJECT}:", stack_file),
        (overrides, f"{PROJECT}:profile_overrides.{profile}.", stack_file),
    ]
    parts = key.split(".")
    touches = []
    if parts[0] in ("product", "version", "profile"):
        touches.append(Touch(f"{stack_file} (wso2-kubernetes:product/version/profiles)", f"{PROJECT}:{parts[0]}",
                             getattr(settings, parts[0])))
    for data, prefix, name in layers:
        node: Any = data
        for i, part in enumerate(parts):
            if not isinstance(node, Mapping) or part not in node:
                break
            node = node[part]
            if i == len(parts) - 1 or not isinstance(node, Mapping):
                touches.append(Touch(name, prefix + ".".join(parts[: i + 1]), _masked(key, node)))
                break
    return touches


def render_all(stack: StackSettings, secret_names: set[str]) -> str:
    lines = [f"stack {stack.stack}: effective settings (key = value  [layer that set it])", "\nsecrets:"]
    for key in SECRET_KEYS:
        how = f"Pulumi.{stack.stack}.yaml, --secret" if key in secret_names else "not set in the stack file"
        lines.append(f"  {PROJECT}:{key} = {MASK if key in secret_names else NOT_SET}  [{how}]")
    current = ""
    for profile, key, value, layer in effective(stack):
        if profile != current:
            lines.append(f"\nprofile {profile}:")
            current = profile
        lines.append(f"  {key} = {_show(value)}  [{layer}]")
    return "\n".join(lines) + "\n"


def render_chain(project_dir: Path, stack: StackSettings, key: str) -> str:
    lines = []
    for settings in stack.profiles:
        touches = chain(project_dir, stack.stack, settings.profile, key)
        lines.append(f"profile {settings.profile}, {key}:")
        if not touches:
            lines.append("  set by no layer (a schema default)")
        for i, t in enumerate(touches):
            wins = "  <- effective" if i == len(touches) - 1 else ""
            lines.append(f"  {i + 1}. {t.layer}: {t.spelled} = {_show(t.value)}{wins}")
    return "\n".join(lines) + "\n"


def _show(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip().removesuffix("...").strip()


def main(argv: list[str], project_dir: Path | None = None) -> int:
    if len(argv) not in (1, 2):
        print(__doc__, file=sys.stderr)
        return 2
    project_dir = project_dir or Path.cwd()
    stack_name = argv[0]
    if not (project_dir / f"Pulumi.{stack_name}.yaml").is_file():
        print(f"wso2-kubernetes: no stack file Pulumi.{stack_name}.yaml in {project_dir}", file=sys.stderr)
        return 1
    try:
        stack = load(project_dir, stack_name)
    except SettingsError as err:
        print(err, file=sys.stderr)
        return 1
    if len(argv) == 1:
        sys.stdout.write(render_all(stack, read_stack(project_dir, stack_name)[1]))
        return 0
    known = {key for _, key, _, _ in effective(stack)}
    if not any(k == argv[1] or k.startswith(argv[1] + ".") or k.startswith(argv[1] + "[") for k in known):
        print(f"wso2-kubernetes: '{argv[1]}' is not a settings key of stack {stack_name}", file=sys.stderr)
        return 1
    sys.stdout.write(render_chain(project_dir, stack, argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
