"""Rendering changes only the lines the settings own: the diff of each rendered file against the pack's own
file, on the synthetic pack's template (the shapes a shipped IS 5.1.0 pack has), and the text editor's rules
(encoding, declaration, attribute layout, line endings) on small files."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest
from lxml import etree

from tests.unit.helpers import stack_settings, synthetic_conf
from wso2k8s.pack.render import RenderError, render_conf, secret_token
from wso2k8s.pack.xmltext import XmlText

CONF = "repository/conf"


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    return synthetic_conf(tmp_path)


def _diff(original: bytes, rendered: bytes, encoding: str) -> tuple[list[str], list[str]]:
    """(removed lines, added lines) of a line diff."""
    old, new = original.decode(encoding).splitlines(), rendered.decode(encoding).splitlines()
    lines = [d for d in difflib.unified_diff(old, new, lineterm="", n=0) if d[:3] not in ("---", "+++")]
    return [d[1:] for d in lines if d.startswith("-")], [d[1:] for d in lines if d.startswith("+")]


def _render(pack: Path, **config: object) -> dict[str, bytes]:
    return {r.path: r.content for r in render_conf(stack_settings(**config).profiles[0], pack)}


# --------------------------------------------------------------------------- the shipped shape


def test_the_template_has_a_shipped_packs_traits(pack: Path) -> None:
    """What a user's pack brings, so every render test meets it (Carbon 4.4 kernel / IS 5.1.0 files)."""
    carbon = (pack / CONF / "carbon.xml").read_bytes()
    assert carbon.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>\n')
    assert b"<!--HostName>www.wso2.org</HostName-->" in carbon
    assert b"<!--MgtHostName>mgt.wso2.org</MgtHostName-->" in carbon
    assert b"${carbon.home}/repository/resources/security/wso2carbon.jks" in carbon
    for path in ("axis2/axis2.xml", "user-mgt.xml"):
        assert (pack / CONF / path).read_bytes().startswith(b"<!--"), path  # no XML declaration
    axis2 = etree.parse(str(pack / CONF / "axis2/axis2.xml")).getroot()
    last = [c for c in axis2 if isinstance(c.tag, str)][-1]
    assert last.tag == "clustering" and last.get("enable") == "false"
    assert last.get("class") == "org.wso2.carbon.core.clustering.hazelcast.HazelcastClusteringAgent"
    params = {p.get("name"): p.text for p in last.findall("parameter")}
    assert params["membershipScheme"] == "multicast" and params["mcastPort"] == "45564"
    assert params["localMemberHost"] == "127.0.0.1"
    assert last.find("members/member/hostName") is not None
    catalina = (pack / CONF / "tomcat/catalina-server.xml").read_text()
    assert re.search(r'<Connector protocol="[^"]+"\n\s+port="9443"\n', catalina)  # one attribute per line
    assert catalina.count('keystorePass="wso2carbon"') == 1  # the stock password, as shipped


def test_each_file_changes_only_in_the_lines_the_settings_own(pack: Path) -> None:
    originals = {p: (pack / p).read_bytes() for p in _render(pack) if (pack / p).exists()}  # (+ new files)
    rendered = _render(pack, hostname="is.example.com")
    token = secret_token("keystore_password")

    keystores = "/run/secrets/wso2carbon-keystores"
    removed, added = _diff(originals[f"{CONF}/carbon.xml"], rendered[f"{CONF}/carbon.xml"], "iso-8859-1")
    assert (len(removed), len(added)) == (5, 7)
    assert added[:2] == ["    <HostName>is.example.com</HostName>", "    <MgtHostName>is.example.com</MgtHostName>"]
    stock = "${carbon.home}/repository/resources/security"
    assert sorted(removed) == sorted(["            <Password>wso2carbon</Password>",
                                      "            <KeyPassword>wso2carbon</KeyPassword>",
                                      "            <Password>wso2carbon</Password>",
                                      f"            <Location>{stock}/wso2carbon.jks</Location>",
                                      f"            <Location>{stock}/client-truststore.jks</Location>"])
    assert sorted(added[2:]) == sorted([f"            <Location>{keystores}/wso2carbon.jks</Location>",
                                        f"            <Location>{keystores}/client-truststore.jks</Location>",
                                        *[line for line in added[2:] if token in line]])  # 3 password lines

    removed, added = _diff(originals[f"{CONF}/tomcat/catalina-server.xml"],
                           rendered[f"{CONF}/tomcat/catalina-server.xml"], "utf-8")
    assert (removed, added) == ([f'                   keystoreFile="{stock}/wso2carbon.jks"',
                                 '                   keystorePass="wso2carbon"'],
                                ['                   proxyPort="32001"', '                   proxyPort="32002"',
                                 f'                   keystoreFile="{keystores}/wso2carbon.jks"',
                                 '                   keystoreType="JKS"', '                   keyAlias="wso2carbon"',
                                 f'                   keystorePass="{token}"'])

    removed, added = _diff(originals[f"{CONF}/identity/identity.xml"], rendered[f"{CONF}/identity/identity.xml"],
                           "iso-8859-1")
    assert len(removed) == len(added) == 2 and token in added[1] and f"{keystores}/wso2carbon.jks" in added[0]
    removed, added = _diff(originals[f"{CONF}/user-mgt.xml"], rendered[f"{CONF}/user-mgt.xml"], "iso-8859-1")
    assert len(removed) == len(added) == 1 and secret_token("admin_password") in added[0]


