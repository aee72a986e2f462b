"""Load the settings of every deployed Carbon profile: hieradata layers + the stack's config, validated.

Layers, most general first (a later one wins key by key):
  hieradata/common.yaml
  hieradata/<product>/<version>.yaml            every profile of that product version
  hieradata/<product>/<version>/<profile>.yaml  one Carbon profile (the seed's default.yaml)
  Pulumi.<stack>.yaml                            wso2-kubernetes:* keys, for the whole stack
  Pulumi.<stack>.yaml profile_overrides.<p>      per profile, for this stack
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .availability import availability_problems
from .database_checks import database_problems, with_database_host
from .entry_checks import edge_address_problems, entry_problems
from .errors import Problem, SettingsError, did_you_mean
from .layers import Key, Layer, Merged, dotted, merge, read_yaml_layer, walk
from .product_checks import product_problems, with_peers
from .schema import KERNEL_JAVA, SECRET_NAME_PATTERN, Settings
from .validation import problems_from

PROJECT = "wso2-kubernetes"
# Stack keys that choose what to deploy rather than how to configure it.
SELECTION_KEYS = ("product", "version", "profiles", "profile_overrides")
# Settings keys the stack chooses through the selection keys above; a layer setting them would override the choice.
CHOSEN_KEYS = {"product": "product", "version": "version", "profile": "profiles"}
# Settings that belong to the whole stack: one registry, one cluster, one base image, one database server for
# every profile. A profile's own layer setting one would be silently ignored (the graph reads them once), so it is
# refused.
STACK_WIDE_KEYS: tuple[tuple[str, ...], ...] = (
    ("registry",), ("kubernetes", "kubeconfig"), ("kubernetes", "context"), ("base_image",), ("image_build",),
    ("keystores",), ("database",))
# Kubernetes label values: at most 63 characters, alphanumeric at both ends.
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
# Registry host[:port][/path]; the scheme is not part of an image reference.
REGISTRY = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]+([._-][a-z0-9]+)*)*$")
# The only secrets the program takes; each must be set with `pulumi config set --secret`.
SECRET_KEYS = {
    "admin_password": True,  # user-mgt.xml AdminUser (required)
    "keystore_password": True,  # carbon.xml KeyStore/TrustStore (required)
    "registry_password": False,  # only when registry.username is set
    "database_password": False,  # only when database.enabled (master-datasources.xml WSO2_CARBON_DB)
}


@dataclass(frozen=True)
class Secrets:
    """Secret values from the stack's config. Callers wrap them in pulumi.Output.secret at once."""

    admin_password: str = field(repr=False)
    keystore_password: str = field(repr=False)
    registry_password: str | None = field(default=None, repr=False)
    database_password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class StackSettings:
    stack: str
    profiles: list[Settings]
    secrets: Secrets
    # profile -> dotted key -> (the key as the user spells it, the layer that set it): for later checks
    origins: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict, repr=False)

    def problem(self, profile: str, key: str, message: str, fix: str) -> Problem:
        """A Problem about a settings key found after loading (a missing file, say), with its layer."""
        spelled, layer = self.origins.get(profile, {}).get(key, (key, "settings"))
        return Problem(spelled, layer, message, fix)


def load_stack_settings(project_dir: Path, stack: str, config: Mapping[str, Any],
                        secret_keys: set[str]) -> StackSettings:
    """`config` holds the stack's wso2-kubernetes keys without the namespace (mappings and lists decoded,
    scalars as written); `secret_keys` names those set with --secret. Raises SettingsError with every problem
    found, and nothing else: an unreadable file or an unexpected shape is a problem too, never a traceback."""
    try:
        return _load(project_dir, stack, config, secret_keys)
    except SettingsError:
        raise
    except Exception as err:  # the last resort that keeps a traceback from the user
        # A shape no check foresaw: still the loader's message, naming what failed.
        raise SettingsError([Problem("(settings)", f"Pulumi.{stack}.yaml and hieradata/",
                                     f"could not be loaded: {type(err).__name__}: {err}",
                                     "check the value named in the error; report it if the settings look right")]
                            ) from None


