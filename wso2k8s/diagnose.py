"""Why the members are not ready, in a sentence per pod: what `pulumi up` cannot say when it gives up.

    python -m wso2k8s.diagnose <namespace>
    python -m wso2k8s.diagnose --engines [registry]    which engine does not answer (default 127.0.0.1:5000)

pulumi-kubernetes waits for a ReplicationController's available replicas and, when they never come, fails
with a timeout that names the RC but not the cause. This reads the namespace's Carbon pods (kubectl with the
caller's KUBECONFIG) and prints, for every pod that is not ready, the container's state (CrashLoopBackOff,
ImagePullBackOff, exit code, restarts) and the last lines of its previous run's log, where the server or the
JVM says what it refused. `tools/up.sh` runs it when `pulumi up` fails. Exit 0 when every pod is ready.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from typing import Any

LOG_LINES = 5
LOG_TAIL = 400  # read back that far for the last ERROR line


def _kubectl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", *args], capture_output=True, text=True, timeout=60, check=False)


def _state(status: dict[str, Any]) -> str:
    waiting = status.get("state", {}).get("waiting")
    last = status.get("lastState", {}).get("terminated") or status.get("state", {}).get("terminated")
    parts = []
    if waiting:
        parts.append(waiting.get("reason", "waiting"))
    if last:
        parts.append(f"last run exited with code {last.get('exitCode')} ({last.get('reason', '?')})")
    parts.append(f"{status.get('restartCount', 0)} restarts")
    if waiting and waiting.get("message") and "BackOff" not in waiting.get("reason", ""):
        parts.append(waiting["message"])
    return ", ".join(parts)


def explain_pod(pod: dict[str, Any], log: str) -> str | None:
    """One paragraph on a pod that is not ready, or None when it is."""
    conditions = {c["type"]: c for c in pod.get("status", {}).get("conditions", [])}
    if conditions.get("Ready", {}).get("status") == "True":
        return None
    name = pod["metadata"]["name"]
    owner = next((o["name"] for o in pod["metadata"].get("ownerReferences", [])), "-")
    statuses = pod.get("status", {}).get("containerStatuses", [])
    if not statuses:
        reason = conditions.get("PodScheduled", {}).get("message") or pod.get("status", {}).get("phase", "?")
        return f"pod {name} (of {owner}): not started: {reason}"
    lines = [f"pod {name} (of {owner}): container {s['name']}: {_state(s)}" for s in statuses]
    logged = [line for line in log.splitlines() if line.strip()]
    tail = logged[-LOG_LINES:]
    errors = [line for line in logged if " ERROR " in line]  # Carbon's level, as its log4j layout spells it
    if errors and errors[-1] not in tail:  # a running member that is not ready said why once, then went on
        lines.append("  its last error:")
        lines.append(f"    {errors[-1]}")
    if tail:
        lines.append("  its log ends with:")
        lines += [f"    {line}" for line in tail]
    return "\n".join(lines)


def diagnose(namespace: str) -> list[str]:
    proc = _kubectl("get", "pods", "-n", namespace, "-l", "app.kubernetes.io/managed-by=wso2-kubernetes",
                    "-o", "json")
    if proc.returncode != 0:
        return [f"cannot list the pods of namespace {namespace}: {proc.stderr.strip()}"]
    found = []
    for pod in json.loads(proc.stdout)["items"]:
        if pod["metadata"].get("deletionTimestamp"):
            continue
        name = pod["metadata"]["name"]
        log = _kubectl("logs", "-n", namespace, name, "--previous", f"--tail={LOG_TAIL}")
        if log.returncode != 0:  # no previous run (still starting, or never started)
            log = _kubectl("logs", "-n", namespace, name, f"--tail={LOG_TAIL}")
        text = explain_pod(pod, log.stdout if log.returncode == 0 else "")
        if text:
            found.append(text)
    return found


def engines(registry: str = "127.0.0.1:5000") -> list[str]:
    """The engines an `up` needs that do not answer, each with the command that starts it. A build that
    loses its registry or Docker fails in pulumi-docker-build with only `exit status 1`."""
    down = []
    try:
        with urllib.request.urlopen(f"http://{registry}/v2/", timeout=5):
            pass
    except OSError as err:
        down.append(f"the registry {registry} does not answer ({err}). Fix: tools/docker/registry.sh up")
    docker = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True,
                            timeout=30, check=False)
    if docker.returncode != 0:
        down.append(f"the Docker daemon does not answer ({docker.stderr.strip()[:200]}). "
                    "Fix: tools/docker/engine.sh up")
    api = _kubectl("get", "--raw", "/readyz")
    if api.returncode != 0:
        down.append(f"the Kubernetes API server does not answer ({api.stderr.strip()[:200]}). "
                    "Fix: tools/kubernetes/cluster.sh up")
    return down


def main(argv: list[str]) -> int:
    if argv[:1] == ["--engines"]:
        down = engines(*argv[1:2])
        print(*(f"wso2-kubernetes: {line}" for line in down), sep="\n")
        return 1 if down else 0
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    found = diagnose(argv[0])
    if found:
        print(f"wso2-kubernetes: members not ready in namespace {argv[0]}:", *found, sep="\n")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
