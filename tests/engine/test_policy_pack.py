"""The policy pack through the real CLI: `pulumi preview --policy-pack policy`, this project's language host
starting the pack (RunPlugin + the policy proxy), levels from --policy-pack-config or the stack's config.

No cluster is needed: the stack's kubeconfig points at a closed port, so pulumi-kubernetes previews without
one; images are built on preview by the local Docker engine, as in every preview.
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.conftest import PROJECT_DIR, _exports
from tests.engine.nowhere import nowhere_kubeconfig
from tests.engine.stack import ProjectStack

POLICY_DIR = PROJECT_DIR / "policy"
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def cli_env() -> dict[str, str]:
    """Only the Pulumi toolchain (no Docker, no cluster: the tiny project needs neither); the pack's venv."""
    subprocess.run(["bash", str(POLICY_DIR / "venv.sh")], check=True, stdout=subprocess.DEVNULL)
    return _exports(f"{PROJECT_DIR / 'tools/pulumi/toolchain.sh'} ensure {PROJECT_DIR / '.venv'}")


@pytest.fixture(scope="module")
def toolchain_env() -> dict[str, str]:
    """Docker, the registry and the Pulumi toolchain, without the local cluster; the pack's own venv."""
    subprocess.run(["bash", str(POLICY_DIR / "venv.sh")], check=True, stdout=subprocess.DEVNULL)
    return _exports(f"WSO2K8S_CLUSTER=0 {PROJECT_DIR / 'tools/engines.sh'}")


def write_config(path: Path, level: str, registries: list[str]) -> Path:
    path.write_text(json.dumps({"all": level, "images-from-org-registry": {"registries": registries}}))
    return path


def policy_preview(stack: ProjectStack, config: Path | None) -> subprocess.CompletedProcess[str]:
    args = ["preview", "--policy-pack", str(POLICY_DIR)]
    if config is not None:
        args += ["--policy-pack-config", str(config)]
    return stack.pulumi(*args, check=False)


# ---------------------------------------------------------------- the host and the levels, on a tiny project

def tiny_project(root: Path, env: dict[str, str]) -> ProjectStack:
    """A project whose only resource is a ProductImage-typed component carrying an axis2.xml that skips the
    API server's certificate check: enough for the membership rule, seconds per preview."""
    project = root / "tiny"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(
        f"name: tiny\nruntime:\n  name: python\n  options:\n    virtualenv: {PROJECT_DIR / '.venv'}\n")
    axis2 = '<parameter name="KUBERNETES_MASTER_SKIP_SSL_VERIFICATION">true</parameter>'
    packed = base64.b64encode(zlib.compress(axis2.encode())).decode()
    (project / "__main__.py").write_text(
        "import pulumi\n"
        "class ProductImage(pulumi.ComponentResource):\n"
        "    def __init__(self, name: str) -> None:\n"
        "        super().__init__('wso2k8s:image:ProductImage', name,\n"
        f"                         {{'conf_files': {{'repository/conf/axis2/axis2.xml': '{packed}'}}}})\n"
        "        self.register_outputs({})\n"
        "ProductImage('default-image')\n")
    state = root / "tiny-state"
    state.mkdir()
    stack = ProjectStack(project, "tiny", {**env, "PULUMI_BACKEND_URL": f"file://{state}",
                                           "PULUMI_CONFIG_PASSPHRASE": "tiny"})
    stack.env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
    stack.pulumi("stack", "init", "tiny", "--secrets-provider", "passphrase")
    return stack


def test_mandatory_fails_the_preview_advisory_warns(cli_env: dict[str, str], tmp_path: Path) -> None:
    stack = tiny_project(tmp_path, cli_env)
    failed = policy_preview(stack, write_config(tmp_path / "m.json", "mandatory", []))
    assert failed.returncode != 0, failed.stdout
    assert "[mandatory]  membership-ssl-verified" in failed.stdout
    assert "sets KUBERNETES_MASTER_SKIP_SSL_VERIFICATION to true. Fix:" in failed.stdout
    warned = policy_preview(stack, write_config(tmp_path / "a.json", "advisory", []))
    assert warned.returncode == 0, warned.stdout + warned.stderr
    assert "[advisory]  membership-ssl-verified" in warned.stdout


def test_the_members_resources_are_judged_at_preview_from_the_carbon_clusters_settings(
        cli_env: dict[str, str], tmp_path: Path) -> None:
    """The program's schema requires every resource value, so this takes a CarbonCluster-typed component
    without limits, as a program that let them be unset would register it: resources-set fails the preview."""
    stack = tiny_project(tmp_path, cli_env)
    view = {"kind": "ReplicationController", "replicas": 2, "image": "127.0.0.1:5000/wso2/is-5.1.0:1.0.0",
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {}}}
    (stack.dir / "__main__.py").write_text(
        "import pulumi\n"
        "class CarbonCluster(pulumi.ComponentResource):\n"
        "    def __init__(self, name: str) -> None:\n"
        f"        super().__init__('wso2k8s:kubernetes:CarbonCluster', name, {view!r})\n"
        "        self.register_outputs({})\n"
        "CarbonCluster('default-cluster')\n")
    proc = policy_preview(stack, write_config(tmp_path / "m.json", "mandatory", ["127.0.0.1:5000"]))
    assert proc.returncode != 0
    assert "[mandatory]  resources-set" in proc.stdout, proc.stdout[-3000:]
    assert "the members' container has no resources limits.cpu, limits.memory" in proc.stdout