def _load(project_dir: Path, stack: str, config: Mapping[str, Any], secret_keys: set[str]) -> StackSettings:
    stack_file = f"Pulumi.{stack}.yaml"
    problems: list[Problem] = []
    unknown = _unknown_stack_keys(config, stack_file, problems)
    settings_keys = {k: v for k, v in config.items()
                     if k not in SELECTION_KEYS and k not in SECRET_KEYS and k not in unknown}
    secrets = _secrets(config, secret_keys, stack_file, problems)
    stack_layer = Layer(stack_file, settings_keys, key_prefix=f"{PROJECT}:")
    problems += _plain_secret_problems(stack_layer)

    hieradata = project_dir / "hieradata"
    product, version, profiles = _selection(config, hieradata, stack_file, problems)
    overrides = config.get("profile_overrides") or {}
    if not isinstance(overrides, Mapping):
        problems.append(Problem(f"{PROJECT}:profile_overrides", stack_file, "must be a mapping of profile → settings",
                                "write profile_overrides: {<profile>: {workload: {replicas: 2}}}"))
        overrides = {}
    for name, value in list(overrides.items()):
        if value is not None and not isinstance(value, Mapping):
            problems.append(Problem(f"{PROJECT}:profile_overrides.{name}", stack_file,
                                    f"must be a mapping of settings, found {value!r}",
                                    f"write profile_overrides: {{{name}: {{workload: {{replicas: 2}}}}}}"))
            overrides = {k: v for k, v in overrides.items() if k != name}
    for name in overrides:
        if name not in profiles:
            problems.append(Problem(f"{PROJECT}:profile_overrides.{name}", stack_file,
                                    f"'{name}' is not a deployed profile{did_you_mean(name, profiles)}",
                                    f"use one of {profiles} or add it to wso2-kubernetes:profiles"))
    if product is None or version is None:
        raise SettingsError(problems)

    loaded: list[Settings] = []
    origins: dict[str, dict[str, tuple[str, str]]] = {}
    for profile in profiles:
        selection = Layer(f"{stack_file} (wso2-kubernetes:product/version/profiles)",
                          {"product": product, "version": version, "profile": profile})
        layers = [
            selection,
            read_yaml_layer(hieradata / "common.yaml", "hieradata/common.yaml"),
            read_yaml_layer(hieradata / product / f"{version}.yaml", f"hieradata/{product}/{version}.yaml"),
            read_yaml_layer(hieradata / product / version / f"{profile}.yaml",
                            f"hieradata/{product}/{version}/{profile}.yaml"),
            stack_layer,
            Layer(stack_file, overrides.get(profile) or {}, key_prefix=f"{PROJECT}:profile_overrides.{profile}."),
        ]
        for layer in [*layers[1:4], layers[5]]:  # hieradata and this profile's overrides
            problems += _plain_secret_problems(layer)
            problems += _chosen_key_problems(layer)
        for layer in (layers[3], layers[5]):  # the layers that speak for one profile only
            problems += _stack_wide_problems(layer, profile, stack_file)
        merged = merge(layers)
        try:
            settings = Settings.model_validate(merged.data)
        except ValidationError as err:
            problems += problems_from(err, merged, fallback_layer=layers[3].name)
            continue
        problems += _cross_checks(settings, merged, stack)
        loaded.append(settings)
        origins[profile] = {dotted(k): (layer.spell(dotted(k)), layer.name) for k, layer in merged.origin.items()}
    problems += _stack_checks(loaded, stack_layer)
    problems += product_problems(loaded, origins, stack_file)
    problems += edge_address_problems(loaded, origins)
    loaded = with_database_host(with_peers(loaded))
    plain = {k for k in SECRET_KEYS if k in config and k not in secret_keys}
    plain |= {k for k in SECRET_KEYS if k in secret_keys and k in config and k not in secrets}  # refused above
    problems += _secret_requirements(loaded, secrets, stack_file, plain)
    if problems:
        raise SettingsError(problems)
    return StackSettings(stack, loaded, Secrets(**secrets), origins)


