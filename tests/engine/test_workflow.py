"""The pull-request workflow, run from its own YAML (.github/workflows/preview.yml) in a clean checkout.

What the test provides is what GitHub would: the repository (a clone of the committed tree, plus what its owner
commits for a stack: the stack file with encrypted secrets and the URLs of the pack and the jars), the secrets
the workflow names, a state backend, a runner with Python and Docker, the `github` context of a pull request and
GitHub's REST API, here a fake of its issue-comments endpoints on loopback. The pack and the file_list jars are
served by an HTTP server on loopback: no file of a developer's machine is needed.
`uses:` steps are stood in for: checkout = the clone, setup-python = the machine's python3, pulumi/actions =
the toolchain's CLI (get.pulumi.com is unreachable here). Every `run:` step is the workflow's own, run with
`bash -eo pipefail` as the job's `shell: bash` says; `if:` and `${{ }}` expressions are evaluated.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import re
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from tests.engine.conftest import PROJECT_DIR, _exports
from tests.engine.nowhere import nowhere_kubeconfig

STACK = "staging"
TIMINGS: dict[str, float] = {}


class FakeGitHub:
    """GitHub's issue-comments REST endpoints, in memory, on loopback; only the right token gets in."""

    def __init__(self, repository: str, token: str) -> None:
        self.comments: dict[int, dict[str, Any]] = {}
        self.calls: list[str] = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def answer(self, code: int, data: Any) -> None:
                raw = json.dumps(data).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def handle_any(self, method: str) -> None:
                fake.calls.append(f"{method} {self.path}")
                if self.headers.get("Authorization") != f"Bearer {token}":
                    return self.answer(401, {"message": "Bad credentials"})
                data = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
                path = self.path.split("?")[0]
                issue = re.fullmatch(rf"/repos/{repository}/issues/(\d+)/comments", path)
                one = re.fullmatch(rf"/repos/{repository}/issues/comments/(\d+)", path)
                if issue and method == "GET":
                    page = int(parse_qs(urlsplit(self.path).query).get("page", ["1"])[0])
                    listed = [c for c in fake.comments.values() if c["issue"] == int(issue.group(1))]
                    return self.answer(200, listed if page == 1 else [])
                if issue and method == "POST":
                    comment = {"id": 1000 + len(fake.comments), "issue": int(issue.group(1)), "body": data["body"]}
                    fake.comments[comment["id"]] = comment
                    return self.answer(201, comment)
                if one and method == "PATCH" and int(one.group(1)) in fake.comments:
                    fake.comments[int(one.group(1))]["body"] = data["body"]
                    return self.answer(200, fake.comments[int(one.group(1))])
                return self.answer(404, {"message": "Not Found"})

            def do_GET(self) -> None:
                self.handle_any("GET")

            def do_POST(self) -> None:
                self.handle_any("POST")

            def do_PATCH(self) -> None:
                self.handle_any("PATCH")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


