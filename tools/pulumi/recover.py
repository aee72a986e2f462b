"""Repair what an interrupted `pulumi up` (Ctrl-C twice, SIGKILL, a lost machine) leaves in a stack's state, so
that the next `up` converges with no hand work. `tools/up.sh` runs it before every `up`; it does nothing when
there is nothing to repair.

    python3 tools/pulumi/recover.py <backend dir> <stack> -- <pulumi command...>
      e.g.  python3 tools/pulumi/recover.py .pulumi-state dev -- tools/pulumi.sh dev

1. A stale lock (file backend): `pulumi up` killed by SIGKILL leaves its lock file, and every later command
   fails with "the stack is currently locked". A lock is removed only when it names this host and its process
   is gone (or is no longer a pulumi process); a live `up` keeps its lock.
2. Pending operations: the engine records "creating X" before it asks the provider and clears it after. When
   killed in between, the state keeps the operation and every later `up` warns about it; Pulumi clears pending
   creates only in an interactive `pulumi refresh`. The object may exist already, made by the killed up with
   its own server-side-apply field manager: adopted by the next up's provider (another manager) it fails with
   a field conflict. So each pending create of a named Kubernetes object is deleted from the cluster when it
   is there (the killed up made it a moment ago: a new RC generation, while the old one still serves) and all
   pending creates are cleared; the next `up` creates them afresh. `pulumi refresh` then clears the pending
   updates and deletes.
3. Objects an update cancelled by Ctrl-C made but never recorded (no pending operation is left then; adopting
   them fails with the same field conflict): objects carrying one of the stack's instance labels, in its
   namespaces, that the state does not hold are deleted.
4. A rollout that never got ready, or was cut by Ctrl-C (roll_back_failed_replacements): the old generation
   becomes the stack's resource again and the failed one leaves the state (`stack export`, edited, `stack
   import`) and then the cluster, so the next `up` does not delete the serving members first. Deleted here,
   not marked for the next `up` to delete: that `up` creates the replacement (same content, same name) before
   it deletes marked objects, and would adopt the failed one, owned by the interrupted run's field manager.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def stale_locks(backend: Path, stack: str) -> list[Path]:
    """Lock files of `stack` whose process is gone. The file backend keeps them under .pulumi/locks/<org>/
    <project>/<stack>/<id>.json with {pid, hostname, ...}."""
    stale = []
    for lock in backend.glob(f".pulumi/locks/**/{stack}/*.json"):
        try:
            content = json.loads(lock.read_text())
        except (OSError, ValueError):
            continue
        if content.get("hostname") != socket.gethostname():
            continue  # another machine's: not ours to judge
        if not _is_pulumi(int(content.get("pid", 0))):
            stale.append(lock)
    return stale


def _is_pulumi(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return Path(cmdline.split(b"\0", 1)[0].decode(errors="replace")).name == "pulumi"  # the CLI, not a plugin


def kubernetes_id(resource: dict[str, Any]) -> str | None:
    """The provider ID of a Kubernetes object from its inputs (`<namespace>/<name>`, or `<name>` when cluster
    scoped), or None when it is not a Kubernetes object or its name was not known yet."""
    if not resource.get("type", "").startswith("kubernetes:") or resource["type"].startswith("pulumi:providers:"):
        return None
    metadata = resource.get("inputs", {}).get("metadata", {})
    name, namespace = metadata.get("name"), metadata.get("namespace")
    if not isinstance(name, str) or not name:
        return None
    if isinstance(namespace, str) and namespace:
        return f"{namespace}/{name}"
    return name if resource["type"] == "kubernetes:core/v1:Namespace" else None


def refresh_args(pending: list[dict[str, Any]]) -> list[str]:
    """`pulumi refresh` that clears the pending creates (their objects are deleted first: orphan_deletes)."""
    del pending
    return ["refresh", "--yes", "--skip-preview", "--clear-pending-creates"]


def kubectl_target(resource: dict[str, Any]) -> list[str] | None:
    """`kubectl delete` arguments for a pending create's object: resource.group name [-n namespace]."""
    ident = kubernetes_id(resource)
    if not ident:
        return None
    _, group_version, kind = resource["type"].split(":")
    group = group_version.rsplit("/", 1)[0] if "/" in group_version else ""
    what = kind.lower() + ("" if group in ("", "core") else f".{group}")
    namespace, _, name = ident.rpartition("/")
    return [what, name, *(["-n", namespace] if namespace else [])]


