"""Images: the product image's size against its floor (the runtime image + the pack's unpacked bytes: what any
image of this pack must hold), and a config-only rebuild against a cold build. A synthetic pack with 400 MB of
filler jars stands in for the real one's weight. Writes build/benchmarks/images.json.

    .venv/bin/python benchmarks/images.py       (Docker; holds /tmp/engine-tests.lock)
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from benchmarks.stats import Repeats  # noqa: E402
from tests.reliability.common import engine_lock  # noqa: E402
from wso2k8s.prepare import prepare  # noqa: E402
from wso2k8s.settings import load_stack_settings  # noqa: E402
from wso2k8s.synthetic.pack import make_pack  # noqa: E402
from wso2k8s.synthetic.scheme_jars import synthetic_jar_for  # noqa: E402

PACK_MB = 400
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
DOCKER = "/usr/bin/docker"
OUT = PROJECT_DIR / "build/benchmarks/images.json"


def sh(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, text=True, capture_output=True).stdout


def timed(*cmd: str) -> float:
    started = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={"DOCKER_BUILDKIT": "1", "PATH": "/usr/bin:/bin"})
    return time.monotonic() - started


def size_bytes(image: str) -> int:
    return int(sh(DOCKER, "image", "inspect", "-f", "{{.Size}}", image))


def unpacked_bytes(pack: Path) -> int:
    with zipfile.ZipFile(pack) as archive:
        return sum(info.file_size for info in archive.infolist() if not info.is_dir())


def floor_ratio(image: int, runtime: int, pack: int) -> float:
    """The image's bytes over the least any image of this pack can weigh (runtime + unpacked pack)."""
    return image / (runtime + pack)


def main() -> None:
    result: dict[str, Any] = {"pack filler MB": PACK_MB, "repeats": REPEATS}
    password = secrets.token_hex(8)
    tag = secrets.token_hex(3)
    base, product = f"wso2k8s-bench/k8s-base:{tag}", f"wso2k8s-bench/is-5.1.0:{tag}"
    with tempfile.TemporaryDirectory() as tmp, engine_lock():
        pack = make_pack(Path(tmp), keystore_password=password, conf_password="wso2carbon", filler_mb=PACK_MB)
        files = Path(tmp) / "files"  # the synthetic membership-scheme and dnsjava jars the profile lists
        for name in ("dnsjava-2.1.8.jar", "kubernetes-membership-scheme-1.0.5.jar"):
            jar = synthetic_jar_for(name)
            assert jar, name
            (files / "repository/components/lib").mkdir(parents=True, exist_ok=True)
            shutil.copy2(jar, files / "repository/components/lib" / name)

        def contexts(hostname: str) -> tuple[Path, Path]:
            stack = load_stack_settings(PROJECT_DIR, "bench", {
                "product": "wso2is", "version": "5.1.0", "hostname": hostname,
                "pack": {"source": "path", "path": str(pack)}, "files_dir": str(files),
                "base_image": {"java": {"allow_unsupported_version": True}},
                "admin_password": password, "keystore_password": password}, {"admin_password", "keystore_password"})
            prepared = prepare(stack, PROJECT_DIR, Path(tmp) / "build")
            return prepared.base_context, prepared.profiles[0].product_context

        base_ctx, product_ctx = contexts("bench-a.local")
        result["base build cold s"] = timed(DOCKER, "build", "--no-cache", "-q", "-t", base, str(base_ctx))
        cold = [timed(DOCKER, "build", "--no-cache", "-q", "--build-arg", f"BASE_IMAGE={base}", "-t", product,
                      str(product_ctx)) for _ in range(REPEATS)]
        rebuilds = []
        for i in range(REPEATS):  # a config-only change each time: carbon.xml HostName
            _, product_ctx = contexts(f"bench-{i}.local")
            rebuilds.append(timed(DOCKER, "build", "-q", "--build-arg", f"BASE_IMAGE={base}", "-t", product,
                                  str(product_ctx)))
        result["product build cold s"] = Repeats(tuple(cold)).values
        result["config-only rebuild s"] = Repeats(tuple(rebuilds)).values
        result["rebuild / cold"] = Repeats(tuple(rebuilds)).median / Repeats(tuple(cold)).median
        runtime, image, packed = size_bytes(base), size_bytes(product), unpacked_bytes(pack)
        result |= {"runtime image MB": runtime / 1e6, "product image MB": image / 1e6,
                   "pack unpacked MB": packed / 1e6, "floor MB": (runtime + packed) / 1e6,
                   "size / floor": floor_ratio(image, runtime, packed)}
        history = sh(DOCKER, "history", "--format", "{{.Size}}\t{{.CreatedBy}}", product)
        result["layers"] = [line.split("\t")[0] + " " + line.split("\t")[1][-60:] for line in history.splitlines()]
        subprocess.run([DOCKER, "rmi", "-f", product, base], capture_output=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