class Runner:
    """Runs one matrix job of the workflow, step by step, in `checkout`, as a run for a pull request."""

    def __init__(self, checkout: Path, secrets_: dict[str, str], tools_env: dict[str, str], temp: Path,
                 github: dict[str, Any]) -> None:
        self.checkout, self.secrets, self.temp, self.github = checkout, secrets_, temp, github
        self.outcomes: dict[str, str] = {}
        self.fake_github: FakeGitHub | None = None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI", "WSO2K8S"))}
        # the runner's Docker (buildx via the toolchain's config) and the Pulumi plugins the action would fetch
        self.env.update({"PULUMI_HOME": tools_env["PULUMI_HOME"], "DOCKER_CONFIG": tools_env["DOCKER_CONFIG"],
                         "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
                         "RUNNER_TEMP": str(temp), "GITHUB_STEP_SUMMARY": str(temp / "summary.md"),
                         "GITHUB_API_URL": github["api_url"], "GITHUB_REPOSITORY": github["repository"]})
        self.cli_dir = tools_env["CLI_DIR"]
        self.log: list[str] = []

    def evaluate(self, expr: str, matrix: dict[str, str], failed: bool) -> Any:
        """A GitHub expression of the forms the workflow uses: contexts, ==, &&, ||, !, status functions."""
        expr = expr.strip()
        if expr.startswith("secrets["):  # secrets[format('NAME_{0}', matrix.stack)]
            fmt = re.search(r"format\('([^']*)', matrix\.(\w+)\)", expr)
            assert fmt, expr
            return self.secrets.get(fmt.group(1).replace("{0}", matrix[fmt.group(2)]), "")
        contexts: dict[str, Any] = {"matrix": matrix, "secrets": self.secrets, "runner": {"temp": str(self.temp)},
                                    "github": self.github,
                                    "steps": {k: {"outcome": v} for k, v in self.outcomes.items()}}

        def lookup(m: re.Match[str]) -> str:
            head, *rest = m.group(0).split(".")
            value: Any = contexts[head]
            for part in rest:
                assert isinstance(value, dict) and part in value, f"not stood in for: {m.group(0)}"
                value = value[part]
            return repr(value)
        python = re.sub(r"'[^']*'|\b(?:matrix|secrets|runner|github|steps)(?:\.[\w-]+)+",
                        lambda m: m.group(0) if m.group(0).startswith("'") else lookup(m), expr)
        python = (python.replace("&&", " and ").replace("||", " or ").replace("!cancelled()", "True")
                  .replace("always()", "True").replace("success()", repr(not failed))
                  .replace("failure()", repr(failed)))
        assert "!" not in python.replace("!=", ""), f"expression not stood in for: {expr}"
        return eval(python, {"__builtins__": {}})  # the workflow's own expressions, in a test

    def expand(self, text: str, matrix: dict[str, str], failed: bool = False) -> str:
        return re.sub(r"\$\{\{(.*?)\}\}", lambda m: str(self.evaluate(m.group(1), matrix, failed)), text)

    def run_job(self, job: dict[str, Any], matrix: dict[str, str]) -> subprocess.CompletedProcess[str]:
        """Every step whose `if` holds (by default: all before succeeded); the first failure, else the last step."""
        assert job["defaults"]["run"]["shell"] == "bash"  # what the `bash -e -o pipefail` below stands for
        env = {**self.env, **{k: self.expand(str(v), matrix) for k, v in (job.get("env") or {}).items()}}
        last = first_failure = None
        self.outcomes.clear()
        shutil.rmtree(self.temp, ignore_errors=True)  # each job gets a fresh RUNNER_TEMP
        self.temp.mkdir()
        for step in job["steps"]:
            failed = first_failure is not None
            condition = str(step.get("if", "success()")).strip().removeprefix("${{").removesuffix("}}")
            if not self.evaluate(condition, matrix, failed):
                self.log.append(f"{step.get('name', step.get('uses'))}: skipped")
                continue
            step_env = {**env, **{k: self.expand(str(v), matrix, failed)
                                  for k, v in (step.get("env") or {}).items()}}
            uses = step.get("uses", "")
            if uses.startswith(("actions/checkout", "actions/setup-python")):
                continue
            if uses.startswith("pulumi/actions"):
                env["PATH"] = f"{self.cli_dir}:{env['PATH']}"  # the action installs the CLI for later steps
                assert "command" not in (step.get("with") or {}), "only the CLI install is stood in for"
                continue
            else:
                script = self.expand(step["run"], matrix, failed)
                last = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=self.checkout,
                                      env={**step_env, "PATH": env["PATH"]}, text=True, capture_output=True,
                                      timeout=1800)
            self.log.append(f"{step.get('name', uses)}: rc={last.returncode}")
            if "id" in step:
                self.outcomes[step["id"]] = "success" if last.returncode == 0 else "failure"
            if last.returncode != 0 and first_failure is None:
                first_failure = last
        assert last is not None
        return first_failure or last


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
    jars = sorted(p.relative_to(files_dir).as_posix() for p in files_dir.rglob("*.jar"))
    for jar in jars:  # the file_list jars, on the same server
        (www / Path(jar).name).write_bytes((files_dir / jar).read_bytes())
    server = PackServer(www)
    # the repository as its owner commits it for this stack
    checkout = root / "checkout"
    subprocess.run(["git", "clone", "-q", str(PROJECT_DIR), str(checkout)], check=True)
    (checkout / "ci-kubeconfig.yaml").write_text(nowhere_kubeconfig())
    passphrase = secrets.token_hex(16)
    stack_file = checkout / f"Pulumi.{STACK}.yaml"
    data = yaml.safe_load(stack_file.read_text())
    config = data["config"]
    config["wso2-kubernetes:pack"] = {"source": "url", "url": f"{server.base}/wso2is-5.1.0.zip",
                                      "sha256": hashlib.sha256(pack_zip.read_bytes()).hexdigest()}
    config["wso2-kubernetes:files_dir"] = "nowhere-on-the-runner"  # every jar comes from its URL
    config["wso2-kubernetes:file_urls"] = {
        jar: {"url": f"{server.base}/{Path(jar).name}", "sha256": hashlib.sha256((www / Path(jar).name).read_bytes())
              .hexdigest()} for jar in jars}
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
    token = secrets.token_hex(20)
    github = FakeGitHub("owner/wso2-kubernetes", token)
    context = {"event_name": "pull_request", "event": {"pull_request": {"number": 7}}, "token": token,
               "repository": "owner/wso2-kubernetes", "api_url": github.url}
    runner = Runner(checkout, {"PULUMI_BACKEND_URL": f"file://{backend}",
                               f"PULUMI_CONFIG_PASSPHRASE_{STACK}": passphrase}, tools, root / "runner-temp", context)
    runner.temp.mkdir()
    runner.fake_github = github
    yield runner, checkout, workflow
    server.httpd.shutdown()
    github.httpd.shutdown()
    print("\n".join(["", "workflow steps:", *runner.log, *(f"  {k}: {v:.1f}" for k, v in TIMINGS.items())]))