def kubeconfig_of(deployment: dict[str, Any]) -> str | None:
    """The kubeconfig path the stack's Kubernetes provider uses (the program passes a path, never contents)."""
    for resource in deployment.get("resources") or []:
        if resource.get("type") == "pulumi:providers:kubernetes":
            value = resource.get("inputs", {}).get("kubeconfig")
            if isinstance(value, str) and "\n" not in value:
                return value
    return os.environ.get("KUBECONFIG")


def delete_command(kubeconfig: str | None, target: list[str]) -> list[str]:
    """`kubectl delete` of one object (kubectl_target), waiting until it is gone."""
    return ["kubectl", *([f"--kubeconfig={kubeconfig}"] if kubeconfig else []), "delete", "--ignore-not-found",
            "--wait=true", "--timeout=120s", *target]


def orphan_deletes(deployment: dict[str, Any]) -> list[list[str]]:
    """kubectl commands deleting the objects of pending creates (they are in no state yet)."""
    kubeconfig = kubeconfig_of(deployment)
    recorded = {r.get("id") for r in deployment.get("resources") or [] if not r.get("delete")}
    commands = []
    for op in deployment.get("pending_operations") or []:
        resource = op.get("resource", {})
        target = kubectl_target(resource) if op.get("type") == "creating" else None
        if target and kubernetes_id(resource) not in recorded:  # never one the state holds
            commands.append(delete_command(kubeconfig, target))
    return commands


@dataclass(frozen=True)
class RolledBack:
    message: str  # what changed, for the log
    failed: dict[str, Any]  # the failed generation's state entry, now out of the state: deleted from the cluster


def roll_back_failed_replacements(deployment: dict[str, Any]) -> list[RolledBack]:
    """After a rollout whose new generation never became ready (`pulumi up` failed waiting for it, or Ctrl-C
    cut it), the state holds the new object (with init errors) as the resource and the old, still serving one
    marked for deletion; the next `up` deletes marked resources first, so it would take the serving members down
    before anything else. In place: the old object is the resource again and the failed one's entry is removed
    (the caller deletes its object once the state is imported). Only for Kubernetes objects with different IDs
    (deleting the failed one must not delete the old one)."""
    resources = deployment.get("resources") or []
    # ... or whose members became ready but never formed one cluster: the FormationGate (components/formation.py)
    # recorded a failure for that workload; it is no better to keep than one that never got ready
    unformed = {r.get("outputs", {}).get("workload") for r in resources
                if r.get("type") == "pulumi-python:dynamic:Resource" and r.get("outputs", {}).get("failure")}
    by_urn: dict[str, list[dict[str, Any]]] = {}
    for resource in resources:
        by_urn.setdefault(resource.get("urn", ""), []).append(resource)
    rolled_back = []
    for urn, entries in by_urn.items():
        marked = [r for r in entries if r.get("delete")]
        live = [r for r in entries if not r.get("delete")]
        if len(marked) != 1 or len(live) != 1:
            continue
        old, new = marked[0], live[0]
        name = (new.get("outputs", {}).get("metadata") or {}).get("name")
        if not (new.get("initErrors") or name in unformed) or not str(new.get("type", "")).startswith("kubernetes:"):
            continue
        if not old.get("id") or old.get("id") == new.get("id"):
            continue
        old.pop("delete")
        resources.remove(new)
        rolled_back.append(RolledBack(
            f"{urn.rsplit('::', 1)[-1]}: {old['id']} stays, {new.get('id')} (never ready) goes", new))
    return rolled_back


KINDS = ("replicationcontroller,deployment,service,secret,serviceaccount,role.rbac.authorization.k8s.io,"
         "rolebinding.rbac.authorization.k8s.io")  # what the program creates directly (never pods, claims)
INSTANCE = "app.kubernetes.io/instance"


def unrecorded_objects(deployment: dict[str, Any], live: list[dict[str, Any]]) -> list[str]:
    """`<kind>/<namespace>/<name>` of live objects labelled with one of the stack's instances (the labels every
    object of the stack carries) that the state does not hold: what an update cancelled by Ctrl-C created
    after the provider applied it but before the engine recorded it (no pending operation is left then)."""
    # marked-for-deletion ones count as recorded: after a failed rollout that is the serving RC
    recorded = {r.get("id") for r in deployment.get("resources") or []}
    instances = {r.get("outputs", {}).get("metadata", {}).get("labels", {}).get(INSTANCE)
                 for r in deployment.get("resources") or [] if isinstance(r.get("outputs", {}).get("metadata"), dict)}
    instances.discard(None)
    found = []
    for item in live:
        meta = item.get("metadata", {})
        if meta.get("labels", {}).get(INSTANCE) in instances and meta.get("deletionTimestamp") is None:
            ident = f"{meta.get('namespace')}/{meta['name']}"
            if ident not in recorded:
                found.append(f"{item['kind'].lower()}/{meta.get('namespace')}/{meta['name']}")
    return found


