"""Program overhead, cluster life and behaviour under load, on one throwaway stack of the project (its own
namespace, node ports and image tags, like the engine tests), then the same Kubernetes objects from literal
values through benchmarks/bare. Holds /tmp/engine-tests.lock throughout (minutes).

    .venv/bin/python benchmarks/overhead.py        → build/benchmarks/overhead.json (benchmarks/run.py prints it)

BENCH_REPEATS (5) repeats of each preview / no-change up. The load (benchmarks/load.py), each request a fresh
TLS connection to the console through the Service's node port: idle, while the member the client is sticky to
is deleted, and during a rollout of a rendered setting. The same through the edge: benchmarks/entry.py.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from benchmarks.load import RATE, paced_load  # noqa: E402
from benchmarks.stats import Repeats  # noqa: E402
from tests.engine.conftest import _exports, http_get  # noqa: E402
from tests.engine.stack import ProjectStack, kubectl, wait_until  # noqa: E402
from tests.reliability.common import admin_password, console, engine_lock, make_stack, pods, ready_pods  # noqa: E402

REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
OUT = PROJECT_DIR / "build/benchmarks/overhead.json"


def timed(action: Callable[[], object]) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


def members_seen(stack: ProjectStack) -> int:
    return len(json.loads(http_get(console(stack) + "/cluster/members", timeout=5)[1])["members"])


def repeat(stack_dir: Path, env: dict[str, str], *args: str) -> Repeats:
    values = []
    for _ in range(REPEATS):
        started = time.monotonic()
        subprocess.run(["pulumi", *args], cwd=stack_dir, env=env, check=True, capture_output=True, timeout=900)
        values.append(time.monotonic() - started)
    return Repeats(tuple(values))


def kubernetes_objects(stack: ProjectStack) -> list[dict[str, Any]]:
    """Type, name and inputs of every Kubernetes object in the stack's state (secrets in plain: the
    benchmark's throwaway passwords, kept only in its temporary folder)."""
    export = json.loads(stack.pulumi("stack", "export", "--show-secrets").stdout)["deployment"]
    return [{"type": r["type"], "name": r["urn"].rsplit("::", 1)[-1], "inputs": unwrap(r["inputs"])}
            for r in export["resources"] if r["type"].startswith("kubernetes:") and r.get("custom")
            and not r["type"].startswith("pulumi:providers:")]


SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker of a secret value in a state file


def unwrap(value: Any) -> Any:
    """`stack export --show-secrets` keeps secrets wrapped ({sig, plaintext: <JSON text>}): the plain values."""
    if isinstance(value, dict):
        if SECRET_SIG in value and "plaintext" in value:
            return unwrap(json.loads(value["plaintext"]))
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def main() -> None:
    env = _exports(str(PROJECT_DIR / "tools/engines.sh"))
    root = Path(tempfile.mkdtemp(prefix="wso2k8s-bench-"))
    run = secrets.token_hex(4)
    namespace = f"wso2k8s-bench-{run}"
    results: dict[str, Any] = {"repeats": REPEATS, "rate_rps": RATE, "machine": machine()}
    try:
        with engine_lock():
            stack = make_stack(root / "stack", "bench", env, namespace, admin_password(run))
            pulumi_env = {**stack.env}
            up_s = timed(lambda: stack.pulumi("up", "--yes", "--skip-preview"))
            console_s = wait_until(lambda: http_get(console(stack) + "/carbon/", timeout=5)[0] == 200, 300, "console")
            formed_s = wait_until(lambda: len(ready_pods(env, namespace)) == 2 and members_seen(stack) == 2, 300,
                                  "2 members")
            results["life"] = {"up (cold) s": up_s, "up → console answering s": up_s + console_s,
                               "up → cluster formed (2 of 2 seen) s": up_s + console_s + formed_s}
            results["ours"] = {"preview": repeat(stack.dir, pulumi_env, "preview").values,
                               "up (no change)": repeat(stack.dir, pulumi_env, "up", "--yes", "--skip-preview").values}

            def get_console() -> int:
                return http_get(console(stack) + "/carbon/", timeout=10)[0]

            results["load idle"] = paced_load(get_console, int(RATE * 30))

            def kill_sticky() -> None:
                sticky = json.loads(http_get(console(stack) + "/cluster/members")[1])["self"]
                victim = next(p["metadata"]["name"] for p in pods(env, namespace) if p["status"].get("podIP") == sticky)
                kubectl(env, "delete", "pod", victim, "-n", namespace, "--wait=false")
                results["life"]["pod kill → member back (ready, 2 of 2 seen) s"] = wait_until(
                    lambda: victim not in {p["metadata"]["name"] for p in pods(env, namespace)}
                    and len(ready_pods(env, namespace)) == 2 and members_seen(stack) == 2, 300, "member back")

            results["load pod kill"] = paced_load(get_console, int(RATE * 40), kill_sticky)

            def rollout() -> None:
                stack.set_config("clustering", {"domain": f"bench.{run}.domain"})
                old = {p["metadata"]["name"] for p in pods(env, namespace)}
                seconds = timed(lambda: stack.pulumi("up", "--yes", "--skip-preview"))
                settle = wait_until(lambda: not old & {p["metadata"]["name"] for p in pods(env, namespace)}
                                    and len(ready_pods(env, namespace)) == 2 and members_seen(stack) == 2, 300,
                                    "new members serving")
                results["life"]["rollout of a rendered setting → all new members serving s"] = seconds + settle

            results["load rollout"] = paced_load(get_console, int(RATE * 120), rollout)
            objects = kubernetes_objects(stack)
            stack.pulumi("destroy", "--yes", "--skip-preview")
            wait_until(lambda: kubectl(env, "get", "ns", namespace, check=False).returncode != 0, 180, "ns gone")

            bare = root / "bare"
            shutil.copytree(PROJECT_DIR / "benchmarks/bare", bare)
            (bare / ".venv").symlink_to(PROJECT_DIR / ".venv")
            (bare / "objects.json").write_text(json.dumps(objects))
            (root / "bare-state").mkdir()
            bare_env = {**pulumi_env, "PULUMI_BACKEND_URL": f"file://{root / 'bare-state'}"}
            subprocess.run(["pulumi", "stack", "init", "bare", "--secrets-provider", "passphrase"], cwd=bare,
                           env=bare_env, check=True, capture_output=True)
            proc = subprocess.run(["pulumi", "up", "--yes", "--skip-preview"], cwd=bare, env=bare_env,
                                  capture_output=True, text=True, timeout=900)
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
            results["objects"] = len(objects)
            results["bare"] = {"preview": repeat(bare, bare_env, "preview").values,
                               "up (no change)": repeat(bare, bare_env, "up", "--yes", "--skip-preview").values}
            subprocess.run(["pulumi", "destroy", "--yes", "--skip-preview"], cwd=bare, env=bare_env, check=True,
                           capture_output=True, timeout=900)
    finally:
        shutil.rmtree(root, ignore_errors=True)  # the objects file holds the throwaway passwords
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


def machine() -> str:
    cpus = os.cpu_count()
    mem = next((int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)
    load = os.getloadavg()[0]
    return f"{cpus} cores, {mem / 1024:.0f} GiB, load {load:.1f} at start (shared with other jobs)"


if __name__ == "__main__":
    main()
