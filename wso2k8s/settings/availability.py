"""The availability settings of the members (`workload.*` beside kind and replicas): the workload kind's own
options, the PodDisruptionBudget, where pods may and should land, extra pod metadata, the autoscaler.

Defaults are in hieradata/common.yaml, chosen as wso2/kubernetes-is (the Helm chart) chooses them where it has
them: a PodDisruptionBudget with minAvailable 50% when there is more than one member, preferred anti-affinity,
an autoscaler off by default whose minimum is `workload.replicas` and whose CPU target is 65%. The rules that
span several keys are `availability_problems`, run with the loader's other cross-checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from .schema import Workload

# Labels the program puts on every member pod and selects them by (components/graph.py labels_for), and its
# own label/annotation domain (the RC generation's template hash). A pod label may not change them: the
# Service, the PodDisruptionBudget and the RC would select other pods, or none.
SELECTOR_LABEL_KEYS = ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/part-of",
                       "app.kubernetes.io/managed-by", "wso2k8s.io/profile", "name")
PROGRAM_DOMAIN = "wso2k8s.io/"

# Kubernetes qualified names (label and annotation keys): [DNS-1123 subdomain prefix/]name, name ≤ 63.
_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]"
_PREFIX = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
QUALIFIED_NAME = re.compile(rf"^({_PREFIX}/)?{_NAME}$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
PERCENT = re.compile(r"^(100|[1-9]?[0-9])%$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StatefulSetOptions(_Strict):
    """Used when workload.kind is StatefulSet."""

    # The governing headless Service (spec.serviceName, the pods' DNS names). None: `<name>-headless`, which
    # the program makes: in clustering mode dns it is the membership Service already there, in mode api its
    # own. A name of your own: a headless Service you keep.
    service_name: Annotated[str, Field(pattern=r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")] | None = Field(
        default=None, description=(
        "kind StatefulSet: its governing headless Service (None: <name>-headless, made for you)"))
    # OrderedReady: member 0 first, each next one once the previous is Ready (Kubernetes' default). Parallel:
    # all at once, as the RC and the Deployment start them.
    pod_management_policy: Literal["OrderedReady", "Parallel"] = Field(default="OrderedReady", description=(
        "kind StatefulSet: OrderedReady (one at a time) or Parallel"))


class DisruptionBudget(_Strict):
    """A PodDisruptionBudget over the members, made only when there is more than one (as the chart does).
    Exactly one of min_available and max_unavailable: a whole number or a percentage such as "50%"."""

    enabled: bool = Field(default=True, description="make a PodDisruptionBudget when there is more than one member")
    min_available: int | str | None = Field(default=None, description=(
        "minAvailable (a number or a percentage such as 50%)"))
    max_unavailable: int | str | None = Field(default=None, description="maxUnavailable instead of min_available")


class AntiAffinity(_Strict):
    """Pod anti-affinity between members of one profile: `preferred` spreads them over topology_key when the
    cluster can (weight 100); `required` refuses to put two on one (more members than nodes stay Pending)."""

    type: Literal["preferred", "required", "none"] = Field(default="preferred", description=(
        "preferred (spread when the cluster can), required, or none"))
    topology_key: str = Field(default="kubernetes.io/hostname", description=(
        "the node label members are spread over (kubernetes.io/hostname)"))


class TopologySpread(_Strict):
    # a node label, e.g. topology.kubernetes.io/zone
    topology_key: str = Field(description="the node label to spread over (e.g. topology.kubernetes.io/zone)")
    max_skew: Annotated[int, Field(ge=1)] = Field(default=1, description=(
        "maxSkew: the largest difference in members between two domains"))
    # ScheduleAnyway: a preference. DoNotSchedule: nodes without the label, or a skew above max_skew, refuse.
    when_unsatisfiable: Literal["ScheduleAnyway", "DoNotSchedule"] = Field(default="ScheduleAnyway", description=(
        "ScheduleAnyway (soft) or DoNotSchedule"))


class Toleration(_Strict):
    # None with operator Exists: tolerate every taint
    key: str | None = Field(default=None, description="the taint's key")
    operator: Literal["Equal", "Exists"] = Field(default="Equal", description="Equal or Exists")
    value: str | None = Field(default=None, description="the taint's value (operator Equal)")
    # None: every effect
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = Field(default=None, description=(
        "NoSchedule, PreferNoSchedule or NoExecute; None: any"))
    # NoExecute only
    toleration_seconds: Annotated[int, Field(ge=0)] | None = Field(default=None, description=(
        "NoExecute: how long a member stays after the taint appears"))


class Autoscaler(_Strict):
    """A HorizontalPodAutoscaler (autoscaling/v2) on the workload's CPU. With it on, the program leaves
    spec.replicas to the autoscaler (it never sends the field), so `pulumi up --refresh` does not fight it."""

    enabled: bool = Field(default=False, description=(
        "make a HorizontalPodAutoscaler (not with kind ReplicationController)"))
    # None: workload.replicas (as the chart does)
    min_replicas: Annotated[int, Field(ge=0)] | None = Field(default=None, description=(
        "its minReplicas (None: workload.replicas)"))
    max_replicas: Annotated[int, Field(ge=1, le=100)] = Field(default=4, description="its maxReplicas")
    # percent of the CPU request, averaged
    cpu_utilization: Annotated[int, Field(ge=1, le=1000)] = Field(default=65, description=(
        "its target average CPU utilization, percent of the request"))


Report = Callable[[tuple[str | int, ...], str, str], None]  # (key, message, fix)


def members_at_least(replicas: int, autoscaler: Autoscaler) -> int:
    """How many members the program keeps as a floor: the autoscaler's minimum when it runs."""
    if autoscaler.enabled:
        return autoscaler.min_replicas if autoscaler.min_replicas is not None else replicas
    return replicas


