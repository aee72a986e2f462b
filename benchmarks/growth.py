"""How the program's cost grows with the number of profiles in one stack: 1, 10 and 50 synthetic Carbon
profiles (hieradata files like the README's `worker.yaml`, each with its own name, Service and node ports).

Measured per size: program evaluation = the settings loader + prepare() (layers merged and validated, packs
checked, every build context written; cold, then again with nothing changed), and `pulumi preview` of the stack
(engine, providers, a server dry run per Kubernetes object; nothing is deployed). Writes
build/benchmarks/growth.json and benchmarks/growth.png.

    .venv/bin/python benchmarks/growth.py          (holds /tmp/engine-tests.lock for the previews)
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from benchmarks.stats import linear_or_better, per_unit_growth  # noqa: E402
from tests.engine.conftest import _exports  # noqa: E402
from tests.engine.isolation import free_node_ports  # noqa: E402
from tests.engine.stack import ProjectStack  # noqa: E402
from tests.reliability.common import KEYSTORE_PASSWORD, engine_lock  # noqa: E402
from wso2k8s.prepare import prepare  # noqa: E402
from wso2k8s.settings import load_stack_settings  # noqa: E402

SIZES = (1, 10, 50)
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
OUT = PROJECT_DIR / "build/benchmarks/growth.json"
PLOT = PROJECT_DIR / "benchmarks/growth.png"


def profile_yaml(name: str, http: int, https: int) -> str:
    """The `default` profile's file under another name, Service and node ports (its file_list kept)."""
    profile = yaml.safe_load((PROJECT_DIR / "hieradata/wso2is/5.1.0/default.yaml").read_text())
    profile["name"] = f"wso2is-{name}"
    profile.setdefault("clustering", {}).setdefault("kubernetes", {})["services"] = [f"wso2is-{name}"]
    profile["ports"] = [
        {"name": "servlet-http", "pod_port_name": "http", "container_port": 9763, "node_port": http},
        {"name": "servlet-https", "pod_port_name": "https", "container_port": 9443, "node_port": https}]
    return yaml.safe_dump(profile, sort_keys=False)


def measure(size: int, env: dict[str, str], root: Path, ports: list[int]) -> dict[str, Any]:
    password = secrets.token_hex(12)
    stack = ProjectStack.create(root / f"n{size}", f"growth{size}", env, passphrase=secrets.token_hex(16))
    names = [f"p{i:03d}" for i in range(size)]
    for i, name in enumerate(names):
        (stack.dir / "hieradata/wso2is/5.1.0" / f"{name}.yaml").write_text(
            profile_yaml(name, ports[2 * i], ports[2 * i + 1]))
    config = {"product": "wso2is", "version": "5.1.0", "profiles": names,
              "kubernetes": {"namespace": f"wso2k8s-bench-growth-{size}", "create_namespace": True},
              "workload": {"replicas": 1}, "base_image": {"tag": "bench"}, "product_image": {"tag": "bench"}}
    for key, value in config.items():
        stack.set_config(key, value)
    stack.set_secret("admin_password", password)
    stack.set_secret("keystore_password", KEYSTORE_PASSWORD)

    def evaluate() -> float:
        started = time.monotonic()
        loaded = load_stack_settings(stack.dir, stack.name, {**config, "admin_password": password,
                                                             "keystore_password": KEYSTORE_PASSWORD},
                                     {"admin_password", "keystore_password"})
        prepare(loaded, stack.dir, stack.dir / "build")
        return time.monotonic() - started

    cold = evaluate()
    warm = [evaluate() for _ in range(REPEATS)]
    previews = []
    for _ in range(REPEATS):
        started = time.monotonic()
        stack.pulumi("preview", timeout=1800)
        previews.append(time.monotonic() - started)
    steps = stack.preview_steps()
    return {"profiles": size, "evaluation cold s": cold, "evaluation warm s": statistics.median(warm),
            "preview s": statistics.median(previews), "preview spread": (min(previews), max(previews)),
            "resources": len(steps)}


def plot(rows: list[dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["profiles"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in (("preview s", "pulumi preview"), ("evaluation cold s", "evaluation (cold)"),
                       ("evaluation warm s", "evaluation (nothing changed)")):
        ax.plot(sizes, [r[key] for r in rows], marker="o", label=label)
    ax.set_xlabel("profiles in the stack")
    ax.set_ylabel("seconds")
    ax.set_title("wso2-kubernetes: time vs profiles")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(PLOT, dpi=100)


def main() -> None:
    env = _exports(str(PROJECT_DIR / "tools/engines.sh"))
    rows = []
    with tempfile.TemporaryDirectory(prefix="wso2k8s-growth-") as tmp, engine_lock():
        ports = free_node_ports(env, 2 * max(SIZES))
        for size in SIZES:
            rows.append(measure(size, env, Path(tmp), ports))
            print(json.dumps(rows[-1]), flush=True)
    result = {"rows": rows, "repeats": REPEATS,
              "preview s per extra profile": per_unit_growth({r["profiles"]: r["preview s"] for r in rows}),
              "evaluation s per extra profile": per_unit_growth({r["profiles"]: r["evaluation cold s"] for r in rows}),
              "preview linear or better": linear_or_better({r["profiles"]: r["preview s"] for r in rows}),
              "evaluation linear or better": linear_or_better({r["profiles"]: r["evaluation cold s"] for r in rows})}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1))
    plot(rows)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