def test_the_pack_reads_the_stack_config_at_import(cli_env: dict[str, str], tmp_path: Path) -> None:
    """No --policy-pack-config: the level comes from wso2-kubernetes-policy:enforcement, which the pack reads
    with pulumi.Config() at import: only possible because the host waits for the engine's stack config."""
    stack = tiny_project(tmp_path, cli_env)
    stack.pulumi("config", "set", "wso2-kubernetes-policy:enforcement", "mandatory")
    proc = policy_preview(stack, None)
    assert proc.returncode != 0 and "[mandatory]  membership-ssl-verified" in proc.stdout
    stack.pulumi("config", "set", "wso2-kubernetes-policy:enforcement", "advisory")
    proc = policy_preview(stack, None)
    assert proc.returncode == 0 and "[advisory]  membership-ssl-verified" in proc.stdout
    stack.pulumi("config", "set", "wso2-kubernetes-policy:enforcement", "strict")
    proc = policy_preview(stack, None)
    assert proc.returncode != 0 and "Traceback" not in proc.stdout + proc.stderr
    assert "wso2-kubernetes-policy:enforcement (Pulumi.tiny.yaml): 'strict' is not a level. Fix:" in proc.stdout


# ---------------------------------------------------------------- the real program

@pytest.fixture(scope="module")
def program(toolchain_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProjectStack]:
    root = tmp_path_factory.mktemp("policy")
    s = ProjectStack.create(root, "policy", toolchain_env, passphrase=secrets.token_hex(16))
    (root / "kubeconfig").write_text(nowhere_kubeconfig())
    s.set_config("product", "wso2is")
    s.set_config("version", "5.1.0")
    s.set_config("profiles", ["default"])
    s.set_config("kubernetes", {"namespace": "wso2-policy", "kubeconfig": str(root / "kubeconfig")})
    s.set_config("workload", {"replicas": 2, "java_opts": "-Xms32m -Xmx128m",
                              "resources": {"cpu_request": "100m", "memory_request": "128Mi", "cpu_limit": "1",
                                            "memory_limit": "512Mi"}})
    s.set_secret("admin_password", "Adm1n-" + secrets.token_hex(4))
    s.set_secret("keystore_password", "wso2carbon")  # the stock keystore (the loader checks it opens)
    yield s
    timings = [f"  {k}: {v:.2f}" + ("×" if k.startswith("ratio") else " s") for k, v in TIMINGS.items()]
    print("\n".join(["", "policy pack timings:", *timings, *s.log]))


def test_the_programs_own_dev_settings_pass_every_mandatory_rule(program: ProjectStack, tmp_path: Path) -> None:
    program.pulumi("preview")  # warm: images built once, plugins loaded
    config = write_config(tmp_path / "ok.json", "mandatory", ["127.0.0.1:5000"])
    for _ in range(2):
        started = time.monotonic()
        program.pulumi("preview")
        TIMINGS.setdefault("preview without the pack", time.monotonic() - started)
        started = time.monotonic()
        proc = policy_preview(program, config)
        TIMINGS.setdefault("preview with the pack", time.monotonic() - started)
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "[mandatory]" not in proc.stdout
    TIMINGS["ratio with/without"] = TIMINGS["preview with the pack"] / TIMINGS["preview without the pack"]


def test_each_violated_rule_fails_the_preview_when_mandatory(program: ProjectStack, tmp_path: Path) -> None:
    program.set_config("workload", {"replicas": 1})
    program.set_config("clustering", {"kubernetes": {"skip_ssl_verification": True}})
    program.set_config("product_image", {"tag": "latest"})
    program.set_config("service", {"session_affinity": "None"})
    try:
        config = write_config(tmp_path / "bad.json", "mandatory", ["registry.example.com"])
        proc = policy_preview(program, config)
        assert proc.returncode != 0
        out = proc.stdout
        for rule, says in [("min-replicas", "runs 1 replica(s), fewer than 2"),
                           ("membership-ssl-verified", "sets KUBERNETES_MASTER_SKIP_SSL_VERIFICATION to true"),
                           ("images-pinned", "has the tag latest"),
                           ("images-from-org-registry", "is from 127.0.0.1:5000, not from registry.example.com"),
                           # the CarbonCluster's own settings, judged while its pod spec waits for the digest
                           ("images-pinned", "the members' image '127.0.0.1:5000/wso2/is-5.1.0:latest' has the tag"),
                           ("images-from-org-registry", "the members' image '127.0.0.1:5000/wso2/is-5.1.0:latest' "
                                                        "is from 127.0.0.1:5000"),
                           ("min-replicas", "default-cluster: runs 1 replica(s)")]:
            assert f"[mandatory]  {rule}" in out and says in out, f"{rule}: {says}: {out[-5000:]}"
        advisory = policy_preview(program, write_config(tmp_path / "adv.json", "advisory", ["registry.example.com"]))
        assert advisory.returncode == 0, advisory.stdout[-4000:]
        assert "[advisory]  min-replicas" in advisory.stdout
        # sticky sessions: two members behind a Service without affinity
        program.set_config("workload", {"replicas": 2})
        proc = policy_preview(program, config)
        assert "[mandatory]  sticky-sessions" in proc.stdout and "without sticky sessions" in proc.stdout
    finally:
        for key in ("clustering", "product_image", "service"):
            program.pulumi("config", "rm", f"wso2-kubernetes:{key}", check=False)
        program.set_config("workload", {"replicas": 2})
