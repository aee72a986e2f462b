"""Inputs taken exactly as given and never able to reach outside the build folder: stack config decoding,
crafted packs, keystores and JDK archives read offline."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import config as runtime_config

from tests.unit.crafted import ROOT, entry, jdk_archive, keystore, tiny_pack
from tests.unit.helpers import PROJECT_DIR, stack_settings
from tests.unit.test_graph import Mocks
from wso2k8s.pack.context import _unpack_once
from wso2k8s.pack.errors import PackError
from wso2k8s.pack.inspect import PackInfo, inspect_pack
from wso2k8s.pack.jdk import inspect_jdk
from wso2k8s.pack.keystore import jks_keys_refusing, password_opens
from wso2k8s.settings import SettingsError
from wso2k8s.settings.stack_config import stack_config

AWKWARD_SECRETS = ["1.50", "true", "007", "in  side\tspace", "null", "[not json", '{"a": 1}', "pässwörd-ü€𝄞",
                   "<&>\"'&amp;", "1e3"]


@pytest.fixture
def runtime_config_of() -> Any:
    """Sets the config the language host would hand the program, then clears it."""
    def set_config(values: dict[str, str], secret: set[str]) -> None:
        runtime_config.CONFIG.set(values)
        runtime_config._SECRET_KEYS.set(secret)
    yield set_config
    runtime_config.CONFIG.set({})
    runtime_config._SECRET_KEYS.set(set())


@pytest.mark.parametrize("secret", AWKWARD_SECRETS)
def test_secrets_reach_the_program_byte_for_byte(secret: str, runtime_config_of: Any) -> None:
    runtime_config_of({"wso2-kubernetes:admin_password": secret, "wso2-kubernetes:keystore_password": secret,
                       "other:x": "1"}, {"wso2-kubernetes:admin_password", "wso2-kubernetes:keystore_password"})
    values, secret_keys = stack_config()
    assert values == {"admin_password": secret, "keystore_password": secret}
    assert secret_keys == {"admin_password", "keystore_password"}
    loaded = stack_settings(admin_password=values["admin_password"], keystore_password=values["keystore_password"])
    assert loaded.secrets.admin_password == secret and loaded.secrets.keystore_password == secret


def test_plain_scalars_keep_their_text_and_structures_are_decoded(runtime_config_of: Any) -> None:
    runtime_config_of({"wso2-kubernetes:version": "5.10", "wso2-kubernetes:hostname": "0123",
                       "wso2-kubernetes:port_offset": "1", "wso2-kubernetes:profiles": '["default"]',
                       "wso2-kubernetes:workload": '{"replicas": 2, "await_ready": true}',
                       "wso2-kubernetes:files_dir": "[files"}, set())
    values, _ = stack_config()
    assert values == {"version": "5.10", "hostname": "0123", "port_offset": "1", "profiles": ["default"],
                      "workload": {"replicas": 2, "await_ready": True}, "files_dir": "[files"}


def test_a_scalar_stack_value_is_converted_where_the_schema_wants_a_number() -> None:
    s = stack_settings(port_offset="1", hostname="0123").profiles[0]
    assert s.port_offset == 1 and s.hostname == "0123"


def test_registry_trailing_slash_is_normalised() -> None:
    assert stack_settings(registry={"server": "127.0.0.1:5000/"}).profiles[0].registry.server == "127.0.0.1:5000"


def test_a_long_name_fits_a_short_stack_but_not_a_long_one() -> None:
    name = "w" * 57
    config = {"name": name, "clustering": {"kubernetes": {"services": [name]}}}
    assert stack_settings(stack="dev", **config).profiles[0].name == name  # wso2is…-dev: 61 characters
    with pytest.raises(SettingsError, match="use a name of at most 55 characters for stack 'staging'"):
        stack_settings(stack="staging", **config)


@pytest.mark.parametrize("storetype", ["JKS", "JCEKS", "PKCS12"])
def test_keystore_password_is_checked_offline(storetype: str) -> None:
    password = "p@ss word<&>'\"1.50"
    data = keystore(password, storetype)
    assert password_opens(data, password)
    assert not password_opens(data, password + " ")
    assert not password_opens(data, "wso2carbon")


def test_a_jks_private_key_with_another_password_is_found() -> None:
    same = keystore("store-Pa55", "JKS", trusted=True)
    other = keystore("store-Pa55", "JKS", key_password="key-Pa55-other", trusted=True)
    assert password_opens(same, "store-Pa55") and password_opens(other, "store-Pa55")
    assert jks_keys_refusing(same, "store-Pa55") == []
    assert jks_keys_refusing(other, "store-Pa55") == ["wso2carbon"]
    assert jks_keys_refusing(other, "key-Pa55-other") == []


@pytest.mark.parametrize(("version", "major"), [("1.7.0_80", 7), ("1.8.0_202", 8), ("11.0.2", 11), ("17", 17)])
def test_jdk_major_version_comes_from_the_release_file(version: str, major: int, tmp_path: Path) -> None:
    info = inspect_jdk(jdk_archive(tmp_path / "jdk.tar.gz", version=version))
    assert (info.version, info.major) == (version, major)


def _victim(tmp_path: Path) -> tuple[Path, bytes, int]:
    victim = tmp_path / "victim"
    victim.write_bytes(b"planted outside the build folder\n")
    victim.chmod(0o600)
    return victim, victim.read_bytes(), stat.S_IMODE(victim.stat().st_mode)


ESCAPES = {
    "dotdot": [(entry(f"{ROOT}/../../victim", 0o777), b"overwritten")],
    "absolute": [(entry("{victim}", 0o777), b"overwritten")],
    "link out, then through it": [(entry(f"{ROOT}/bin/out", 0o777, stat.S_IFLNK), b"{victim}"),
                                  (entry(f"{ROOT}/bin/out", 0o777), b"overwritten")],
    "link climbing out": [(entry(f"{ROOT}/bin/out", 0o777, stat.S_IFLNK), b"../../../victim")],
}


@pytest.mark.parametrize("crafted", ESCAPES, ids=list(ESCAPES))
def test_a_crafted_pack_is_refused_and_a_file_outside_is_untouched(crafted: str, tmp_path: Path) -> None:
    from program import deploy

    victim, content, mode = _victim(tmp_path)
    project = tmp_path / "project"
    shutil.copytree(PROJECT_DIR / "hieradata", project / "hieradata")
    extra = [(_fill(info, victim), data.replace(b"{victim}", str(victim).encode())) for info, data in ESCAPES[crafted]]
    tiny_pack(project / "wso2is-5.1.0.zip", extra=extra)
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="wso2-kubernetes", stack="unit", preview=True)
    values = {"product": "wso2is", "version": "5.1.0", "admin_password": "a-Pa55", "keystore_password": "wso2carbon",
              "pack": {"source": "path", "path": "wso2is-5.1.0.zip"}, "file_list": [],
              "base_image": {"java": {"allow_unsupported_version": True}}}
    with pytest.raises(SettingsError, match=r"wso2-kubernetes:pack\.path .*entry '"):
        deploy(project, "unit", values, {"admin_password", "keystore_password"}, build_dir=project / "build")
    assert mocks.resources == []
    assert victim.read_bytes() == content and stat.S_IMODE(victim.stat().st_mode) == mode
    assert not (project / "build").exists() or not any((project / "build").rglob("*victim*"))


@pytest.mark.parametrize("crafted", ESCAPES, ids=list(ESCAPES))
def test_unpacking_checks_entries_again_and_writes_nothing(crafted: str, tmp_path: Path) -> None:
    """Defence in depth: the unpack step refuses the same packs even when handed one inspection never saw."""
    victim, content, mode = _victim(tmp_path)
    extra = [(_fill(info, victim), data.replace(b"{victim}", str(victim).encode())) for info, data in ESCAPES[crafted]]
    pack = tiny_pack(tmp_path / "p.zip", extra=extra)
    target = tmp_path / "build" / "pack"
    with pytest.raises(PackError, match="entry '"):
        _unpack_once(PackInfo(pack, ROOT, "WSO2 Identity Server", "IS", "5.1.0", "0" * 64), target)
    assert victim.read_bytes() == content and stat.S_IMODE(victim.stat().st_mode) == mode
    assert not target.exists() and not (tmp_path / "build" / "pack.sha256").exists()


def _fill(info: Any, victim: Path) -> Any:
    info.filename = info.filename.replace("{victim}", str(victim))
    return info


def test_a_safe_pack_unpacks_with_its_modes_and_inner_links(tmp_path: Path) -> None:
    pack = tiny_pack(tmp_path / "p.zip", extra=[(entry(f"{ROOT}/bin/tool.sh", 0o4755), b"#!/bin/sh\n"),
                                                (entry(f"{ROOT}/lib", 0o777, stat.S_IFLNK), b"repository/components")])
    info = inspect_pack(pack)
    target = tmp_path / "build" / "pack"
    _unpack_once(info, target)
    tool = target / ROOT / "bin" / "tool.sh"
    assert stat.S_IMODE(tool.stat().st_mode) == 0o755  # setuid dropped
    assert (target / ROOT / "lib").is_symlink() and (target / ROOT / "lib" / "lib").is_dir()
    assert (target / ROOT / "repository/conf/carbon.xml").read_bytes().startswith(b"<?xml")
    assert (tmp_path / "build" / "pack.sha256").read_text() == info.sha256


def test_an_unwritable_build_folder_is_the_loaders_message_not_a_traceback(tmp_path: Path) -> None:
    from program import deploy

    blocker = tmp_path / "build"
    blocker.write_text("a file where the build folder should be")
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="wso2-kubernetes", stack="unit", preview=True)
    values = {"product": "wso2is", "version": "5.1.0", "admin_password": "a-Pa55", "keystore_password": "wso2carbon"}
    with pytest.raises(SettingsError, match=r"\(prepare\) \(Pulumi\.unit\.yaml\): preparing the build contexts "
                                            r"failed: (FileExistsError|NotADirectoryError)"):
        deploy(PROJECT_DIR, "unit", values, {"admin_password", "keystore_password"}, build_dir=blocker)
    assert mocks.resources == [] and blocker.read_text().startswith("a file")
