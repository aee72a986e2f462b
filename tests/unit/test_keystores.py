"""The stack's keystores without the cluster: generated JKS files a JVM reads, the truststore's CA taken from
the kubeconfig, the identity hash that rolls the members (certificates only, never a password)."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from tests.unit.helpers import KEYSTORE_PASSWORD, stack_settings
from wso2k8s.keys.certificates import fingerprint, pem_certificates, private_key_der, self_signed
from wso2k8s.keys.stores import plan_keystores
from wso2k8s.pack.keystore import jks_bytes, jks_entries, jks_keys_refusing, password_opens

pytestmark = pytest.mark.unit


def _kubeconfig(path: Path, ca_pem: str) -> Path:
    data = base64.b64encode(ca_pem.encode()).decode()
    path.write_text(f"""apiVersion: v1
kind: Config
current-context: local
contexts: [{{name: local, context: {{cluster: c1, user: u1}}}}]
clusters: [{{name: c1, cluster: {{server: 'https://127.0.0.1:6443', certificate-authority-data: {data}}}}}]
users: [{{name: u1, user: {{token: x}}}}]
""")
    return path


def test_generated_keystore_is_deterministic_and_its_key_opens_in_keytool(tmp_path: Path) -> None:
    pair = self_signed("is.example.com", ["localhost"], key_size=2048, validity_days=30)
    cert = pem_certificates(pair.certificate_pem)[0]
    make = lambda: jks_bytes("p&ss wörd", private_key=("WSO2Carbon", private_key_der(pair.private_key_pem),  # noqa: E731
                                                        [cert]), created_ms=1)
    data = make()
    assert data == make()  # same Secret data on every run: no needless update
    assert password_opens(data, "p&ss wörd") and not password_opens(data, "p&ss word")
    assert jks_keys_refusing(data, "p&ss wörd") == []
    assert [(e.alias, e.certificates) for e in jks_entries(data)] == [("wso2carbon", (cert,))]
    (tmp_path / "k.jks").write_bytes(data)
    # Only a JVM that recovers the private key can copy it into a PKCS12 store.
    done = subprocess.run(["keytool", "-importkeystore", "-srckeystore", str(tmp_path / "k.jks"), "-srcstoretype",
                           "JKS", "-srcstorepass", "p&ss wörd", "-destkeystore", str(tmp_path / "k.p12"),
                           "-deststoretype", "PKCS12", "-deststorepass", "other-Pa55"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    listed = subprocess.run(["keytool", "-list", "-keystore", str(tmp_path / "k.p12"), "-storepass", "other-Pa55"],
                            capture_output=True, text=True).stdout
    assert "wso2carbon, " in listed and "PrivateKeyEntry" in listed


def test_truststore_plan_holds_the_kubeconfigs_ca_and_identity_follows_certificates(tmp_path: Path) -> None:
    ca = self_signed("cluster-ca", [])
    config = _kubeconfig(tmp_path / "kubeconfig", ca.certificate_pem)
    s = stack_settings(kubernetes={"kubeconfig": str(config)}).profiles[0]
    plan, found = plan_keystores(s, tmp_path, KEYSTORE_PASSWORD, None, None)
    assert found == [] and plan is not None
    assert [der for _, der in plan.trusted] == pem_certificates(ca.certificate_pem)
    assert (plan.mode, plan.keystore_file, plan.keystore_type) == ("generate", "wso2carbon.jks", "JKS")
    own = pem_certificates(self_signed("a", []).certificate_pem)[0]
    other = pem_certificates(self_signed("a", []).certificate_pem)[0]
    assert plan.identity(own) == plan.identity(own) != plan.identity(other)  # a new key rolls the members
    assert fingerprint(own) not in plan.identity(own)  # a hash of them, 16 hex digits
    assert len(plan.identity(own)) == 16


def test_user_pkcs12_keystore_is_accepted_with_its_certificate(tmp_path: Path) -> None:
    from tests.unit.crafted import keystore
    (tmp_path / "mine.p12").write_bytes(keystore(KEYSTORE_PASSWORD, storetype="PKCS12"))
    ca = self_signed("cluster-ca", [])
    config = _kubeconfig(tmp_path / "kubeconfig", ca.certificate_pem)
    s = stack_settings(kubernetes={"kubeconfig": str(config)},
                       keystores={"mode": "user", "keystore": str(tmp_path / "mine.p12")}).profiles[0]
    plan, found = plan_keystores(s, tmp_path, KEYSTORE_PASSWORD, None, None)
    assert found == [] and plan is not None
    assert (plan.keystore_type, plan.keystore_file) == ("PKCS12", "wso2carbon.p12")
    assert plan.certificate is not None and plan.user_keystore == (tmp_path / "mine.p12").read_bytes()
    assert "KEYSTORE_PASSWORD" not in repr(plan) and "user_keystore" not in repr(plan)  # file bytes not in logs


def test_a_kubeconfig_without_a_ca_is_refused_when_the_scheme_must_verify(tmp_path: Path) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text(_kubeconfig(tmp_path / "k0", "x").read_text().replace(
        "certificate-authority-data", "insecure-skip-tls-verify: true, x"))
    s = stack_settings(kubernetes={"kubeconfig": str(config)}).profiles[0]
    plan, found = plan_keystores(s, tmp_path, KEYSTORE_PASSWORD, None, None)
    assert plan is None and found[0].key == "keystores.cluster_ca"
    assert "set keystores.cluster_ca to the PEM file" in found[0].fix