def availability_problems(name: str, w: Workload, problem: Report) -> None:
    """Everything the API server, the scheduler or the disruption controller would refuse or quietly get wrong,
    checked against the key the user wrote."""
    key: tuple[str | int, ...] = ("workload",)
    _statefulset(name, w, problem)
    _budget(w, problem)
    _autoscaler(w, problem)
    if w.anti_affinity.type != "none":
        _qualified((*key, "anti_affinity", "topology_key"), w.anti_affinity.topology_key, "node label", problem)
    seen: set[tuple[str, str]] = set()
    for i, spread in enumerate(w.topology_spread):
        _qualified((*key, "topology_spread", i, "topology_key"), spread.topology_key, "node label", problem)
        pair = (spread.topology_key, spread.when_unsatisfiable)
        if pair in seen:
            problem((*key, "topology_spread", i), f"repeats topology_key {spread.topology_key} with "
                    f"{spread.when_unsatisfiable}; the API server refuses two such constraints",
                    "keep one entry per topology_key and when_unsatisfiable")
        seen.add(pair)
    for label, value in w.node_selector.items():
        _qualified((*key, "node_selector", label), label, "node label", problem)
        _label_value((*key, "node_selector", label), value, problem)
    for i, tol in enumerate(w.tolerations):
        _toleration((*key, "tolerations", i), tol, problem)
    for label, value in w.pod_labels.items():
        at = (*key, "pod_labels", label)
        if label in SELECTOR_LABEL_KEYS or label.startswith(PROGRAM_DOMAIN):
            problem(at, f"'{label}' is one of the program's own pod labels (the Service, the disruption budget "
                    "and the workload select the members by them)",
                    "use a key of your own, e.g. example.com/team; the program's are "
                    f"{', '.join(SELECTOR_LABEL_KEYS)} and {PROGRAM_DOMAIN}*")
            continue
        _qualified(at, label, "label key", problem)
        _label_value(at, value, problem)
    for annotation in w.pod_annotations:
        at = (*key, "pod_annotations", annotation)
        if annotation.startswith(PROGRAM_DOMAIN):
            problem(at, f"'{annotation}' is in the program's own domain {PROGRAM_DOMAIN} (the pod template's "
                    "hash lives there)", "use a key of your own, e.g. example.com/owner")
            continue
        _qualified(at, annotation, "annotation key", problem)


def _statefulset(name: str, w: Workload, problem: Report) -> None:
    kind, service = w.kind, w.statefulset.service_name
    if service is None:
        return
    at = ("workload", "statefulset", "service_name")
    if kind != "StatefulSet":
        problem(at, f"is set but workload.kind is {kind}; only a StatefulSet has a governing Service",
                "remove workload.statefulset.service_name, or set workload.kind: StatefulSet")
    elif service == name:
        problem(at, f"'{service}' is the members' own Service (NodePort/ClusterIP), which is not headless: the pods "
                "would get no DNS names of their own", f"remove it (null: {name}-headless, made by the program) "
                "or name a headless Service of yours")


