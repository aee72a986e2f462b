"""Figures for the README: image sizes next to the seed's, cold build vs a config-only rebuild, warm engine
start, and the engine-test timings of the last run. Not a test: it measures, prints a Markdown table.

    .venv/bin/python benchmarks/run.py            (needs the Docker engine: tools/docker/engine.sh up)
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from wso2k8s.prepare import prepare  # noqa: E402
from wso2k8s.settings import load_stack_settings  # noqa: E402
from wso2k8s.synthetic.pack import make_jar, make_pack  # noqa: E402

PACK_MB = 400
DOCKER = "/usr/bin/docker"
SEED = {"base image": "310.6 MB (wso2/k8s-base:1.0.0)", "product image": "1.45 GB (wso2/is-5.1.0:1.0.0)"}


def sh(*cmd: str, **kw: object) -> str:
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw).stdout  # type: ignore[call-overload,no-any-return]


def timed(*cmd: str) -> float:
    started = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={"DOCKER_BUILDKIT": "1", "PATH": "/usr/bin:/bin"})
    return time.monotonic() - started


def size_mb(image: str) -> float:
    return int(sh(DOCKER, "image", "inspect", "-f", "{{.Size}}", image)) / 1e6


def main() -> None:
    rows: list[tuple[str, str]] = []
    started = time.monotonic()
    sh(str(PROJECT_DIR / "tools/docker/engine.sh"), "up")
    rows.append(("Docker engine up (warm)", f"{time.monotonic() - started:.1f} s"))

    password = secrets.token_hex(8)
    with tempfile.TemporaryDirectory() as tmp:
        # A synthetic pack with a real pack's weight (IS 5.1.0 unpacks to several hundred MB of jars).
        pack = make_pack(Path(tmp), keystore_password=password, conf_password="wso2carbon", filler_mb=PACK_MB)
        files = Path(tmp) / "files"
        for jar in ("jackson-annotations-2.5.4", "jackson-core-2.5.4", "jackson-databind-2.5.4",
                    "kubernetes-membership-scheme-1.0.0"):
            name, _, version = jar.rpartition("-")
            make_jar(files / "repository/components/lib" / f"{jar}.jar", name=name, version=version)

        def contexts(hostname: str) -> tuple[Path, Path]:
            stack = load_stack_settings(PROJECT_DIR, "bench", {
                "product": "wso2is", "version": "5.1.0", "hostname": hostname,
                "pack": {"source": "path", "path": str(pack)}, "files_dir": str(files),
                "admin_password": password, "keystore_password": password}, {"admin_password", "keystore_password"})
            prepared = prepare(stack, PROJECT_DIR, Path(tmp) / "build")
            return prepared.base_context, prepared.profiles[0].product_context

        base_ctx, product_ctx = contexts("bench-a.local")
        base, product = "wso2k8s-bench/k8s-base:1", "wso2k8s-bench/is-5.1.0:1"
        rows.append(("base image build, cold (apt + jlink; no layer cache)",
                     f"{timed(DOCKER, 'build', '--no-cache', '-q', '-t', base, str(base_ctx)):.1f} s"))
        cold = timed(DOCKER, "build", "--no-cache", "-q", "--build-arg", f"BASE_IMAGE={base}", "-t", product,
                     str(product_ctx))
        rows.append(("product image build, cold (pack layer + overlay)", f"{cold:.1f} s"))
        _, product_ctx = contexts("bench-b.local")  # a config-only change: carbon.xml HostName
        warm = timed(DOCKER, "build", "-q", "--build-arg", f"BASE_IMAGE={base}", "-t", product, str(product_ctx))
        rows.append(("product image rebuild after a config-only change", f"{warm:.1f} s ({warm / cold:.0%} of cold)"))
        rows.append(("base image size", f"{size_mb(base):.0f} MB (seed: {SEED['base image']})"))
        rows.append((f"product image size (synthetic pack + {PACK_MB} MB of filler jars)",
                     f"{size_mb(product):.0f} MB (seed: {SEED['product image']}, with the real 5.1.0 pack)"))
        history = sh(DOCKER, "history", "--format", "{{.Size}}\t{{.CreatedBy}}", product)
        for line in history.splitlines():
            if "overlay/" in line or "pack/" in line:
                layer = "overlay (rendered conf + jars)" if "overlay/" in line else "pack"
                rows.append((f"product layer: {layer}", line.split("\t")[0]))
        subprocess.run([DOCKER, "rmi", "-f", product, base], capture_output=True)

    timings = PROJECT_DIR / "build/engine-timings.json"
    if timings.is_file():
        for what, seconds in json.loads(timings.read_text()).items():
            rows.append((f"engine test: {what}", f"{seconds:.1f} s"))

    print("| what | measured |\n|---|---|")
    for what, value in rows:
        print(f"| {what} | {value} |")


if __name__ == "__main__":
    main()
