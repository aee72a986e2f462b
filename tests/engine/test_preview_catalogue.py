"""Bad inputs of the catalogue through the real engine: `pulumi preview` on a copy of the project shows the
loader's message (key, layer, fix) and no traceback, and nothing is created. These fail before any resource,
so they need only the Pulumi toolchain (no Docker, no cluster)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.engine.conftest import PROJECT_DIR
from tests.engine.stack import ProjectStack
from tests.unit.crafted import tiny_pack
from tests.unit.helpers import ADMIN_PASSWORD
from tests.unit.test_settings_catalogue import CASES, JARS, PACK, STOCK, Case, Project, _merged

SECRETS = {"admin_password", "keystore_password", "registry_password"}
THROUGH_THE_ENGINE = [
    "unknown top-level key, did-you-mean",
    "profile for profiles",
    "profile override that is not a mapping",
    "duplicate key in a layer",
    "layer that is not UTF-8",
    "name that makes a label over 63 characters",
    "registry with a scheme",
    "wka scheme without members",
    "kubeconfig that does not exist",
    "real pack on the jlink'd Java 17",
    "pack entry with '..'",
    "pack member with a bad CRC",
    "keystore password that does not open the pack's keystore",
    "password in plain stack config",
    # the secret reaches the program byte for byte through `pulumi config set --secret`: not stripped, not decoded
    "keystore password with a trailing space (kept, so it does not open)",
    "keystore password of white space only",
]
BY_ID = {c.id: c for c in CASES}


@pytest.fixture(scope="module")
def toolchain_env() -> dict[str, str]:
    """Only the Pulumi CLI and language host (`toolchain.sh ensure`): no Docker, no cluster."""
    command = f"{PROJECT_DIR}/tools/pulumi/toolchain.sh ensure {PROJECT_DIR}/.venv"
    out = subprocess.run(["bash", "-c", f'eval "$({command})" && env -0'], check=True, stdout=subprocess.PIPE,
                         cwd=PROJECT_DIR).stdout
    return dict(item.split("=", 1) for item in out.decode().split("\0") if "=" in item)


def _project_files(project: Path) -> None:
    """What the unit catalogue's fixture gives each case: the seed's jars and a tiny shipped-shape pack."""
    for jar in JARS:
        target = project / "files" / jar
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(target, "w") as zf:
            zf.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
    tiny_pack(project / PACK)


def _configure(stack: ProjectStack, case: Case, config: dict[str, Any]) -> None:
    values = {"product": "wso2is", "version": "5.1.0", "profiles": ["default"], "admin_password": ADMIN_PASSWORD,
              "keystore_password": STOCK, **config}
    for key, value in values.items():
        if value is None:
            continue
        if key in SECRETS and key not in case.plain:
            stack.set_secret(key, value)
        else:
            stack.set_config(key, value)


@pytest.mark.parametrize("case_id", THROUGH_THE_ENGINE)
def test_preview_shows_the_loaders_message_and_creates_nothing(case_id: str, toolchain_env: dict[str, str],
                                                                tmp_path: Path) -> None:
    case = BY_ID[case_id]
    env = {**os.environ, **toolchain_env}
    stack = ProjectStack.create(tmp_path, "unit", env, passphrase=secrets.token_hex(16))
    _project_files(stack.dir)
    config = _merged(case.config, case.setup(Project(stack.dir)) if case.setup else None)
    _configure(stack, case, config)

    proc = stack.pulumi("preview", "--non-interactive", check=False, timeout=600)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-3000:]
    assert "Traceback" not in output, output[-6000:]
    assert "wso2-kubernetes: " in output and "nothing was created" in output, output[-3000:]
    line = next((ln for ln in output.splitlines() if case.says in ln), None)
    assert line is not None, f"no line says {case.says!r}:\n{output[-3000:]}"
    assert case.key in line and case.layer in line and "Fix:" in line, line
    assert ADMIN_PASSWORD not in output
    exported = json.loads(stack.pulumi("stack", "export").stdout)
    assert not exported.get("deployment", {}).get("resources"), "the preview must not record resources"
    build = stack.dir / "build"
    assert not build.exists() or not any(build.rglob("Dockerfile"))