def _selection(config: Mapping[str, Any], hieradata: Path, stack_file: str,
               problems: list[Problem]) -> tuple[str | None, str | None, list[str]]:
    def missing(key: str, choices: list[str], example: str) -> None:
        problems.append(Problem(f"{PROJECT}:{key}", stack_file, "is not set",
                                f"pulumi config set {PROJECT}:{key} {example} (known: {', '.join(choices) or 'none'})"))

    products = sorted(p.name for p in hieradata.iterdir() if p.is_dir()) if hieradata.is_dir() else []
    product = config.get("product")
    if product is None:
        missing("product", products, "wso2is")
        return None, None, []
    if str(product) not in products:
        problems.append(Problem(f"{PROJECT}:product", stack_file,
                                f"no hieradata for product '{product}'.{did_you_mean(str(product), products)}",
                                f"use one of {products} or add hieradata/{product}/"))
        return None, None, []
    versions = sorted(p.stem for p in (hieradata / str(product)).glob("*.yaml"))
    version = config.get("version")
    if version is None:
        missing("version", versions, versions[0] if versions else "5.1.0")
        return str(product), None, []
    if str(version) not in versions:
        # Pulumi's YAML reads an unquoted 5.10 as the number 5.1 before the program sees it.
        number = " (an unquoted version such as 5.10 is read as a number: quote it)" \
            if re.fullmatch(r"[0-9]+\.[0-9]+", str(version)) else ""
        problems.append(Problem(f"{PROJECT}:version", stack_file,
                                f"no hieradata for {product} {version}.{did_you_mean(str(version), versions)}",
                                f"use one of {versions} or add hieradata/{product}/{version}.yaml{number}"))
        return str(product), None, []
    known_profiles = sorted(p.stem for p in (hieradata / str(product) / str(version)).glob("*.yaml"))
    profiles = config.get("profiles") or ["default"]
    if not isinstance(profiles, list) or not all(isinstance(p, str) for p in profiles):
        problems.append(Problem(f"{PROJECT}:profiles", stack_file, f"{profiles!r} is not a list of profile names",
                                'write profiles: ["default"]'))
        return str(product), str(version), []
    for i, name in enumerate(profiles):
        if name not in known_profiles:
            problems.append(Problem(f"{PROJECT}:profiles[{i}]", stack_file,
                                    f"unknown Carbon profile '{name}' for {product} {version}."
                                    f"{did_you_mean(name, known_profiles)}",
                                    f"use one of {known_profiles} or add hieradata/{product}/{version}/{name}.yaml"))
    if len(set(profiles)) != len(profiles):
        problems.append(Problem(f"{PROJECT}:profiles", stack_file, f"lists a profile twice: {profiles}",
                                "list each profile once"))
    return str(product), str(version), [p for p in profiles if p in known_profiles]


def _secrets(config: Mapping[str, Any], secret_keys: set[str], stack_file: str,
             problems: list[Problem]) -> dict[str, str]:
    """The secret values that were set properly, byte for byte; a plain-text, empty or unwritable one is a
    problem and is dropped. A message never shows the value."""
    values: dict[str, str] = {}
    for key in SECRET_KEYS:
        value = config.get(key)
        if value is None:
            continue
        set_it = f"pulumi config set --secret {PROJECT}:{key} <value>"
        if key not in secret_keys:
            problems.append(Problem(f"{PROJECT}:{key}", stack_file, "is a password stored in plain text",
                                    f"pulumi config rm {PROJECT}:{key} && {set_it}"))
            continue
        if not isinstance(value, str):
            problems.append(Problem(f"{PROJECT}:{key}", stack_file, "is a structured value, not a password",
                                    set_it))
        elif not value.strip():
            problems.append(Problem(f"{PROJECT}:{key}", stack_file,
                                    "is empty" if not value else "is only white space",
                                    f"{set_it} (a non-empty password; a shipped pack's keystore uses wso2carbon)"
                                    if key == "keystore_password" else f"{set_it} (a non-empty password)"))
        elif any((ord(c) < 0x20 and c != "\t") or ord(c) == 0x7F for c in value):
            # XML 1.0 cannot carry most control characters at all; a tab travels as &#9; (the entrypoint
            # writes it so), which attribute-value normalisation leaves alone.
            problems.append(Problem(f"{PROJECT}:{key}", stack_file,
                                    "holds a control character (a newline, say), which the server's XML "
                                    "conf files cannot carry", f"{set_it} without control characters"))
        elif key == "admin_password" and value != value.strip():
            # Carbon 4.4 trims <AdminUser><Password> when it reads user-mgt.xml (RealmConfigXMLProcessor), so
            # the console would accept only the trimmed text: refuse rather than deploy a surprise.
            problems.append(Problem(f"{PROJECT}:{key}", stack_file,
                                    "starts or ends with white space, which Carbon trims when it reads "
                                    "user-mgt.xml (the console would accept only the trimmed password)",
                                    f"{set_it} without leading or trailing white space"))
        else:
            values[key] = value
    return values


