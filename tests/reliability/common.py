"""What the reliability tests share: a small isolated stack, a request loop through the Service's node port,
the members' pods, and the engine lock for tests that stop a shared engine."""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.engine.conftest import PROJECT_DIR, http_get
from tests.engine.isolation import free_node_ports
from tests.engine.stack import ProjectStack, kube_json, wait_until

ENGINE_LOCK = Path("/tmp/engine-tests.lock")
KEYSTORE_PASSWORD = "wso2carbon"  # the stock keystores open only with it (the loader checks)
SMALL = {"replicas": 2, "java_opts": "-Xms32m -Xmx128m",
         "resources": {"cpu_request": "50m", "memory_request": "128Mi", "cpu_limit": "1", "memory_limit": "512Mi"}}


def admin_password(run: str) -> str:
    """A test password that also tests the scans: markup, unicode, a tab, URL- and base64-hostile bytes."""
    return f"Rel-{run} pä$$ wörd ✓\t<&>\"' +/= %41 @@ true"


def make_stack(root: Path, name: str, env: dict[str, str], namespace: str, password: str,
               **workload: Any) -> ProjectStack:
    """A two-member stack of the default profile on its own namespace, node ports and image tags."""
    stack = ProjectStack.create(root, name, env, passphrase=secrets.token_hex(16))
    stack.isolate("wso2is", "5.1.0", namespace, free_node_ports(env, 4))
    stack.set_config("profiles", ["default"])
    stack.set_config("workload", {**SMALL, **workload})
    # its own image tag too: another module's stack (same product) pushing the same tag would move it
    stack.set_config("product_image", {"tag": f"rel-{name}"})
    stack.set_secret("admin_password", password)
    stack.set_secret("keystore_password", KEYSTORE_PASSWORD)
    return stack


