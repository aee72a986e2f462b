"""`python -m wso2k8s.explain`: each effective setting with its layer, and one key's chain of layers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from wso2k8s.explain import _masked, main

pytestmark = pytest.mark.unit
PROJECT_DIR = Path(__file__).resolve().parents[2]


def project(tmp_path: Path, config: dict[str, object]) -> Path:
    shutil.copytree(PROJECT_DIR / "hieradata", tmp_path / "hieradata")
    base = {"wso2-kubernetes:product": "wso2is", "wso2-kubernetes:version": "5.1.0",
            "wso2-kubernetes:profiles": ["default"],
            "wso2-kubernetes:admin_password": {"secure": "v1:ZW5jcnlwdGVk"}}
    (tmp_path / "Pulumi.t.yaml").write_text(yaml.safe_dump({"config": {**base, **config}}))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], project_dir: Path, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv), project_dir)
    out, err = capsys.readouterr()
    return rc, out, err


def test_every_setting_names_the_layer_that_set_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, {"wso2-kubernetes:workload": {"replicas": 3}})
    rc, out, _ = run(capsys, root, "t")
    assert rc == 0
    assert "  workload.replicas = 3  [Pulumi.t.yaml]" in out
    assert "  workload.java_opts = " in out and "[hieradata/common.yaml]" in out
    assert "  clustering.membership_scheme = kubernetes  [hieradata/wso2is/5.1.0/default.yaml]" in out
    assert "wso2-kubernetes:admin_password = ********  [Pulumi.t.yaml, --secret]" in out
    assert "ZW5jcnlwdGVk" not in out


def test_one_key_shows_every_layer_most_general_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, {"wso2-kubernetes:workload": {"replicas": 3},
                              "wso2-kubernetes:profile_overrides": {"default": {"workload": {"replicas": 5}}}})
    rc, out, _ = run(capsys, root, "t", "workload.replicas")
    assert rc == 0
    lines = [line.strip() for line in out.splitlines()[1:]]
    common = yaml.safe_load((root / "hieradata/common.yaml").read_text())["workload"]["replicas"]
    assert lines == [f"1. hieradata/common.yaml: workload.replicas = {common}",
                     "2. Pulumi.t.yaml: wso2-kubernetes:workload.replicas = 3",
                     "3. Pulumi.t.yaml: wso2-kubernetes:profile_overrides.default.workload.replicas = 5  <- effective"]


def test_a_mapping_replaced_above_the_key_counts_as_a_touch(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    profile = tmp_path / "hieradata/wso2is/5.1.0/default.yaml"
    root = project(tmp_path, {})
    data = yaml.safe_load(profile.read_text())
    data["clustering"].setdefault("kubernetes", {})["skip_ssl_verification"] = True
    profile.write_text(yaml.safe_dump(data))
    rc, out, _ = run(capsys, root, "t", "clustering.kubernetes.skip_ssl_verification")
    assert rc == 0
    assert "hieradata/common.yaml: clustering.kubernetes.skip_ssl_verification = false" in out
    assert ("hieradata/wso2is/5.1.0/default.yaml: clustering.kubernetes.skip_ssl_verification = true"
            "  <- effective") in out


def test_password_like_values_are_masked_in_a_chain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, {})
    rc, out, _ = run(capsys, root, "t", "server.display_name")
    assert rc == 0 and "WSO2 Identity Server  <- effective" in out
    assert _masked("registry.password", "hunter2") == "********"


def test_an_unknown_key_or_bad_settings_say_so_without_a_traceback(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, {"wso2-kubernetes:workload": {"replicaz": 3}})
    rc, _, err = run(capsys, root, "t")
    assert rc == 1 and "wso2-kubernetes:workload.replicaz (Pulumi.t.yaml): unknown key 'replicaz'" in err
    root2 = project(tmp_path / "ok", {})
    rc, _, err = run(capsys, root2, "t", "workload.replicaz")
    assert rc == 1 and "'workload.replicaz' is not a settings key of stack t" in err