def _unknown_stack_keys(config: Mapping[str, Any], stack_file: str, problems: list[Problem]) -> set[str]:
    """Top-level stack keys the program does not take (`profile` for `profiles`, say): refused with a
    did-you-mean over every key the stack may set, instead of silently ignored or overriding the selection."""
    known = sorted({*SELECTION_KEYS, *SECRET_KEYS, *(set(Settings.model_fields) - set(CHOSEN_KEYS))})
    unknown = set()
    for key in config:
        if key in known:
            continue
        unknown.add(key)
        hint = f" Did you mean '{CHOSEN_KEYS[key]}'?" if key in CHOSEN_KEYS else did_you_mean(key, known)
        problems.append(Problem(f"{PROJECT}:{key}", stack_file, f"unknown key '{key}'.{hint}",
                                f"rename or remove it (pulumi config rm {PROJECT}:{key}); the stack's keys are: "
                                f"{', '.join(known)}"))
    return unknown


def _chosen_key_problems(layer: Layer) -> list[Problem]:
    """product/version/profile are chosen by the stack's selection keys; a layer must not change them."""
    return [Problem(layer.spell(key), layer.name, f"is chosen by the stack (wso2-kubernetes:{chosen}), not here",
                    f"remove it from this layer; pulumi config set {PROJECT}:{chosen} … picks it")
            for key, chosen in CHOSEN_KEYS.items() if key in layer.data]


def _stack_wide_problems(layer: Layer, profile: str, stack_file: str) -> list[Problem]:
    """A stack-wide setting in a one-profile layer: refused, since every profile shares the stack's value."""
    problems = []
    for path in STACK_WIDE_KEYS:
        node: Any = layer.data
        for part in path:
            node = node.get(part) if isinstance(node, Mapping) else None
        if node is None:
            continue
        key = ".".join(path)
        problems.append(Problem(
            layer.spell(key), layer.name,
            f"is a stack-wide setting (every profile shares one {key}), so profile '{profile}' cannot set "
            "its own", f"remove it here and set it once for the stack: `{PROJECT}:{key}` in {stack_file} or "
            "hieradata/common.yaml"))
    return problems


def _secret_requirements(loaded: list[Settings], secrets: dict[str, str], stack_file: str,
                         plain: set[str]) -> list[Problem]:
    problems = []
    for key, required in SECRET_KEYS.items():
        needed = required or (key == "registry_password" and any(s.registry.username for s in loaded)) or (
            key == "database_password" and any(s.database.enabled for s in loaded))
        if needed and key not in secrets and key not in plain:
            problems.append(Problem(f"{PROJECT}:{key}", stack_file, "is not set",
                                    f"pulumi config set --secret {PROJECT}:{key} <value>"))
    return problems


def _plain_secret_problems(layer: Layer) -> list[Problem]:
    """Password-like keys in a layer that is committed in plain text (hieradata, plain stack config)."""
    problems = []
    for key, value in walk(layer.data):
        name = key[-1]
        if isinstance(name, str) and SECRET_NAME_PATTERN.search(name) and not isinstance(value, (dict, list)):
            problems.append(Problem(layer.spell(dotted(key)), layer.name,
                                    "looks like a secret in plain text (layers and plain config are committed "
                                    "and logged)",
                                    "remove it here; passwords come only from "
                                    f"`pulumi config set --secret {PROJECT}:<admin_password|keystore_password|"
                                    "registry_password|database_password>`"))
    return problems


