"""The committed stack files are valid settings: a typo in Pulumi.<stack>.yaml fails here, not in a PR preview."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.unit.helpers import ADMIN_PASSWORD, KEYSTORE_PASSWORD, PROJECT_DIR
from wso2k8s.settings import load_stack_settings

STACK_FILES = sorted(PROJECT_DIR.glob("Pulumi.*.yaml"))
TEST_SECRETS = {"admin_password": ADMIN_PASSWORD, "keystore_password": KEYSTORE_PASSWORD,
                "registry_password": "unit-registry", "database_password": "unit-database"}


def _config(path: Path) -> dict[str, object]:
    """The plain wso2-kubernetes keys (encrypted `secure:` values, which only the stack's passphrase opens,
    are replaced by test secrets)."""
    data = yaml.safe_load(path.read_text()) or {}
    config = {k.removeprefix("wso2-kubernetes:"): v for k, v in (data.get("config") or {}).items()
              if k.startswith("wso2-kubernetes:")}
    return {k: v for k, v in config.items() if not (isinstance(v, dict) and "secure" in v)}


@pytest.mark.parametrize("path", STACK_FILES, ids=[p.name for p in STACK_FILES])
def test_stack_file_is_valid(path: Path) -> None:
    stack = path.name.split(".")[1]
    settings = load_stack_settings(PROJECT_DIR, stack, {**_config(path), **TEST_SECRETS}, set(TEST_SECRETS))
    data = yaml.safe_load(path.read_text())["config"]
    assert [s.profile for s in settings.profiles] == data["wso2-kubernetes:profiles"]  # each one loaded


def test_environments_differ_in_what_environments_differ_in() -> None:
    loaded = {}
    for name in ("dev", "staging", "prod"):
        values = {**_config(PROJECT_DIR / f"Pulumi.{name}.yaml"), **TEST_SECRETS}
        loaded[name] = load_stack_settings(PROJECT_DIR, name, values, set(TEST_SECRETS)).profiles[0]
    assert loaded["prod"].workload.replicas > loaded["staging"].workload.replicas >= loaded["dev"].workload.replicas
    assert len({s.kubernetes.namespace for s in loaded.values()}) == 3
    assert len({s.registry.server for s in loaded.values()}) == 3
    assert loaded["prod"].workload.resources.memory_limit != loaded["dev"].workload.resources.memory_limit
    assert loaded["dev"].pack.source == "synthetic" and loaded["prod"].pack.source == "path"
