"""The organisation's rules, as plain functions over resource inputs (dicts as the engine sends them).

No pulumi_policy here: `__main__.py` wraps each rule in a policy, and the unit tests call the rules directly
with resource dicts. A value the engine cannot know during a preview (an image digest still to be built)
arrives as `UNKNOWN`; a rule never judges an unknown value (the engine would show "can't run during preview").
Each rule returns its violations as messages: what is wrong, where, and the fix.
"""

from __future__ import annotations

import base64
import re
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()

WORKLOAD_TYPES = frozenset({"kubernetes:core/v1:ReplicationController", "kubernetes:apps/v1:Deployment",
                            "kubernetes:apps/v1:StatefulSet"})
SERVICE = "kubernetes:core/v1:Service"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
IMAGE_BUILD = "docker-build:index:Image"
PRODUCT_IMAGE = "wso2k8s:image:ProductImage"  # its `conf_files` input: the rendered conf files
# its inputs: replicas, resources and the image repository:tag its pods pull, known during a preview while the
# pod spec (computed from the image digest) is not (components/policy_view.py)
CARBON_CLUSTER = "wso2k8s:kubernetes:CarbonCluster"
SKIP_SSL = "KUBERNETES_MASTER_SKIP_SSL_VERIFICATION"
COOKIE_AFFINITY = "nginx.ingress.kubernetes.io/affinity"
# The other Ingress dialects the program writes (entry.ingress.dialect): their cookie-persistence annotations.
COOKIE_PERSISTENCE = ("haproxy.org/cookie-persistence", "nginx.com/sticky-cookie-services")
HTTPROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
# The edge proxy (entry.kind edge, components/edge.py): a Caddyfile in a ConfigMap, balancing by cookie over the
# members' addresses, which it reads from a Service's DNS name.
EDGE_COOKIE = re.compile(r"^\s*lb_policy\s+cookie\b", re.MULTILINE)
EDGE_BACKEND = re.compile(r"\bdynamic\s+a\s*\{[^}]*?\bname\s+([a-z0-9][-a-z0-9]*)")
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class Resource:
    """One resource of the stack as a stack rule sees it."""

    type: str
    name: str
    props: Mapping[str, Any]


def known(value: Any) -> bool:
    return value is not UNKNOWN


def _get(tree: Any, *path: str | int) -> Any:
    """tree[path...], None when a step is missing, UNKNOWN when a step is unknown."""
    for step in path:
        if not known(tree):
            return UNKNOWN
        if isinstance(step, int):
            if not isinstance(tree, Sequence) or isinstance(tree, str) or step >= len(tree):
                return None
            tree = tree[step]
        else:
            if not isinstance(tree, Mapping):
                return None
            tree = tree.get(step)
    return tree