def test_axis2_changes_only_inside_clustering(pack: Path) -> None:
    original = (pack / CONF / "axis2/axis2.xml").read_text()
    rendered = _render(pack)[f"{CONF}/axis2/axis2.xml"].decode()
    before, after = original.split("<clustering", 1)[0], original.split("</clustering>", 1)[1]
    assert rendered.startswith(before) and rendered.endswith(after)  # byte for byte outside the element
    removed, added = _diff(original.encode(), rendered.encode(), "utf-8")
    old_lines = original.count("\n", len(before), len(original) - len(after)) + 1
    new_lines = rendered.count("\n", len(before), len(rendered) - len(after)) + 1
    assert 0 < len(removed) <= old_lines and 0 < len(added) <= new_lines
    assert etree.fromstring(rendered.encode()).xpath("/axisconfig/clustering/@enable") == ["true"]


def test_declarations_and_encodings_are_kept(pack: Path) -> None:
    rendered = _render(pack)
    for path in ("carbon.xml", "identity/identity.xml"):
        assert rendered[f"{CONF}/{path}"].startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>\n'), path
    for path in ("axis2/axis2.xml", "user-mgt.xml"):
        assert rendered[f"{CONF}/{path}"].startswith(b"<!--"), path
    assert rendered[f"{CONF}/tomcat/catalina-server.xml"].startswith(b"<?xml version='1.0' encoding='utf-8'?>")


def test_a_pack_with_hostname_set_is_edited_in_place(pack: Path) -> None:
    carbon = pack / CONF / "carbon.xml"
    carbon.write_bytes(carbon.read_bytes().replace(b"<!--HostName>www.wso2.org</HostName-->",
                                                   b"<HostName>old.example.com</HostName>"))
    original = carbon.read_bytes()
    removed, added = _diff(original, _render(pack, hostname="is.example.com")[f"{CONF}/carbon.xml"], "latin-1")
    assert "    <HostName>old.example.com</HostName>" in removed
    assert "    <HostName>is.example.com</HostName>" in added
    assert added.count("    <HostName>is.example.com</HostName>") == 1


def test_two_hostnames_are_refused_with_a_fix(pack: Path) -> None:
    carbon = pack / CONF / "carbon.xml"
    carbon.write_bytes(carbon.read_bytes().replace(b"<!--HostName>www.wso2.org</HostName-->",
                                                   b"<HostName>a</HostName><HostName>b</HostName>"))
    with pytest.raises(RenderError, match=r"carbon.xml: expected one <Server/HostName>, found 2") as err:
        _render(pack)
    assert "keep one <HostName> in repository/conf/carbon.xml" in err.value.fix


def test_a_missing_element_names_the_file_and_how_to_restore_it(pack: Path) -> None:
    carbon = pack / CONF / "carbon.xml"
    carbon.write_text(carbon.read_text(encoding="latin-1").replace("<Offset>0</Offset>", ""), encoding="latin-1")
    with pytest.raises(RenderError, match=r"carbon.xml: expected one <Server/Ports/Offset>, found 0") as err:
        _render(pack)
    assert err.value.fix == ("restore <Offset> in repository/conf/carbon.xml from an unmodified wso2is-5.1.0 "
                             "pack, which ships it")