def pods(env: dict[str, str], namespace: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = kube_json(env, "get", "pods", "-n", namespace, "-l", "name=wso2is")["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def ready_pods(env: dict[str, str], namespace: str) -> list[str]:
    ready = []
    for pod in pods(env, namespace):
        conditions = {c["type"]: c["status"] for c in pod["status"].get("conditions", [])}
        if conditions.get("Ready") == "True":
            ready.append(pod["metadata"]["name"])
    return ready


def console(stack: ProjectStack) -> str:
    return f"https://127.0.0.1:{stack.node_ports['servlet-https']}"


@dataclass
class RequestLoop:
    """GETs `url` back to back from a thread (a fresh connection each: what a browser's new tab does) until
    stopped; keeps every latency and every failure. A 200 is a success, anything else a failure."""

    url: str
    pause: float = 0.1
    timeout: float = 5
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                status, _ = http_get(self.url, timeout=self.timeout)
                if status == 200:
                    self.latencies.append(time.monotonic() - started)
                else:
                    self.failures.append(f"HTTP {status}")
            except OSError as err:
                self.failures.append(repr(err))
            time.sleep(self.pause)

    def __enter__(self) -> RequestLoop:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread
        self._thread.join()


def _ancestors() -> set[int]:
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        with open(f"/proc/{pid}/stat") as stat:
            pid = int(stat.read().rsplit(")", 1)[1].split()[1])
    return pids


def lock_held_by_an_ancestor(path: Path = ENGINE_LOCK) -> bool:
    """True when a process above us (e.g. `flock /tmp/engine-tests.lock bash tools/test.sh`) holds the lock:
    taking it again here would wait for ourselves."""
    if not path.exists():
        return False
    inode = os.stat(path).st_ino
    ancestors = _ancestors()
    with open("/proc/locks") as locks:
        for line in locks:
            parts = line.split()
            # "1: FLOCK  ADVISORY  WRITE 1234 00:2d:5678 0 EOF"  (a blocked waiter's line has '->' in it)
            if "->" in parts or len(parts) < 6 or parts[1] != "FLOCK":
                continue
            pid, dev_inode = int(parts[4]), parts[5]
            if int(dev_inode.rsplit(":", 1)[1]) == inode and pid in ancestors:
                return True
    return False


@contextmanager
def engine_lock() -> Iterator[None]:
    """Hold /tmp/engine-tests.lock for a test that stops a shared engine, unless our caller already does."""
    if lock_held_by_an_ancestor():
        yield
        return
    with open(ENGINE_LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n*q/100), at least 1
    return ordered[int(rank) - 1]


IMAGE_LINE = re.compile(r"docker-build:index:Image\s+\S+\s+(updating|creating)")  # pulumi's progress line
RECOVER = PROJECT_DIR / "tools/pulumi/recover.py"


def rcs(stack: ProjectStack, namespace: str) -> set[str]:
    return {r["metadata"]["name"] for r in kube_json(stack.env, "get", "rc", "-n", namespace)["items"]}


def up_until(stack: ProjectStack, at: Callable[[str], bool], then: Callable[[subprocess.Popen[bytes]], object],
             limit: float = 600) -> tuple[subprocess.Popen[bytes], str, float | None]:
    """Start `pulumi up`; when `at(output so far)` first holds (checked on each output and every 0.2 s), call
    `then(process)` once (a signal, an engine stopped); wait for the end. (process, output, seconds to `then`)."""
    proc = subprocess.Popen(["pulumi", "up", "--yes", "--skip-preview"], cwd=stack.dir, env=stack.env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout
    fd = proc.stdout.fileno()
    os.set_blocking(fd, False)  # bytes from the fd itself: a text wrapper's read() fails on a non-blocking pipe
    started, output, fired = time.monotonic(), b"", None

    def drain() -> bytes:
        chunks = b""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                return chunks
            if not chunk:
                return chunks
            chunks += chunk

    while proc.poll() is None:
        output += drain()
        if fired is None and at(output.decode(errors="replace")):
            then(proc)
            fired = time.monotonic() - started
        if time.monotonic() - started > limit:
            proc.kill()
            raise AssertionError(f"pulumi up did not end in {limit}s: {output[-3000:]!r}")
        time.sleep(0.2)
    os.set_blocking(fd, True)
    output += proc.stdout.read()
    return proc, output.decode(errors="replace"), fired


def interrupt(stack: ProjectStack, sig: signal.Signals, at: Callable[[str], bool]) -> tuple[str, float]:
    _, output, fired = up_until(stack, at, lambda proc: proc.send_signal(sig))
    assert fired is not None, f"the point was never reached; the up ended first:\n{output[-3000:]}"
    return output, fired


def recover(stack: ProjectStack) -> subprocess.CompletedProcess[str]:
    """tools/pulumi/recover.py, as tools/up.sh runs it before an up."""
    return subprocess.run([sys.executable, str(RECOVER), str(stack.state_dir), stack.name, "--", "pulumi"],
                          cwd=stack.dir, env=stack.env, capture_output=True, text=True, timeout=300)


def state_names(stack: ProjectStack) -> set[str]:
    """Kind/name of every Kubernetes object in the state; fails when a pending operation is left."""
    export = json.loads(stack.pulumi("stack", "export").stdout)["deployment"]
    assert not export.get("pending_operations"), export["pending_operations"]
    return {f"{r['type'].rsplit(':', 1)[-1]}/{r['outputs']['metadata']['name']}" for r in export["resources"]
            if r["type"].startswith("kubernetes:") and r.get("outputs", {}).get("metadata")}


def assert_converged(stack: ProjectStack, namespace: str, members: int = 2) -> None:
    """One RC (the stack's), only its pods, all ready; nothing of ours in the namespace that the state does not
    know; no pending operation; a preview with no change."""
    rc = stack.outputs()["workloads"]["default"]
    assert rcs(stack, namespace) == {rc}
    wait_until(lambda: {p["metadata"]["ownerReferences"][0]["name"] for p in pods(stack.env, namespace)} == {rc}
               and len(ready_pods(stack.env, namespace)) == members, 120, f"only {rc}'s pods, ready")
    live = set()
    for kind in ("ReplicationController", "Service", "Secret", "ServiceAccount", "Role", "RoleBinding"):
        items = kube_json(stack.env, "get", kind, "-n", namespace, "-l", "app.kubernetes.io/managed-by=wso2-kubernetes")
        live |= {f"{kind}/{i['metadata']['name']}" for i in items["items"]}
    known = state_names(stack)
    assert live <= known, f"orphans: {live - known}"
    stack.pulumi("preview", "--expect-no-changes")
