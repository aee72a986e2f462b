"""One stack brought up with Pulumi's most verbose logging, searched for its admin password everywhere it could
have landed, then destroyed through tools/pulumi.sh and searched for leftovers.

Secrets: the password in plain, base64 (at each of the three byte alignments) and URL-encoded forms, plus its
random ASCII head (which survives JSON, XML and shell escaping), must be in none of: the state files, `stack
export`, the stack file, any layer of the base and product images, the members' logs, the `-v=9` engine and
provider logs of `up` and `preview`, the build folder. Each place is checked to hold something (a search of
nothing finds nothing), and `stack export --show-secrets` and the Kubernetes Secret prove the forms are found
where they are meant to be.

Destroy: no object of the stack in the cluster, no pod, no iptables rule of its Service, the build folder
gone; registry images are kept (documented retention: a registry is shared, README "Destroy").
"""

from __future__ import annotations

import base64
import io
import json
import secrets
import shutil
import subprocess
import tarfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.engine.conftest import DOCKER, PROJECT_DIR
from tests.engine.stack import ProjectStack, kube_json, kubectl, wait_until
from tests.reliability.common import admin_password, make_stack, pods, ready_pods

RUN = secrets.token_hex(4)
NAMESPACE = f"wso2k8s-rel-leak-{RUN}"
PASSWORD = admin_password(RUN)
HEAD = PASSWORD.split(" ", 1)[0]  # "Rel-<8 hex>": unique, ASCII, untouched by any escaping
FIGURES: dict[str, float] = {}


def needles(secret: str) -> dict[str, bytes]:
    raw = secret.encode()
    forms = {"plain": raw, "head": HEAD.encode(), "url": urllib.parse.quote(secret).encode(),
             "url+": urllib.parse.quote_plus(secret).encode(), "json": json.dumps(secret)[1:-1].encode()}
    for shift in range(3):  # inside a longer base64 text the password may start at any byte alignment
        encoded = base64.b64encode(b"\0" * shift + raw)
        forms[f"base64/{shift}"] = encoded[4 if shift else 0:-4]
    return forms


def hits(blob: bytes, secret: str = PASSWORD) -> list[str]:
    """The forms found in `blob`; a JSON document is also searched through its decoded strings (Go's encoder
    writes '<&>' as \\u003c...)."""
    found = [name for name, needle in needles(secret).items() if needle in blob]
    try:
        strings = list(_strings(json.loads(blob)))
    except ValueError:
        return found
    return found + [f"json-decoded {name}" for name, needle in needles(secret).items()
                    if any(needle.decode(errors="replace") in s for s in strings)]


def where(blob: bytes, secret: str = PASSWORD) -> list[str]:
    """What precedes each hit (80 bytes, the hit itself left out): enough to name the log line or the field."""
    places = []
    for name, needle in needles(secret).items():
        at = blob.find(needle)
        if at >= 0:
            places.append(f"{name} after {blob[max(0, at - 80):at]!r}")
    return places


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@pytest.fixture(scope="module")
def stack(engines_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProjectStack]:
    s = make_stack(tmp_path_factory.mktemp("leak"), "leak", engines_env, NAMESPACE, PASSWORD)
    yield s
    s.pulumi("destroy", "--yes", "--skip-preview", check=False)  # when a test failed before destroying


@pytest.fixture(scope="module")
def verbose_logs(stack: ProjectStack) -> bytes:
    """stderr of `up` (creates the Secret) and `preview` at -v=9, flowed to the plugins."""
    logs = b""
    for args in (["up", "--yes", "--skip-preview"], ["preview"]):
        proc = subprocess.run(["pulumi", *args, "-v=9", "--logtostderr", "--logflow"], cwd=stack.dir, env=stack.env,
                              capture_output=True, timeout=900)
        assert proc.returncode == 0, proc.stderr[-3000:]
        logs += proc.stdout + proc.stderr
    wait_until(lambda: len(ready_pods(stack.env, NAMESPACE)) == 2, 180, "2 ready pods")
    return logs


def test_the_search_finds_the_password_where_it_is_meant_to_be(stack: ProjectStack, verbose_logs: bytes) -> None:
    assert len(verbose_logs) > 1_000_000, len(verbose_logs)  # -v=9 really logged (gRPC payloads included)
    # the provider keeps a Secret's values as `data` (base64), as the API does
    assert "base64/0" in hits(stack.pulumi("stack", "export", "--show-secrets").stdout.encode())
    secret = kube_json(stack.env, "get", "secret", "wso2is-secrets", "-n", NAMESPACE)
    assert "base64/0" in hits(json.dumps(secret).encode())


