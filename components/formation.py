"""FormationGate: `pulumi up` succeeds only when the members formed one Hazelcast cluster.

No chart or anchor does this: they wait for readiness, and a pod is ready long before (or without) finding the
others. After the workload is ready, a Pulumi dynamic resource asks each member's own Hazelcast for its member
list (wso2k8s/formation.py, through the API server's pod proxy with the stack's kubeconfig, so it works on any
cluster the stack deploys to) until every member sees `replicas` members. On timeout the `up` fails naming the
missing members, with each one's own reason (pod state, its last ERROR/WARN log lines); the next `up` checks again.

Its inputs are the workload's name, selector and pod template (image included), so every rollout re-checks;
they hold a kubeconfig *path*, never credentials. Its outputs are the member lists and the time it took.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult

from wso2k8s import formation
from wso2k8s.kubeapi import KubeApi, KubeApiError

# Inputs whose change means a new generation of members (or a new way to ask them): re-check.
_CHECKED = ("workload", "namespace", "selector", "replicas", "port", "template", "kubeconfig", "context")


class _GateProvider(ResourceProvider):
    """Runs in the engine's dynamic-provider process (pickled by reference: this module is importable).

    A cluster that did not form is not an exception here: the dynamic-provider host would print it with a
    Python traceback. It is an output (`failure`) that the program turns into a clean `pulumi up` error, and a
    recorded failure makes the next `up` check again."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=f"{props['namespace']}/{props['workload']}", outs={**props, **_check(props)})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in (*_CHECKED, "timeout") if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed) or bool(olds.get("failure")), replaces=[],
                          delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if not olds.get("failure") and not any(olds.get(k) != news.get(k) for k in _CHECKED):
            # only the timeout changed on a formed cluster: nothing to ask
            return UpdateResult(outs={**news, **{k: olds.get(k) for k in ("members", "formed_in_seconds")},
                                      "failure": None})
        return UpdateResult(outs={**news, **_check(news)})


def _check(props: dict[str, Any]) -> dict[str, Any]:
    target = formation.Target(
        workload=props["label"], namespace=props["namespace"], selector=dict(props["selector"]),
        replicas=int(props["replicas"]), port=int(props["port"]), timeout_seconds=float(props["timeout"]))
    try:
        api = KubeApi.from_kubeconfig(props["kubeconfig"], props.get("context") or None)
    except KubeApiError as err:
        return {"members": None, "formed_in_seconds": None,
                "failure": f"{target.workload}: cannot check that the members formed a cluster: {err}"}
    result = formation.wait(api, target)
    members = {v.pod: v.sees for v in result.members}
    if not result.formed:
        return {"members": members, "formed_in_seconds": None,
                "failure": formation.failure_message(result.members, target, result.seconds)}
    return {"members": members, "formed_in_seconds": round(result.seconds, 1), "failure": None}


def _formed(values: list[Any]) -> dict[str, list[str]]:
    members, failure = values
    if failure:
        raise pulumi.RunError(failure)  # the `up` fails with the message alone, no traceback
    return dict(members or {})


class _Gate(Resource, module="wso2k8s", name="FormationGate"):
    members: pulumi.Output[dict[str, list[str]]]
    formed_in_seconds: pulumi.Output[float]
    failure: pulumi.Output[str | None]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(_GateProvider(), name,
                         {**props, "members": None, "formed_in_seconds": None, "failure": None}, opts)


@dataclass(frozen=True)
class FormationGateArgs:
    label: str  # how messages name the members, e.g. "wso2is (profile default)"
    namespace: str
    workload_name: pulumi.Input[str]
    selector: pulumi.Input[dict[str, str]]  # the current generation's pods
    template: pulumi.Input[str]  # a digest of the pod template (image included): a rollout changes it
    replicas: int
    port: int  # clustering.local_member_port (Hazelcast REST: hazelcast.rest.enabled in hazelcast.properties)
    timeout_seconds: int
    kubeconfig: str  # a path, as the provider has it; never its content
    context: str | None = None


class FormationGate(pulumi.ComponentResource):
    gate: _Gate
    members: pulumi.Output[dict[str, list[str]]]
    formed_in_seconds: pulumi.Output[float]

    def __init__(self, name: str, args: FormationGateArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("wso2k8s:kubernetes:FormationGate", name, None, opts)
        self.gate = _Gate(f"{name}-check", {
            "label": args.label, "workload": args.workload_name, "namespace": args.namespace,
            "selector": args.selector, "template": args.template, "replicas": args.replicas, "port": args.port,
            "timeout": args.timeout_seconds, "kubeconfig": args.kubeconfig, "context": args.context or "",
        }, pulumi.ResourceOptions(parent=self))
        # what each member saw; resolving it fails the `up` when they did not form
        self.members = pulumi.Output.all(self.gate.members, self.gate.failure).apply(_formed)
        self.formed_in_seconds = self.gate.formed_in_seconds
        self.register_outputs({"members": self.members, "formed_in_seconds": self.formed_in_seconds})


def generation_of(workload: Any) -> tuple[pulumi.Output[dict[str, str]], pulumi.Output[str]]:
    """The selector of the workload's current pods and its pod-template hash (CarbonCluster's
    TEMPLATE_HASH_LABEL: a label of the RC's pods, an annotation of the Deployment's template)."""
    from .carbon_cluster import TEMPLATE_HASH_LABEL

    def get(obj: Any, key: str) -> Any:  # the SDK hands back typed objects or plain dicts (snake_case keys)
        return (obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)) if obj is not None else None

    def selector(spec: Any) -> dict[str, str]:
        sel = get(spec, "selector") or {}
        labels = get(sel, "match_labels")  # a Deployment's LabelSelector; an RC's selector is the labels
        return dict(labels if labels is not None else sel)

    def template(spec: Any) -> str:
        labels = selector(spec)
        if TEMPLATE_HASH_LABEL in labels:
            return labels[TEMPLATE_HASH_LABEL]
        return str((get(get(get(spec, "template"), "metadata"), "annotations") or {}).get(TEMPLATE_HASH_LABEL, ""))

    return workload.spec.apply(selector), workload.spec.apply(template)
