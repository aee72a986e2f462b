"""What the dev and API Manager stacks register, under mocks, against a committed snapshot (tests/unit/snapshots/):
every resource's URN (so its parent chain), provider, dependencies and inputs. A refactoring that must not change
what is deployed (issue 12: narrow component Args) proves it here; the targeted tests say why a value is right,
this one says that nothing else moved.

An intended change of resources regenerates the snapshot; review its diff like any other:
    WSO2K8S_UPDATE_SNAPSHOTS=1 .venv/bin/pytest -q tests/unit/test_resource_snapshot.py
"""

from __future__ import annotations

import datetime
import difflib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID
from pulumi.runtime.settings import SETTINGS

from tests.unit.helpers import ADMIN_PASSWORD, KEYSTORE_PASSWORD, PROJECT_DIR
from wso2k8s.prepare import prepare
from wso2k8s.settings import load_stack_settings

pytestmark = pytest.mark.unit
SNAPSHOTS = Path(__file__).parent / "snapshots"
TEST_SECRETS = {"admin_password": ADMIN_PASSWORD, "keystore_password": KEYSTORE_PASSWORD,
                "registry_password": "unit-registry", "database_password": "unit-database"}
# The dev stack with what it leaves at the defaults turned on: the other workload kinds, placement, pod metadata,
# an autoscaler, a port offset, DNS membership, an entry in front (a ClusterIP Service, the entry's console URL).
VARIANTS: dict[str, dict[str, Any]] = {
    "dev": {}, "apim": {},
    "dev-statefulset": {
        "port_offset": 1, "clustering": {"kubernetes": {"mode": "dns"}},
        "workload": {"kind": "StatefulSet", "replicas": 3, "await_ready": False,
                     "statefulset": {"pod_management_policy": "Parallel"},
                     "autoscaler": {"enabled": True, "max_replicas": 6, "cpu_utilization": 70},
                     "anti_affinity": {"type": "required"},
                     "topology_spread": [{"topology_key": "topology.kubernetes.io/zone", "max_skew": 2}],
                     "node_selector": {"node-role.example.com/wso2": "true"},
                     "tolerations": [{"key": "dedicated", "value": "wso2", "effect": "NoSchedule"}],
                     "pod_labels": {"team": "identity"}, "pod_annotations": {"example.com/owner": "iam"}},
        "entry": {"kind": "ingress", "host": "is.example.com", "tls": {"secret_name": "is-example-tls"}}},
    "dev-deployment": {
        "workload": {"kind": "Deployment", "replicas": 4, "await_timeout_seconds": 900,
                     "disruption_budget": {"min_available": None, "max_unavailable": 1}},
        "service": {"type": "ClusterIP", "session_affinity": "None"},
        "ports": {"kdc-server": None, **{name: {"node_port": None}
                                         for name in ("servlet-http", "servlet-https", "thrift-entitlement")}},
        "clustering": {"kubernetes": {"endpointslices": True}}},
}
LONG = 160  # longer strings (rendered conf files, keystores) are kept as their hash: the snapshot stays readable


def _fixed_certificate() -> dict[str, str]:
    """GeneratedCertificate's outputs, the same on every run (Ed25519 signs deterministically): the keystores'
    bytes, their identity annotation and so the RC's template hash do not change between runs."""
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "snapshot")])
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(start).not_valid_after(start + datetime.timedelta(days=825))
            .sign(key, None))
    return {"certificate_pem": cert.public_bytes(serialization.Encoding.PEM).decode(),
            "private_key_pem": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()).decode(),
            "fingerprint": "0" * 64}


