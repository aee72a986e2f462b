"""The image's entrypoint puts the mounted secrets into the conf files (bash, run here as in the image)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from wso2k8s.pack.render import SECRET_NAMES, TEMPLATES, secret_token


def _entrypoint(tmp_path: Path, conf_files: list[str]) -> Path:
    script = tmp_path / "docker-entrypoint.sh"
    script.write_text(TEMPLATES.get_template("docker/docker-entrypoint.sh.j2").render(
        carbon_home="/nonexistent", secret_names=SECRET_NAMES, conf_files=conf_files))
    script.chmod(0o755)
    return script


def _home(tmp_path: Path) -> Path:
    home = tmp_path / "carbon"
    (home / "bin").mkdir(parents=True)
    (home / "bin/wso2server.sh").write_text("#!/bin/bash\necho \"server started with: $*\"\n")
    (home / "bin/wso2server.sh").chmod(0o755)
    conf = home / "repository/conf"
    conf.mkdir(parents=True)
    (conf / "user-mgt.xml").write_text(f"<AdminUser><Password>{secret_token('admin_password')}</Password></AdminUser>")
    (conf / "carbon.xml").write_text(f"<KeyStore><Password>{secret_token('keystore_password')}</Password>"
                                     f"<KeyPassword>{secret_token('keystore_password')}</KeyPassword></KeyStore>")
    return home


def test_secrets_are_xml_escaped_into_the_conf_files(tmp_path: Path) -> None:
    home = _home(tmp_path)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "admin_password").write_text("a&b<c>\"d'e&amp;")
    (secrets / "keystore_password").write_text("k$1\\2&")
    script = _entrypoint(tmp_path, ["repository/conf/user-mgt.xml", "repository/conf/carbon.xml"])
    proc = subprocess.run([str(script), "-Dsetup"], env={"CARBON_HOME": str(home), "WSO2K8S_SECRETS_DIR": str(secrets),
                                                        "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "server started with: -Dsetup" in proc.stdout
    assert (home / "repository/conf/user-mgt.xml").read_text().strip() == \
        "<AdminUser><Password>a&amp;b&lt;c&gt;&quot;d&apos;e&amp;amp;</Password></AdminUser>"
    assert (home / "repository/conf/carbon.xml").read_text().strip() == \
        "<KeyStore><Password>k$1\\2&amp;</Password><KeyPassword>k$1\\2&amp;</KeyPassword></KeyStore>"
    assert "a&b" not in proc.stdout + proc.stderr  # the value is never logged


def test_a_missing_secret_stops_the_container_with_a_clear_message(tmp_path: Path) -> None:
    home = _home(tmp_path)
    script = _entrypoint(tmp_path, ["repository/conf/user-mgt.xml"])
    proc = subprocess.run([str(script)], env={"CARBON_HOME": str(home), "WSO2K8S_SECRETS_DIR": str(tmp_path / "none"),
                                              "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert proc.returncode == 78
    assert "secret 'admin_password' is not mounted" in proc.stderr
    assert secret_token("admin_password") in (home / "repository/conf/user-mgt.xml").read_text()
