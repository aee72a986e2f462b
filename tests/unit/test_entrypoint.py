"""The image's entrypoint puts the mounted secrets into the conf files (bash, run here as in the image).

A secret must come back byte for byte when the server's XML parser reads the file: in element text
(user-mgt.xml), in an attribute value (catalina-server.xml keystorePass) and in a file declared ISO-8859-1
(a shipped carbon.xml)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from lxml import etree

from wso2k8s.pack.render import SECRET_NAMES, TEMPLATES, secret_token

ADMIN = secret_token("admin_password")
KEYSTORE = secret_token("keystore_password")
USER_MGT = "repository/conf/user-mgt.xml"
CATALINA = "repository/conf/tomcat/catalina-server.xml"
CARBON = "repository/conf/carbon.xml"
CONF_FILES = [USER_MGT, CATALINA, CARBON]

# What users type into `pulumi config set --secret`, and what a naive replacement (sed, a YAML or JSON
# round trip, a shell without quoting, an unescaped XML write) would change.
AWKWARD = {
    "surrounding spaces": "  spaced out  ",
    "tabs": "\ttab\tin\tside\t",
    "leading zeros": "000123",
    "decimal": "1.50",
    "boolean word": "true",
    "unicode": "pä$$ wörd ✓",
    "4-byte unicode": "key 🔑 𝄞",
    "xml specials": "<&>\"'&amp;",
    "backslashes": "back\\slash\\1\\\\",
    "at signs": "@@a@@ @@wso2k8s:keystore_password@@",
    "sed metacharacters": "/ & \\1 | s/a/b/g",
    "shell": "$1 ${HOME} `id` $(id) !! ~ *?[a-z]",
    "line breaks": "one\ntwo\r\nthree\r",
    "trailing newline": "ends with newline\n",
    "braces": "${carbon.home}}{",
    "DEL and nbsp": "x\x7fy\u00a0z",
}


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
    (conf / "tomcat").mkdir(parents=True)
    # The shapes the shipped pack has: no declaration, multi-line attributes, ISO-8859-1, blank lines.
    (home / USER_MGT).write_text(f"<UserManager>\n    <AdminUser>\n        <UserName>admin</UserName>\n"
                                 f"        <Password>{ADMIN}</Password>\n    </AdminUser>\n</UserManager>\n")
    (home / CATALINA).write_text(f'<Server>\n    <Connector port="9443"\n               SSLEnabled="true"\n'
                                 f'               keystorePass="{KEYSTORE}"/>\n</Server>\n\n')
    (home / CARBON).write_bytes(f'<?xml version="1.0" encoding="ISO-8859-1"?>\n<Server>\n  <!-- Gr\u00fc\u00dfe -->\n'
                                f"  <KeyStore><Password>{KEYSTORE}</Password>"
                                f"<KeyPassword>{KEYSTORE}</KeyPassword></KeyStore>\n</Server>".encode("iso-8859-1"))
    return home


def _run(tmp_path: Path, home: Path, secrets: dict[str, bytes], conf_files: list[str] = CONF_FILES,
         ) -> subprocess.CompletedProcess[bytes]:
    folder = tmp_path / "secrets"
    folder.mkdir()
    for name, value in secrets.items():
        (folder / name).write_bytes(value)
    script = _entrypoint(tmp_path, conf_files)
    return subprocess.run([str(script), "-Dsetup"], capture_output=True,
                          env={"CARBON_HOME": str(home), "WSO2K8S_SECRETS_DIR": str(folder), "PATH": "/usr/bin:/bin"})


def _parsed(home: Path) -> tuple[str, str, str, str]:
    """(user-mgt Password text, catalina keystorePass, carbon.xml Password, KeyPassword) as an XML parser reads
    them (libxml2 here, the JDK's parser in tests/synthetic; both conform)."""
    user = etree.parse(str(home / USER_MGT)).getroot()
    catalina = etree.parse(str(home / CATALINA)).getroot()
    carbon = etree.parse(str(home / CARBON)).getroot()
    return (user.findtext("AdminUser/Password") or "", catalina.find("Connector").get("keystorePass") or "",
            carbon.findtext("KeyStore/Password") or "", carbon.findtext("KeyStore/KeyPassword") or "")


@pytest.mark.parametrize("value", AWKWARD.values(), ids=AWKWARD.keys())
def test_a_secret_reaches_the_xml_parser_byte_for_byte(tmp_path: Path, value: str) -> None:
    home = _home(tmp_path)
    keystore = "k" + value[::-1]  # a different value in the same run: no cross-talk between the two
    proc = _run(tmp_path, home, {"admin_password": value.encode(), "keystore_password": keystore.encode()})
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"server started with: -Dsetup" in proc.stdout
    assert _parsed(home) == (value, keystore, keystore, keystore)
    # Written as ASCII character references: the ISO-8859-1 file stays ISO-8859-1, its comment untouched.
    carbon = (home / CARBON).read_bytes()
    assert "<!-- Gr\u00fc\u00dfe -->".encode("iso-8859-1") in carbon
    assert all(b < 0x80 for b in (home / USER_MGT).read_bytes())
    output = proc.stdout + proc.stderr
    assert value.strip().encode() not in output and keystore.encode() not in output  # never logged


def test_only_the_tokens_change_the_files_keep_every_other_byte(tmp_path: Path) -> None:
    home = _home(tmp_path)
    before = {f: (home / f).read_bytes() for f in CONF_FILES}
    proc = _run(tmp_path, home, {"admin_password": b"plain", "keystore_password": b"also-plain"})
    assert proc.returncode == 0, proc.stderr.decode()
    for f in CONF_FILES:
        expected = before[f].replace(ADMIN.encode(), b"plain").replace(KEYSTORE.encode(), b"also-plain")
        assert (home / f).read_bytes() == expected, f  # catalina's two trailing newlines included


def test_the_escaped_form_is_what_the_file_holds(tmp_path: Path) -> None:
    home = _home(tmp_path)
    proc = _run(tmp_path, home, {"admin_password": "a&<>\"'@\t\n\r\x7f ä✓🔑".encode(),
                                 "keystore_password": b"k"})
    assert proc.returncode == 0, proc.stderr.decode()
    assert ("<Password>a&amp;&lt;&gt;&quot;&apos;&#64;&#9;&#10;&#13;&#127; &#228;&#10003;&#128273;</Password>"
            in (home / USER_MGT).read_text())


@pytest.mark.parametrize(("value", "problem"), [
    (b"", "is empty"),
    (b"a\x00b", "contains a NUL byte"),
    (b"bell\x07", "contains the control character U+0007 (byte 5)"),
    (b"\xffx", "is not UTF-8 text (byte 1)"),
    (b"ok\xc3", "is not UTF-8 text (byte 3 starts a truncated sequence)"),
    (b"\xc3(", "is not UTF-8 text (byte 2)"),
    (b"\xe0\x80\xaf", "is not UTF-8 text XML can hold (byte 1)"),      # overlong '/'
    (b"x\xed\xa0\x80", "is not UTF-8 text XML can hold (byte 2)"),     # a UTF-16 surrogate
    (b"\xef\xbf\xbe", "is not UTF-8 text XML can hold (byte 1)"),      # U+FFFE
], ids=["empty", "nul", "control", "not-utf8", "truncated", "bad-continuation", "overlong", "surrogate",
        "non-character"])
def test_a_secret_xml_cannot_hold_stops_the_container_before_any_file_changes(
        tmp_path: Path, value: bytes, problem: str) -> None:
    home = _home(tmp_path)
    before = {f: (home / f).read_bytes() for f in CONF_FILES}
    proc = _run(tmp_path, home, {"admin_password": b"fine", "keystore_password": value})
    assert proc.returncode == 78
    stderr = proc.stderr.decode()
    assert f"secret 'keystore_password' {problem}" in stderr, stderr
    assert "Fix: pulumi config set --secret wso2-kubernetes:keystore_password" in stderr
    assert b"server started" not in proc.stdout
    assert {f: (home / f).read_bytes() for f in CONF_FILES} == before
    if len(value) > 2:
        assert value not in proc.stdout + proc.stderr


def test_a_missing_secret_stops_the_container_with_a_clear_message(tmp_path: Path) -> None:
    home = _home(tmp_path)
    script = _entrypoint(tmp_path, [USER_MGT])
    proc = subprocess.run([str(script)], env={"CARBON_HOME": str(home), "WSO2K8S_SECRETS_DIR": str(tmp_path / "none"),
                                              "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert proc.returncode == 78
    assert "secret 'admin_password' is not mounted" in proc.stderr
    assert ADMIN in (home / USER_MGT).read_text()