def _budget(w: Workload, problem: Report) -> None:
    b = w.disruption_budget
    if not b.enabled:
        return
    at = ("workload", "disruption_budget")
    # Named at the key most likely just written: hieradata sets min_available, so a second number is the
    # max_unavailable someone added, and no number is a min_available someone cleared.
    if b.min_available is not None and b.max_unavailable is not None:
        problem((*at, "max_unavailable"), "is set and so is min_available; a budget takes exactly one of the two",
                "set workload.disruption_budget.min_available: null to keep max_unavailable, or remove "
                "max_unavailable")
        return
    if b.min_available is None and b.max_unavailable is None:
        problem((*at, "min_available"), "is null and so is max_unavailable; a budget takes exactly one of the two",
                'set workload.disruption_budget.min_available: "50%" (the WSO2 chart\'s) or max_unavailable: 1, or '
                "disruption_budget.enabled: false")
        return
    field, value = ("min_available", b.min_available) if b.min_available is not None else (
        "max_unavailable", b.max_unavailable)
    if isinstance(value, bool) or (isinstance(value, int) and value < 0) or (
            isinstance(value, str) and not PERCENT.match(value)):
        problem((*at, field), f"{value!r} is neither a whole number nor a percentage",
                'write a number of members such as 1, or a percentage such as "50%"')
        return
    members = members_at_least(w.replicas, w.autoscaler)
    if members <= 1:
        return  # no budget is made for a single member (a drain must be able to move it)
    blocks = (field == "min_available" and (value == "100%" or (isinstance(value, int) and value >= members))) or (
        field == "max_unavailable" and value in (0, "0%"))
    if blocks:
        problem((*at, field), f"{value!r} with {members} members allows no voluntary eviction at all: a node "
                "drain or a cluster upgrade would wait forever", 'allow at least one, e.g. min_available: "50%" '
                "or max_unavailable: 1")


def _autoscaler(w: Workload, problem: Report) -> None:
    a, kind, replicas = w.autoscaler, w.kind, w.replicas
    if not a.enabled:
        return
    at = ("workload", "autoscaler")
    if kind == "ReplicationController":
        # The API server would accept it (an RC has the scale subresource, and the HPA scales it), but the
        # program's RC is replaced on every pod template change: each new generation starts at 1 member
        # while the autoscaled old one is deleted.
        problem((*at, "enabled"), "needs workload.kind Deployment or StatefulSet: the program replaces the "
                "ReplicationController (a new name) on every rollout, so each new generation would start from "
                "one member", "set workload.kind: Deployment (or StatefulSet), or autoscaler.enabled: false")
    low = a.min_replicas if a.min_replicas is not None else replicas
    low_key = (*at, "min_replicas") if a.min_replicas is not None else ("workload", "replicas")
    if low < 1:
        problem(low_key, "is 0, and an autoscaler keeps at least one member",
                "set workload.autoscaler.min_replicas (or workload.replicas) to 1 or more")
    elif a.max_replicas < low:
        problem((*at, "max_replicas"), f"{a.max_replicas} is below the autoscaler's minimum {low}"
                f" (from {'workload.autoscaler.min_replicas' if a.min_replicas is not None else 'workload.replicas'})",
                f"set workload.autoscaler.max_replicas to {low} or more")


def _toleration(at: tuple[str | int, ...], t: Toleration, problem: Report) -> None:
    if t.operator == "Exists" and t.value:
        problem((*at, "value"), "is set but operator is Exists, which matches any value",
                "remove value, or set operator: Equal")
    if not t.key and t.operator != "Exists":
        problem((*at, "key"), "is empty with operator Equal; only Exists may tolerate every taint",
                "name the taint's key, or set operator: Exists")
    if t.key:
        _qualified((*at, "key"), t.key, "taint key", problem)
    if t.toleration_seconds is not None and t.effect != "NoExecute":
        problem((*at, "toleration_seconds"), f"applies only to effect NoExecute, not {t.effect}",
                "set effect: NoExecute, or remove toleration_seconds")


def _qualified(at: tuple[str | int, ...], text: str, what: str, problem: Report) -> None:
    if len(text) > 316 or not QUALIFIED_NAME.match(text) or len(text.rsplit("/", 1)[-1]) > 63:
        problem(at, f"'{text}' is not a valid {what}", "write [prefix/]name: a DNS subdomain prefix and a name of "
                "at most 63 letters, digits, '-', '_' or '.', alphanumeric at both ends (e.g. example.com/team)")


def _label_value(at: tuple[str | int, ...], value: str, problem: Report) -> None:
    if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
        problem(at, f"{value!r} is not a valid label value", "use at most 63 letters, digits, '-', '_' or '.', "
                "alphanumeric at both ends (quote values YAML reads as numbers or booleans)")