class SnapshotMocks(pulumi.runtime.Mocks):
    """Outputs as the engines would give them, deterministically: an image's digest, a Service's cluster IP,
    the stack's certificate."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        if args.typ == "docker-build:index:Image":
            outputs["ref"] = f"{args.inputs['tags'][0]}@sha256:{hashlib.sha256(args.name.encode()).hexdigest()}"
        elif args.typ == "kubernetes:core/v1:Service":
            outputs["spec"] = {**outputs["spec"], "clusterIP": "10.0.0.99"}
        elif args.typ == "pulumi-python:dynamic:Resource" and "common_name" in args.inputs:
            outputs |= _fixed_certificate()
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


def _stack_values(variant: str) -> tuple[str, dict[str, Any]]:
    """The stack file's plain wso2-kubernetes keys (the variant's on top, key by key); its encrypted ones
    replaced by test secrets."""
    stack = variant.split("-")[0]
    data = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())["config"]
    plain = {k.removeprefix("wso2-kubernetes:"): v for k, v in data.items()
             if k.startswith("wso2-kubernetes:") and not (isinstance(v, dict) and "secure" in v)}
    for key, value in VARIANTS[variant].items():
        plain[key] = {**plain.get(key, {}), **value} if isinstance(value, dict) else value
    return stack, {**plain, **TEST_SECRETS}


def registered(variant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every resource the stack's graph registers, in URN order, with machine-specific paths replaced."""
    from components.graph import build_graph

    monkeypatch.delenv("KUBECONFIG", raising=False)  # no cluster CA in the truststore: the same everywhere
    monkeypatch.setenv("WSO2K8S_STATE", str(tmp_path / "state"))
    build_dir = tmp_path / "build"
    stack, values = _stack_values(variant)
    prepared = prepare(load_stack_settings(PROJECT_DIR, stack, values, set(TEST_SECRETS)), PROJECT_DIR, build_dir)
    pulumi.runtime.set_mocks(SnapshotMocks(), project="wso2-kubernetes", stack=stack, preview=False)
    monitor = SETTINGS.monitor
    assert monitor is not None
    records: list[dict[str, Any]] = []
    register = monitor.RegisterResource

    def recording(request: Any) -> Any:  # the mock monitor's own registration, and what it was asked
        response = register(request)
        if request.type == "pulumi:pulumi:Stack":
            return response  # registered once per test process, by whichever test comes first
        records.append({"urn": response.urn, "custom": request.custom, "provider": request.provider or None,
                        "dependencies": sorted(request.dependencies),
                        "inputs": pulumi.runtime.rpc.deserialize_properties(request.object)})
        return response

    monitor.RegisterResource = recording

    @pulumi.runtime.test  # returns once every registration has been answered
    def run() -> pulumi.Output[Any]:
        graph = build_graph(prepared)
        # what the components give back (stack outputs come from these): a pseudo-record of its own
        return pulumi.Output.all(**{name: pulumi.Output.all(
            console_url=g.console_url, service_console_url=g.service.console_url,
            service_name=g.service.service_name, workload_name=g.cluster.workload_name,
            selector=g.cluster.selector) for name, g in graph.profiles.items()}).apply(
            lambda outputs: records.append({"urn": "(component outputs)", "inputs": outputs}))

    run()
    text = json.dumps(sorted(records, key=lambda r: r["urn"]), sort_keys=True, default=repr)
    for path, name in ((build_dir, "<build>"), (tmp_path / "state", "<state>"),
                       (Path("~/.kube/config").expanduser(), "~/.kube/config")):
        text = text.replace(json.dumps(str(path))[1:-1], name)
    return [_shortened(r) for r in json.loads(text)]


def _shortened(value: Any) -> Any:
    if isinstance(value, str) and len(value) > LONG:
        return f"<{len(value)} characters, sha256 {hashlib.sha256(value.encode()).hexdigest()[:16]}>"
    if isinstance(value, dict):
        return {k: _shortened(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shortened(v) for v in value]
    return value


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_stack_registers_what_its_snapshot_says(variant: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    now = registered(variant, tmp_path, monkeypatch)
    path = SNAPSHOTS / f"{variant}.json"
    if os.environ.get("WSO2K8S_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
    before = {r["urn"]: r for r in json.loads(path.read_text())}
    after = {r["urn"]: r for r in now}
    assert sorted(after) == sorted(before), (f"added: {sorted(set(after) - set(before))}, "
                                             f"removed: {sorted(set(before) - set(after))}")
    changed = [urn for urn in before if before[urn] != after[urn]]
    if changed:
        old, new = (json.dumps(r[changed[0]], indent=1, sort_keys=True).splitlines(keepends=True)
                    for r in (before, after))
        diff = "".join(difflib.unified_diff(old, new, "snapshot", "now"))
        pytest.fail(f"{len(changed)} resources changed: {changed}\nthe first:\n{diff}")