def _containers(type_: str, props: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The (known) containers of a workload's pod template."""
    if type_ not in WORKLOAD_TYPES:
        return
    pod = _get(props, "spec", "template", "spec")
    if not isinstance(pod, Mapping):
        return
    for key in ("initContainers", "containers"):
        items = pod.get(key)
        if isinstance(items, Sequence) and not isinstance(items, str):
            yield from (c for c in items if isinstance(c, Mapping))


def _image_refs(type_: str, props: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, image reference) of every known image the resource runs or pushes."""
    for c in _containers(type_, props):
        image = c.get("image")
        if isinstance(image, str):
            yield f"container '{c.get('name')}'", image
    if type_ == CARBON_CLUSTER and isinstance(props.get("image"), str):
        yield "the members' image", props["image"]
    if type_ == IMAGE_BUILD:
        tags = props.get("tags")
        if isinstance(tags, Sequence) and not isinstance(tags, str):
            yield from (("pushed tag", t) for t in tags if isinstance(t, str))


def _split_image(ref: str) -> tuple[str, str, str | None]:
    """(registry host, repository, tag or None) of an image reference; registry '' for Docker Hub."""
    name = ref.split("@", 1)[0]
    first, _, rest = name.partition("/")
    registry = first if rest and ("." in first or ":" in first or first == "localhost") else ""
    path = rest if registry else name
    repo, sep, tag = path.rpartition(":") if ":" in path else (path, "", "")
    return registry, repo if sep else path, tag or None


# ---------------------------------------------------------------- resource rules

def images_pinned(type_: str, props: Mapping[str, Any]) -> list[str]:
    """Pods run images by digest; pushed images carry a real tag (never `latest`, never none)."""
    out = []
    for where, ref in _image_refs(type_, props):
        _, _, tag = _split_image(ref)
        if type_ in (IMAGE_BUILD, CARBON_CLUSTER):  # a tag that is pushed (and pulled by its digest)
            if tag is None or tag == "latest":
                out.append(f"{where} '{ref}' has {'no tag' if tag is None else 'the tag latest'}. Fix: set "
                           "product_image.tag / base_image.tag to a version (e.g. 1.0.0)")
        elif not DIGEST.search(ref):
            out.append(f"{where} runs '{ref}', not pinned by digest. Fix: reference the image as "
                       "<repo>@sha256:<digest> (the ProductImage's repo_digest)")
    return out


def images_from_registries(type_: str, props: Mapping[str, Any], registries: Sequence[str]) -> list[str]:
    """Every image run or pushed comes from one of the organisation's registries."""
    if not registries:
        return []
    out = []
    for where, ref in _image_refs(type_, props):
        registry, _, _ = _split_image(ref)
        if registry not in registries:
            out.append(f"{where} '{ref}' is from {registry or 'Docker Hub'!s}, not from {', '.join(registries)}. "
                       "Fix: set wso2-kubernetes:registry.server to the organisation's registry")
    return out


def resources_set(type_: str, props: Mapping[str, Any]) -> list[str]:
    """Every container asks for CPU and memory and is limited in both."""
    out = []
    named = [(f"container '{c.get('name')}'", c.get("resources")) for c in _containers(type_, props)]
    if type_ == CARBON_CLUSTER:
        named.append(("the members' container", props.get("resources")))
    for where, res in named:
        if not known(res):
            continue
        missing = [f"{kind}.{what}" for kind in ("requests", "limits") for what in ("cpu", "memory")
                   if _get(res, kind, what) in (None, "")]
        if missing:
            out.append(f"{where} has no resources {', '.join(missing)}. Fix: set "
                       "workload.resources.{cpu_request, memory_request, cpu_limit, memory_limit}")
    return out


def min_replicas(type_: str, props: Mapping[str, Any], minimum: int = 2) -> list[str]:
    """A workload runs at least `minimum` members (one member is an outage at every rollout or node drain)."""
    if type_ not in WORKLOAD_TYPES | {CARBON_CLUSTER}:
        return []
    replicas = _get(props, "replicas") if type_ == CARBON_CLUSTER else _get(props, "spec", "replicas")
    if replicas is None and type_ != CARBON_CLUSTER:  # an autoscaler owns replicas: its minimum, as annotated
        replicas = _get(props, "metadata", "annotations", "wso2k8s.io/autoscaler-min-replicas")
    if not known(replicas):
        return []
    count = 1 if replicas is None else int(replicas)
    if count < minimum:
        return [f"runs {count} replica(s), fewer than {minimum}. Fix: set workload.replicas: {minimum} or more"]
    return []


def membership_ssl_verified(type_: str, props: Mapping[str, Any]) -> list[str]:
    """The membership scheme verifies the API server's certificate: KUBERNETES_MASTER_SKIP_SSL_VERIFICATION
    is never true, neither in a rendered axis2.xml nor in a container's environment."""
    out = []
    for c in _containers(type_, props):
        env = c.get("env")
        if not isinstance(env, Sequence):
            continue
        for item in env:
            if isinstance(item, Mapping) and item.get("name") == SKIP_SSL and str(item.get("value")).lower() == "true":
                out.append(f"container '{c.get('name')}' sets {SKIP_SSL}=true. Fix: remove it; the pods verify "
                           "the API server with their service-account ca.crt")
    if type_ == PRODUCT_IMAGE:
        files = props.get("conf_files")
        for path, packed in (files.items() if isinstance(files, Mapping) else []):
            if not path.endswith("axis2.xml") or not isinstance(packed, str):
                continue
            if re.search(rf'<parameter\s+name="{SKIP_SSL}"\s*>\s*true\s*<', unpack_file(packed), re.IGNORECASE):
                out.append(f"rendered {path} sets {SKIP_SSL} to true. Fix: set "
                           "clustering.kubernetes.skip_ssl_verification: false")
    return out


def ingress_tls(type_: str, props: Mapping[str, Any]) -> list[str]:
    """An Ingress serves TLS for every host it routes."""
    if type_ != INGRESS:
        return []
    tls = _get(props, "spec", "tls")
    rules = _get(props, "spec", "rules")
    if not known(tls) or not known(rules):
        return []
    if not tls:
        return ["has no spec.tls: the entry is plain HTTP. Fix: add spec.tls with the hosts and a secretName"]
    covered = {h for t in tls if isinstance(t, Mapping) for h in (t.get("hosts") or [])}
    hosts = [str(r["host"]) for r in (rules or []) if isinstance(r, Mapping) and isinstance(r.get("host"), str)]
    uncovered = [h for h in hosts if h not in covered]
    if uncovered:
        return [f"routes {', '.join(uncovered)} without TLS. Fix: list them in spec.tls[].hosts"]
    return []


# ---------------------------------------------------------------- stack rules

def _pod_labels(w: Resource) -> Mapping[str, Any] | None:
    labels = _get(w.props, "spec", "template", "metadata", "labels")
    if not isinstance(labels, Mapping):  # unknown during preview (the RC's hash label): its shared labels
        labels = _get(w.props, "metadata", "labels")
    return labels if isinstance(labels, Mapping) else None


def _selects(selector: Any, labels: Mapping[str, Any]) -> bool:
    if isinstance(selector, Mapping) and isinstance(selector.get("matchLabels"), Mapping):
        selector = selector["matchLabels"]
    return isinstance(selector, Mapping) and bool(selector) and all(
        known(v) and labels.get(k) == v for k, v in selector.items())


def _multi_member(resources: Sequence[Resource]) -> Iterator[tuple[Resource, Mapping[str, Any]]]:
    for w in resources:
        replicas = _get(w.props, "spec", "replicas")
        labels = _pod_labels(w)
        if w.type in WORKLOAD_TYPES and known(replicas) and (replicas or 1) > 1 and labels is not None:
            yield w, labels


def sticky_sessions(resources: Sequence[Resource]) -> list[tuple[Resource, str]]:
    """With more than one member, a client stays on its member (the Carbon console keeps its session in the
    member's memory): the Service selecting the members has sessionAffinity ClientIP, or an Ingress routing to
    it has cookie affinity (any dialect the program writes), or an HTTPRoute to it has cookie sessionPersistence,
    or an edge proxy balances over it by cookie. Members an edge fronts that way are reached from outside only
    through it: their ClusterIP Services (cluster-internal) are then not judged."""
    services = [r for r in resources if r.type == SERVICE]
    ingresses = [r for r in resources if r.type == INGRESS]
    routes = [r for r in resources if r.type == HTTPROUTE]
    edges: dict[str, set[str]] = {}  # an edge's ConfigMap → the Services it balances over by cookie
    for r in resources:
        if r.type == CONFIG_MAP and (backends := _edge_cookie_backends(r.props)):
            edges[str(_get(r.props, "metadata", "name"))] = backends
    edged = set().union(*edges.values())
    out = []
    for w, labels in _multi_member(resources):
        if _config_maps(w) & edges.keys():
            continue  # the edge's own pods keep no session: every one of them routes a cookie the same way
        reaching = [s for s in services if _selects(_get(s.props, "spec", "selector"), labels)]
        fronted = any(_get(s.props, "metadata", "name") in edged for s in reaching)
        for svc in reaching:
            if _get(svc.props, "spec", "sessionAffinity") == "ClientIP":
                continue
            name = _get(svc.props, "metadata", "name")
            if name in edged or (fronted and _get(svc.props, "spec", "type") in (None, "ClusterIP")):
                continue
            if any(_cookie_ingress(i.props) and name in _backends(i.props) for i in ingresses):
                continue
            if any(name in _cookie_route_backends(r.props) for r in routes):
                continue
            out.append((svc, f"reaches {_get(w.props, 'spec', 'replicas')} members of {w.name} without sticky "
                             "sessions. Fix: service.session_affinity: ClientIP (or cookie affinity on the Ingress)"))
    return out


def _cookie_ingress(ingress: Mapping[str, Any]) -> bool:
    annotations = _get(ingress, "metadata", "annotations") or {}
    return annotations.get(COOKIE_AFFINITY) == "cookie" or any(annotations.get(k) for k in COOKIE_PERSISTENCE)


def _config_maps(w: Resource) -> set[str]:
    """The ConfigMaps a workload's pods mount."""
    volumes = _get(w.props, "spec", "template", "spec", "volumes")
    return {str(_get(v, "configMap", "name")) for v in (volumes if isinstance(volumes, Sequence) else [])
            if isinstance(_get(v, "configMap", "name"), str)}


def _edge_cookie_backends(config_map: Mapping[str, Any]) -> set[str]:
    """The Services an edge proxy's Caddyfile balances over by cookie (none if it balances otherwise)."""
    text = _get(config_map, "data", "Caddyfile")
    if not isinstance(text, str) or not EDGE_COOKIE.search(text):
        return set()
    return set(EDGE_BACKEND.findall(text))


def _cookie_route_backends(route: Mapping[str, Any]) -> set[str]:
    """The Services of the HTTPRoute's rules that keep a client on its backend by cookie."""
    names = set()
    for rule in _get(route, "spec", "rules") or []:
        if (_get(rule, "sessionPersistence", "type") or "Cookie") != "Cookie" or not _get(rule, "sessionPersistence"):
            continue
        names |= {ref.get("name") for ref in rule.get("backendRefs") or [] if isinstance(ref, Mapping)}
    return {n for n in names if isinstance(n, str)}


def _backends(ingress: Mapping[str, Any]) -> set[str]:
    names = set()
    for rule in _get(ingress, "spec", "rules") or []:
        for path in _get(rule, "http", "paths") or []:
            name = _get(path, "backend", "service", "name")
            if isinstance(name, str):
                names.add(name)
    return names


def pdb_covers_members(resources: Sequence[Resource]) -> list[tuple[Resource, str]]:
    """Where the stack has PodDisruptionBudgets, every multi-member workload is covered by one (the program
    makes none yet: without any PDB the rule does not apply, see policy/README.md)."""
    pdbs = [r for r in resources if r.type == PDB]
    if not pdbs:
        return []
    return [(w, "has no PodDisruptionBudget selecting its members. Fix: add one with minAvailable: 1")
            for w, labels in _multi_member(resources)
            if not any(_selects(_get(p.props, "spec", "selector"), labels) for p in pdbs)]


def unpack_file(packed: str) -> str:
    """A conf file as the ProductImage carries it (zlib + base64, see wso2k8s/confdiff.py)."""
    return zlib.decompress(base64.b64decode(packed)).decode()
