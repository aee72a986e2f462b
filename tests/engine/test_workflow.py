"""The pull-request workflow, run from its own YAML (.github/workflows/preview.yml) in a clean checkout.

What the test provides is what GitHub would: the repository (a clone of the committed tree, plus what its owner
commits for a stack: the stack file with encrypted secrets and a pack URL), the secrets the workflow names, a
state backend, and a runner with Python and Docker. The pack is served by an HTTP server on loopback.
`uses:` steps are stood in for: checkout = the clone, setup-python = the machine's python3, pulumi/actions =
the toolchain's CLI (get.pulumi.com is unreachable here) and, with `command: preview`, the CLI call the action
makes from its inputs. The PR-comment step needs GitHub and is not run.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import re
import secrets
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.engine.conftest import PROJECT_DIR, _exports

STACK = "staging"
NOWHERE_KUBECONFIG = ("apiVersion: v1\nkind: Config\nclusters: [{name: n, cluster: {server: 'https://127.0.0.1:9'}}]\n"
                      "users: [{name: n, user: {token: x}}]\ncontexts: [{name: n, context: {cluster: n, user: n}}]\n"
                      "current-context: n\n")


class Runner:
    """Runs one matrix job of the workflow, step by step, in `checkout`."""

    def __init__(self, checkout: Path, secrets_: dict[str, str], tools_env: dict[str, str], temp: Path) -> None:
        self.checkout, self.secrets, self.temp = checkout, secrets_, temp
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI", "WSO2K8S"))}
        # the runner's Docker (buildx via the toolchain's config) and the Pulumi plugins the action would fetch
        self.env.update({"PULUMI_HOME": tools_env["PULUMI_HOME"], "DOCKER_CONFIG": tools_env["DOCKER_CONFIG"],
                         "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
                         "RUNNER_TEMP": str(temp), "GITHUB_STEP_SUMMARY": str(temp / "summary.md")})
        self.cli_dir = tools_env["CLI_DIR"]
        self.log: list[str] = []

    def expand(self, text: str, matrix: dict[str, str]) -> str:
        def value(m: re.Match[str]) -> str:
            expr = m.group(1).strip()
            if expr.startswith("matrix."):
                return matrix[expr.removeprefix("matrix.")]
            if expr.startswith("secrets["):  # secrets[format('NAME_{0}', matrix.stack)]
                fmt = re.search(r"format\('([^']*)', matrix\.(\w+)\)", expr)
                assert fmt, expr
                return self.secrets.get(fmt.group(1).replace("{0}", matrix[fmt.group(2)]), "")
            if expr.startswith("secrets."):
                return self.secrets.get(expr.removeprefix("secrets."), "")
            if expr == "runner.temp":
                return str(self.temp)
            raise AssertionError(f"expression not stood in for: {expr}")
        return re.sub(r"\$\{\{(.*?)\}\}", value, text)

    def run_job(self, job: dict[str, Any], matrix: dict[str, str]) -> subprocess.CompletedProcess[str]:
        env = {**self.env, **{k: self.expand(str(v), matrix) for k, v in (job.get("env") or {}).items()}}
        last = subprocess.CompletedProcess[str]([], 0, "", "")
        for step in job["steps"]:
            if "if" in step:  # only the PR-comment step: it needs GitHub
                continue
            step_env = {**env, **{k: self.expand(str(v), matrix) for k, v in (step.get("env") or {}).items()}}
            uses = step.get("uses", "")
            if uses.startswith(("actions/checkout", "actions/setup-python")):
                continue
            if uses.startswith("pulumi/actions"):
                env["PATH"] = f"{self.cli_dir}:{env['PATH']}"  # the action installs the CLI for later steps
                inputs = {k: self.expand(str(v), matrix) for k, v in (step.get("with") or {}).items()}
                if "command" not in inputs:
                    continue
                assert inputs["command"] == "preview"
                args = ["pulumi", "preview", "--stack", inputs["stack-name"], "--non-interactive"]
                args += ["--diff"] if inputs.get("diff") == "True" else []
                args += [a for p in inputs.get("policyPacks", "").split() for a in ("--policy-pack", p)]
                args += [a for c in inputs.get("policyPackConfigs", "").split() for a in ("--policy-pack-config", c)]
                last = subprocess.run(args, cwd=self.checkout, env={**step_env, "PATH": env["PATH"]}, text=True,
                                      capture_output=True, timeout=1800)
            else:
                script = self.expand(step["run"], matrix)
                last = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=self.checkout,
                                      env={**step_env, "PATH": env["PATH"]}, text=True, capture_output=True,
                                      timeout=1800)
            self.log.append(f"{step.get('name', uses)}: rc={last.returncode}")
            if last.returncode != 0:
                return last
        return last


class PackServer:
    def __init__(self, root: Path) -> None:
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runner, Path, dict[str, Any]]]:
    root = tmp_path_factory.mktemp("workflow")
    tools = _exports(f"WSO2K8S_CLUSTER=0 {PROJECT_DIR / 'tools/engines.sh'}")
    tools["CLI_DIR"] = os.path.dirname(subprocess.run(["bash", "-c", "command -v pulumi"], env=tools, text=True,
                                                      capture_output=True, check=True).stdout.strip())
    tools["DOCKER_CONFIG"] = tools["WSO2K8S_PULUMI_DOCKER_CONFIG"]
    # the pack, on loopback: the synthetic stand-in, zipped as WSO2 ships it
    www = root / "www"
    www.mkdir()
    build = subprocess.run([str(PROJECT_DIR / ".venv/bin/python"), "-c",
                            "import sys; from pathlib import Path; from tests.unit.helpers import stack_settings;"
                            "from wso2k8s import prepare;"
                            "s = stack_settings(stack='w', pack={'source': 'synthetic'},"
                            " keystore_password='wso2carbon');"
                            "z, f = prepare._synthetic(s.profiles[0], Path(sys.argv[1])); print(z); print(f)",
                            str(root / "synthetic")], cwd=PROJECT_DIR, text=True, capture_output=True, check=True)
    pack_zip, files_dir = (Path(p) for p in build.stdout.split())
    (www / "wso2is-5.1.0.zip").write_bytes(pack_zip.read_bytes())
    server = PackServer(www)
    # the repository as its owner commits it for this stack
    checkout = root / "checkout"
    subprocess.run(["git", "clone", "-q", str(PROJECT_DIR), str(checkout)], check=True)
    (checkout / "ci-files").mkdir(exist_ok=True)
    subprocess.run(["cp", "-r", f"{files_dir}/.", str(checkout / "ci-files")], check=True)
    (checkout / "ci-kubeconfig.yaml").write_text(NOWHERE_KUBECONFIG)
    passphrase = secrets.token_hex(16)
    stack_file = checkout / f"Pulumi.{STACK}.yaml"
    data = yaml.safe_load(stack_file.read_text())
    config = data["config"]
    config["wso2-kubernetes:pack"] = {"source": "url", "url": f"{server.base}/wso2is-5.1.0.zip",
                                      "sha256": hashlib.sha256(pack_zip.read_bytes()).hexdigest()}
    config["wso2-kubernetes:files_dir"] = "ci-files"
    config["wso2-kubernetes:base_image"] = {"java": {"source": "jlink", "allow_unsupported_version": True}}
    config["wso2-kubernetes:registry"] = {"server": "127.0.0.1:5000"}
    config["wso2-kubernetes:kubernetes"] = {**config["wso2-kubernetes:kubernetes"],
                                            "kubeconfig": "ci-kubeconfig.yaml", "create_namespace": True}
    stack_file.write_text(yaml.safe_dump(data, sort_keys=False))
    backend = root / "state"
    backend.mkdir()
    owner = {**os.environ, **tools, "PULUMI_BACKEND_URL": f"file://{backend}", "PULUMI_CONFIG_PASSPHRASE": passphrase}
    for cmd in (["pulumi", "stack", "init", STACK, "--secrets-provider", "passphrase"],
                ["pulumi", "config", "set", "--secret", "wso2-kubernetes:admin_password", "Adm1n-" + passphrase[:6]],
                ["pulumi", "config", "set", "--secret", "wso2-kubernetes:keystore_password", "wso2carbon"]):
        subprocess.run(cmd, cwd=checkout, env=owner, check=True, capture_output=True)
    subprocess.run(["git", "-C", str(checkout), "add", "-f", "."], check=True)
    subprocess.run(["git", "-C", str(checkout), "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm",
                    "stack for CI"], check=True)
    workflow = yaml.safe_load((checkout / ".github/workflows/preview.yml").read_text())
    runner = Runner(checkout, {"PULUMI_BACKEND_URL": f"file://{backend}",
                               f"PULUMI_CONFIG_PASSPHRASE_{STACK}": passphrase}, tools, root / "runner-temp")
    runner.temp.mkdir()
    yield runner, checkout, workflow
    server.httpd.shutdown()
    print("\n".join(["", "workflow steps:", *runner.log]))


def test_the_workflow_previews_the_stack_with_the_pack_from_a_url(world: tuple[Runner, Path, dict[str, Any]]) -> None:
    runner, _, workflow = world
    job = workflow["jobs"]["preview"]
    assert STACK in job["strategy"]["matrix"]["stack"]
    proc = runner.run_job(job, {"stack": STACK})
    assert proc.returncode == 0, [*runner.log, proc.stdout[-4000:], proc.stderr[-3000:]]
    summary = (runner.temp / "summary.md").read_text()
    assert "+++ proposed/default/repository/conf/axis2/axis2.xml" in summary
    assert "KUBERNETES_SERVICES" in summary


def test_a_bad_setting_fails_the_workflow_with_the_loaders_message(world: tuple[Runner, Path, dict[str, Any]]) -> None:
    runner, checkout, workflow = world
    stack_file = checkout / f"Pulumi.{STACK}.yaml"
    good = stack_file.read_text()
    stack_file.write_text(good.replace("  wso2-kubernetes:workload:\n    replicas:",
                                       "  wso2-kubernetes:workload:\n    replicaz: 3\n    replicas:"))
    try:
        proc = runner.run_job(workflow["jobs"]["preview"], {"stack": STACK})
    finally:
        stack_file.write_text(good)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "wso2-kubernetes:workload.replicaz (Pulumi.staging.yaml): unknown key 'replicaz'" in out, out[-3000:]
    assert "Traceback" not in out