def test_a_broken_file_is_refused_with_its_line(pack: Path) -> None:
    user_mgt = pack / CONF / "user-mgt.xml"
    user_mgt.write_text(user_mgt.read_text().replace("</AdminUser>", "</AdminUsr>"))
    with pytest.raises(RenderError, match=r"repository/conf/user-mgt.xml is not well-formed XML \(.*line 24"):
        _render(pack)


def test_the_connectors_are_told_apart_by_their_scheme(pack: Path) -> None:
    catalina = pack / CONF / "tomcat/catalina-server.xml"
    shipped = catalina.read_text()
    catalina.write_text(shipped.replace('scheme="https"', 'scheme="http"'))
    with pytest.raises(RenderError, match=r"expected one <Server/Service/Connector\[not\(@scheme='https'\)\]>, "
                                          r"found 2") as err:
        _render(pack)
    assert err.value.fix.startswith("keep one <Connector[not(@scheme='https')]> in repository/conf/tomcat/")


# --------------------------------------------------------------------------- the text editor


def test_text_in_the_declared_encoding_and_references_for_the_rest() -> None:
    doc = XmlText('<?xml version="1.0" encoding="ISO-8859-1"?>\n<a>\n  <b>x</b>\n</a>\n'.encode("latin-1"), "f.xml")
    doc.set_text(doc.find("a/b")[0], "é€<&")
    assert doc.to_bytes() == b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<a>\n  <b>\xe9&#8364;&lt;&amp;</b>\n</a>\n'


def test_a_utf8_bom_crlf_lines_and_a_self_closing_element_are_kept() -> None:
    doc = XmlText(b'\xef\xbb\xbf<a>\r\n  <!--b>x</b-->\r\n  <c/>\r\n</a>\r\n', "f.xml")
    doc.insert_element(doc.root, "b", "1")
    doc.set_text(doc.find("a/c")[0], "2")
    assert doc.to_bytes() == b'\xef\xbb\xbf<a>\r\n  <!--b>x</b-->\r\n  <b>1</b>\r\n  <c>2</c>\r\n</a>\r\n'


def test_attributes_keep_their_layout() -> None:
    multi = XmlText(b'<a>\n    <c x="1"\n       y=\'2\'\n       z="3"/>\n</a>', "f.xml")
    c = multi.find("a/c")[0]
    multi.set_attr(c, "y", 'v"<')
    multi.set_attr(c, "n", "new", after="x")
    multi.remove_attr(c, "z")
    assert multi.to_bytes() == b'<a>\n    <c x="1"\n       n="new"\n       y=\'v&quot;&lt;\'/>\n</a>'
    single = XmlText(b'<a><c x="1"/></a>', "f.xml")
    single.set_attr(single.find("a/c")[0], "n", "2")
    assert single.to_bytes() == b'<a><c x="1" n="2"/></a>'


def test_without_a_commented_form_elements_go_first_in_order() -> None:
    doc = XmlText(b"<a>\n    <!-- about b -->\n    <c>1</c>\n</a>", "f.xml")
    doc.insert_element(doc.root, "b", "x")
    doc.insert_element(doc.root, "d", "y")
    assert doc.to_bytes() == b"<a>\n    <b>x</b>\n    <d>y</d>\n    <!-- about b -->\n    <c>1</c>\n</a>"


def test_a_fragment_replaces_exactly_the_element() -> None:
    doc = XmlText(b"<a>\n    <!-- keep -->\n    <c k='1'>\n        <d/>\n    </c>\n\n</a>\n", "f.xml")
    doc.replace_element(doc.find("a/c")[0], "<c k='2'>\n        <e/>\n    </c>\n")
    assert doc.to_bytes() == b"<a>\n    <!-- keep -->\n    <c k='2'>\n        <e/>\n    </c>\n\n</a>\n"
    with pytest.raises(RenderError, match=r"the fragment for <c> is a <x>"):
        doc.replace_element(doc.find("a/c")[0], "<x/>")


def test_a_doctype_cdata_and_namespaces_are_read() -> None:
    source = (b'<?xml version="1.0"?>\n<!DOCTYPE a [<!ENTITY e "v">]>\n<p:a xmlns:p="urn:x">'
              b'<![CDATA[<b>not</b>]]><p:b  k = "&lt;1&gt;" >t</p:b></p:a>')
    doc = XmlText(source, "f.xml")
    (b,) = doc.find("a/b")
    assert (b.name, b.get("k")) == ("p:b", "<1>")
    doc.set_text(b, "u")
    assert doc.to_bytes() == source.replace(b">t<", b">u<")
