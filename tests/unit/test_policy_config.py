"""The policy pack's per-stack configuration (levels, registries), as tools/preview.sh writes it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from wso2k8s.policy_config import PolicyConfigError, policy_config

pytestmark = pytest.mark.unit
PROJECT_DIR = Path(__file__).resolve().parents[2]


def test_the_shipped_stacks_are_advisory_in_dev_and_mandatory_in_prod() -> None:
    assert policy_config(PROJECT_DIR, "dev")["all"] == "advisory"
    prod = policy_config(PROJECT_DIR, "prod")
    assert prod["all"] == "mandatory"
    prod_file = yaml.safe_load((PROJECT_DIR / "Pulumi.prod.yaml").read_text())["config"]
    assert prod["images-from-org-registry"]["registries"] == [prod_file["wso2-kubernetes:registry"]["server"]]


def test_a_bad_level_or_registry_list_names_the_key_and_file(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.x.yaml").write_text("config:\n  wso2-kubernetes-policy:enforcement: strict\n")
    with pytest.raises(PolicyConfigError, match=r"wso2-kubernetes-policy:enforcement \(Pulumi.x.yaml\): 'strict'"):
        policy_config(tmp_path, "x")
    (tmp_path / "Pulumi.y.yaml").write_text("config:\n  wso2-kubernetes-policy:registries: r.example.com\n")
    with pytest.raises(PolicyConfigError, match=r"registries \(Pulumi.y.yaml\).*Fix: write"):
        policy_config(tmp_path, "y")
