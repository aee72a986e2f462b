"""A dependency goes away in the middle of `pulumi up` (a rollout: image rebuilt and pushed, new RC created):
the registry stopped, the Docker daemon restarted, the API server restarted.

What is kept, for each: the old members serve throughout (0 failed requests through the node port); the up
either fails with an error that names the dependency, or rides it out; nothing is left that the next up (after
tools/pulumi/recover.py, as tools/up.sh runs it) cannot finish: it converges (tests/reliability/common.py
assert_converged). These stop SHARED engines: each holds /tmp/engine-tests.lock throughout and brings the engine
back with the project's own tools before it lets go. Docker and API server restarts are marked `disruptive`
(left out of the default run: other jobs' builds and watches break while they run).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.engine.conftest import DOCKER, PROJECT_DIR, http_get
from tests.engine.stack import ProjectStack, wait_until
from tests.reliability.common import (
    IMAGE_LINE,
    RequestLoop,
    admin_password,
    assert_converged,
    console,
    engine_lock,
    make_stack,
    rcs,
    recover,
    up_until,
)

RUN = secrets.token_hex(4)
NAMESPACE = f"wso2k8s-rel-deps-{RUN}"
FIGURES: dict[str, object] = {}
CLUSTER_RUN = Path(os.environ.get("WSO2K8S_STATE", "/var/lib/wso2-kubernetes")) / "cluster/run"


@pytest.fixture(scope="module")
def stack(engines_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProjectStack]:
    s = make_stack(tmp_path_factory.mktemp("deps"), "deps", engines_env, NAMESPACE, admin_password(RUN))
    s.up()
    yield s
    recover(s)
    s.pulumi("destroy", "--yes", "--skip-preview", check=False)
    print("\ndependency-down figures:", json.dumps(FIGURES, indent=1, default=str), *s.log, sep="\n  ")


def _tool(*args: str) -> None:
    subprocess.run([str(PROJECT_DIR / args[0]), *args[1:]], check=True, capture_output=True, timeout=600)


def _fault(stack: ProjectStack, name: str, at: Callable[[str], bool], stop: Callable[[], None],
           restore: Callable[[], None], names: tuple[str, ...]) -> None:
    """One fault during one rollout; the figures and the checks are the same for every dependency."""
    stack.set_config("clustering", {"domain": f"rel.{name}.{secrets.token_hex(2)}"})
    with engine_lock(), RequestLoop(console(stack) + "/carbon/") as loop:
        try:
            proc, output, fired = up_until(stack, at, lambda _: stop())
            FIGURES[f"{name}: stopped after s"] = fired
            FIGURES[f"{name}: up exit code"] = proc.returncode
            # what tools/up.sh prints after a failed up: pulumi-docker-build says only "exit status 1"
            diagnosis = subprocess.run([str(PROJECT_DIR / ".venv/bin/python"), "-m", "wso2k8s.diagnose", "--engines"],
                                       cwd=PROJECT_DIR, env={**os.environ, **stack.env}, capture_output=True, text=True)
        finally:
            restore()
        if proc.returncode != 0:
            error = output[output.find("Diagnostics:"):output.find("Outputs:")]
            FIGURES[f"{name}: pulumi's error"] = error.strip()[:400]
            FIGURES[f"{name}: diagnosis"] = diagnosis.stdout.strip()
            assert any(n in error + diagnosis.stdout for n in names), (error, diagnosis.stdout)
        recovered = recover(stack)
        assert recovered.returncode == 0, recovered.stdout + recovered.stderr
        started = time.monotonic()
        stack.pulumi("up", "--yes", "--skip-preview", timeout=900)
        FIGURES[f"{name}: next up converged in s"] = time.monotonic() - started
    FIGURES[f"{name}: requests ok / failed"] = (len(loop.latencies), len(loop.failures))
    assert loop.failures == [], loop.failures[:5]
    assert_converged(stack, NAMESPACE)


def test_registry_stopped_during_the_push(stack: ProjectStack) -> None:
    def restore() -> None:
        _tool("tools/docker/registry.sh", "up")
        wait_until(lambda: http_get("http://127.0.0.1:5000/v2/")[0] == 200, 60, "the registry")

    def stop() -> None:
        _tool("tools/docker/registry.sh", "down")  # it stops only a registry it started: check that it did
        with pytest.raises(OSError):
            http_get("http://127.0.0.1:5000/v2/", timeout=2)

    _fault(stack, "registry", lambda out: bool(IMAGE_LINE.search(out)), stop, restore,
           ("the registry 127.0.0.1:5000 does not answer",))


@pytest.mark.disruptive
def test_docker_daemon_restarted_during_the_build(stack: ProjectStack) -> None:
    def stop() -> None:
        _tool("tools/docker/engine.sh", "down")  # it stops only a daemon it started: check that it did
        assert subprocess.run([DOCKER, "version"], capture_output=True).returncode != 0, "dockerd still answers"

    _fault(stack, "docker", lambda out: bool(IMAGE_LINE.search(out)), stop,
           lambda: _tool("tools/docker/engine.sh", "up"),
           ("the Docker daemon does not answer", "docker", "daemon", "buildkit"))


def _gone(pid: int) -> bool:
    """Exited: no process, or a zombie nobody reaps (the daemon's parent is gone; this machine's pid 1 may not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _restart_api_server() -> None:
    """Stop the API server and start it again with its own command line, the way cluster.sh's bg() did
    (tools/detach.sh, same pid file and log): the rest of the cluster (etcd, kubelet, pods) keeps running.
    `cluster.sh up` would restart every component (and every pod) to bring back one."""
    pid = int((CLUSTER_RUN / "kube-apiserver.pid").read_text())
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    os.kill(pid, 15)
    # it drains first: watches and other long requests get up to its 60 s shutdown timeout (68 s measured here)
    wait_until(lambda: _gone(pid), 150, "the API server to stop")
    log = CLUSTER_RUN.parent / "log/kube-apiserver.log"
    with open(log, "ab") as out:
        subprocess.Popen(["setsid", str(PROJECT_DIR / "tools/detach.sh"), str(CLUSTER_RUN / "kube-apiserver.pid"),
                          *(a.decode() for a in argv)], stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                         start_new_session=True)


@pytest.mark.disruptive
def test_api_server_restarted_while_the_new_rc_starts(stack: ProjectStack) -> None:
    old = rcs(stack, NAMESPACE)

    def healthy() -> None:
        try:
            wait_until(lambda: subprocess.run([str(PROJECT_DIR / "tools/kubernetes/cluster.sh"), "status"],
                                              capture_output=True).returncode == 0, 90, "the cluster healthy again")
        except AssertionError:
            _tool("tools/kubernetes/cluster.sh", "up")  # the tool's own restart (every component; etcd kept)
            raise

    _fault(stack, "apiserver", lambda out: bool(rcs(stack, NAMESPACE) - old), _restart_api_server, healthy,
           ("16443", "connection refused", "apiserver", "API server", "EOF"))
