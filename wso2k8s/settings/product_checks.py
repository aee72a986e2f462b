"""What a product's hieradata asks of its product module (wso2k8s/products/), and the profiles' relations."""

from __future__ import annotations

from ..products import PRODUCTS, module_for
from .errors import Problem, did_you_mean
from .schema import Peer, Settings

# origins: profile → dotted key → (the key as the user spells it, the layer that set it)
Origins = dict[str, dict[str, tuple[str, str]]]


def product_problems(loaded: list[Settings], origins: Origins, stack_file: str) -> list[Problem]:
    problems: list[Problem] = []
    deployed = {s.profile for s in loaded}

    def problem(s: Settings, key: str, message: str, fix: str) -> None:
        spelled, layer = origins.get(s.profile, {}).get(key, (key, f"hieradata/{s.product}/{s.version}.yaml"))
        problems.append(Problem(spelled, layer, message, fix))

    for s in loaded:
        module = module_for(s.product)
        if module is None:
            problems.append(Problem("wso2-kubernetes:product", stack_file,
                                    f"'{s.product}' has hieradata but no product module (its conf-file editors)",
                                    f"add wso2k8s/products/{s.product}.py and list it in wso2k8s/products/"
                                    f"__init__.py (README: Another product), or use one of {sorted(PRODUCTS)}"))
            return problems
        for i, path in enumerate(s.managed_files):
            if path not in module.editors:
                problem(s, f"managed_files[{i}]",
                        f"{path} has no editor in the {s.product} product module",
                        f"add an editor for {path} to `editors` in wso2k8s/products/{s.product}.py, or remove "
                        "it from managed_files")
        for role, target in s.relations.items():
            if role not in module.relation_roles:
                problem(s, f"relations.{role}", f"'{role}' is not a role {s.product} profiles relate by"
                        f"{did_you_mean(role, list(module.relation_roles))}",
                        f"use one of {list(module.relation_roles)}")
            elif target not in deployed:
                problem(s, f"relations.{role}", f"points at profile '{target}', which this stack does not deploy",
                        f"add '{target}' to wso2-kubernetes:profiles, or remove relations.{role}")
        if s.peers:
            problem(s, "peers", "is derived from `relations`, not set", "remove it; set relations.<role>: <profile>")
    first = loaded[0] if loaded else None  # `database` is stack-wide: one look is enough
    module = module_for(first.product) if first else None
    known = [d.datasource for d in module.databases] if module else []
    for name in first.database.databases.product if first else ():
        if name not in known:
            assert first is not None
            problem(first, f"database.databases.product.{name}",
                    f"'{name}' is not a database of {first.product}.{did_you_mean(name, known)}",
                    f"use one of {known}" if known else f"remove it: {first.product} has no databases of its own")
    if first and module and first.database.enabled and first.database.databases.identity is not None \
            and module.identity_dbscripts is None:
        scripts = ", ".join(d.script(first.database.type) for d in module.databases) or "its own scripts"
        problem(first, "database.databases.identity",
                f"{first.product} ships its identity tables (IDN_*) in {scripts}, not in a schema of their own, so "
                "a database of their own would have no tables", "remove database.databases.identity (the "
                "identity data stays with the product's own database)")
    return problems


def with_peers(loaded: list[Settings]) -> list[Settings]:
    """Each profile's relations resolved to the peers' Service names and ports (after the checks above)."""
    by_profile = {s.profile: s for s in loaded}

    def peer(s: Settings, target: Settings) -> Peer:
        same = target.kubernetes.namespace == s.kubernetes.namespace
        service = target.name if same else f"{target.name}.{target.kubernetes.namespace}.svc"
        return Peer(profile=target.profile, service=service,
                    ports={name: p.container_port for name, p in target.ports.items()})

    return [s.model_copy(update={"peers": {role: peer(s, by_profile[t]) for role, t in s.relations.items()
                                           if t in by_profile}}) for s in loaded]