def test_no_password_in_state_export_stack_file_or_logs(stack: ProjectStack, verbose_logs: bytes) -> None:
    # pulumi-kubernetes' own debug lines about the Secret (its inputs and properties, `data` in base64) hold the
    # values at -v=9: the one known exception, counted here and named in the README (never share -v=9 logs);
    # every other line of those logs is searched
    secret_lines = [line for line in verbose_logs.splitlines() if b"kubernetes:core/v1:Secret::" in line]
    FIGURES["-v=9 log lines about the Secret holding its data"] = sum(1 for line in secret_lines if hits(line))
    rest = b"\n".join(line for line in verbose_logs.splitlines() if b"kubernetes:core/v1:Secret::" not in line)
    places = {"pulumi -v=9 logs (but pulumi-kubernetes' lines about the Secret)": rest,
              "stack export": stack.pulumi("stack", "export").stdout.encode(),
              "stack file": stack.stack_file.read_bytes()}
    places |= {f"state {p.relative_to(stack.state_dir)}": p.read_bytes()
               for p in stack.state_dir.rglob("*") if p.is_file()}
    for pod in pods(stack.env, NAMESPACE):
        name = pod["metadata"]["name"]
        places[f"log of {name}"] = kubectl(stack.env, "logs", "-n", NAMESPACE, name).stdout.encode()
        assert places[f"log of {name}"], name
    build = stack.dir / "build"
    files = [p for p in build.rglob("*") if p.is_file()]
    assert len(files) > 20, files
    places |= {f"build {p.relative_to(build)}": p.read_bytes() for p in files}
    FIGURES["places searched (files, logs)"] = len(places)
    found = {place: where(blob) or h for place, blob in places.items() if (h := hits(blob))}
    assert found == {}


def test_no_password_in_any_image_layer(stack: ProjectStack, tmp_path: Path) -> None:
    outputs = stack.outputs()
    images = [outputs["base_image"], *outputs["product_images"].values()]
    layers = 0
    for image in images:
        subprocess.run([DOCKER, "pull", "-q", image], check=True, capture_output=True)
        archive = tmp_path / "image.tar"
        subprocess.run([DOCKER, "save", "-o", str(archive), image], check=True)
        with tarfile.open(archive) as outer:
            for member in outer.getmembers():
                if not member.isfile():
                    continue
                blob = outer.extractfile(member).read()  # type: ignore[union-attr]
                assert not hits(blob), f"{image} {member.name}: {hits(blob)}"
                if blob[257:262] == b"ustar":  # a layer: search each file inside as well (compressed ones too)
                    layers += 1
                    with tarfile.open(fileobj=io.BytesIO(blob)) as layer:
                        for entry in layer.getmembers():
                            if entry.isfile():
                                content = layer.extractfile(entry).read()  # type: ignore[union-attr]
                                assert not hits(content), f"{image} {entry.name}: {hits(content)}"
        archive.unlink()
        subprocess.run([DOCKER, "rmi", image], capture_output=True)
    FIGURES["image layers searched"] = layers
    assert layers >= 4, layers


def test_destroy_leaves_nothing_but_the_registry_images(stack: ProjectStack) -> None:
    product = stack.outputs()["product_images"]["default"]
    tools = stack.dir / "tools"
    tools.mkdir(exist_ok=True)
    shutil.copy2(PROJECT_DIR / "tools/pulumi.sh", tools / "pulumi.sh")
    assert (stack.dir / "build" / stack.name).is_dir()
    started = time.monotonic()
    subprocess.run(["bash", str(tools / "pulumi.sh"), stack.name, "destroy", "--yes", "--skip-preview"],
                   cwd=stack.dir, env=stack.env, check=True, capture_output=True, timeout=600)
    FIGURES["destroy s"] = time.monotonic() - started
    assert not (stack.dir / "build" / stack.name).exists()
    wait_until(lambda: kubectl(stack.env, "get", "ns", NAMESPACE, check=False).returncode != 0, 180,
               f"namespace {NAMESPACE} to be gone")
    left = kubectl(stack.env, "get", "all,sa,role,rolebinding,secret,pv", "-A", "-l",
                   f"app.kubernetes.io/instance=wso2is-{stack.name}", "-o", "name").stdout.strip()
    assert left == ""
    wait_until(lambda: NAMESPACE not in subprocess.run(["iptables-save"], capture_output=True, text=True,
                                                       check=True).stdout, 60, "the Service's iptables rules to go")
    assert stack.outputs() == {}
    # retention: the pushed image stays in the registry (README, "Destroy")
    repository, digest = product.split("/", 1)[1].split("@")
    request = urllib.request.Request(f"http://127.0.0.1:5000/v2/{repository.rsplit(':', 1)[0]}/manifests/{digest}",
                                     method="HEAD", headers={"Accept": "application/vnd.oci.image.index.v1+json, "
                                                             "application/vnd.oci.image.manifest.v1+json, "
                                                             "application/vnd.docker.distribution.manifest.v2+json"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.status == 200
    print("\ndestroy/secrets figures:", FIGURES, *stack.log, sep="\n  ")