def namespaces_of(deployment: dict[str, Any]) -> set[str]:
    return {str(ns) for r in deployment.get("resources") or []
            if str(r.get("type", "")).startswith("kubernetes:")
            and (ns := r.get("outputs", {}).get("metadata", {}).get("namespace"))}


def delete_unrecorded(deployment: dict[str, Any], quiet: dict[str, Any]) -> None:
    kubeconfig = kubeconfig_of(deployment)
    base = ["kubectl", *([f"--kubeconfig={kubeconfig}"] if kubeconfig else [])]
    for namespace in sorted(namespaces_of(deployment)):
        listed = subprocess.run([*base, "get", KINDS, "-n", namespace, "-l", INSTANCE, "-o", "json"],
                                capture_output=True, text=True, check=False, timeout=60)
        if listed.returncode != 0:
            continue  # the cluster does not answer: the up itself will say so
        for orphan in unrecorded_objects(deployment, json.loads(listed.stdout).get("items", [])):
            kind, ns, name = orphan.split("/", 2)
            print(f"wso2-kubernetes: deleting {orphan}: made by an interrupted update, in no state",
                  file=sys.stderr)
            subprocess.run(delete_command(kubeconfig, [kind, name, "-n", ns]), check=False, **quiet)


def main(argv: list[str]) -> int:
    if "--" not in argv or argv.index("--") != 2:
        print(__doc__.strip().splitlines()[4], file=sys.stderr)
        return 2
    backend, stack, pulumi = Path(argv[0]), argv[1], argv[3:]
    quiet = {"stdout": subprocess.DEVNULL} if os.environ.get("RECOVER_QUIET") else {"stdout": sys.stderr}
    for lock in stale_locks(backend, stack):
        print(f"wso2-kubernetes: removing the lock of a pulumi process that is gone: {lock}", file=sys.stderr)
        lock.unlink()
        lock.with_name(lock.name + ".attrs").unlink(missing_ok=True)  # the bucket library's sidecar
    export = subprocess.run([*pulumi, "stack", "export"], capture_output=True, text=True, check=False)
    if export.returncode != 0:
        return 0  # no stack yet, or no state: nothing to repair (the up itself will say what is wrong)
    pending = json.loads(export.stdout).get("deployment", {}).get("pending_operations") or []
    if pending:
        names = ", ".join(f"{op.get('type')} {op.get('resource', {}).get('urn', '?').rsplit('::', 1)[-1]}"
                          for op in pending)
        print(f"wso2-kubernetes: an interrupted update left {len(pending)} pending operation(s) ({names}); "
              "refreshing the state from the cluster", file=sys.stderr)
        for command in orphan_deletes(json.loads(export.stdout).get("deployment", {})):
            print(f"wso2-kubernetes: deleting what the interrupted update made but never recorded: "
                  f"{' '.join(command[-4:])}", file=sys.stderr)
            subprocess.run(command, check=False, **quiet)
        refreshed = subprocess.run([*pulumi, *refresh_args(pending)], check=False, **quiet)
        if refreshed.returncode != 0:
            return int(refreshed.returncode)
        export = subprocess.run([*pulumi, "stack", "export"], capture_output=True, text=True, check=True)
    state = json.loads(export.stdout)
    delete_unrecorded(state.get("deployment", {}), quiet)
    deployment = state.get("deployment", {})
    rolled_back = roll_back_failed_replacements(deployment)
    if not rolled_back:
        return 0
    print("wso2-kubernetes: the last rollout never got ready; keeping the generation that serves:",
          *(r.message for r in rolled_back), sep="\n  ", file=sys.stderr)
    with tempfile.NamedTemporaryFile("w", suffix=".json") as edited:
        json.dump(state, edited)
        edited.flush()
        imported = subprocess.run([*pulumi, "stack", "import", "--file", edited.name], check=False, **quiet)
    if imported.returncode != 0:
        return int(imported.returncode)
    # out of the state now: if this delete fails, the next recover finds it unrecorded (delete_unrecorded)
    kubeconfig = kubeconfig_of(deployment)
    for failed in (r.failed for r in rolled_back):
        target = kubectl_target(failed)
        if target:
            subprocess.run(delete_command(kubeconfig, target), check=False, **quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
