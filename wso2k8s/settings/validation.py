"""Turn pydantic's validation errors into Problems that name the key, its layer and the fix."""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from .errors import Problem, did_you_mean
from .layers import Key, Merged, dotted
from .schema import Settings

# What a failed pattern means, in the user's words (keyed by the regex in schema.py).
PATTERN_HINTS = {
    r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$":
        "use lower-case letters, digits and '-', starting with a letter (a Kubernetes name)",
    r"^[a-z]([-a-z0-9]{0,13}[a-z0-9])?$": "use at most 15 lower-case letters, digits and '-' (a container port name)",
    r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$": "write a Kubernetes quantity such as 500m, 1, 512Mi or 2Gi",
    r"^[a-z0-9]+([._/-][a-z0-9]+)*$": "use a lower-case image repository such as wso2/is-5.1.0",
    r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$": "use an image tag such as 1.0.0 (letters, digits, '_', '.', '-')",
    r"^[A-Za-z0-9]([-A-Za-z0-9.]{0,251}[A-Za-z0-9])?$": "use a DNS host name such as wso2is.local",
    r"^[0-9a-f]{64}$": "write the 64 hex digits that `sha256sum` prints",
}


TYPE_WORDS = {"int": "a whole number", "bool": "true or false", "string": "a string", "float": "a number",
              "list": "a list", "dict": "a mapping", "model": "a mapping"}


def problems_from(error: ValidationError, merged: Merged, fallback_layer: str) -> list[Problem]:
    problems = []
    for item in error.errors():
        loc: Key = tuple(item["loc"])
        layer = merged.layer_of(loc)
        layer_name = layer.name if layer else fallback_layer
        key = layer.spell(dotted(loc)) if layer else dotted(loc)
        problems.append(Problem(key, layer_name, *_explain(item, loc)))
    return problems


def _explain(item: Any, loc: Key) -> tuple[str, str]:
    kind, ctx, value = item["type"], item.get("ctx", {}), item.get("input")
    if kind == "extra_forbidden":
        name = str(loc[-1])
        known = sorted(_fields_at(loc[:-1]))
        return (f"unknown key '{name}'.{did_you_mean(name, known)}",
                f"rename or remove it; keys allowed here: {', '.join(known)}")
    if kind == "missing":
        return ("is not set in any layer",
                "add it to hieradata/common.yaml (all products) or to the product's hieradata file")
    if kind == "literal_error":
        return (f"{value!r} is not allowed", f"use one of {ctx.get('expected')}")
    if kind == "string_pattern_mismatch":
        return (f"{value!r} is not a valid value", PATTERN_HINTS.get(ctx.get("pattern", ""), "see the schema"))
    if kind in ("greater_than_equal", "less_than_equal"):
        if loc[-1] == "node_port":
            return (f"{value} is outside the NodePort range 30000-32767",
                    "pick an unused port from 30000 to 32767 (the API server's --service-node-port-range)")
        low, high = ctx.get("ge"), ctx.get("le")
        bound = f">= {low}" if low is not None else f"<= {high}"
        return (f"{value!r} is out of range", f"use a value {bound}")
    if kind == "dict_type" and loc == ("ports",) and isinstance(value, list):
        return ("is a list, but ports are a map keyed by the Service port's name (a list was the old form)",
                "write ports: {servlet-https: {pod_port_name: https, container_port: 9443, node_port: 32002}, …}")
    if kind.endswith("_parsing") or kind.endswith("_type"):
        want = TYPE_WORDS.get(kind.split("_")[0], kind.split("_")[0])
        if kind.startswith("string"):
            return (f"{value!r} is not {want}", "put the value in quotes (YAML reads 1.0, 0123 or yes as other types)")
        return (f"{value!r} is not {want}", f"write {want} (YAML: no quotes around numbers and true/false)")
    return (item["msg"], "correct the value")


def _fields_at(loc: Key) -> set[str]:
    """The keys the schema allows at a location (for did-you-mean)."""
    model: Any = Settings
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if isinstance(model, type) and issubclass(model, BaseModel) else None
        if field is None:
            return set()
        model = _model_in(field.annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return set(model.model_fields)
    return set()


def _model_in(annotation: Any) -> Any:
    """The BaseModel inside Optional[...]/list[...] annotations."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
