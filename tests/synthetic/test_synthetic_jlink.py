"""SERVER_JAVA_MODULES is enough: the server runs on a jlink'd runtime holding only those modules,
as it does in the images (TLS both ways included, which needs jdk.crypto.ec)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from synthetic_helpers import (
    FakeDns,
    FakeKubeApi,
    get_json,
    http_get,
    install_scheme,
    set_clustering,
    set_offset,
    trust_opts,
    wait_until,
)

from wso2k8s.synthetic.hazelcast import hazelcast_jar
from wso2k8s.synthetic.pack import SERVER_JAVA_MODULES, build_server_jar, cache_dir
from wso2k8s.synthetic.runner import ports_for

pytestmark = pytest.mark.engine


def _jdk_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        pytest.skip(f"{name} not on the PATH")
    return found


@pytest.fixture(scope="session")
def jlink_runtime() -> Path:
    """A runtime with only SERVER_JAVA_MODULES, cached across runs (jlink takes ~10 s)."""
    jlink = _jdk_tool("jlink")
    key = hashlib.sha256(f"{os.path.realpath(jlink)}\0{','.join(SERVER_JAVA_MODULES)}".encode()).hexdigest()[:16]
    runtime = cache_dir() / f"jlink-{key}"
    if not (runtime / "bin" / "java").exists():
        tmp = runtime.with_name(runtime.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run([jlink, "--add-modules", ",".join(SERVER_JAVA_MODULES), "--output", str(tmp),
                        "--no-header-files", "--no-man-pages", "--strip-debug"], check=True, capture_output=True)
        try:
            tmp.rename(runtime)
        except OSError:  # another run made it meanwhile
            shutil.rmtree(tmp, ignore_errors=True)
    return runtime


def test_code_needs_no_other_module() -> None:
    jdeps = _jdk_tool("jdeps")
    # with the Hazelcast jar it runs with (its optional slf4j/log4j loggers are not on the class path)
    out = subprocess.run([jdeps, "--ignore-missing-deps", "--multi-release", "17", "--print-module-deps",
                          str(build_server_jar()), str(hazelcast_jar())], check=True,
                         capture_output=True, text=True).stdout.strip()
    assert set(out.split(",")) <= set(SERVER_JAVA_MODULES)


def test_runs_on_jlinked_runtime(jlink_runtime: Path, carbon_home: Path, tmp_path: Path, offset: int,
                                 servers) -> None:
    listed = subprocess.run([str(jlink_runtime / "bin" / "java"), "--list-modules"], check=True,
                            capture_output=True, text=True).stdout
    assert {line.split("@")[0] for line in listed.split()} == set(SERVER_JAVA_MODULES)

    api = FakeKubeApi(tmp_path / "kube", namespace="default", endpoints={"wso2is": ["192.0.2.21", "192.0.2.22"]})
    api.start()
    try:
        set_offset(carbon_home, offset)
        install_scheme(carbon_home, "current")
        set_clustering(carbon_home, params={"KUBERNETES_SERVICES": "wso2is", "USE_DNS": "false",
                                            "KUBERNETES_API_SERVER": api.url})
        server = servers(carbon_home, java_home=jlink_runtime, env={"BEARER_TOKEN_FILE_LOCATION": str(api.token_file)},
                         java_opts=[*trust_opts(api.ca_crt),
                                    "-Dkubernetes.membership.interval.ms=250"])
        assert f"JAVA_HOME environment variable is set to {jlink_runtime}" in server.output()
        ports = ports_for(offset)
        status, _, body = http_get(f"https://127.0.0.1:{ports['https']}/carbon/")  # server-side TLS
        assert status == 200 and "WSO2 Identity Server" in body
        members = wait_until(  # client-side TLS to an API server with an EC certificate
            lambda: (lambda j: j if j["updated_at"] else None)(
                get_json(f"http://127.0.0.1:{ports['http']}/cluster/members")), what="first poll")
        assert members["members"] == ["192.0.2.21", "192.0.2.22"]
        assert members["namespace"] == "default"
    finally:
        api.stop()

    # DNS mode needs the JDK's DNS provider (jdk.naming.dns, in SERVER_JAVA_MODULES and the base image's
    # jlink_modules). Environment variables win over the axis2.xml parameters written above.
    server.stop()
    name = "wso2is-headless.default.svc.cluster.local"
    dns = FakeDns({name: ["192.0.2.31"]}).start()
    try:
        servers(carbon_home, java_home=jlink_runtime, env={"USE_DNS": "true", "KUBERNETES_SERVICES": "wso2is-headless"},
                java_opts=[f"-Ddns.server=127.0.0.1:{dns.port}", "-Dkubernetes.membership.interval.ms=250"])
        members = wait_until(lambda: (lambda j: j if j["updated_at"] or j["last_error"] else None)(
            get_json(f"http://127.0.0.1:{ports['http']}/cluster/members")), what="first lookup")
        assert (members["members"], members["last_error"], members["dns_names"]) == (["192.0.2.31"], None, [name])
    finally:
        dns.stop()
