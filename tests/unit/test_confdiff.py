"""Conf-file diffs for previews: deployed (the state's conf_files output) vs freshly rendered build contexts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.helpers import ADMIN_PASSWORD, stack_settings
from wso2k8s import confdiff
from wso2k8s.prepare import prepare

pytestmark = pytest.mark.unit
PROJECT_DIR = Path(__file__).resolve().parents[2]


def rendered(tmp_path: Path, name: str, **config: object) -> tuple[Path, dict[str, str]]:
    # the synthetic pack's keystores open with the stock password, as a shipped pack's do
    stack = stack_settings(stack="t", pack={"source": "synthetic"}, keystore_password="wso2carbon", **config)
    build = tmp_path / name
    prepared = prepare(stack, PROJECT_DIR, build)
    return build, confdiff.rendered_files(prepared.profiles[0].product_context)


def test_a_one_parameter_change_shows_only_the_changed_file_and_lines(tmp_path: Path) -> None:
    _, before = rendered(tmp_path, "before")
    build, _ = rendered(tmp_path, "after", clustering={"kubernetes": {"services": ["wso2is", "wso2is-worker"]}})
    assert "repository/conf/axis2/axis2.xml" in before and "repository/conf/carbon.xml" in before
    assert not any(p.endswith(".jar") for p in before)
    text = confdiff.report("t", {"default": confdiff.packed(before)}, build)
    assert text.count("\n--- deployed/default/") == 1
    assert "--- deployed/default/repository/conf/axis2/axis2.xml" in text
    assert '-        <parameter name="KUBERNETES_SERVICES">wso2is</parameter>' in text
    assert '+        <parameter name="KUBERNETES_SERVICES">wso2is,wso2is-worker</parameter>' in text
    assert "carbon.xml" not in text


def test_nothing_changed_lists_no_file(tmp_path: Path) -> None:
    build, files = rendered(tmp_path, "same")
    text = confdiff.report("t", {"default": confdiff.packed(files)}, build)
    assert text == "wso2-kubernetes: no rendered conf file changes in stack 't'.\n"


def test_a_stack_never_deployed_shows_every_file_as_new(tmp_path: Path) -> None:
    build, files = rendered(tmp_path, "new")
    text = confdiff.report("t", {}, build)
    assert text.count("--- /dev/null") == len(files) > 0


def test_secret_values_are_masked_tokens_are_kept() -> None:
    old = "<KeyStore><Password>@@wso2k8s:keystore_password@@</Password></KeyStore>\n<a x='1'/>\n"
    new = '<KeyStore><Password>hunter2</Password></KeyStore>\n<User password="s3cret" name="admin"/>\n'
    [diff] = confdiff.file_diffs("p", {"f.xml": old}, {"f.xml": new})
    assert "hunter2" not in diff and "s3cret" not in diff
    assert "+<KeyStore><Password>********</Password></KeyStore>" in diff
    assert '+<User password="********" name="admin"/>' in diff
    assert "-<KeyStore><Password>@@wso2k8s:keystore_password@@</Password></KeyStore>" in diff


def test_the_rendered_files_hold_tokens_not_secrets(tmp_path: Path) -> None:
    _, files = rendered(tmp_path, "s")
    packed = json.dumps(confdiff.packed(files))
    for text in files.values():
        assert ADMIN_PASSWORD not in text
    assert "<Password>@@wso2k8s:keystore_password@@</Password>" in files["repository/conf/carbon.xml"]
    assert "@@wso2k8s:admin_password@@" in files["repository/conf/user-mgt.xml"]
    assert {p: confdiff.unpack_file(v) for p, v in json.loads(packed).items()} == files


def test_the_cli_reads_the_deployed_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build, files = rendered(tmp_path, "cli")
    (tmp_path / "deployed.json").write_text(json.dumps({"default": confdiff.packed(files)}))
    assert confdiff.main(["t", str(tmp_path / "deployed.json"), str(build)]) == 0
    assert "no rendered conf file changes" in capsys.readouterr().out
    (tmp_path / "empty.json").write_text("")
    assert confdiff.main(["t", str(tmp_path / "empty.json"), str(build)]) == 0
    assert "--- /dev/null" in capsys.readouterr().out