def _cross_checks(s: Settings, merged: Merged, stack: str) -> list[Problem]:
    """Rules that span several keys: values that must agree, ports that must not clash."""
    problems: list[Problem] = []

    def problem(key: Key, message: str, fix: str) -> None:
        layer = merged.layer_of(key)
        name = layer.name if layer else "settings"
        problems.append(Problem(layer.spell(dotted(key)) if layer else dotted(key), name, message, fix))

    pod_names = [p.pod_port_name for p in s.ports.values()]
    if len(set(pod_names)) != len(pod_names):
        problem(("ports",), f"two ports share a pod_port_name: {pod_names}", "give each port its own pod_port_name")
    seen_node_ports: dict[int, str] = {}
    for name, port in s.ports.items():
        if "name" in (merged.data.get("ports") or {}).get(name, {}):
            problem(("ports", name, "name"), "is the map's key, not a field of the port",
                    f"remove it: `ports: {{{name}: {{…}}}}` names the port '{name}'")
        if port.node_port is not None and port.node_port in seen_node_ports:
            problem(("ports", name, "node_port"), f"nodePort {port.node_port} is used twice (by "
                    f"{seen_node_ports[port.node_port]} and {name})", "give each port its own nodePort")
        if port.node_port is not None:
            seen_node_ports.setdefault(port.node_port, name)
        if s.shifted(port) > 65535:
            problem(("port_offset",), f"offset {s.port_offset} moves {port.name} ({port.container_port}) "
                    f"to {s.shifted(port)}, above 65535", "use a smaller port_offset")
        if port.node_port is not None and s.service.type != "NodePort" and not s.entry_used:
            problem(("ports", name, "node_port"), f"a nodePort needs service.type NodePort, not {s.service.type}",
                    "remove node_port or set service.type: NodePort")
    listening = {s.shifted(p): p.name for p in s.ports.values()}
    if len(listening) != len(s.ports):
        problem(("ports",), "two ports listen on the same container port", "give each port its own container_port")
    if s.clustering.enabled and s.clustering.local_member_port in listening:
        problem(("clustering", "local_member_port"),
                f"Hazelcast port {s.clustering.local_member_port} clashes with "
                f"{listening[s.clustering.local_member_port]} after port_offset {s.port_offset}",
                "change clustering.local_member_port or port_offset")
    if "servlet-https" not in s.ports:
        removed = ("ports", "servlet-https")  # a later layer's `servlet-https: null` is the one to name
        problem(removed if merged.layer_of(removed) else ("ports",),
                "no 'servlet-https' port: the console and the probes use it",
                "add ports: {servlet-https: {pod_port_name: https, container_port: 9443}}")

    k8s = s.clustering.kubernetes
    if s.clustering.enabled and s.clustering.membership_scheme == "kubernetes":
        if k8s.services is not None and not k8s.services:
            problem(("clustering", "kubernetes", "services"),
                    "membership_scheme is kubernetes but no services are listed: members would never find each other",
                    "remove clustering.kubernetes.services (the default is the profile's own Service "
                    f"'{s.name}'), or list it")
        elif k8s.services is not None and s.name not in k8s.services:
            problem(("clustering", "kubernetes", "services"),
                    f"does not list this profile's own Service '{s.name}', so members would not find each other",
                    f"remove clustering.kubernetes.services (the default is '{s.name}') and list other "
                    "Services in clustering.kubernetes.extra_services")
        if k8s.namespace is not None and k8s.namespace != s.kubernetes.namespace:
            problem(("clustering", "kubernetes", "namespace"),
                    f"'{k8s.namespace}' differs from kubernetes.namespace '{s.kubernetes.namespace}' where the pods "
                    "run; the membership scheme would look up an empty Service",
                    "remove clustering.kubernetes.namespace (it defaults to kubernetes.namespace) or make them equal")

    for i, entry in enumerate(s.file_list):
        if not (entry.startswith("repository/components/") and entry.endswith(".jar")) or ".." in entry:
            problem(("file_list", i), f"'{entry}' is not a jar under repository/components/",
                    "list paths like repository/components/lib/<name>.jar (seed: wso2::file_list)")
    if len(set(s.file_list)) != len(s.file_list):
        problem(("file_list",), "lists a jar twice", "list each jar once")

    if s.pack.source == "path" and not s.pack.path:
        problem(("pack", "source"), "is 'path' but no pack.path is given",
                "set pack.path to the product zip (e.g. ~/Downloads/wso2is-5.1.0.zip)")
    java = s.base_image.java
    if java.source == "archive" and not (java.archive and java.archive_sha256):
        problem(("base_image", "java", "source"), "is 'archive' but java.archive or java.archive_sha256 is missing",
                "set base_image.java.archive to the JDK .tar.gz and archive_sha256 to its `sha256sum`")
    if java.source == "jlink" and "java.base" not in java.jlink_modules:
        problem(("base_image", "java", "jlink_modules"), "does not include java.base", "add java.base")
    if s.pack.source == "path" and java.source == "jlink" and not java.allow_unsupported_version:
        low, high = KERNEL_JAVA[s.server.carbon_kernel]
        problem(("base_image", "java", "source"),
                f"is 'jlink', a Java 17 runtime, but a real Carbon {s.server.carbon_kernel} pack (pack.source: path) "
                f"runs on Java {low} or {high}",
                f"set base_image.java: {{source: archive, archive: <JDK {high} .tar.gz>, archive_sha256: <sha256sum>}}"
                ", or base_image.java.allow_unsupported_version: true to run it on Java 17 knowingly")
    _derived_checks(s, problem, stack)
    database_problems(s, problem)
    entry_problems(s, problem)
    availability_problems(s.name, s.workload, problem)
    if s.workload.kind == "ReplicationController" and s.workload.replicas == 0 and s.workload.await_ready:
        problem(("workload", "replicas"), "is 0, and Pulumi cannot wait for 0 replicas to become ready",
                "set workload.await_ready: false as well when replicas is 0")
    return problems


