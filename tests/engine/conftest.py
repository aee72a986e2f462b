"""Real engines for engine tests, started once per session by the project's own tools (idempotent: a warm
machine answers in seconds), and torn down only where a test made something of its own."""

from __future__ import annotations

import os
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
DOCKER = "/usr/bin/docker"  # the docker.io package's CLI: the newer one first on PATH lacks BuildKit here


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/engine/" in str(item.fspath):
            item.add_marker(pytest.mark.engine)


def _exports(command: str) -> dict[str, str]:
    """Run a tool that prints `export K=V` lines; return the environment they produce."""
    out = subprocess.run(["bash", "-c", f'eval "$({command})" && env -0'], check=True, stdout=subprocess.PIPE,
                         cwd=PROJECT_DIR).stdout
    return dict(item.split("=", 1) for item in out.decode().split("\0") if "=" in item)


@pytest.fixture(scope="session")
def docker_engine() -> str:
    subprocess.run([str(PROJECT_DIR / "tools/docker/engine.sh"), "up"], check=True)
    return DOCKER


@pytest.fixture(scope="session")
def engines_env() -> dict[str, str]:
    """Docker, registry, the local cluster and the Pulumi toolchain: the environment that reaches them."""
    return _exports(str(PROJECT_DIR / "tools/engines.sh"))


def http_get(url: str, timeout: float = 5, wait: float = 0) -> tuple[int, str]:
    """(status, body) of a GET to one of our own servers on 127.0.0.1; TLS is not verified (self-signed
    keystores). With `wait`, connection errors are retried for that many seconds (a server still starting)."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    deadline = time.monotonic() + wait
    while True:
        try:
            with urllib.request.urlopen(url, context=context, timeout=timeout) as resp:
                return resp.status, resp.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def docker(*args: str, check: bool = True, capture: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DOCKER, *args], check=check, text=True,
                          stdout=subprocess.PIPE if capture else None, stderr=subprocess.PIPE if capture else None)


@pytest.fixture
def cleanup_containers() -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        docker("rm", "-f", name, check=False)


os.environ.setdefault("DOCKER_BUILDKIT", "1")
