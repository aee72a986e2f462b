"""Settings layers (Hiera-style YAML files, then the stack's config) and their merge with provenance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem, SettingsError

Key = tuple[str | int, ...]


@dataclass(frozen=True)
class Layer:
    """One source of settings. `name` is what error messages show (a file, or a stack config key)."""

    name: str
    data: Mapping[str, Any]
    # How a dotted key is spelled by the user in this layer, e.g. "wso2-kubernetes:workload.replicas".
    key_prefix: str = ""

    def spell(self, key: str) -> str:
        return f"{self.key_prefix}{key}"


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader lets a repeated key silently win; this one records every repeat with its line."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.repeats: list[tuple[str, int, int]] = []  # (key, line of the repeat, line of the first)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, (str, int, float, bool)) and key in seen:
                self.repeats.append((str(key), line, seen[key]))
            elif isinstance(key, (str, int, float, bool)):
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                                 _UniqueKeyLoader.construct_mapping)


def read_yaml_layer(path: Path, shown_as: str) -> Layer:
    """A hieradata file as a layer; a missing file is an empty layer (like Hiera), bad YAML an error."""
    if not path.exists():
        return Layer(shown_as, {})
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) else f"not UTF-8 text ({err.reason})"
        raise SettingsError([Problem("(file)", shown_as, f"cannot be read: {reason}",
                                     "make it a readable UTF-8 YAML file")]) from None
    loader = _UniqueKeyLoader(text)
    try:
        data = loader.get_single_data() or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SettingsError(
            [Problem("(file)", shown_as + where, f"is not valid YAML: {getattr(err, 'problem', None) or err}",
                     "fix the YAML syntax (indentation, quotes, ':' after keys)")]
        ) from None
    finally:
        loader.dispose()
    if loader.repeats:
        raise SettingsError(
            [Problem(key, f"{shown_as} line {line}", f"is set twice in one mapping (first on line {first}); "
                     "YAML would silently keep the last one", "keep one of the two lines")
             for key, line, first in sorted(loader.repeats, key=lambda r: r[1])])
    if not isinstance(data, dict):
        raise SettingsError(
            [Problem("(file)", shown_as, f"must be a mapping of keys, found a {type(data).__name__}",
                     "write `key: value` lines at the top level")]
        )
    return Layer(shown_as, data)


@dataclass
class Merged:
    """The merged tree and, for every key path, the layer that set it last."""

    data: dict[str, Any] = field(default_factory=dict)
    origin: dict[Key, Layer] = field(default_factory=dict)

    def layer_of(self, key: Key) -> Layer | None:
        """The layer of the longest prefix of `key` that has an origin (errors deep in a list, say)."""
        for end in range(len(key), 0, -1):
            if key[:end] in self.origin:
                return self.origin[key[:end]]
        return None


def merge(layers: list[Layer]) -> Merged:
    """Deep-merge mappings, most general layer first; lists and scalars are replaced whole (like Hiera's
    `deep` merge for hashes, `first` for arrays, so a layer can remove list items)."""
    merged = Merged()
    for layer in layers:
        _merge_into(merged.data, layer.data, (), layer, merged.origin)
    return merged


def _merge_into(target: dict[str, Any], source: Mapping[str, Any], prefix: Key, layer: Layer,
                origin: dict[Key, Layer]) -> None:
    for key, value in source.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            origin.setdefault(path, layer)
            _merge_into(target[key], value, path, layer, origin)
            continue
        # Replace: forget origins below this key recorded by earlier layers.
        for stale in [k for k in origin if k[: len(path)] == path]:
            del origin[stale]
        target[key] = _plain(value)
        _record(path, value, layer, origin)


def _record(path: Key, value: Any, layer: Layer, origin: dict[Key, Layer]) -> None:
    origin[path] = layer
    if isinstance(value, Mapping):
        for k, v in value.items():
            _record((*path, str(k)), v, layer, origin)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _record((*path, i), v, layer, origin)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def walk(data: Any, prefix: Key = ()) -> list[tuple[Key, Any]]:
    """Every (key path, value) in a tree, mappings and lists included."""
    out: list[tuple[Key, Any]] = []
    if isinstance(data, Mapping):
        for k, v in data.items():
            out.append(((*prefix, str(k)), v))
            out.extend(walk(v, (*prefix, str(k))))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.append(((*prefix, i), v))
            out.extend(walk(v, (*prefix, i)))
    return out


def dotted(key: Key) -> str:
    text = ""
    for part in key:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