def _derived_checks(s: Settings, problem: Callable[[Key, str, str], None], stack: str) -> None:
    """Values the program derives from the settings that Kubernetes, Docker or the server would refuse later,
    after the images are pushed: checked now, against the key the user wrote."""
    instance = f"{s.name}-{stack}"  # components/graph.py labels_for: app.kubernetes.io/instance
    if len(instance) > 63:
        problem(("name",), f"'{s.name}' makes the label app.kubernetes.io/instance '{instance}' {len(instance)} "
                f"characters long (<name>-<stack>); Kubernetes allows 63",
                f"use a name of at most {max(1, 62 - len(stack))} characters for stack '{stack}'")
    elif not LABEL_VALUE.match(instance):
        problem(("name",), f"the label app.kubernetes.io/instance '{instance}' (<name>-<stack>) is not a valid "
                "label value", "use a stack name of letters, digits, '-', '_' and '.', alphanumeric at both ends")
    server = s.registry.server
    if "://" in server:
        bare = server.split("://", 1)[1].rstrip("/")
        problem(("registry", "server"), f"'{server}' has a scheme; an image reference has none",
                f"write registry.server: {bare} (host[:port], the scheme is chosen by the registry)")
    elif not REGISTRY.match(server):
        problem(("registry", "server"), f"'{server}' is not a registry address",
                "write host[:port][/path], e.g. 127.0.0.1:5000 or registry.example.com/team")
    c = s.clustering
    api = c.kubernetes.api_server
    if api is not None and not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+(:[0-9]{1,5})?/?", api):
        problem(("clustering", "kubernetes", "api_server"), f"'{api}' is not an API server URL",
                "write https://<host>[:port] (the scheme's KUBERNETES_MASTER), or null for the in-cluster API")
    if c.enabled and c.membership_scheme == "wka" and not c.wka.members:
        problem(("clustering", "membership_scheme"), "is 'wka' but clustering.wka.members is empty: members "
                "would know no one to contact", "list the well-known members, e.g. clustering.wka.members: "
                f"[{{host: {s.name}-0.example, port: {c.local_member_port}}}], or use membership_scheme: kubernetes")


def _stack_checks(loaded: list[Settings], stack_layer: Layer) -> list[Problem]:
    """Across profiles: names and nodePorts are cluster-wide, they must not collide."""
    problems = []
    seen_ports: dict[int, str] = {}
    seen_names: dict[str, str] = {}
    pod_security: dict[str, Settings] = {}  # namespace -> the first profile that creates it
    for s in loaded:
        if s.kubernetes.create_namespace:
            first = pod_security.setdefault(s.kubernetes.namespace, s)
            if first.kubernetes.pod_security != s.kubernetes.pod_security:
                problems.append(Problem(
                    "kubernetes.pod_security", f"hieradata/{s.product}/{s.version}/{s.profile}.yaml",
                    f"profiles {first.profile} ({first.kubernetes.pod_security}) and {s.profile} "
                    f"({s.kubernetes.pod_security}) create namespace '{s.kubernetes.namespace}' with different "
                    "Pod Security levels", "give both profiles the same kubernetes.pod_security"))
        if s.name in seen_names:
            problems.append(Problem("name", f"hieradata/{s.product}/{s.version}/{s.profile}.yaml",
                                    f"profiles {seen_names[s.name]} and {s.profile} both use the name '{s.name}'",
                                    "give each profile its own name"))
        seen_names[s.name] = s.profile
        for p in s.ports.values():
            if p.node_port is None:
                continue
            if seen_ports.get(p.node_port, s.profile) != s.profile:
                problems.append(Problem(f"ports.{p.name}.node_port", stack_layer.name,
                                        f"nodePort {p.node_port} is used by profiles {seen_ports[p.node_port]} and "
                                        f"{s.profile}", "give each profile its own nodePorts"))
            seen_ports.setdefault(p.node_port, s.profile)
    return problems
