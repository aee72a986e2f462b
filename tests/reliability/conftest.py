"""The reliability suite breaks things on purpose and asserts what is kept. It uses the engine fixtures (real
Docker, Pulumi, cluster); every module has its own stack, namespace and node ports (tests/engine/isolation.py).
Markers: every test here is `engine` and `reliability`; `disruptive` ones restart a shared engine (the API
server, the Docker daemon) and `soak` runs for 30 minutes: both are left out of the default run (pytest.ini)."""

from __future__ import annotations

import pytest

from tests.engine.conftest import docker_engine, engines_env  # noqa: F401  (the engine fixtures, shared)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/reliability/" in str(item.fspath):
            item.add_marker(pytest.mark.engine)
            item.add_marker(pytest.mark.reliability)
