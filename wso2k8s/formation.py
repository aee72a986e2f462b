"""Has the cluster formed? Each member's own Hazelcast is asked for its member list (GET /hazelcast/rest/cluster
on the member port, Hazelcast 3.5's REST endpoint, through the API server's pod proxy), and the cluster has
formed when every member of the workload sees every other. No Pulumi here: components/formation.py runs this
from `pulumi up`; the tests call it directly.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

# "Member [10.0.0.5]:4000 this" in Hazelcast 3.x's membersString()
_MEMBER = re.compile(r"Member \[([^\]]+)\]:(\d+)")
_COUNT = re.compile(r"Members \[(\d+)\]")
LOG_LINES = 200  # read from each not-formed member's log; the few that say why are quoted


class Api(Protocol):
    def pods(self, namespace: str, selector: dict[str, str]) -> list[dict[str, Any]]: ...
    def pod_proxy(self, namespace: str, pod: str, port: int, path: str) -> str: ...
    def pod_log(self, namespace: str, pod: str, lines: int) -> str: ...


@dataclass(frozen=True)
class Target:
    workload: str  # for messages, e.g. "wso2is (profile default)"
    namespace: str
    selector: dict[str, str]  # the pods of the current generation
    replicas: int
    port: int  # localMemberPort
    timeout_seconds: float


@dataclass
class MemberView:
    pod: str
    ip: str | None
    phase: str
    sees: list[str] | None = None  # "ip:port" Hazelcast reports, None when it could not be asked
    problem: str | None = None  # why it could not be asked / is not running
    log: list[str] = field(default_factory=list)  # the member's own lines that say why (filled on failure)


@dataclass
class Result:
    formed: bool
    members: list[MemberView]
    seconds: float


class FormationError(Exception):
    pass


def parse_cluster(text: str) -> list[str]:
    """The "ip:port" members of Hazelcast's /hazelcast/rest/cluster answer."""
    count = _COUNT.search(text)
    members = [f"{ip}:{port}" for ip, port in _MEMBER.findall(text)]
    if count is None or int(count.group(1)) != len(members):
        raise ValueError(f"not a Hazelcast member list: {text.strip()[:200]!r}")
    return members


def observe(api: Api, t: Target) -> list[MemberView]:
    views = []
    for pod in sorted(api.pods(t.namespace, t.selector), key=lambda p: p["metadata"]["name"]):
        if pod["metadata"].get("deletionTimestamp"):
            continue  # leaving: not a member of this generation any more
        name, status = pod["metadata"]["name"], pod.get("status") or {}
        view = MemberView(name, status.get("podIP"), status.get("phase", "Unknown"))
        if view.phase != "Running" or not view.ip:
            view.problem = _pod_problem(status)
        else:
            try:
                view.sees = parse_cluster(api.pod_proxy(t.namespace, name, t.port, "/hazelcast/rest/cluster"))
            except Exception as err:  # whatever it is, it is this member's reason
                view.problem = f"its Hazelcast does not answer on port {t.port}: {err}"
        views.append(view)
    return views


def formed(views: list[MemberView], t: Target) -> bool:
    """Every member of this generation sees every other. It may see more: during a rollout the old generation
    is in the same Hazelcast cluster until Pulumi deletes it (after this check), and an autoscaler may run more
    than `replicas`."""
    ips = {v.ip for v in views}
    return len(views) >= t.replicas and all(
        v.sees is not None and ips <= {s.split(":")[0] for s in v.sees} for v in views)


def wait(api: Api, t: Target, *, sleep: Callable[[float], None] = time.sleep,
         clock: Callable[[], float] = time.monotonic, interval: float = 2.0) -> Result:
    start = clock()
    while True:
        views = observe(api, t)
        if formed(views, t):
            return Result(True, views, clock() - start)
        if clock() - start >= t.timeout_seconds:
            ips = {v.ip for v in views}
            for v in views:
                if v.sees is None or not ips <= {s.split(":")[0] for s in v.sees}:
                    v.log = _reasons(api, t, v.pod)
            return Result(False, views, clock() - start)
        sleep(interval)


def failure_message(views: list[MemberView], t: Target, seconds: float) -> str:
    """Which members are missing, seen from each member, and each not-formed member's own reason."""
    ips = {v.ip: v.pod for v in views if v.ip}
    lines = [f"{t.workload}: the members did not form one Hazelcast cluster in {seconds:.0f} s: expected "
             f"{t.replicas} members, each seeing {t.replicas} (namespace {t.namespace}, Hazelcast on port {t.port})."]
    if len(views) < t.replicas:
        lines.append(f"  - only {len(views)} of {t.replicas} member pods exist")
    for v in views:
        who = f"{v.pod} ({v.ip})" if v.ip else v.pod
        if v.sees is None:
            lines.append(f"  - {who}: {v.problem}")
        else:
            seen = {s.split(":")[0] for s in v.sees}
            missing = sorted(f"{ips[ip]} ({ip})" for ip in ips if ip not in seen)
            strangers = sorted(s for s in v.sees if s.split(":")[0] not in ips)
            state = f"sees {len(v.sees)} of {t.replicas}"
            if missing:
                state += "; missing " + ", ".join(missing)
            if strangers:
                state += "; also sees " + ", ".join(strangers) + " (not a pod of this generation)"
            if not missing and len(ips) >= t.replicas:
                state += " (ok)"
            lines.append(f"  - {who}: {state}")
        for log in v.log:
            lines.append(f"      {log}")
    lines.append("Fix: read the member lines above (a wrong clustering.local_member_port, a member that cannot "
                 "reach the others, a database error); `kubectl logs` the pods for more. To deploy without this "
                 "check: clustering.await_formation.enabled: false (or raise timeout_seconds).")
    return "\n".join(lines)


def _pod_problem(status: dict[str, Any]) -> str:
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return f"not scheduled: {cond.get('reason')}: {cond.get('message', '')}".strip()
    for cs in status.get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting")
        if waiting:
            return f"container {waiting.get('reason')}: {waiting.get('message', '')}".strip(": ")
    return f"pod is {status.get('phase', 'Unknown')}, no IP yet"


def _reasons(api: Api, t: Target, pod: str) -> list[str]:
    """The member's last ERROR lines (else WARN lines, else its last lines): what it says about itself."""
    try:
        lines = [line.rstrip() for line in api.pod_log(t.namespace, pod, LOG_LINES).splitlines() if line.strip()]
    except Exception as err:
        return [f"(its log cannot be read: {err})"]
    errors = [line for line in lines if " ERROR " in line]
    said = errors or [line for line in lines if " WARN " in line] or lines
    return [f"log: {line[:300]}" for line in said[-3:]]
