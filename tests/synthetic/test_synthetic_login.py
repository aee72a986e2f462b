"""The console's login on a server started the way the image starts it: the renderer writes the secret tokens,
the entrypoint puts the mounted secrets in their place, the server reads them with the JDK's XML parser, and
only that password signs in."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path

import pytest
from lxml import etree
from synthetic_helpers import HOST_KEYSTORES, on_host

from tests.console import INDEX, LOGIN, LOGOUT, SESSION_COOKIE, log_in, request
from tests.unit.helpers import stack_settings
from wso2k8s.pack.render import SECRET_NAMES, TEMPLATES, render_conf
from wso2k8s.synthetic.pack import STOCK_KEYSTORE_PASSWORD, extract_pack, make_pack
from wso2k8s.synthetic.runner import ServerProcess, ports_for

pytestmark = pytest.mark.engine

USER_MGT = "repository/conf/user-mgt.xml"
# Every kind of character a careless replacement would change: unicode (NFC), space, tab, XML markup,
# backslash references, sed and shell metacharacters, the token marker, leading zeros and a YAML boolean.
PASSWORD = "0042 pä$$ wörd ✓\t<&>\"' \\1 / & | @@ ${nope} true 🔑"


def _start_through_entrypoint(home: Path, tmp_path: Path, offset: int, secrets: dict[str, str]) -> ServerProcess:
    """The pack's conf files rendered (tokens for the secrets), then the rendered entrypoint replaces the tokens
    from a secrets folder, as the Secret volume mounts it, and execs the server."""
    conf_files = []
    for item in render_conf(stack_settings(clustering={"enabled": False}, **HOST_KEYSTORES).profiles[0], home):
        (home / item.path).write_bytes(on_host(item.content))
        if item.holds_secrets:
            conf_files.append(item.path)
    assert USER_MGT in conf_files
    folder = tmp_path / "secrets"
    folder.mkdir()
    for name in SECRET_NAMES:
        (folder / name).write_text(secrets.get(name, STOCK_KEYSTORE_PASSWORD), encoding="utf-8")
    entrypoint = tmp_path / "docker-entrypoint.sh"
    entrypoint.write_text(TEMPLATES.get_template("docker/docker-entrypoint.sh.j2").render(
        carbon_home=str(home), secret_names=SECRET_NAMES, conf_files=conf_files))
    entrypoint.chmod(0o755)
    server = ServerProcess(home, env={"CARBON_HOME": str(home), "WSO2K8S_SECRETS_DIR": str(folder)})
    with open(server.output_path, "wb") as out:
        server.proc = subprocess.Popen([str(entrypoint), f"-DportOffset={offset}"], stdout=out,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=server.env, cwd=home)
    return server


@pytest.fixture
def started(carbon_home: Path, tmp_path: Path, offset: int):
    """Call with the secrets; the server is stopped at teardown."""
    made: list[ServerProcess] = []

    def start(secrets: dict[str, str]) -> ServerProcess:
        server = _start_through_entrypoint(carbon_home, tmp_path, offset, secrets)
        made.append(server)
        server.wait_started()
        return server

    yield start
    for server in made:
        server.stop()


def _refused(base: str, username: str, password: str) -> None:
    answer = log_in(base, username, password)
    assert (answer.status, answer.location, answer.session) == (302, LOGIN + "?loginStatus=false", None), \
        (username, password)


def test_the_secret_signs_in_and_near_misses_do_not(started, carbon_home: Path, offset: int) -> None:
    server = started({"admin_password": PASSWORD})
    base = f"https://127.0.0.1:{ports_for(offset)['https']}"
    # The file holds the secret escaped; the XML parser gives back exactly the secret.
    assert etree.parse(str(carbon_home / USER_MGT)).findtext("Realm/Configuration/AdminUser/Password") == PASSWORD

    form = request(base + LOGIN)
    assert form.status == 200 and form.session is None
    assert 'action="../admin/login_action.jsp"' in form.body
    assert 'name="username"' in form.body and 'name="password"' in form.body

    answer = log_in(base, "admin", PASSWORD)
    assert answer.status == 302 and answer.location == INDEX + "?loginStatus=true"
    cookie = answer.headers.get_all("Set-Cookie") or []
    assert len(cookie) == 1 and SESSION_COOKIE.match(cookie[0]) and "; Secure" in cookie[0], cookie
    session = answer.session
    assert session
    home = request(base + INDEX, cookie=session)
    assert home.status == 200 and "Signed-in as: admin" in home.body

    # No session, a made-up one, or one from before a sign-out: back to the login page.
    assert (request(base + INDEX).status, request(base + INDEX).location) == (302, LOGIN)
    assert request(base + INDEX, cookie="JSESSIONID=" + "0" * 32).location == LOGIN
    second = log_in(base, "admin", PASSWORD).session
    assert second and second != session  # a new session per sign-in
    assert request(base + LOGOUT, cookie=second).location == LOGIN
    assert request(base + INDEX, cookie=second).location == LOGIN
    assert request(base + INDEX, cookie=session).status == 200  # the other session is untouched

    nfd = unicodedata.normalize("NFD", PASSWORD)
    assert nfd != PASSWORD
    for wrong in (PASSWORD.replace(" ", "", 1), PASSWORD.replace("\t", " "), PASSWORD[:-1], PASSWORD + " ",
                  nfd, PASSWORD.replace("<&>", "&lt;&amp;&gt;"), "admin", PASSWORD.upper(), ""):
        _refused(base, "admin", wrong)
    _refused(base, "Admin", PASSWORD)
    failed = request(base + LOGIN + "?loginStatus=false")
    assert failed.status == 200 and "Login failed" in failed.body

    # Plain HTTP: the same login, a cookie without Secure (Tomcat marks only TLS sessions Secure).
    plain = log_in(f"http://127.0.0.1:{ports_for(offset)['http']}", "admin", PASSWORD)
    assert plain.status == 302 and plain.session
    assert "; Secure" not in (plain.headers.get("Set-Cookie") or "")

    out = server.output() + (carbon_home / "repository/logs/wso2carbon.log").read_text(encoding="utf-8")
    assert "'admin@carbon.super [-1234]' logged in" in out and "Failed Administrator login attempt" in out
    assert PASSWORD not in out and "pä$$" not in out


def test_surrounding_whitespace_is_trimmed_as_carbon_reads_user_mgt(started, carbon_home: Path, offset: int) -> None:
    """The entrypoint keeps the bytes, but Carbon 4.4's RealmConfigXMLProcessor reads AdminUser/Password with
    getText().trim(): a secret with surrounding whitespace signs in only without it. (So such a secret
    has to be refused before anything is built.)"""
    started({"admin_password": " \tpadded secret\t "})
    assert etree.parse(str(carbon_home / USER_MGT)).findtext("Realm/Configuration/AdminUser/Password") == \
        " \tpadded secret\t "
    base = f"https://127.0.0.1:{ports_for(offset)['https']}"
    _refused(base, "admin", " \tpadded secret\t ")
    assert log_in(base, "admin", "padded secret").session


def test_a_user_mgt_without_an_admin_password_stops_the_server(carbon_home: Path, offset: int, servers) -> None:
    conf = carbon_home / USER_MGT
    conf.write_text(re.sub(r"(<AdminUser>.*?)<Password>admin</Password>", r"\1", conf.read_text(), count=1,
                           flags=re.S))
    server = servers(carbon_home, args=[f"-DportOffset={offset}"], wait=False)
    assert server.wait_exit() == 1
    assert "repository/conf/user-mgt.xml: UserManager/Realm/Configuration/AdminUser/Password is missing or empty" \
        in server.output()


def test_an_awkward_keystore_password_opens_the_keystores(tmp_path: Path, offset: int) -> None:
    """carbon.xml (ISO-8859-1, element text) and catalina-server.xml (keystorePass, an attribute, where a raw
    tab would become a space) give the JDK exactly the password the keystores were made with."""
    password = "kéy <&>\"' \\1\t@@ 0042 ✓"
    home = extract_pack(make_pack(tmp_path / "pack", keystore_password=password), tmp_path / "unpacked")
    server = _start_through_entrypoint(home, tmp_path, offset, {"admin_password": "s3cret!",
                                                                 "keystore_password": password})
    try:
        server.wait_started()
        assert log_in(f"https://127.0.0.1:{ports_for(offset)['https']}", "admin", "s3cret!").session
        assert (home / "repository/conf/carbon.xml").read_bytes().startswith(
            b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    finally:
        server.stop()


def test_other_posts_are_still_refused(started, offset: int) -> None:
    started({"admin_password": "s3cret"})
    base = f"https://127.0.0.1:{ports_for(offset)['https']}"
    assert request(base + "/carbon/", form={"a": "b"}).status == 405
    got = request(base + "/carbon/admin/login_action.jsp")  # a GET carries no credentials
    assert (got.status, got.location, got.session) == (302, LOGIN + "?loginStatus=false", None)