def test_the_workflow_previews_the_stack_with_the_pack_from_a_url(world: tuple[Runner, Path, dict[str, Any]]) -> None:
    runner, _, workflow = world
    job = workflow["jobs"]["preview"]
    assert STACK in job["strategy"]["matrix"]["stack"]
    started = time.monotonic()
    proc = runner.run_job(job, {"stack": STACK})
    TIMINGS["workflow job (warm)"] = time.monotonic() - started
    assert proc.returncode == 0, [*runner.log, proc.stdout[-4000:], proc.stderr[-3000:]]
    summary = (runner.temp / "summary.md").read_text()
    assert "+++ proposed/default/repository/conf/axis2/axis2.xml" in summary
    assert "KUBERNETES_SERVICES" in summary
    # the PR comment: one, through the API with the job's token, holding the conf diffs and the preview
    github = runner.fake_github
    assert github is not None
    [comment] = github.comments.values()
    assert comment["issue"] == 7 and comment["body"].startswith(f"<!-- wso2-kubernetes preview: {STACK} -->")
    assert f"### `pulumi preview` of `{STACK}`: passed" in comment["body"]
    assert "+++ proposed/default/repository/conf/axis2/axis2.xml" in comment["body"]
    assert "Policies:" in comment["body"] or "Resources:" in comment["body"], comment["body"][-2000:]
    assert "Adm1n-" not in comment["body"]  # the admin password (set by the owner): never shown
    assert any(c.startswith("POST /repos/owner/wso2-kubernetes/issues/7/comments") for c in github.calls)
    TIMINGS["PR comment (bytes)"] = len(comment["body"])


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
    # the comment step still ran (`!cancelled()`), and updated the stack's comment instead of adding one
    assert "preview and conf file diffs as a PR comment: rc=0" in runner.log, runner.log
    github = runner.fake_github
    assert github is not None
    [comment] = github.comments.values()
    assert f"### `pulumi preview` of `{STACK}`: **failed**" in comment["body"]
    assert "unknown key 'replicaz'" in comment["body"]
    assert "#### Conf file changes" not in comment["body"]  # nothing rendered this time: no stale diffs
    assert any(c.startswith("PATCH /repos/owner/wso2-kubernetes/issues/comments/") for c in github.calls)
