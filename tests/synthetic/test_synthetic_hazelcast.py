"""Two synthetic servers on this host form a real Hazelcast 3.5 cluster with the members the Kubernetes scheme
found (TCP-IP join on localMemberPort), read each other's member list through Hazelcast's REST endpoint (what
`pulumi up`'s formation gate asks each pod), and a stopped member leaves the other's list."""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path

import pytest
from synthetic_helpers import (
    FakeKubeApi,
    get_json,
    install_scheme,
    set_clustering,
    set_offset,
    trust_opts,
    wait_until,
)

from wso2k8s.synthetic.pack import extract_pack
from wso2k8s.synthetic.runner import pick_free_offset, ports_for

pytestmark = pytest.mark.engine

A, B = "127.0.0.1", "127.0.0.2"  # two loopback addresses: each member binds its own (hazelcast.socket.bind.any)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rest_cluster(ip: str, port: int) -> str:
    with urllib.request.urlopen(f"http://{ip}:{port}/hazelcast/rest/cluster", timeout=5) as resp:
        return resp.read().decode()


def _hz(offset: int) -> dict:
    return get_json(f"http://127.0.0.1:{ports_for(offset)['http']}/cluster/members")["hazelcast"]


def test_two_members_form_a_hazelcast_cluster_and_a_stopped_one_leaves(pack_zip: Path, tmp_path: Path,
                                                                        servers) -> None:
    api = FakeKubeApi(tmp_path / "kube", namespace="wso2", endpoints={"wso2is": [A, B]}).start()
    hz_port = _free_port()
    homes, offsets = [], []
    for i, ip in enumerate((A, B)):
        home = extract_pack(pack_zip, tmp_path / f"member{i}")
        install_scheme(home, "current")
        offset = pick_free_offset()
        set_offset(home, offset)
        set_clustering(home, params={"KUBERNETES_NAMESPACE": "wso2", "KUBERNETES_SERVICES": "wso2is",
                                     "USE_DNS": "false", "KUBERNETES_API_SERVER": api.url})
        axis2 = home / "repository/conf/axis2/axis2.xml"  # the shipped localMemberHost/Port, as a user sets them
        text = axis2.read_text(encoding="utf-8")
        for old, new in ((">127.0.0.1</parameter>", f">{ip}</parameter>"),
                         ('"localMemberPort">4000<', f'"localMemberPort">{hz_port}<')):
            assert old in text
            text = text.replace(old, new)
        axis2.write_text(text, encoding="utf-8")
        (home / "repository/conf/hazelcast.properties").write_text(
            "hazelcast.rest.enabled=true\nhazelcast.socket.bind.any=false\n")
        homes.append(home)
        offsets.append(offset)
    try:
        procs = [servers(home, java_opts=[*trust_opts(api.ca_crt),  # the scheme trusts the JVM's truststore
                                          "-Dkubernetes.membership.interval.ms=250", f"-Dcarbon.local.ip={ip}",
                                          f"-Dhazelcast.local.localAddress={ip}"],  # in a pod: its only IP
                         env={"BEARER_TOKEN_FILE_LOCATION": str(api.token_file)})
                 for home, ip in zip(homes, (A, B), strict=True)]
        both = [f"{A}:{hz_port}", f"{B}:{hz_port}"]
        for off, ip in zip(offsets, (A, B), strict=True):
            h = wait_until(lambda off=off: (lambda view: view if len(view["members"]) == 2 else None)(_hz(off)),
                           timeout=60, what="both members in Hazelcast")
            assert h["status"] == "joined" and h["port"] == hz_port
            assert h["members"][0] == f"{ip}:{hz_port}" and sorted(h["members"]) == both
        # Hazelcast's own REST endpoint on the member port says the same (the formation gate reads it).
        text = _rest_cluster(A, hz_port)
        assert "Members [2]" in text and f"Member [{B}]:{hz_port}" in text, text
        assert "Members [2]" in _rest_cluster(B, hz_port)

        procs[1].wait_for_output(r"Members \[2\]", 10)

        procs[1].stop()  # graceful (SIGTERM): the member leaves the cluster at once
        assert wait_until(lambda: _hz(offsets[0])["members"] == [f"{A}:{hz_port}"], timeout=30,
                          what="B left A's member list")
        procs[0].wait_for_output(rf"Member left \[[^\]]+\]: {B}:{hz_port}", 10)
        assert "Members [1]" in _rest_cluster(A, hz_port)
    finally:
        api.stop()
