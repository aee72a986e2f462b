"""wso2-kubernetes policy pack: the rules of policy/rules.py as CrossGuard policies.

Levels: `--policy-pack-config` (tools/preview.sh writes it from the stack's `wso2-kubernetes-policy:*` keys:
advisory in dev, mandatory in prod). Without that file the same keys are read here, at import, from the
stack's config (the language host starts the pack after the engine has sent it the stack's configuration).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pulumi
import rules  # the pack directory is on sys.path (pulumi.policy runs it as a directory)
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import proxy as _proxy

_UNKNOWN_SENTINELS = {getattr(_proxy, n) for n in dir(_proxy) if n.startswith("UNKNOWN_") and n.endswith("_VALUE")}


def plain(value: Any) -> Any:
    """The engine's inputs without the unknown-checking proxy: unknown values become rules.UNKNOWN."""
    if isinstance(value, Mapping):
        target = value["__target"] if type(value).__name__ == "_DictProxy" else value
        return {k: plain(target[k]) for k in target}
    if isinstance(value, Sequence) and not isinstance(value, str):
        target = value["__target"] if type(value).__name__ == "_ListProxy" else value  # type: ignore[call-overload]
        return [plain(v) for v in target]
    if isinstance(value, str) and value in _UNKNOWN_SENTINELS:
        return rules.UNKNOWN
    return value


def resource_policy(name: str, description: str, check: Callable[[str, Mapping[str, Any], dict[str, Any]], list[str]],
                    schema: PolicyConfigSchema | None = None) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        for message in check(args.resource_type, plain(args.props), args.get_config() or {}):
            report(f"{args.name}: {message}", None)
    return ResourceValidationPolicy(name, description, validate, config_schema=schema)


def stack_policy(name: str, description: str,
                 check: Callable[[list[rules.Resource]], list[tuple[rules.Resource, str]]]) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        resources = [rules.Resource(r.resource_type, r.name, plain(r.props)) for r in args.resources]
        urns = {(r.resource_type, r.name): r.urn for r in args.resources}
        for resource, message in check(resources):
            report(f"{resource.name}: {message}", urns.get((resource.type, resource.name)))
    return StackValidationPolicy(name, description, validate)


config = pulumi.Config("wso2-kubernetes-policy")  # the stack's config, read at import
_level = config.get("enforcement") or "advisory"
if _level not in ("advisory", "mandatory", "disabled"):
    raise SystemExit(f"wso2-kubernetes-policy:enforcement (Pulumi.{pulumi.get_stack()}.yaml): '{_level}' is not a "
                     "level. Fix: use advisory, mandatory or disabled")
default_level = EnforcementLevel(_level)
default_registries: list[str] = config.get_object("registries") or []

PolicyPack(
    name="wso2-kubernetes",
    enforcement_level=default_level,
    policies=[
        resource_policy("images-pinned", "Pods run images by digest; pushed images have a version tag, not latest",
                        lambda t, p, c: rules.images_pinned(t, p)),
        resource_policy("images-from-org-registry", "Images are pulled and pushed only from the org's registries",
                        lambda t, p, c: rules.images_from_registries(t, p, c.get("registries", default_registries)),
                        PolicyConfigSchema({"registries": {"type": "array", "items": {"type": "string"}}})),
        resource_policy("resources-set", "Every container has CPU and memory requests and limits",
                        lambda t, p, c: rules.resources_set(t, p)),
        resource_policy("min-replicas", "A Carbon cluster runs at least two members",
                        lambda t, p, c: rules.min_replicas(t, p, int(c.get("minimum", 2))),
                        PolicyConfigSchema({"minimum": {"type": "integer"}})),
        resource_policy("membership-ssl-verified", f"No {rules.SKIP_SSL}=true in axis2.xml or a container's env",
                        lambda t, p, c: rules.membership_ssl_verified(t, p)),
        resource_policy("ingress-tls", "An Ingress serves TLS for every host it routes",
                        lambda t, p, c: rules.ingress_tls(t, p)),
        stack_policy("sticky-sessions", "More than one member: ClientIP affinity or cookie affinity",
                     rules.sticky_sessions),
        stack_policy("pdb-covers-members", "Multi-member workloads are covered by a PodDisruptionBudget (if any)",
                     rules.pdb_covers_members),
    ],
)
