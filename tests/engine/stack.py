"""A throwaway copy of the project with its own Pulumi backend and stack, driven through the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.engine.conftest import PROJECT_DIR

COPIED = ("Pulumi.yaml", "__main__.py", "program.py", "components", "wso2k8s", "hieradata", "requirements.txt")


@dataclass
class ProjectStack:
    """`pulumi` on a copy of the project (so the repo's stack files stay untouched), local file backend."""

    dir: Path
    name: str
    env: dict[str, str]
    log: list[str] = field(default_factory=list)
    node_ports: dict[str, int] = field(default_factory=dict)  # Service port name → node port, once isolated

    @classmethod
    def create(cls, root: Path, name: str, engines_env: dict[str, str], passphrase: str) -> ProjectStack:
        project = root / "project"
        project.mkdir(parents=True)
        for item in COPIED:
            source = PROJECT_DIR / item
            if source.is_dir():
                shutil.copytree(source, project / item, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, project / item)
        (project / ".venv").symlink_to(PROJECT_DIR / ".venv")
        state = root / "state"
        state.mkdir()
        env = {**engines_env, "PULUMI_BACKEND_URL": f"file://{state}", "PULUMI_CONFIG_PASSPHRASE": passphrase,
               "PULUMI_SKIP_UPDATE_CHECK": "true", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true"}
        env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
        if "WSO2K8S_PULUMI_DOCKER_CONFIG" in env:  # docker-build exec mode: the built docker-buildx plugin
            env["DOCKER_CONFIG"] = env["WSO2K8S_PULUMI_DOCKER_CONFIG"]
        stack = cls(project, name, env)
        stack.pulumi("stack", "init", name, "--secrets-provider", "passphrase")
        return stack

    @property
    def state_dir(self) -> Path:
        return Path(self.env["PULUMI_BACKEND_URL"].removeprefix("file://"))

    def pulumi(self, *args: str, check: bool = True, stdin: str | None = None,
               timeout: float = 1800) -> subprocess.CompletedProcess[str]:
        """The stack is the selected one of this project copy (`stack init` selects it)."""
        started = time.monotonic()
        proc = subprocess.run(["pulumi", *args], cwd=self.dir, env=self.env, text=True, input=stdin,
                              capture_output=True, timeout=timeout)
        self.log.append(f"$ pulumi {' '.join(args)}  ({time.monotonic() - started:.1f}s, rc={proc.returncode})")
        if check and proc.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-6000:]}\n"
                                 f"{proc.stderr[-6000:]}")
        return proc

    @property
    def stack_file(self) -> Path:
        return self.dir / f"Pulumi.{self.name}.yaml"

    def set_config(self, key: str, value: Any) -> None:
        """A plain (non-secret) wso2-kubernetes key; nested values merge like the layers do."""
        data = yaml.safe_load(self.stack_file.read_text()) if self.stack_file.exists() else {}
        config = data.setdefault("config", {})
        full = f"wso2-kubernetes:{key}"
        if isinstance(value, dict) and isinstance(config.get(full), dict):
            _deep_update(config[full], value)
        else:
            config[full] = value
        self.stack_file.write_text(yaml.safe_dump(data, sort_keys=False))

    def isolate(self, product: str, version: str, namespace: str, node_ports: list[int]) -> None:
        """Its own namespace (created and destroyed with the stack), the given node ports instead of the seed's
        32001-32004, its own image tags: nothing a dev stack on the same cluster and registry uses."""
        self.set_config("product", product)
        self.set_config("version", version)
        self.set_config("kubernetes", {"namespace": namespace, "create_namespace": True})
        # `ports` is a map keyed by name: a later layer changes only the node ports.
        names = list(yaml.safe_load((PROJECT_DIR / "hieradata" / product / f"{version}.yaml").read_text())["ports"])
        assert len(names) == len(node_ports), (names, node_ports)
        self.node_ports = dict(zip(names, node_ports, strict=True))
        self.set_config("ports", {name: {"node_port": n} for name, n in self.node_ports.items()})
        self.set_config("base_image", {"tag": "engine-test"})
        self.set_config("product_image", {"tag": "engine-test"})

    def set_secret(self, key: str, value: str) -> None:
        self.pulumi("config", "set", "--secret", f"wso2-kubernetes:{key}", stdin=value)

    def outputs(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.pulumi("stack", "output", "--json").stdout)
        return result

    def up(self, *extra: str) -> tuple[float, dict[str, int]]:
        """(seconds, change summary of the update)."""
        started = time.monotonic()
        self.pulumi("up", "--yes", "--skip-preview", *extra)
        seconds = time.monotonic() - started
        history = json.loads(self.pulumi("stack", "history", "--json", "--show-secrets=false").stdout)
        return seconds, history[0].get("resourceChanges", {})

    def preview_steps(self, *extra: str) -> list[dict[str, Any]]:
        out = self.pulumi("preview", "--json", "--diff", *extra).stdout
        steps: list[dict[str, Any]] = json.loads(out).get("steps", [])
        return steps


def _deep_update(target: dict[str, Any], changes: dict[str, Any]) -> None:
    for k, v in changes.items():
        if isinstance(v, dict) and isinstance(target.get(k), dict):
            _deep_update(target[k], v)
        else:
            target[k] = v


def kubectl(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["kubectl", *args], env=env, text=True, capture_output=True, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)}: {proc.stderr}")
    return proc


def kube_json(env: dict[str, str], *args: str) -> Any:
    return json.loads(kubectl(env, *args, "-o", "json").stdout)


def wait_until(predicate: Any, timeout: float, what: str, every: float = 1.0) -> float:
    """Seconds it took; fails with `what` after `timeout`."""
    started = time.monotonic()
    last: Any = None
    while time.monotonic() - started < timeout:
        try:
            last = predicate()
            if last:
                return time.monotonic() - started
        except Exception as err:  # an engine still starting answers with errors
            last = err
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


def environment(base: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(base)
    return env
